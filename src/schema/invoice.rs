//! Invoices: a business's monthly invoices with their campaigns (Graph's `business_invoices`),
//! their field planning as the edge's own modifiers, and the date range they are read for.

use async_graphql::{ID, Object, Result, SelectionField, SimpleObject};
use chrono::{Days, NaiveDate};

use super::connection::{ConnectionArgs, PlanNode, plan_connection_with};
use super::error::invalid_argument;
use super::money::Money;
use super::scalars::Date;
use crate::graph::{FieldSet, model};

/// Graph's edge of a business's invoices.
pub(crate) const INVOICES_EDGE: &str = "business_invoices";

/// The longest range one `invoices` field reads, in days from `startDate` to `endDate`.
pub(crate) const MAX_RANGE_DAYS: u64 = 366;

/// The billing periods one `invoices` field asks for: `startDate` to `endDate`, both
/// inclusive. Graph's `end_date` is exclusive, so it is sent as the day after `endDate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvoiceRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl InvoiceRange {
    /// Checks `startDate` ≤ `endDate` and a range of at most [`MAX_RANGE_DAYS`].
    pub(crate) fn new(start: Date, end: Date) -> Result<InvoiceRange> {
        let (start, end) = (start.0, end.0);
        if end < start {
            return Err(invalid_argument(
                "endDate",
                &format!("{end} is before startDate {start}"),
            ));
        }
        let days = (end - start).num_days().unsigned_abs() + 1;
        if days > MAX_RANGE_DAYS {
            return Err(invalid_argument(
                "endDate",
                &format!(
                    "the range {start} to {end} is {days} days; ask for at most {MAX_RANGE_DAYS} days at a time"
                ),
            ));
        }
        Ok(InvoiceRange { start, end })
    }

    /// The range as the edge's own parameters, in Graph's names and `YYYY-MM-DD`.
    pub(crate) fn filters(&self) -> Vec<(String, String)> {
        // The day after the last one: `checked_add_days` fails only past chrono's year 262143.
        let end = self
            .end
            .checked_add_days(Days::new(1))
            .unwrap_or(NaiveDate::MAX);
        vec![
            (
                "start_date".to_owned(),
                self.start.format("%Y-%m-%d").to_string(),
            ),
            ("end_date".to_owned(), end.format("%Y-%m-%d").to_string()),
        ]
    }

    /// The range written in a selection's arguments (for planning), checked as the field's
    /// resolver checks it, so that a bad one fails before the parent's read: a date variable
    /// that is not `YYYY-MM-DD` (GraphQL checks a custom scalar's variable only when the
    /// field resolves), `endDate` before `startDate`, too long a range. `None` when a date is
    /// missing, which GraphQL's validation refuses before any resolver runs.
    fn from_selection(field: &SelectionField<'_>) -> Option<Result<InvoiceRange>> {
        let (mut start, mut end) = (None, None);
        let arguments = match field.arguments() {
            Ok(arguments) => arguments,
            Err(error) => return Some(Err(error.into())),
        };
        for (name, value) in arguments {
            let slot = match name.as_str() {
                "startDate" => &mut start,
                "endDate" => &mut end,
                _ => continue,
            };
            let date = match &value {
                async_graphql::Value::String(text) => Date::parse_text(text),
                other => Err(format!(
                    "{other} is not a date: write YYYY-MM-DD, e.g. 2026-11-01"
                )),
            };
            match date {
                Ok(date) => *slot = Some(date),
                Err(problem) => return Some(Err(invalid_argument(name.as_str(), &problem))),
            }
        }
        Some(InvoiceRange::new(start?, end?))
    }
}

/// Plans `invoices(startDate, endDate, first, after)` into its business's read as
/// `business_invoices.start_date(..).end_date(..).limit(..){...}`. A bad range or paging
/// argument fails the planning, as a bad `first` does on every connection: the business is
/// not read and Graph is not called.
pub(crate) fn plan_invoices(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    let Some(range) = InvoiceRange::from_selection(&field) else {
        return Ok(());
    };
    let range = range?;
    let args = ConnectionArgs::from_selection(&field)?;
    let plan: PlanNode = plan_invoice;
    plan_connection_with(
        set,
        field,
        INVOICES_EDGE,
        args.with_filters(range.filters()),
        plan,
    )
}

/// The fields of a billed amount: all four, as each `Money` needs the currency.
fn plan_billed_amount(set: &mut FieldSet) {
    for name in ["currency", "net_amount", "tax_amount", "total_amount"] {
        set.scalar(name);
    }
}

/// Adds the Graph fields a selection of `Invoice` needs.
pub(crate) fn plan_invoice(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        let graph = match child.name() {
            "invoiceId" => "invoice_id",
            "billingPeriod" => "billing_period",
            "entity" => "entity",
            "liabilityType" => "liability_type",
            "invoiceType" => "invoice_type",
            "paymentTerm" => "payment_term",
            "type" => "type",
            "paymentStatus" => "payment_status",
            "dueDate" => "due_date",
            "invoiceDate" => "invoice_date",
            "currency" => "currency",
            "billedAmount" => {
                plan_billed_amount(set.object("billed_amount_details"));
                continue;
            }
            "campaigns" => {
                plan_campaign(set.object("campaigns"), child);
                continue;
            }
            _ => continue,
        };
        set.scalar(graph);
    }
    Ok(())
}

fn plan_campaign(set: &mut FieldSet, field: SelectionField<'_>) {
    // A campaign has no id of its own in Graph's answer; its campaign id stands for it.
    set.scalar("campaign_id");
    for child in field.selection_set() {
        match child.name() {
            "campaignName" => set.scalar("campaign_name"),
            "tags" => set.scalar("tags"),
            "impressions" => set.scalar("impressions"),
            "clicks" => set.scalar("clicks"),
            "conversions" => set.scalar("conversions"),
            "billedAmount" => plan_billed_amount(set.object("billed_amount_details")),
            _ => {}
        }
    }
}

/// A monthly invoice (or credit memo) of a business.
pub(crate) struct Invoice(pub(crate) model::Invoice);

#[Object]
impl Invoice {
    /// The invoice's Graph id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The invoice number printed on it.
    async fn invoice_id(&self) -> Option<&str> {
        self.0.invoice_id.as_deref()
    }

    /// The first day of the month billed.
    async fn billing_period(&self) -> Option<Date> {
        self.0.billing_period.map(Date)
    }

    /// The Meta entity that bills.
    async fn entity(&self) -> Option<&str> {
        self.0.entity.as_deref()
    }

    /// Graph's liability type, e.g. `Normal`.
    async fn liability_type(&self) -> Option<&str> {
        self.0.liability_type.as_deref()
    }

    /// `INVOICE`, or `CM` for a credit memo.
    async fn invoice_type(&self) -> Option<&str> {
        self.0.invoice_type.as_deref()
    }

    /// The payment terms, e.g. `NET 30`.
    async fn payment_term(&self) -> Option<&str> {
        self.0.payment_term.as_deref()
    }

    /// Graph's `type` of the invoice.
    #[graphql(name = "type")]
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }

    /// Whether it is paid, e.g. `PAID`, `UNPAID`.
    async fn payment_status(&self) -> Option<&str> {
        self.0.payment_status.as_deref()
    }

    /// When payment is due.
    async fn due_date(&self) -> Option<Date> {
        self.0.due_date.map(Date)
    }

    /// When the invoice was issued.
    async fn invoice_date(&self) -> Option<Date> {
        self.0.invoice_date.map(Date)
    }

    /// ISO 4217 currency of the invoice.
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }

    /// Net, tax and total, exact.
    async fn billed_amount(&self) -> Option<BilledAmount> {
        self.0
            .billed_amount_details
            .as_ref()
            .map(BilledAmount::from_graph)
    }

    /// The campaigns billed on the invoice.
    async fn campaigns(&self) -> Vec<InvoiceCampaign> {
        self.0
            .campaigns
            .as_ref()
            .map(|list| list.data.iter().map(InvoiceCampaign::from_graph).collect())
            .unwrap_or_default()
    }
}

/// An amount billed: net, tax and their total, each exact in the invoice's currency.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub(crate) struct BilledAmount {
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Before tax.
    pub net: Option<Money>,
    /// Tax.
    pub tax: Option<Money>,
    /// Net plus tax.
    pub total: Option<Money>,
}

impl BilledAmount {
    fn from_graph(graph: &model::BilledAmount) -> BilledAmount {
        let money = |amount: Option<rust_decimal::Decimal>| {
            Some(Money::new(amount?, graph.currency.as_deref()?))
        };
        BilledAmount {
            currency: graph.currency.clone(),
            net: money(graph.net_amount),
            tax: money(graph.tax_amount),
            total: money(graph.total_amount),
        }
    }
}

/// One campaign billed on an invoice.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct InvoiceCampaign {
    /// The campaign's id.
    pub campaign_id: Option<ID>,
    /// Its name.
    pub campaign_name: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// What it was billed.
    pub billed_amount: Option<BilledAmount>,
    /// Impressions in the billing period.
    pub impressions: Option<i64>,
    /// Clicks in the billing period.
    pub clicks: Option<i64>,
    /// Conversions in the billing period.
    pub conversions: Option<i64>,
}

impl InvoiceCampaign {
    fn from_graph(graph: &model::InvoiceCampaign) -> InvoiceCampaign {
        InvoiceCampaign {
            campaign_id: graph.campaign_id.clone().map(ID),
            campaign_name: graph.campaign_name.clone(),
            tags: graph.tags.clone(),
            billed_amount: graph
                .billed_amount_details
                .as_ref()
                .map(BilledAmount::from_graph),
            impressions: graph.impressions,
            clicks: graph.clicks,
            conversions: graph.conversions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date"))
    }

    #[test]
    fn a_range_is_inclusive_and_sent_with_graphs_exclusive_end() {
        let range = InvoiceRange::new(date("2026-01-01"), date("2026-03-31")).expect("a range");
        assert_eq!(
            range.filters(),
            vec![
                ("start_date".to_owned(), "2026-01-01".to_owned()),
                ("end_date".to_owned(), "2026-04-01".to_owned()),
            ]
        );
        assert!(InvoiceRange::new(date("2026-01-01"), date("2026-01-01")).is_ok());
        let backwards = InvoiceRange::new(date("2026-02-01"), date("2026-01-31"))
            .expect_err("end before start");
        assert!(
            backwards.message.starts_with("endDate: "),
            "{}",
            backwards.message
        );
        assert!(InvoiceRange::new(date("2025-01-01"), date("2026-01-01")).is_ok());
        assert!(InvoiceRange::new(date("2024-12-31"), date("2026-01-01")).is_err());
    }
}
