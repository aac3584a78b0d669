//! Ad account nodes (docs/graph-api.md §8.1 "Assets"): Graph ids `act_<n>`, money in minor
//! units as strings, and the business that owns them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::business::is_member;
use super::{Node, NodeRef, unknown_field};
use crate::answer::ReadCtx;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::World;

/// The prefix of an ad account's Graph id: `act_<n>` [doc].
const ID_PREFIX: &str = "act_";

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

impl Node for AdAccount {
    const TYPE_NAME: &'static str = "AdAccount";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.ad_accounts
    }

    /// Only `act_<n>` names an ad account; its bare number does not.
    fn parse_id(id: &str) -> Option<u64> {
        id.strip_prefix(ID_PREFIX)?.parse().ok()
    }

    fn graph_id(id: u64) -> String {
        format!("{ID_PREFIX}{id}")
    }

    /// The people of the business that owns it.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        self.owner_business
            .is_some_and(|business| is_member(world, viewer, business))
    }

    fn field(
        ctx: &ReadCtx<'_>,
        account: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let value = match field.name.as_str() {
            "id" => json!(Self::graph_id(account.id)),
            "account_id" => json!(account.id.to_string()),
            "name" => json!(account.name),
            "currency" => json!(account.currency),
            "account_status" => json!(account.account_status),
            "timezone_id" => json!(account.timezone_id),
            "spend_cap" => json!(account.spend_cap),
            "amount_spent" => json!(account.amount_spent),
            "balance" => json!(account.balance),
            // Set only during a managed-account migration window (docs/graph-api.md §9).
            "user_access_expire_time" => {
                return crate::migration::user_access_expire_time(
                    ctx,
                    NodeRef::AdAccount(account.id),
                );
            }
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}
