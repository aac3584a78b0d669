//! Credit cards (docs/graph-api.md §8.5): the cards a business pays with, listed on its
//! `creditcards` edge and readable by its ADMINs and finance people.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::finance_permission::{may_read_funding, require_funding_reader};
use super::{Node, NodeRef, unknown_field};
use crate::answer::ReadCtx;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::World;

/// A business's credit card; only its last four digits are kept.
#[derive(Debug, Clone)]
pub(crate) struct CreditCard {
    pub id: u64,
    pub business_id: u64,
    /// `VISA`, `MASTERCARD`, `AMEX`...
    pub card_type: String,
    pub last4: String,
    pub expiry_month: u32,
    pub expiry_year: i32,
    pub card_holder_name: String,
    pub is_enabled: bool,
}

impl Node for CreditCard {
    // [guess] Graph's type name.
    const TYPE_NAME: &'static str = "CreditCard";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.credit_cards
    }

    /// The business's ADMINs and finance people.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        may_read_funding(world, self.business_id, viewer)
    }

    fn field(
        _ctx: &ReadCtx<'_>,
        card: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let value = match field.name.as_str() {
            "id" => json!(card.id.to_string()),
            "card_type" => json!(card.card_type),
            "last4" => json!(card.last4),
            // [guess] Strings, the month with two digits.
            "expiry_month" => json!(format!("{:02}", card.expiry_month)),
            "expiry_year" => json!(card.expiry_year.to_string()),
            "card_holder_name" => json!(card.card_holder_name),
            "is_enabled" => json!(card.is_enabled),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// The `creditcards` edge, in id order; code 200 for a viewer who may not read funding.
pub(crate) fn of_business(
    world: &World,
    viewer: u64,
    business_id: u64,
) -> Result<Vec<NodeRef>, GraphError> {
    require_funding_reader(world, viewer, business_id)?;
    Ok(world
        .credit_cards
        .values()
        .filter(|c| c.business_id == business_id)
        .map(|c| NodeRef::CreditCard(c.id))
        .collect())
}
