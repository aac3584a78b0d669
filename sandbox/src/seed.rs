//! The seeded demo world of `docs/sandbox-contract.md`: fixed ids, tokens and names, with
//! times a few days or weeks before the sandbox clock's start.

use chrono::{DateTime, TimeDelta, Utc};

use crate::demo;
use crate::nodes::ad_account::AdAccount;
use crate::nodes::app::App;
use crate::nodes::business::{Business, Membership, Role};
use crate::nodes::page::Page;
use crate::nodes::user;
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
    ];
    for (id, name, token) in people {
        user::add(world, id, name, false, token, &permissions);
    }
}

/// Pomni Media and Kinger Labs, with their people.
fn seed_businesses(world: &mut World, clock_start: DateTime<Utc>) {
    let days_ago = |days: i64| clock_start - TimeDelta::days(days);
    let member = |user_id: u64, role: Role| Membership { user_id, role };
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
            members: vec![
                member(ALEX, Role::Admin),
                member(SAM, Role::Employee),
                member(POMNI_SYNC, Role::Admin),
            ],
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
            members: vec![member(JORDAN, Role::Admin), member(ALEX, Role::Employee)],
        },
    );
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
