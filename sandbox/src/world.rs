//! The sandbox's in-memory world: one collection per node type, the tokens, the sandbox clock,
//! the id counter, rate-limit windows, request statistics and pending faults; and the one
//! visibility question every route asks ("which node is this id, if the viewer may see it").
//!
//! Architecture Invariant: everything here is plain data behind one mutex; nothing in this
//! module awaits, so the lock is never held across an await point.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Datelike, TimeDelta, Utc};

use crate::migration::MigrationState;
use crate::nodes::NodeRef;
use crate::nodes::ad_account::AdAccount;
use crate::nodes::app::App;
use crate::nodes::business::Business;
use crate::nodes::business_project::BusinessProject;
use crate::nodes::credit_card::CreditCard;
use crate::nodes::extended_credit::{self, ExtendedCredit};
use crate::nodes::finance_permission::FinanceGrant;
use crate::nodes::invoice::Invoice;
use crate::nodes::page::Page;
use crate::nodes::persona::Persona;
use crate::nodes::user::User;
use crate::nodes::user_permission::{self, Membership};
use crate::wire::usage::Usage;

/// The first id handed out for objects created while the sandbox runs.
pub(crate) const FIRST_NEW_ID: u64 = 1_000_000_000;

/// The first id of `userpermissions` rows created while the sandbox runs: a counter of
/// their own, since rows are not Graph nodes and must not shift the ids of new nodes.
pub(crate) const FIRST_NEW_MEMBERSHIP_ID: u64 = 2_000_000_000;

/// The first id of `finance_permissions` rows created while the sandbox runs: a counter of
/// their own, like the people rows', so that granting roles shifts no other id.
pub(crate) const FIRST_NEW_FINANCE_GRANT_ID: u64 = 3_000_000_000;

/// The first id of `BusinessUser` and `BusinessRoleRequest` nodes (today's people, views of
/// `userpermissions` rows) made while the sandbox runs: a counter of their own, so that
/// inviting people, accepting or creating businesses shifts no other id.
pub(crate) const FIRST_NEW_PEOPLE_NODE_ID: u64 = 4_000_000_000;

/// The last year the sandbox clock may reach.
pub(crate) const LAST_CLOCK_YEAR: i32 = 9999;

/// How many Graph requests the journal keeps.
pub(crate) const JOURNAL_CAPACITY: usize = 1000;

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

/// An access token and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub user_id: u64,
    pub permissions: BTreeSet<String>,
}

/// The whole emulated world. Each node type's module (`nodes/`) owns its stored struct and
/// the rules about it; the world only holds the collections.
#[derive(Debug, Clone)]
pub(crate) struct World {
    clock_start: DateTime<Utc>,
    clock_offset_seconds: i64,
    next_id: u64,
    next_membership_id: u64,
    next_finance_grant_id: u64,
    next_people_node_id: u64,
    /// How many DCAF allocation marks (every 30 minutes after the clock's start) have run.
    allocation_marks: i64,
    pub tokens: HashMap<String, Token>,
    pub users: BTreeMap<u64, User>,
    pub businesses: BTreeMap<u64, Business>,
    pub pages: BTreeMap<u64, Page>,
    pub ad_accounts: BTreeMap<u64, AdAccount>,
    pub apps: BTreeMap<u64, App>,
    pub personas: BTreeMap<u64, Persona>,
    pub business_projects: BTreeMap<u64, BusinessProject>,
    /// The people of every business, invited or member.
    pub memberships: BTreeMap<u64, Membership>,
    /// Finance roles, one row per person and business.
    pub finance_grants: BTreeMap<u64, FinanceGrant>,
    pub invoices: BTreeMap<u64, Invoice>,
    pub credit_cards: BTreeMap<u64, CreditCard>,
    pub extended_credits: BTreeMap<u64, ExtendedCredit>,
    /// When each business sent its invitations, for the rolling 24-hour limit.
    pub invitations_sent: BTreeMap<u64, Vec<DateTime<Utc>>>,
    /// Invitations a business may send per rolling 24 hours.
    pub invitations_per_day: u32,
    /// Whether project writes are refused as today's Graph refuses them (docs/graph-api.md
    /// §8.4); off by default, so the demo shows the seed's writes.
    pub projects_read_only: bool,
    pub usage: Usage,
    pub stats: Stats,
    pub fault: Option<Fault>,
    /// Managed accounts, migrations, ad account assignments and the webhook.
    pub migration: MigrationState,
}

impl World {
    /// An empty world whose clock starts at `clock_start`.
    pub(crate) fn empty(clock_start: DateTime<Utc>) -> Self {
        World {
            clock_start,
            clock_offset_seconds: 0,
            next_id: FIRST_NEW_ID,
            next_membership_id: FIRST_NEW_MEMBERSHIP_ID,
            next_finance_grant_id: FIRST_NEW_FINANCE_GRANT_ID,
            next_people_node_id: FIRST_NEW_PEOPLE_NODE_ID,
            allocation_marks: 0,
            tokens: HashMap::new(),
            users: BTreeMap::new(),
            businesses: BTreeMap::new(),
            pages: BTreeMap::new(),
            ad_accounts: BTreeMap::new(),
            apps: BTreeMap::new(),
            personas: BTreeMap::new(),
            business_projects: BTreeMap::new(),
            memberships: BTreeMap::new(),
            finance_grants: BTreeMap::new(),
            invoices: BTreeMap::new(),
            credit_cards: BTreeMap::new(),
            extended_credits: BTreeMap::new(),
            invitations_sent: BTreeMap::new(),
            invitations_per_day: user_permission::DEFAULT_INVITATIONS_PER_DAY,
            projects_read_only: false,
            usage: Usage::default(),
            stats: Stats::default(),
            fault: None,
            migration: MigrationState::default(),
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
    ///
    /// When the clock passes one or more DCAF marks (every
    /// [`extended_credit::ALLOCATION_INTERVAL_SECONDS`] after its start), the allocation runs
    /// once: nothing it reads changes between marks passed in one advance, so every run
    /// in between would give the same result.
    pub(crate) fn advance_clock(&mut self, seconds: i64) -> Option<DateTime<Utc>> {
        let offset = self.clock_offset_seconds.checked_add(seconds)?;
        let now = TimeDelta::try_seconds(offset)
            .and_then(|delta| self.clock_start.checked_add_signed(delta))
            .filter(|now| now.year() <= LAST_CLOCK_YEAR)?;
        self.clock_offset_seconds = offset;
        let marks = offset / extended_credit::ALLOCATION_INTERVAL_SECONDS;
        if marks > self.allocation_marks {
            self.allocation_marks = marks;
            extended_credit::allocate(self);
        }
        Some(now)
    }

    /// A fresh id from the one counter every new object draws from.
    pub(crate) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A fresh id for a `userpermissions` row.
    pub(crate) fn next_membership_id(&mut self) -> u64 {
        let id = self.next_membership_id;
        self.next_membership_id += 1;
        id
    }

    /// A fresh id for a `finance_permissions` row.
    pub(crate) fn next_finance_grant_id(&mut self) -> u64 {
        let id = self.next_finance_grant_id;
        self.next_finance_grant_id += 1;
        id
    }

    /// A fresh id for a `BusinessUser` or a `BusinessRoleRequest`.
    pub(crate) fn next_people_node_id(&mut self) -> u64 {
        let id = self.next_people_node_id;
        self.next_people_node_id += 1;
        id
    }

    /// The armed fault, if any, counting this request against it: the fault is disarmed once
    /// it has answered its number of requests.
    pub(crate) fn take_fault(&mut self) -> Option<Fault> {
        let fault = self.fault.as_mut()?;
        fault.remaining = fault.remaining.saturating_sub(1);
        let taken = fault.clone();
        if fault.remaining == 0 {
            self.fault = None;
        }
        Some(taken)
    }

    /// Resolves a Graph id (`me`, a numeric id, `act_<n>`) to a node, ignoring visibility.
    pub(crate) fn lookup(&self, id: &str, viewer: Option<u64>) -> Option<NodeRef> {
        NodeRef::lookup(self, id, viewer)
    }

    /// Whether the viewer may read a node; each node type states its own rule.
    pub(crate) fn can_see(&self, viewer: u64, node: NodeRef) -> bool {
        node.visible_to(self, viewer)
    }

    /// The node an id names, if it exists and the viewer may read it.
    pub(crate) fn visible(&self, id: &str, viewer: u64) -> Option<NodeRef> {
        self.lookup(id, Some(viewer))
            .filter(|node| self.can_see(viewer, *node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_answers_its_number_of_requests_then_disarms() {
        let mut world = World::empty(Utc::now());
        world.fault = Some(Fault {
            error_code: Some(2),
            error_subcode: None,
            remaining: 2,
            latency_ms: 0,
        });
        assert_eq!(world.take_fault().map(|f| f.remaining), Some(1));
        assert_eq!(world.take_fault().map(|f| f.remaining), Some(0));
        assert!(world.take_fault().is_none());
    }

    #[test]
    fn new_ids_come_from_one_counter() {
        let mut world = World::empty(Utc::now());
        assert_eq!(world.next_id(), FIRST_NEW_ID);
        assert_eq!(world.next_id(), FIRST_NEW_ID + 1);
    }
}
