//! The seeded demo world of `docs/sandbox-contract.md`: fixed ids, tokens and names, with
//! times a few days or weeks before the sandbox clock's start.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use crate::demo;
use crate::nodes::ad_account::AdAccount;
use crate::nodes::app::App;
use crate::nodes::business::{Business, Role};
use crate::nodes::business_project::BusinessProject;
use crate::nodes::credit_card::CreditCard;
use crate::nodes::extended_credit::{ExtendedCredit, Liability};
use crate::nodes::finance_permission::{FinanceGrant, FinanceRole};
use crate::nodes::invoice::{Invoice, InvoiceCampaign};
use crate::nodes::page::Page;
use crate::nodes::persona::Persona;
use crate::nodes::user;
use crate::nodes::user_permission::{InvitedUserType, Membership, Status};
use crate::world::World;

/// The permissions every demo token (and, by default, every control-plane user) has.
pub(crate) const DEMO_PERMISSIONS: [&str; 5] = [
    "business_management",
    "pages_show_list",
    "ads_management",
    "public_profile",
    "email",
];

/// The demo permissions as owned strings.
pub(crate) fn demo_permissions() -> Vec<String> {
    DEMO_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect()
}

const ALEX: u64 = 100_001;
const SAM: u64 = 100_002;
const POMNI_SYNC: u64 = 100_003;
const JORDAN: u64 = 100_004;
const POMNI: u64 = 200_001;
const KINGER: u64 = 200_002;
/// The suspended person of Pomni Media, a user without token.
const MORGAN: u64 = 100_005;

/// A seeded project of Pomni Media: id, name, pages, ad accounts, apps.
type SeedProject = (
    u64,
    &'static str,
    &'static [u64],
    &'static [u64],
    &'static [u64],
);

/// A seeded page: id, name, category, admins, owner business.
type SeedPage = (u64, &'static str, &'static str, &'static [u64], Option<u64>);

/// The demo world, its clock starting at `clock_start`: one seeding function per node type.
pub(crate) fn seeded_world(clock_start: DateTime<Utc>) -> World {
    let mut world = World::empty(clock_start);
    seed_users(&mut world);
    seed_businesses(&mut world, clock_start);
    seed_pages(&mut world);
    seed_ad_accounts(&mut world);
    seed_apps(&mut world);
    seed_people(&mut world, clock_start);
    seed_business_projects(&mut world, clock_start);
    seed_migration(&mut world);
    seed_finance_permissions(&mut world, clock_start);
    seed_invoices(&mut world);
    seed_credit_cards(&mut world);
    seed_extended_credits(&mut world);
    world
}

/// Alex, Sam and Pomni Sync with their demo tokens; Jordan without one.
fn seed_users(world: &mut World) {
    let permissions = demo_permissions();
    let people = [
        (ALEX, "Alex Rivera", Some(demo::ADMIN_TOKEN)),
        (SAM, "Sam Chen", Some(demo::EMPLOYEE_TOKEN)),
        (POMNI_SYNC, "Pomni Sync", Some(demo::SYSTEM_TOKEN)),
        (JORDAN, "Jordan Lee", None),
        (MORGAN, "Morgan Blake", None),
    ];
    for (id, name, token) in people {
        user::add(world, id, name, false, token, &permissions);
    }
}

/// Pomni Media and Kinger Labs; their people are `seed_people`'s.
fn seed_businesses(world: &mut World, clock_start: DateTime<Utc>) {
    let days_ago = |days: i64| clock_start - TimeDelta::days(days);
    world.businesses.insert(
        POMNI,
        Business {
            id: POMNI,
            name: "Pomni Media".into(),
            vertical: "ENTERTAINMENT_AND_MEDIA".into(),
            timezone_id: 1,
            primary_page: Some(300_001),
            email: None,
            created_by: Some(ALEX),
            updated_by: Some(ALEX),
            created_time: days_ago(42),
            updated_time: days_ago(9),
        },
    );
    world.businesses.insert(
        KINGER,
        Business {
            id: KINGER,
            name: "Kinger Labs".into(),
            vertical: "TECHNOLOGY".into(),
            timezone_id: 7,
            primary_page: Some(300_003),
            email: None,
            created_by: Some(JORDAN),
            updated_by: Some(JORDAN),
            created_time: days_ago(30),
            updated_time: days_ago(4),
        },
    );
}

/// A seeded person: row id, business, user, role, status, invited email, persona.
type SeedPerson = (
    u64,
    u64,
    Option<u64>,
    Role,
    Status,
    Option<&'static str>,
    Option<SeedPersona>,
);

/// A seeded persona: id, first name, last name, email.
type SeedPersona = (u64, &'static str, &'static str, &'static str);

/// The people of both businesses: in Pomni Media one of each state (ACTIVE admins, an
/// employee and a system user, an INVITED email, a SUSPENDED person), personas named unlike
/// their users so that the display rule (the persona's name, never the user's) shows.
fn seed_people(world: &mut World, clock_start: DateTime<Utc>) {
    let days_ago = |days: i64| clock_start - TimeDelta::days(days);
    let people: [SeedPerson; 7] = [
        (
            700_001,
            POMNI,
            Some(ALEX),
            Role::Admin,
            Status::Active,
            None,
            Some((600_001, "Alex", "Rivera (Pomni)", "alex@pomni.example")),
        ),
        (
            700_002,
            POMNI,
            Some(SAM),
            Role::Employee,
            Status::Active,
            Some("sam@pomni.example"),
            Some((600_002, "Samantha", "Chen", "sam@pomni.example")),
        ),
        (
            700_003,
            POMNI,
            Some(POMNI_SYNC),
            Role::Admin,
            Status::Active,
            None,
            None,
        ),
        (
            700_004,
            POMNI,
            None,
            Role::Employee,
            Status::Invited,
            Some("riley@pomni.example"),
            None,
        ),
        (
            700_005,
            POMNI,
            Some(MORGAN),
            Role::Employee,
            Status::Suspended,
            Some("morgan@pomni.example"),
            Some((600_003, "Morgan", "Blake", "morgan@pomni.example")),
        ),
        (
            700_006,
            KINGER,
            Some(JORDAN),
            Role::Admin,
            Status::Active,
            None,
            Some((600_004, "Jordan", "Lee", "jordan@kinger.example")),
        ),
        (
            700_007,
            KINGER,
            Some(ALEX),
            Role::Employee,
            Status::Active,
            Some("alex@kinger.example"),
            Some((600_005, "Alex", "Rivera", "alex@kinger.example")),
        ),
    ];
    for (id, business_id, user_id, role, status, email, persona) in people {
        let creator = world
            .businesses
            .get(&business_id)
            .and_then(|b| b.created_by);
        let persona_id = persona
            .zip(user_id)
            .map(|((persona_id, first, last, address), user)| {
                world.personas.insert(
                    persona_id,
                    Persona {
                        id: persona_id,
                        business_id,
                        user_id: user,
                        first_name: first.into(),
                        last_name: last.into(),
                        title: None,
                        email: address.into(),
                        pending_email: None,
                        created_by: Some(user),
                        updated_by: Some(user),
                        created_time: days_ago(20),
                        updated_time: days_ago(20),
                    },
                );
                persona_id
            });
        world.memberships.insert(
            id,
            Membership {
                id,
                business_id,
                user_id,
                email: email.map(Into::into),
                role,
                status,
                persona: persona_id,
                created_by: creator,
                updated_by: creator,
                created_time: days_ago(21),
                updated_time: days_ago(2),
                // Today's ids (docs/sandbox-contract.md): 71xxxx for a member's BusinessUser,
                // 72xxxx for an invitation's BusinessRoleRequest, after the row's.
                business_user_id: (status != Status::Invited).then_some(id + 10_000),
                role_request_id: (status == Status::Invited).then_some(id + 20_000),
                tasks: None,
                invited_user_type: InvitedUserType::Fb,
            },
        );
    }
}

/// The first of the pages with no owner that the demo admin (100001) administers, kept free
/// for the README's `createBusiness` example: 300007 to 300016.
const FIRST_FREE_DEMO_PAGE: u64 = 300_007;
/// How many such pages there are.
const FREE_DEMO_PAGES: u64 = 10;

/// Pages owned by each business, and free ones for creating businesses.
fn seed_pages(world: &mut World) {
    let pages: [SeedPage; 6] = [
        (
            300_001,
            "Pomni Media",
            "Media/news company",
            &[ALEX],
            Some(POMNI),
        ),
        (
            300_002,
            "Pomni Media Clips",
            "Video creator",
            &[ALEX, SAM],
            Some(POMNI),
        ),
        (
            300_003,
            "Kinger Labs",
            "Software company",
            &[JORDAN, ALEX],
            Some(KINGER),
        ),
        (
            300_004,
            "Alex Rivera Photography",
            "Photographer",
            &[ALEX],
            None,
        ),
        (300_005, "Caine Circus Fans", "Fan page", &[JORDAN], None),
        (
            300_006,
            "Alex Rivera Travel Notes",
            "Personal blog",
            &[ALEX],
            None,
        ),
    ];
    let free = (1..=FREE_DEMO_PAGES).map(|n| -> (u64, String, &str, &[u64], Option<u64>) {
        (
            FIRST_FREE_DEMO_PAGE + n - 1,
            format!("Alex Rivera Demo Page {n}"),
            "Personal blog",
            &[ALEX],
            None,
        )
    });
    let pages = pages
        .into_iter()
        .map(|(id, name, category, admins, owner)| (id, name.to_owned(), category, admins, owner))
        .chain(free);
    for (id, name, category, admins, owner_business) in pages {
        world.pages.insert(
            id,
            Page {
                id,
                name,
                category: category.into(),
                admins: admins.to_vec(),
                owner_business,
            },
        );
    }
}

/// Two ad accounts of Pomni Media, one (disabled) of Kinger Labs.
fn seed_ad_accounts(world: &mut World) {
    let ad_accounts = [
        (
            400_001,
            "Pomni Media - Main",
            "USD",
            1,
            1,
            "5000000",
            "125000",
            "0",
            POMNI,
        ),
        (
            400_002,
            "Pomni Media - Brand",
            "EUR",
            1,
            1,
            "0",
            "48000",
            "1200",
            POMNI,
        ),
        (
            400_003,
            "Kinger Labs Ads",
            "USD",
            2,
            7,
            "0",
            "0",
            "0",
            KINGER,
        ),
    ];
    for (id, name, currency, status, timezone_id, cap, spent, balance, owner) in ad_accounts {
        world.ad_accounts.insert(
            id,
            AdAccount {
                id,
                name: name.into(),
                currency: currency.into(),
                account_status: status,
                timezone_id,
                spend_cap: cap.into(),
                amount_spent: spent.into(),
                balance: balance.into(),
                owner_business: Some(owner),
                funding_id: None,
                dcaf_enabled: false,
                end_advertiser: None,
                media_agency: None,
                partner: None,
            },
        );
    }
}

/// One app per business.
fn seed_apps(world: &mut World) {
    for (id, name, owner) in [
        (500_001, "Pomni Media Dashboard", POMNI),
        (500_002, "Kinger Labs Insights", KINGER),
    ] {
        world.apps.insert(
            id,
            App {
                id,
                name: name.into(),
                owner_business: Some(owner),
            },
        );
    }
}

/// Pomni Media's two projects, created by Alex 14 days before the clock's start. They hold
/// some of its assets and leave page 300001, `act_400002` and every Kinger asset free, so
/// that adding an asset and the one-project-per-asset refusal both show on the seed.
fn seed_business_projects(world: &mut World, clock_start: DateTime<Utc>) {
    let created = clock_start - TimeDelta::days(14);
    let projects: [SeedProject; 2] = [
        (800_001, "Brand Campaigns", &[300_002], &[400_001], &[]),
        (800_002, "Dashboard Launch", &[], &[], &[500_001]),
    ];
    for (id, name, pages, ad_accounts, apps) in projects {
        world.business_projects.insert(
            id,
            BusinessProject {
                id,
                business_id: POMNI,
                name: name.into(),
                pages: pages.iter().copied().collect(),
                ad_accounts: ad_accounts.iter().copied().collect(),
                apps: apps.iter().copied().collect(),
                created_by: Some(ALEX),
                updated_by: Some(ALEX),
                created_time: created,
                updated_time: created,
            },
        );
    }
}

/// What managed-account migration needs of the seed (docs/graph-api.md §9): Pomni Sync is a
/// system user, and each ad account is assigned to one person, so that a business holds an
/// asset not assigned to its migrating person (`act_400002` for Alex in Pomni Media).
fn seed_migration(world: &mut World) {
    world.migration.system_users.insert(POMNI_SYNC);
    for (ad_account, user) in [(400_001, ALEX), (400_002, SAM), (400_003, JORDAN)] {
        world
            .migration
            .ad_account_users
            .entry(ad_account)
            .or_default()
            .insert(user);
    }
}

/// The finance roles: each business's system user or non-Alex ADMIN is FINANCE_EDITOR, and
/// Alex (ADMIN of Pomni Media) has none, so that "ADMIN is not enough" shows on the seed.
fn seed_finance_permissions(world: &mut World, clock_start: DateTime<Utc>) {
    let granted = clock_start - TimeDelta::days(10);
    for (id, business_id, user_id, granted_by) in [
        (950_001, POMNI, POMNI_SYNC, ALEX),
        (950_002, KINGER, JORDAN, JORDAN),
    ] {
        world.finance_grants.insert(
            id,
            FinanceGrant {
                id,
                business_id,
                user_id,
                role: FinanceRole::Editor,
                granted_by: Some(granted_by),
                updated_time: granted,
            },
        );
    }
}

/// A campaign a seeded business runs: id, name, tags.
type SeedCampaign = (&'static str, &'static str, &'static [&'static str]);

const POMNI_CAMPAIGNS: [SeedCampaign; 8] = [
    (
        "23851000000000001",
        "Spring Clips Launch",
        &["video", "launch"],
    ),
    ("23851000000000002", "Pomni Brand Awareness", &["brand"]),
    ("23851000000000003", "Newsletter Signups", &["leads"]),
    (
        "23851000000000004",
        "Holiday Specials",
        &["seasonal", "video"],
    ),
    ("23851000000000005", "Podcast Promotion", &["audio"]),
    (
        "23851000000000006",
        "Retargeting - Site Visitors",
        &["retargeting"],
    ),
    (
        "23851000000000007",
        "Creator Collabs",
        &["video", "partners"],
    ),
    ("23851000000000008", "App Installs - Dashboard", &["app"]),
];

const KINGER_CAMPAIGNS: [SeedCampaign; 6] = [
    ("23852000000000001", "Developer Conference", &["events"]),
    (
        "23852000000000002",
        "Insights Free Trial",
        &["trial", "app"],
    ),
    ("23852000000000003", "Hiring - Engineers", &["recruiting"]),
    ("23852000000000004", "Product Hunt Launch", &["launch"]),
    ("23852000000000005", "Webinar Series", &["leads", "events"]),
    ("23852000000000006", "Brand Search", &["brand"]),
];

/// How one business's invoices are generated.
struct InvoicePlan {
    business_id: u64,
    /// The id of its first invoice; the others follow in date order.
    first_id: u64,
    /// The first month billed, and how many months follow it.
    first_period: (i32, u32),
    months: u32,
    campaigns: &'static [SeedCampaign],
    /// Tax rate in millionths (88 750 is 8.875 %).
    tax_ppm: i64,
    /// Starts its invoice numbers.
    number_prefix: u32,
}

/// SplitMix64: the seed's invoices vary with it, the same on every run.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A bounded figure from a hash: `low + hash % span`.
fn figure(hash: u64, low: u64, span: u64) -> u64 {
    low + hash % span
}

/// `count` campaigns of the pool, starting at a place the hash picks, with amounts and
/// results from the hash; tax per campaign at `tax_ppm`, rounded half up to the cent.
fn invoice_campaigns(plan: &InvoicePlan, hash: u64, count: usize) -> Vec<InvoiceCampaign> {
    let pool = plan.campaigns;
    let start = usize::try_from(hash % pool.len() as u64).unwrap_or(0);
    (0..count)
        .map(|k| {
            let (campaign_id, campaign_name, tags) = pool[(start + k) % pool.len()];
            let h = mix(hash ^ (k as u64 + 1));
            let net = i64::try_from(figure(h, 25_000, 1_500_000)).unwrap_or(25_000);
            let tax = (net * plan.tax_ppm + 500_000) / 1_000_000;
            let impressions = figure(mix(h), 5_000, 2_000_000);
            let clicks = impressions * figure(mix(h + 1), 5, 30) / 1_000;
            let conversions = clicks * figure(mix(h + 2), 2, 10) / 100;
            InvoiceCampaign {
                campaign_id: campaign_id.into(),
                campaign_name: campaign_name.into(),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                net,
                tax,
                impressions,
                clicks,
                conversions,
            }
        })
        .collect()
}

/// The first day of the month `offset` months after `(year, month)`.
fn month_start((year, month): (i32, u32), offset: u32) -> Option<NaiveDate> {
    let index = i64::from(year) * 12 + i64::from(month - 1) + i64::from(offset);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// Invoices of both businesses over fixed calendar months (they do not move with the clock):
/// for each month billed, a MONTHLY invoice dated the 1st of the next month with 2 to 4
/// campaigns; in February, May, August and November also a THRESHOLD invoice dated the
/// month's last day (1 or 2 campaigns); in December also a MANUAL invoice dated the 15th
/// (1 campaign). Pomni Media: January 2024 to December 2025 (34 invoices, ids from 910001),
/// Kinger Labs: July 2024 to December 2025 (26 invoices, ids from 920001). The last month
/// billed is UNPAID, the others PAID.
fn seed_invoices(world: &mut World) {
    let plans = [
        InvoicePlan {
            business_id: POMNI,
            first_id: 910_001,
            first_period: (2024, 1),
            months: 24,
            campaigns: &POMNI_CAMPAIGNS,
            tax_ppm: 88_750,
            number_prefix: 11,
        },
        InvoicePlan {
            business_id: KINGER,
            first_id: 920_001,
            first_period: (2024, 7),
            months: 18,
            campaigns: &KINGER_CAMPAIGNS,
            tax_ppm: 72_500,
            number_prefix: 12,
        },
    ];
    for plan in &plans {
        let mut invoices = Vec::new();
        for offset in 0..plan.months {
            let (Some(period), Some(next)) = (
                month_start(plan.first_period, offset),
                month_start(plan.first_period, offset + 1),
            ) else {
                continue;
            };
            let last_day = next.pred_opt().unwrap_or(next);
            let mut kinds = vec![("MONTHLY", next, 2)];
            if period.month() % 3 == 2 {
                kinds.push(("THRESHOLD", last_day, 1));
            }
            if period.month() == 12 {
                kinds.push(("MANUAL", period.with_day(15).unwrap_or(period), 1));
            }
            for (number, (kind, invoice_date, base_count)) in kinds.into_iter().enumerate() {
                let hash = mix(plan.business_id ^ (u64::from(offset) << 8) ^ number as u64);
                let extra = match kind {
                    "MONTHLY" => hash % 3,
                    "THRESHOLD" => hash % 2,
                    _ => 0,
                };
                let count = base_count + usize::try_from(extra).unwrap_or(0);
                let unpaid = offset + 1 == plan.months;
                invoices.push(Invoice {
                    id: 0,
                    business_id: plan.business_id,
                    invoice_id: format!(
                        "{}{:04}{:02}{:02}",
                        plan.number_prefix,
                        period.year(),
                        period.month(),
                        number + 1
                    ),
                    billing_period: period,
                    invoice_date,
                    due_date: invoice_date + TimeDelta::days(30),
                    entity: "FBUS".into(),
                    liability_type: "Normal".into(),
                    invoice_type: kind.into(),
                    payment_term: "NET 30".into(),
                    kind: "INV".into(),
                    payment_status: if unpaid { "UNPAID" } else { "PAID" }.into(),
                    currency: "USD".into(),
                    campaigns: invoice_campaigns(plan, hash, count),
                });
            }
        }
        invoices.sort_by_key(|i| (i.invoice_date, i.invoice_id.clone()));
        for (index, mut invoice) in invoices.into_iter().enumerate() {
            invoice.id = plan.first_id + index as u64;
            world.invoices.insert(invoice.id, invoice);
        }
    }
}

/// Two cards of Pomni Media (one disabled), one of Kinger Labs.
fn seed_credit_cards(world: &mut World) {
    let cards = [
        (930_001, POMNI, "VISA", "4242", 8, 2028, "Alex Rivera", true),
        (
            930_002,
            POMNI,
            "MASTERCARD",
            "5454",
            1,
            2026,
            "Pomni Media LLC",
            false,
        ),
        (
            930_003,
            KINGER,
            "AMEX",
            "1005",
            11,
            2029,
            "Jordan Lee",
            true,
        ),
    ];
    for (id, business_id, card_type, last4, month, year, holder, enabled) in cards {
        world.credit_cards.insert(
            id,
            CreditCard {
                id,
                business_id,
                card_type: card_type.into(),
                last4: last4.into(),
                expiry_month: month,
                expiry_year: year,
                card_holder_name: holder.into(),
                is_enabled: enabled,
            },
        );
    }
}

/// The credit lines, in USD cents: Pomni Media's normal-liability line (50 000.00 approved,
/// 12 345.67 owed) and its sequential-liability one (10 000.00, 2 500.00 owed), which new ad
/// accounts may not use; Kinger Labs' normal line (20 000.00, nothing owed).
fn seed_extended_credits(world: &mut World) {
    let lines = [
        (
            940_001,
            POMNI,
            "Pomni Media LLC",
            Liability::Normal,
            5_000_000,
            1_234_567,
        ),
        (
            940_002,
            KINGER,
            "Kinger Labs Inc.",
            Liability::Normal,
            2_000_000,
            0,
        ),
        (
            940_003,
            POMNI,
            "Pomni Media LLC",
            Liability::Sequential,
            1_000_000,
            250_000,
        ),
    ];
    for (id, business_id, legal_entity_name, liability, max_balance, balance) in lines {
        world.extended_credits.insert(
            id,
            ExtendedCredit {
                id,
                business_id,
                legal_entity_name: legal_entity_name.into(),
                currency: "USD".into(),
                liability,
                max_balance,
                balance,
                is_access_revoked: false,
                allocated: 0,
                last_allocation: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodes::NodeRef;

    #[test]
    fn every_demo_id_resolves_to_a_seeded_node_of_its_type() {
        let world = seeded_world(Utc::now());
        let cases = [
            (demo::ADMIN_USER_ID, "User"),
            (demo::EMPLOYEE_USER_ID, "User"),
            (demo::SYSTEM_USER_ID, "User"),
            (demo::KINGER_ADMIN_USER_ID, "User"),
            (demo::SUSPENDED_USER_ID, "User"),
            (demo::ADMIN_POMNI_PERSONA_ID, "BusinessPersona"),
            (demo::EMPLOYEE_POMNI_PERSONA_ID, "BusinessPersona"),
            (demo::SUSPENDED_POMNI_PERSONA_ID, "BusinessPersona"),
            (demo::KINGER_ADMIN_PERSONA_ID, "BusinessPersona"),
            (demo::ADMIN_KINGER_PERSONA_ID, "BusinessPersona"),
            (demo::ADMIN_POMNI_BUSINESS_USER_ID, "BusinessUser"),
            (demo::EMPLOYEE_POMNI_BUSINESS_USER_ID, "BusinessUser"),
            (demo::SUSPENDED_POMNI_BUSINESS_USER_ID, "BusinessUser"),
            (demo::KINGER_ADMIN_BUSINESS_USER_ID, "BusinessUser"),
            (demo::ADMIN_KINGER_BUSINESS_USER_ID, "BusinessUser"),
            (demo::INVITED_ROLE_REQUEST_ID, "BusinessRoleRequest"),
            (demo::POMNI_BUSINESS_ID, "Business"),
            (demo::KINGER_BUSINESS_ID, "Business"),
            (demo::POMNI_PAGE_ID, "Page"),
            (demo::POMNI_CLIPS_PAGE_ID, "Page"),
            (demo::KINGER_PAGE_ID, "Page"),
            (demo::PHOTOGRAPHY_PAGE_ID, "Page"),
            (demo::CIRCUS_FANS_PAGE_ID, "Page"),
            (demo::TRAVEL_NOTES_PAGE_ID, "Page"),
            (demo::POMNI_MAIN_AD_ACCOUNT_ID, "AdAccount"),
            (demo::POMNI_BRAND_AD_ACCOUNT_ID, "AdAccount"),
            (demo::KINGER_AD_ACCOUNT_ID, "AdAccount"),
            (demo::POMNI_APP_ID, "Application"),
            (demo::KINGER_APP_ID, "Application"),
            (demo::POMNI_BRAND_PROJECT_ID, "BusinessProject"),
            (demo::POMNI_DASHBOARD_PROJECT_ID, "BusinessProject"),
            (demo::FIRST_POMNI_INVOICE_ID, "OmegaCustomerTrx"),
            (demo::FIRST_KINGER_INVOICE_ID, "OmegaCustomerTrx"),
            (demo::POMNI_CREDIT_CARD_ID, "CreditCard"),
            (demo::POMNI_DISABLED_CREDIT_CARD_ID, "CreditCard"),
            (demo::KINGER_CREDIT_CARD_ID, "CreditCard"),
            (demo::POMNI_CREDIT_LINE_ID, "ExtendedCredit"),
            (demo::KINGER_CREDIT_LINE_ID, "ExtendedCredit"),
            (demo::POMNI_SEQUENTIAL_CREDIT_LINE_ID, "ExtendedCredit"),
        ];
        for (id, type_name) in cases {
            let node = world.lookup(id, None).map(NodeRef::type_name);
            assert_eq!(node, Some(type_name), "{id}");
        }
        for token in [demo::ADMIN_TOKEN, demo::EMPLOYEE_TOKEN, demo::SYSTEM_TOKEN] {
            assert!(world.tokens.contains_key(token), "{token}");
        }
    }
}

#[cfg(test)]
mod invoice_tests {
    use super::*;

    #[test]
    fn seeded_invoices_add_up_to_the_cent_and_cover_the_documented_months() {
        let world = seeded_world(Utc::now());
        let of = |business: u64| {
            world
                .invoices
                .values()
                .filter(move |i| i.business_id == business)
        };
        assert_eq!(of(POMNI).count(), 34);
        assert_eq!(of(KINGER).count(), 26);
        for invoice in world.invoices.values() {
            assert!((1..=4).contains(&invoice.campaigns.len()), "{invoice:?}");
            let net: i64 = invoice.campaigns.iter().map(|c| c.net).sum();
            assert_eq!(invoice.net(), net);
            assert!(invoice.tax() > 0 && invoice.net() > 0);
        }
        let ids: Vec<u64> = of(POMNI).map(|i| i.id).collect();
        assert_eq!(ids.first(), Some(&910_001));
        assert_eq!(ids.last(), Some(&910_034));
        let dates: Vec<NaiveDate> = of(POMNI).map(|i| i.invoice_date).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]));
        let leap_day = NaiveDate::from_ymd_opt(2024, 2, 29);
        assert!(of(POMNI).any(|i| Some(i.invoice_date) == leap_day));
        assert!(of(POMNI).any(|i| i.campaigns.len() == 4));
    }
}
