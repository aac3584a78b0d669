//! Extended credits (docs/graph-api.md §8.5): a business's credit lines, listed on its
//! `extendedcredits` edge, and DCAF, the allocation that the sandbox clock runs every 30
//! simulated minutes: a line's available credit (approved `max_balance` minus outstanding
//! `balance`) split evenly over the business's active ad accounts invoiced on the line, which
//! all are DCAF-enabled. Each account's share becomes its `spend_cap`; the line's
//! `allocated_amount` is their sum.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::finance_permission::{may_read_funding, require_funding_reader};
use super::{Node, NodeRef, unknown_field};
use crate::answer::{ReadCtx, embedded};
use crate::money::{amount_json, split_evenly};
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::graph_time;
use crate::world::World;

/// [seed] DCAF runs every 30 minutes of the sandbox clock.
pub(crate) const ALLOCATION_INTERVAL_SECONDS: i64 = 30 * 60;

/// Who is liable for what the line's ad accounts spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liability {
    /// The owning business: the only kind that may fund new ad accounts [seed].
    Normal,
    /// A partner passes its liability on: refused for new ad accounts [seed].
    Sequential,
}

impl Liability {
    /// [guess] Graph's spelling in `credit_type`.
    fn credit_type(self) -> &'static str {
        match self {
            Liability::Normal => "NORMAL_LIABILITY",
            Liability::Sequential => "SEQUENTIAL_LIABILITY",
        }
    }

    /// [guess] Graph's spelling in `liability_type`.
    fn as_str(self) -> &'static str {
        match self {
            Liability::Normal => "NORMAL",
            Liability::Sequential => "SEQUENTIAL",
        }
    }
}

/// A credit line owned by a business. Amounts are minor units of `currency`.
#[derive(Debug, Clone)]
pub(crate) struct ExtendedCredit {
    pub id: u64,
    pub business_id: u64,
    pub legal_entity_name: String,
    pub currency: String,
    pub liability: Liability,
    /// The approved credit.
    pub max_balance: i64,
    /// What is owed on the line.
    pub balance: i64,
    pub is_access_revoked: bool,
    /// What the last DCAF run handed out (0 before the first).
    pub allocated: i64,
    /// When DCAF last ran on this line.
    pub last_allocation: Option<DateTime<Utc>>,
}

impl ExtendedCredit {
    /// Approved credit minus the outstanding balance, never below zero.
    pub(crate) fn available(&self) -> i64 {
        (self.max_balance - self.balance).max(0)
    }

    /// Whether the line may fund new ad accounts and takes part in DCAF.
    pub(crate) fn funds_accounts(&self) -> bool {
        self.liability == Liability::Normal && !self.is_access_revoked
    }
}

impl Node for ExtendedCredit {
    // [guess] Graph's type name.
    const TYPE_NAME: &'static str = "ExtendedCredit";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.extended_credits
    }

    /// The business's ADMINs and finance people.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        may_read_funding(world, self.business_id, viewer)
    }

    fn field(
        ctx: &ReadCtx<'_>,
        line: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let money = |minor: i64| amount_json(minor, &line.currency);
        let value = match field.name.as_str() {
            "id" => json!(line.id.to_string()),
            "credit_type" => json!(line.liability.credit_type()),
            "liability_type" => json!(line.liability.as_str()),
            "max_balance" => money(line.max_balance),
            "balance" => money(line.balance),
            "credit_available" => money(line.available()),
            "allocated_amount" => money(line.allocated),
            "owner_business" => {
                let owner = Some(NodeRef::Business(line.business_id));
                return embedded(ctx, owner, field, &["id", "name"]);
            }
            "legal_entity_name" => json!(line.legal_entity_name),
            "is_access_revoked" => json!(line.is_access_revoked),
            // [guess] When DCAF last ran; absent before the first run.
            "last_allocation_time" => {
                return Ok(line.last_allocation.map(|t| json!(graph_time(t))));
            }
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// The `extendedcredits` edge, in id order; code 200 for a viewer who may not read funding.
pub(crate) fn of_business(
    world: &World,
    viewer: u64,
    business_id: u64,
) -> Result<Vec<NodeRef>, GraphError> {
    require_funding_reader(world, viewer, business_id)?;
    Ok(world
        .extended_credits
        .values()
        .filter(|c| c.business_id == business_id)
        .map(|c| NodeRef::ExtendedCredit(c.id))
        .collect())
}

/// Sets what is owed on a credit line (the control plane's stand-in for spending and
/// payments); DCAF's next run splits the credit then available. Answers the line's currency,
/// or why it was refused, in the control plane's words.
pub(crate) fn set_balance(
    world: &mut World,
    line_id: u64,
    balance: &str,
) -> Result<(i64, String), String> {
    let line = world
        .extended_credits
        .get_mut(&line_id)
        .ok_or_else(|| format!("unknown extended credit {line_id}"))?;
    let minor = crate::money::parse_decimal(balance, &line.currency).ok_or_else(|| {
        format!(
            "balance must be a non-negative decimal amount of {}, such as \"1234.56\"",
            line.currency
        )
    })?;
    line.balance = minor;
    Ok((line.available(), line.currency.clone()))
}

/// The ad accounts that the next DCAF run splits a line's credit over: the line's business's
/// ACTIVE (`account_status` 1), DCAF-enabled accounts invoiced on the line, in id order.
pub(crate) fn split_accounts(world: &World, line: &ExtendedCredit) -> Vec<u64> {
    world
        .ad_accounts
        .values()
        .filter(|a| a.funding_id == Some(line.id) && a.owner_business == Some(line.business_id))
        .filter(|a| a.dcaf_enabled && a.account_status == 1)
        .map(|a| a.id)
        .collect()
}

/// One DCAF run over every line that funds accounts: its available credit split evenly over
/// [`split_accounts`] (the first accounts in id order get one minor unit more while a
/// remainder lasts, so the shares add up exactly), each share written as the account's
/// `spend_cap`; the line's other accounts (inactive ones) get a `spend_cap` of 0.
pub(crate) fn allocate(world: &mut World) {
    let now = world.now();
    let lines: Vec<u64> = world
        .extended_credits
        .values()
        .filter(|line| line.funds_accounts())
        .map(|line| line.id)
        .collect();
    for line_id in lines {
        let Some(line) = world.extended_credits.get(&line_id) else {
            continue;
        };
        let accounts = split_accounts(world, line);
        let shares = split_evenly(line.available(), accounts.len());
        let allocation: BTreeMap<u64, i64> = accounts.into_iter().zip(shares).collect();
        for account in world.ad_accounts.values_mut() {
            if account.funding_id == Some(line_id) {
                let share = allocation.get(&account.id).copied().unwrap_or(0);
                account.spend_cap = share.to_string();
            }
        }
        if let Some(line) = world.extended_credits.get_mut(&line_id) {
            line.allocated = allocation.values().sum();
            line.last_allocation = Some(now);
        }
    }
}
