//! Invoices (docs/graph-api.md §8.5): a business's monthly, threshold and manual invoices with
//! the campaigns they bill, listed on its `business_invoices` edge by billing period from a
//! `start_date` (inclusive) to an `end_date` (exclusive) [doc] (query parameters or field
//! modifiers, `YYYY-MM-DD` or the seed's `YYYY/M/D`).
//! Reading them needs a finance role; being ADMIN is not enough [seed]. Amounts are whole minor
//! units: an invoice's net and tax are the sums of its campaigns', its total their sum.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::finance_permission::{finance_role_of, require_finance_role};
use super::{EdgeArgs, Node, NodeRef, edge_arg, unknown_field};
use crate::answer::ReadCtx;
use crate::money::decimal;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::World;

/// [guess] The longest `start_date`..`end_date` range one read may cover, in days: a year,
/// leap years included (`2024-01-01` to `2025-01-01` is 366 days). Graph's limit is
/// unpublished.
pub(crate) const MAX_RANGE_DAYS: i64 = 366;

/// One campaign billed on an invoice.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceCampaign {
    pub campaign_id: String,
    pub campaign_name: String,
    pub tags: Vec<String>,
    /// Net amount, in minor units of the invoice's currency.
    pub net: i64,
    /// Tax on it, in minor units.
    pub tax: i64,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
}

/// One invoice of one business.
#[derive(Debug, Clone)]
pub(crate) struct Invoice {
    pub id: u64,
    pub business_id: u64,
    /// The invoice number as printed.
    pub invoice_id: String,
    /// The first day of the month billed.
    pub billing_period: NaiveDate,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub entity: String,
    pub liability_type: String,
    pub invoice_type: String,
    pub payment_term: String,
    /// Graph's `type`.
    pub kind: String,
    pub payment_status: String,
    pub currency: String,
    pub campaigns: Vec<InvoiceCampaign>,
}

impl Invoice {
    /// Net amount: the sum of the campaigns' net amounts.
    pub(crate) fn net(&self) -> i64 {
        self.campaigns.iter().map(|c| c.net).sum()
    }

    /// Tax: the sum of the campaigns' tax amounts.
    pub(crate) fn tax(&self) -> i64 {
        self.campaigns.iter().map(|c| c.tax).sum()
    }
}

/// `{currency, net_amount, tax_amount, total_amount}` as decimal strings.
fn amount_details(currency: &str, net: i64, tax: i64) -> Value {
    json!({
        "currency": currency,
        "net_amount": decimal(net, currency),
        "tax_amount": decimal(tax, currency),
        "total_amount": decimal(net + tax, currency),
    })
}

/// Graph's type names of the objects embedded in an invoice, for unknown-field errors.
// [guess] Graph's names for them.
const CAMPAIGN_TYPE: &str = "InvoiceCampaign";
const AMOUNTS_TYPE: &str = "BilledAmountDetails";

/// Keeps the selected keys of an embedded object (all of them without a selection), under
/// their aliases; code 100 for a key it does not have. `nested` names the type of an embedded
/// object under a key, for the selection below it.
fn select(
    object: Value,
    selection: Option<&[FieldSelection]>,
    type_name: &str,
    nested: &dyn Fn(&str) -> Option<&'static str>,
) -> Result<Value, GraphError> {
    let Some(selection) = selection else {
        return Ok(object);
    };
    let mut all = match object {
        Value::Object(all) => all,
        other => return Ok(other),
    };
    let mut out = Map::new();
    for field in selection {
        let value = all
            .remove(&field.name)
            .ok_or_else(|| GraphError::nonexisting_field(&field.name, type_name))?;
        let value = match nested(&field.name) {
            Some(inner) => select(value, field.children.as_deref(), inner, &|_| None)?,
            None => value,
        };
        out.insert(field.key().to_owned(), value);
    }
    Ok(Value::Object(out))
}

fn campaign_json(campaign: &InvoiceCampaign, currency: &str) -> Value {
    json!({
        "campaign_id": campaign.campaign_id,
        "campaign_name": campaign.campaign_name,
        "tags": campaign.tags,
        "billed_amount_details": amount_details(currency, campaign.net, campaign.tax),
        "impressions": campaign.impressions,
        "clicks": campaign.clicks,
        "conversions": campaign.conversions,
    })
}

impl Node for Invoice {
    // [doc] Graph's node type behind `business_invoices`.
    const TYPE_NAME: &'static str = "OmegaCustomerTrx";
    const DEFAULT_FIELDS: &'static [&'static str] = &["id"];

    fn stored(world: &World) -> &BTreeMap<u64, Self> {
        &world.invoices
    }

    /// The business's people with a finance role.
    fn visible_to(&self, world: &World, viewer: u64) -> bool {
        finance_role_of(world, self.business_id, viewer).is_some()
    }

    fn field(
        _ctx: &ReadCtx<'_>,
        invoice: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        let day = |date: NaiveDate| json!(date.format("%Y-%m-%d").to_string());
        let value = match field.name.as_str() {
            "id" => json!(invoice.id.to_string()),
            "invoice_id" => json!(invoice.invoice_id),
            "billing_period" => day(invoice.billing_period),
            "invoice_date" => day(invoice.invoice_date),
            "due_date" => day(invoice.due_date),
            "entity" => json!(invoice.entity),
            "liability_type" => json!(invoice.liability_type),
            "invoice_type" => json!(invoice.invoice_type),
            "payment_term" => json!(invoice.payment_term),
            "type" => json!(invoice.kind),
            "payment_status" => json!(invoice.payment_status),
            "currency" => json!(invoice.currency),
            "billed_amount_details" => select(
                amount_details(&invoice.currency, invoice.net(), invoice.tax()),
                field.children.as_deref(),
                AMOUNTS_TYPE,
                &|_| None,
            )?,
            "campaigns" => {
                let data = invoice
                    .campaigns
                    .iter()
                    .map(|campaign| {
                        select(
                            campaign_json(campaign, &invoice.currency),
                            field.children.as_deref(),
                            CAMPAIGN_TYPE,
                            &|key| (key == "billed_amount_details").then_some(AMOUNTS_TYPE),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                json!({ "data": data })
            }
            _ => return Err(unknown_field::<Self>(field)),
        };
        Ok(Some(value))
    }
}

/// A date parameter: `YYYY-MM-DD` or the seed's `YYYY/M/D` (one separator throughout, a
/// four-digit year, one- or two-digit month and day), a real calendar day; code 100 otherwise.
pub(crate) fn parse_date(name: &str, value: &str) -> Result<NaiveDate, GraphError> {
    let value = value.trim();
    let invalid = || {
        GraphError::invalid_param(&format!(
            "Param {name} must be a date written YYYY-MM-DD or YYYY/M/D, got '{value}'"
        ))
    };
    let separator = if value.contains('/') { '/' } else { '-' };
    let parts: Vec<&str> = value.split(separator).collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(invalid());
    };
    let digits = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(year, 4..=4) || !digits(month, 1..=2) || !digits(day, 1..=2) {
        return Err(invalid());
    }
    let number = |part: &str| part.parse::<u32>().map_err(|_| invalid());
    let year = i32::try_from(number(year)?).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?).ok_or_else(invalid)
}

/// The `start_date`..`end_date` range of a read, `start_date` inclusive and `end_date`
/// exclusive [doc: "Note: end_date is exclusive."]: both required, the end not before the
/// start (equal ends are an empty range), `end_date - start_date` at most [`MAX_RANGE_DAYS`];
/// code 100 otherwise.
pub(crate) fn date_range(args: &EdgeArgs<'_>) -> Result<(NaiveDate, NaiveDate), GraphError> {
    let required = |name: &str| {
        edge_arg(args, name)
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| GraphError::invalid_param(&format!("The parameter {name} is required")))
    };
    let start = parse_date("start_date", required("start_date")?)?;
    let end = parse_date("end_date", required("end_date")?)?;
    if end < start {
        return Err(GraphError::invalid_param(&format!(
            "Param end_date ({end}) must not be before start_date ({start})"
        )));
    }
    let days = (end - start).num_days();
    if days > MAX_RANGE_DAYS {
        return Err(GraphError::invalid_param(&format!(
            "The range from start_date to end_date may span at most {MAX_RANGE_DAYS} days; \
             {start} to {end} spans {days}"
        )));
    }
    Ok((start, end))
}

/// Whether an invoice's billing period is in `start..end` (`end` exclusive).
fn in_range(invoice: &Invoice, start: NaiveDate, end: NaiveDate) -> bool {
    (start..end).contains(&invoice.billing_period)
}

/// The `business_invoices` edge: the business's invoices whose billing period (the first day of
/// the month invoiced) is in the range, `start_date <= billing_period < end_date` [doc: Graph
/// queries invoices "by their billing period" and "end_date is exclusive"], oldest first by
/// `(billing_period, invoice_date, id)`. Order of checks: the viewer's finance role (200), then
/// the dates (100).
pub(crate) fn of_business(
    world: &World,
    viewer: u64,
    business_id: u64,
    args: &EdgeArgs<'_>,
) -> Result<Vec<NodeRef>, GraphError> {
    require_finance_role(world, viewer, business_id)?;
    let (start, end) = date_range(args)?;
    let mut invoices: Vec<&Invoice> = world
        .invoices
        .values()
        .filter(|i| i.business_id == business_id)
        .filter(|i| in_range(i, start, end))
        .collect();
    invoices.sort_by_key(|i| (i.billing_period, i.invoice_date, i.id));
    Ok(invoices
        .into_iter()
        .map(|i| NodeRef::Invoice(i.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real day")
    }

    #[test]
    fn both_date_spellings_parse_and_others_are_refused() {
        assert_eq!(parse_date("d", "2024-02-29"), Ok(date(2024, 2, 29)));
        assert_eq!(parse_date("d", "2017/1/1"), Ok(date(2017, 1, 1)));
        assert_eq!(parse_date("d", "2017/04/01"), Ok(date(2017, 4, 1)));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-",
            "24-01-01",
            "2024/01-01",
            "2024-01-01T00:00",
            "",
            "+2024-01-01",
            "yesterday",
        ] {
            let error = parse_date("start_date", bad).expect_err(bad);
            assert_eq!(error.code, 100, "{bad}");
        }
    }

    #[test]
    fn a_range_needs_both_ends_in_order_and_at_most_a_year_apart() {
        let ok = date_range(&[("start_date", "2024-01-01"), ("end_date", "2025-01-01")]);
        assert_eq!(ok, Ok((date(2024, 1, 1), date(2025, 1, 1))));
        let cases: [&[(&str, &str)]; 4] = [
            &[("end_date", "2024-01-01")],
            &[("start_date", "2024-01-01")],
            &[("start_date", "2024-02-01"), ("end_date", "2024-01-31")],
            &[("start_date", "2024-01-01"), ("end_date", "2025-01-02")],
        ];
        for args in cases {
            assert_eq!(date_range(args).map_err(|e| e.code), Err(100), "{args:?}");
        }
        // Equal ends are allowed: an empty range, since end_date is exclusive.
        let empty = date_range(&[("start_date", "2024-02-01"), ("end_date", "2024/2/1")]);
        assert_eq!(empty, Ok((date(2024, 2, 1), date(2024, 2, 1))));
    }

    /// The ids `business_invoices` returns for Pomni Media's seeded invoices, read by its
    /// FINANCE_EDITOR system user.
    fn pomni_ids(start: &str, end: &str) -> Vec<u64> {
        let world = crate::seed::seeded_world(chrono::Utc::now());
        let refs = of_business(
            &world,
            100_003,
            200_001,
            &[("start_date", start), ("end_date", end)],
        )
        .expect("a valid range");
        refs.into_iter()
            .map(|r| match r {
                NodeRef::Invoice(id) => id,
                other => panic!("not an invoice: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn invoices_are_selected_by_billing_period_with_the_end_date_excluded() {
        // February 2024's billing period: the threshold invoice of 02-29 and the monthly one
        // of 03-01; January's monthly invoice (dated 02-01) is not in it.
        assert_eq!(pomni_ids("2024-02-01", "2024-03-01"), [910_002, 910_003]);
        // Any end after the period's first day keeps it; the end day itself is excluded.
        assert_eq!(pomni_ids("2024-02-01", "2024-02-29"), [910_002, 910_003]);
        assert_eq!(pomni_ids("2024-02-01", "2024-02-02"), [910_002, 910_003]);
        assert!(pomni_ids("2024-02-01", "2024-02-01").is_empty());
        assert_eq!(
            pomni_ids("2024-02-01", "2024-03-02"),
            [910_002, 910_003, 910_004]
        );
        // A start after the period's first day leaves the period out.
        assert!(pomni_ids("2024-02-02", "2024-03-01").is_empty());
        assert_eq!(
            pomni_ids("2024-01-01", "2024-04-01"),
            [910_001, 910_002, 910_003, 910_004]
        );
        // All of 2024: 12 monthly, 4 threshold and 1 manual invoice, December's monthly one
        // (dated 2025-01-01) included.
        let year = pomni_ids("2024-01-01", "2025-01-01");
        assert_eq!(year, (910_001..=910_017).collect::<Vec<_>>());
        assert_eq!(pomni_ids("2024-12-01", "2025-01-01"), [910_016, 910_017]);
        assert_eq!(
            pomni_ids("2025-01-01", "2026-01-01"),
            (910_018..=910_034).collect::<Vec<_>>()
        );
        assert!(pomni_ids("2023-01-01", "2024-01-01").is_empty());
    }

    #[test]
    fn invoices_are_ordered_by_billing_period_then_invoice_date() {
        let world = crate::seed::seeded_world(chrono::Utc::now());
        let ids = pomni_ids("2024-06-01", "2025-03-01");
        let keys: Vec<_> = ids
            .iter()
            .map(|id| {
                let i = &world.invoices[id];
                (i.billing_period, i.invoice_date, i.id)
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        // December 2024's manual invoice (dated 12-15) comes before its monthly one (dated
        // 2025-01-01), and both after November's.
        let december: Vec<&str> = ids
            .iter()
            .map(|id| &world.invoices[id])
            .filter(|i| i.billing_period == date(2024, 12, 1))
            .map(|i| i.invoice_type.as_str())
            .collect();
        assert_eq!(december, ["MANUAL", "MONTHLY"]);
    }
}
