//! The seeded demo world of `docs/sandbox-contract.md`: fixed ids, tokens and names, with
//! times a few days or weeks before the sandbox clock's start.

use chrono::{DateTime, TimeDelta, Utc};

use crate::demo;
use crate::nodes::ad_account::AdAccount;
use crate::nodes::app::App;
use crate::nodes::business::{Business, Role};
use crate::nodes::business_project::BusinessProject;
use crate::nodes::page::Page;
use crate::nodes::persona::Persona;
use crate::nodes::user;
use crate::nodes::user_permission::{Membership, Status};
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
            },
        );
    }
}

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
    for (id, name, category, admins, owner_business) in pages {
        world.pages.insert(
            id,
            Page {
                id,
                name: name.into(),
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
