//! The sandbox's in-memory world: users and tokens, businesses, pages, ad accounts, apps,
//! the sandbox clock, rate-limit windows, request statistics and pending faults.
//!
//! Architecture Invariant: everything here is plain data behind one mutex; nothing in this
//! module awaits, so the lock is never held across an await point.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Datelike, TimeDelta, Utc};

use crate::usage::Usage;

/// The first id handed out for objects created while the sandbox runs.
pub(crate) const FIRST_NEW_ID: u64 = 1_000_000_000;

/// The last year the sandbox clock may reach.
pub(crate) const LAST_CLOCK_YEAR: i32 = 9999;

/// How many Graph requests the journal keeps.
pub(crate) const JOURNAL_CAPACITY: usize = 1000;

/// A person's role in a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Reads and writes everything, manages people.
    Admin,
    /// Reads everything.
    Employee,
}

/// A Facebook user, a managed (work) account or a system user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: u64,
    pub name: String,
    pub is_work_account: bool,
}

/// An access token and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub user_id: u64,
    pub permissions: BTreeSet<String>,
}

/// A person (or system user) in a business.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    pub user_id: u64,
    pub role: Role,
}

/// A Business Manager business.
#[derive(Debug, Clone)]
pub(crate) struct Business {
    pub id: u64,
    pub name: String,
    pub vertical: String,
    pub timezone_id: u32,
    pub primary_page: Option<u64>,
    pub email: Option<String>,
    pub created_by: Option<u64>,
    pub updated_by: Option<u64>,
    pub created_time: DateTime<Utc>,
    pub updated_time: DateTime<Utc>,
    pub members: Vec<Membership>,
}

impl Business {
    /// The role of a user in this business, if they are in it.
    pub(crate) fn role_of(&self, user_id: u64) -> Option<Role> {
        self.members
            .iter()
            .find(|m| m.user_id == user_id)
            .map(|m| m.role)
    }
}

/// A Facebook page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub id: u64,
    pub name: String,
    pub category: String,
    pub admins: Vec<u64>,
    pub owner_business: Option<u64>,
}

/// An ad account; its Graph id is `act_<id>`.
#[derive(Debug, Clone)]
pub(crate) struct AdAccount {
    pub id: u64,
    pub name: String,
    pub currency: String,
    pub account_status: u32,
    pub timezone_id: u32,
    pub spend_cap: String,
    pub amount_spent: String,
    pub balance: String,
    pub owner_business: Option<u64>,
}

/// A Meta app.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub id: u64,
    pub name: String,
    pub owner_business: Option<u64>,
}

/// A reference to one Graph node of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeRef {
    User(u64),
    Business(u64),
    Page(u64),
    AdAccount(u64),
    App(u64),
}

impl NodeRef {
    /// Graph's node type name, as error messages spell it.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            NodeRef::User(_) => "User",
            NodeRef::Business(_) => "Business",
            NodeRef::Page(_) => "Page",
            NodeRef::AdAccount(_) => "AdAccount",
            NodeRef::App(_) => "Application",
        }
    }

    /// The node's Graph id.
    pub(crate) fn graph_id(self) -> String {
        match self {
            NodeRef::AdAccount(id) => format!("act_{id}"),
            NodeRef::User(id) | NodeRef::Business(id) | NodeRef::Page(id) | NodeRef::App(id) => {
                id.to_string()
            }
        }
    }
}

/// One Graph request as the journal keeps it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct JournalEntry {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

/// Counters of the Graph requests received.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    pub requests: u64,
    pub journal: VecDeque<JournalEntry>,
}

impl Stats {
    /// Counts one Graph HTTP request and remembers it.
    pub(crate) fn record(&mut self, entry: JournalEntry) {
        self.requests += 1;
        if self.journal.len() == JOURNAL_CAPACITY {
            self.journal.pop_front();
        }
        self.journal.push_back(entry);
    }
}

/// A fault armed through the control plane for the next Graph requests.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub error_code: Option<u32>,
    pub error_subcode: Option<u32>,
    pub remaining: u32,
    pub latency_ms: u64,
}

/// The whole emulated world.
#[derive(Debug, Clone)]
pub(crate) struct World {
    clock_start: DateTime<Utc>,
    clock_offset_seconds: i64,
    next_id: u64,
    pub users: BTreeMap<u64, User>,
    pub tokens: HashMap<String, Token>,
    pub businesses: BTreeMap<u64, Business>,
    pub pages: BTreeMap<u64, Page>,
    pub ad_accounts: BTreeMap<u64, AdAccount>,
    pub apps: BTreeMap<u64, App>,
    pub usage: Usage,
    pub stats: Stats,
    pub fault: Option<Fault>,
}

impl World {
    /// An empty world whose clock starts at `clock_start`.
    pub(crate) fn empty(clock_start: DateTime<Utc>) -> Self {
        World {
            clock_start,
            clock_offset_seconds: 0,
            next_id: FIRST_NEW_ID,
            users: BTreeMap::new(),
            tokens: HashMap::new(),
            businesses: BTreeMap::new(),
            pages: BTreeMap::new(),
            ad_accounts: BTreeMap::new(),
            apps: BTreeMap::new(),
            usage: Usage::default(),
            stats: Stats::default(),
            fault: None,
        }
    }

    /// The clock's start, which seed times are relative to.
    pub(crate) fn clock_start(&self) -> DateTime<Utc> {
        self.clock_start
    }

    /// The sandbox clock: its start plus every advance.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock_start + TimeDelta::seconds(self.clock_offset_seconds)
    }

    /// Moves the sandbox clock forward and answers the new time, or leaves it and answers
    /// `None` when the new time would pass the last year that Graph's time format writes
    /// with four digits (far beyond that, chrono's arithmetic would panic on every request).
    pub(crate) fn advance_clock(&mut self, seconds: i64) -> Option<DateTime<Utc>> {
        let offset = self.clock_offset_seconds.checked_add(seconds)?;
        let now = TimeDelta::try_seconds(offset)
            .and_then(|delta| self.clock_start.checked_add_signed(delta))
            .filter(|now| now.year() <= LAST_CLOCK_YEAR)?;
        self.clock_offset_seconds = offset;
        Some(now)
    }

    /// A fresh id from the one counter every new object draws from.
    pub(crate) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Resolves a Graph id (`me`, a numeric id, `act_<n>`) to a node, ignoring visibility.
    pub(crate) fn lookup(&self, id: &str, viewer: Option<u64>) -> Option<NodeRef> {
        if id == "me" {
            return viewer.map(NodeRef::User);
        }
        if let Some(number) = id.strip_prefix("act_") {
            let number: u64 = number.parse().ok()?;
            return self
                .ad_accounts
                .contains_key(&number)
                .then_some(NodeRef::AdAccount(number));
        }
        let number: u64 = id.parse().ok()?;
        if self.users.contains_key(&number) {
            Some(NodeRef::User(number))
        } else if self.businesses.contains_key(&number) {
            Some(NodeRef::Business(number))
        } else if self.pages.contains_key(&number) {
            Some(NodeRef::Page(number))
        } else if self.apps.contains_key(&number) {
            Some(NodeRef::App(number))
        } else {
            None
        }
    }

    /// Whether a user is in a business, with any role (system users included).
    pub(crate) fn is_member(&self, user_id: u64, business_id: u64) -> bool {
        self.businesses
            .get(&business_id)
            .is_some_and(|b| b.role_of(user_id).is_some())
    }

    /// Whether the viewer may read a node: any user; a business they are in; a page they admin
    /// or that a business they are in owns; an ad account or app that a business they are in
    /// owns.
    pub(crate) fn can_see(&self, viewer: u64, node: NodeRef) -> bool {
        match node {
            NodeRef::User(id) => self.users.contains_key(&id),
            NodeRef::Business(id) => self.is_member(viewer, id),
            NodeRef::Page(id) => self.pages.get(&id).is_some_and(|page| {
                page.admins.contains(&viewer)
                    || page
                        .owner_business
                        .is_some_and(|b| self.is_member(viewer, b))
            }),
            NodeRef::AdAccount(id) => self
                .ad_accounts
                .get(&id)
                .and_then(|a| a.owner_business)
                .is_some_and(|b| self.is_member(viewer, b)),
            NodeRef::App(id) => self
                .apps
                .get(&id)
                .and_then(|a| a.owner_business)
                .is_some_and(|b| self.is_member(viewer, b)),
        }
    }

    /// Adds a user, with a token when one is given.
    pub(crate) fn add_user(&mut self, user: User, token: Option<&str>, permissions: &[String]) {
        if let Some(token) = token {
            self.tokens.insert(
                token.to_owned(),
                Token {
                    user_id: user.id,
                    permissions: permissions.iter().cloned().collect(),
                },
            );
        }
        self.users.insert(user.id, user);
    }
}
