//! Ad account nodes (docs/graph-api.md §8.1 "Assets"): Graph ids `act_<n>`, money in minor
//! units as strings, and the business that owns them; created on a business's credit line
//! (`POST /{business_id}/adaccount`, §8.5) and updated (`POST /act_<n>`: name, and
//! `account_status` to take an account out of DCAF's split or back in).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::business::is_member;
use super::user_permission::require_admin;
use super::{Node, NodeRef, unknown_field};
use crate::answer::ReadCtx;
use crate::money::{currency_codes, decimals};
use crate::wire::auth::Viewer;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::wire::request::{Params, scalar_param, timezone_id};
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
    /// The extended credit the account is invoiced on, if any.
    pub funding_id: Option<u64>,
    /// Whether DCAF allocates credit to it (every account created on a credit line is).
    pub dcaf_enabled: bool,
    /// `end_advertiser`, `media_agency` and `partner` as given at creation.
    pub end_advertiser: Option<String>,
    pub media_agency: Option<String>,
    pub partner: Option<String>,
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
            "funding_source" => return Ok(account.funding_id.map(|id| json!(id.to_string()))),
            // [guess] Whether DCAF allocates credit to the account.
            "is_dcaf_enabled" => json!(account.dcaf_enabled),
            "end_advertiser" => return Ok(account.end_advertiser.as_ref().map(|v| json!(v))),
            "media_agency" => return Ok(account.media_agency.as_ref().map(|v| json!(v))),
            "partner" => return Ok(account.partner.as_ref().map(|v| json!(v))),
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// [guess] The longest ad account name accepted; Graph's limit is unpublished.
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// The parameters `POST /{business_id}/adaccount` requires, in the order they are checked.
const REQUIRED: [&str; 6] = [
    "name",
    "currency",
    "timezone_id",
    "end_advertiser",
    "media_agency",
    "partner",
];

/// An ad account name: trimmed, not blank, no control characters, at most [`MAX_NAME_CHARS`].
fn validate_name(name: &str) -> Result<String, GraphError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_control) {
        return Err(GraphError::invalid_param(
            "Param name must be a non-empty string",
        ));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(GraphError::invalid_param(&format!(
            "Param name must be at most {MAX_NAME_CHARS} characters long"
        )));
    }
    Ok(trimmed.to_owned())
}

/// A currency Meta bills ad accounts in (`crate::money`'s list), else code 100.
fn validate_currency(value: &str) -> Result<String, GraphError> {
    let currency = scalar_param(value).to_ascii_uppercase();
    if decimals(&currency).is_some() {
        Ok(currency)
    } else {
        Err(GraphError::invalid_param(&format!(
            "Param currency must be one of {{{}}}",
            currency_codes().join(", ")
        )))
    }
}

/// `end_advertiser`, `media_agency` or `partner`: a numeric Graph id (a Page, app or
/// business), `NONE` or `UNFOUND` [doc]; code 100 otherwise. [guess] The id is not looked up.
fn validate_party(name: &str, value: &str) -> Result<String, GraphError> {
    let value = scalar_param(value);
    let is_id = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if is_id || value == "NONE" || value == "UNFOUND" {
        Ok(value)
    } else {
        Err(GraphError::invalid_param(&format!(
            "Param {name} must be a Page, app or business ID, NONE or UNFOUND"
        )))
    }
}

/// `funding_id`: one of the business's extended credits that may fund new accounts, in the
/// account's currency; code 100 otherwise.
fn validate_funding(
    world: &World,
    business_id: u64,
    value: &str,
    currency: &str,
) -> Result<u64, GraphError> {
    let line = scalar_param(value)
        .parse::<u64>()
        .ok()
        .and_then(|id| world.extended_credits.get(&id))
        .filter(|line| line.business_id == business_id)
        .ok_or_else(|| {
            GraphError::invalid_param(&format!(
                "Param funding_id must be the id of an extended credit of business {business_id}"
            ))
        })?;
    if line.liability == super::extended_credit::Liability::Sequential {
        // [seed] Only normal liability lines back new ad accounts; [guess] the wording.
        return Err(GraphError::invalid_param(&format!(
            "The extended credit {} has sequential liability; new ad accounts can only be \
             invoiced on a credit line with normal liability",
            line.id
        )));
    }
    if line.is_access_revoked {
        return Err(GraphError::invalid_param(&format!(
            "Access to the extended credit {} is revoked",
            line.id
        )));
    }
    if line.currency != currency {
        // [guess] DCAF allocates in the line's currency, so the account must bill in it.
        return Err(GraphError::invalid_param(&format!(
            "Param currency must be {} to invoice the account on the extended credit {}",
            line.currency, line.id
        )));
    }
    Ok(line.id)
}

/// `POST /{business_id}/adaccount`: creates an ad account owned by the business, active, and
/// (with `funding_id`) invoiced on the credit line and DCAF-enabled; its `spend_cap` is 0 until
/// DCAF's next run. Order: the caller's role (200); the required parameters, each missing one
/// code 100 naming it; their values in the same order; then `funding_id`.
pub(crate) fn create(
    world: &mut World,
    viewer: &Viewer,
    business_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    require_admin(world, viewer, business_id)?;
    for name in REQUIRED {
        params.required(name)?;
    }
    let name = validate_name(params.required("name")?)?;
    let currency = validate_currency(params.required("currency")?)?;
    let timezone = timezone_id(params.required("timezone_id")?)?;
    let end_advertiser = validate_party("end_advertiser", params.required("end_advertiser")?)?;
    let media_agency = validate_party("media_agency", params.required("media_agency")?)?;
    let partner = validate_party("partner", params.required("partner")?)?;
    let funding_id = params
        .get("funding_id")
        .map(|value| validate_funding(world, business_id, value, &currency))
        .transpose()?;
    let id = world.next_id();
    world.ad_accounts.insert(
        id,
        AdAccount {
            id,
            name,
            currency,
            account_status: 1,
            timezone_id: timezone,
            spend_cap: "0".into(),
            amount_spent: "0".into(),
            balance: "0".into(),
            owner_business: Some(business_id),
            funding_id,
            dcaf_enabled: funding_id.is_some(),
            end_advertiser: Some(end_advertiser.clone()),
            media_agency: Some(media_agency.clone()),
            partner: Some(partner.clone()),
        },
    );
    // [doc] The answer names the account both ways, with its business and parties.
    Ok(json!({
        "id": AdAccount::graph_id(id),
        "account_id": id.to_string(),
        "business_id": business_id.to_string(),
        "end_advertiser_id": end_advertiser,
        "media_agency_id": media_agency,
        "partner_id": partner,
    }))
}

/// `POST /act_<n>`: renames the account (`name`) or makes it active (`account_status=1`) or
/// inactive (`account_status=2`), which takes it out of DCAF's split from the next run on.
/// Order: the caller's role in the owning business (200), then the parameters (100).
pub(crate) fn update(
    world: &mut World,
    viewer: &Viewer,
    account_id: u64,
    params: &Params,
) -> Result<Value, GraphError> {
    let owner = world
        .ad_accounts
        .get(&account_id)
        .and_then(|a| a.owner_business)
        .ok_or_else(|| GraphError::unsupported("post", &AdAccount::graph_id(account_id)))?;
    require_admin(world, viewer, owner)?;
    let name = params.get("name").map(validate_name).transpose()?;
    let status = params
        .get("account_status")
        .map(|value| match scalar_param(value).as_str() {
            "1" => Ok(1),
            "2" => Ok(2),
            // [guess] Only these two can be set; 101 (closed) is Graph's own doing.
            _ => Err(GraphError::invalid_param(
                "Param account_status must be 1 (active) or 2 (inactive)",
            )),
        })
        .transpose()?;
    if name.is_none() && status.is_none() {
        return Err(GraphError::invalid_param(
            "Nothing to update: give name or account_status",
        ));
    }
    if let Some(account) = world.ad_accounts.get_mut(&account_id) {
        if let Some(name) = name {
            account.name = name;
        }
        if let Some(status) = status {
            account.account_status = status;
        }
    }
    Ok(json!({ "success": true }))
}
