//! `Business.creditAllocation`: a preview of what the next DCAF run (Meta's allocation of a
//! credit line's available credit to its ad accounts) gives each account, computed in the
//! gateway from one Graph read of the business's credit lines and ad accounts.
//!
//! The formula (docs/graph-api.md §8.5, the sandbox's DCAF): for each credit line with normal
//! liability whose access is not revoked, the accounts in the split are the business's ad
//! accounts invoiced on the line (`funding_source`), DCAF-enabled and ACTIVE (`account_status`
//! 1), in numeric id order. The line's `credit_available`, in the currency's minor units (never
//! below zero), is divided by their number: each gets the quotient, and the first `remainder`
//! accounts one minor unit more, so that the shares add up to the available credit exactly.
//! All of it in integer minor units; amounts are exact decimals, never floats.

use async_graphql::{Context, Result, SelectionField, SimpleObject};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::DeserializeOwned;

use super::assets::{AdAccount, plan_ad_account};
use super::business::ROLE_GUARDED_EDGES;
use super::connection::{LIST_LIMIT, ParentEdges};
use super::error::coded;
use super::funding::{EXTENDED_CREDITS_EDGE, ExtendedCredit, plan_extended_credit};
use super::money::{Money, currency_offset};
use super::upstream::Upstream;
use crate::error::ErrorCode;
use crate::graph::{EdgeArgs, FieldSet, GraphList, PageRequest, model};

/// Graph's edge of the ad accounts a business owns.
const AD_ACCOUNTS_EDGE: &str = "owned_ad_accounts";
/// The key the preview's credit lines are read under in the business's read (`.as(...)`),
/// apart from an `extendedCredits` field's read of the same edge.
const LINES_KEY: &str = "credit_allocation_lines";
/// The key the preview's ad accounts are read under, apart from an `adAccounts` field's.
const ACCOUNTS_KEY: &str = "credit_allocation_accounts";
/// The most ad accounts the preview reads in its one call; a business with more gets an
/// error rather than a preview that leaves some out.
pub(crate) const MAX_ACCOUNTS: u32 = 1000;

/// Graph's `credit_type` of a line whose own business is liable: the lines DCAF runs on.
const NORMAL_LIABILITY: &str = "NORMAL_LIABILITY";
/// Graph's `account_status` of an active ad account.
const ACTIVE: i64 = 1;

/// What the next allocation gives the ad accounts of one credit line.
#[derive(SimpleObject)]
pub(crate) struct CreditAllocation {
    /// The credit line.
    pub credit_line: ExtendedCredit,
    /// Its credit available now (approved minus owed, never below zero): what is split.
    pub available: Money,
    /// Each active, DCAF-enabled ad account on the line, in id order, with its share.
    pub accounts: Vec<AccountAllocation>,
    /// The sum of the shares: `available` when at least one account is in the split, else 0.
    pub total: Money,
}

/// One ad account's share of its credit line.
#[derive(SimpleObject)]
pub(crate) struct AccountAllocation {
    /// The ad account.
    pub ad_account: AdAccount,
    /// Its share, in the line's currency.
    pub amount: Money,
    /// The share in the currency's minor units, as the account's `spendCap` reads after
    /// the allocation (`amount` × `amount.offset`).
    pub spend_cap: String,
}

/// The Graph fields the preview needs of the credit lines and of the ad accounts, with those
/// of the selection below `creditLine` and `accounts.adAccount`.
fn plan_parts(field: &SelectionField<'_>) -> Result<(FieldSet, FieldSet)> {
    let mut lines = FieldSet::new();
    for name in ["id", "credit_type", "is_access_revoked", "credit_available"] {
        lines.scalar(name);
    }
    let mut accounts = FieldSet::new();
    for name in ["id", "account_status", "is_dcaf_enabled", "funding_source"] {
        accounts.scalar(name);
    }
    for child in field.selection_set() {
        match child.name() {
            "creditLine" => plan_extended_credit(&mut lines, child)?,
            "accounts" => {
                for grandchild in child.selection_set() {
                    if grandchild.name() == "adAccount" {
                        plan_ad_account(&mut accounts, grandchild)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok((lines, accounts))
}

/// Plans `creditAllocation` into its business's read: the credit lines and the ad accounts
/// expanded side by side, each under a key of its own.
pub(crate) fn plan_credit_allocation(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    let (lines, accounts) = plan_parts(&field)?;
    set.edge(EXTENDED_CREDITS_EDGE, &lines_args()).merge(&lines);
    set.edge(AD_ACCOUNTS_EDGE, &accounts_args())
        .merge(&accounts);
    Ok(())
}

fn lines_args() -> EdgeArgs {
    EdgeArgs {
        limit: Some(LIST_LIMIT),
        alias: Some(LINES_KEY.to_owned()),
        ..EdgeArgs::default()
    }
}

fn accounts_args() -> EdgeArgs {
    EdgeArgs {
        limit: Some(MAX_ACCOUNTS),
        alias: Some(ACCOUNTS_KEY.to_owned()),
        ..EdgeArgs::default()
    }
}

/// An edge the business's read expanded under `key`, or, when that read did not plan it (a
/// business reached through a credit line's `ownerBusiness`, or one whose read Graph refused
/// for its role-guarded edges), read on its own.
async fn edge_list<T: DeserializeOwned>(
    ctx: &Context<'_>,
    parent: &ParentEdges<'_>,
    (edge, key): (&str, &str),
    fields: &FieldSet,
    limit: u32,
) -> Result<GraphList<T>> {
    match parent.edges.list::<T>(key) {
        Ok(Some(list)) => Ok(list),
        Ok(None) if parent.fetched.contains(key) => Ok(GraphList::empty()),
        Ok(None) => {
            let page = PageRequest {
                limit: Some(limit),
                ..PageRequest::default()
            };
            let upstream = Upstream::of(ctx)?;
            // The credit lines are role-guarded: left out of a business's read that Graph
            // refused, they read with the guarded edges of its siblings in one batch call.
            if ROLE_GUARDED_EDGES.contains(&edge) {
                upstream.guarded_edge(parent.id, edge, fields, &page).await
            } else {
                upstream.edge(parent.id, edge, fields, &page).await
            }
        }
        Err(e) => Err(Upstream::of(ctx)?.fail(&e)),
    }
}

/// Resolves `Business.creditAllocation`.
pub(crate) async fn resolve(
    ctx: &Context<'_>,
    parent: ParentEdges<'_>,
) -> Result<Vec<CreditAllocation>> {
    let (line_fields, account_fields) = plan_parts(&ctx.field())?;
    let lines: GraphList<model::ExtendedCredit> = edge_list(
        ctx,
        &parent,
        (EXTENDED_CREDITS_EDGE, LINES_KEY),
        &line_fields,
        LIST_LIMIT,
    )
    .await?;
    let accounts: GraphList<model::AdAccount> = edge_list(
        ctx,
        &parent,
        (AD_ACCOUNTS_EDGE, ACCOUNTS_KEY),
        &account_fields,
        MAX_ACCOUNTS,
    )
    .await?;
    if accounts.has_next() {
        return Err(coded(
            ErrorCode::FailedPrecondition,
            format!(
                "business {} owns more than {MAX_ACCOUNTS} ad accounts; the credit allocation \
                 preview reads at most {MAX_ACCOUNTS}",
                parent.id
            ),
        ));
    }
    preview(lines.data, &accounts.data)
}

/// The preview of every line DCAF runs on, in Graph's order of the lines.
pub(crate) fn preview(
    lines: Vec<model::ExtendedCredit>,
    accounts: &[model::AdAccount],
) -> Result<Vec<CreditAllocation>> {
    let mut previews = Vec::new();
    for line in lines {
        let runs = line.credit_type.as_deref() == Some(NORMAL_LIABILITY)
            && line.is_access_revoked != Some(true);
        if !runs {
            continue;
        }
        let Some(available) = line.credit_available.clone() else {
            return Err(unreadable(&line.id, "no credit_available"));
        };
        let offset = currency_offset(&available.currency);
        let minor = to_minor(available.amount, offset)
            .ok_or_else(|| unreadable(&line.id, "credit_available is not whole minor units"))?
            .max(0);
        let mut split: Vec<(u128, &model::AdAccount)> = accounts
            .iter()
            .filter(|a| a.funding_source.as_deref() == Some(line.id.as_str()))
            .filter(|a| a.is_dcaf_enabled == Some(true) && a.account_status == Some(ACTIVE))
            .map(|a| (account_number(&a.id), a))
            .collect();
        split.sort_by(|(x, a), (y, b)| x.cmp(y).then_with(|| a.id.cmp(&b.id)));
        let shares = split_evenly(minor, split.len());
        let total: i128 = shares.iter().sum();
        let currency = available.currency.clone();
        previews.push(CreditAllocation {
            available: Money::new(from_minor(minor, offset), &currency),
            accounts: split
                .into_iter()
                .zip(shares)
                .map(|((_, account), share)| AccountAllocation {
                    ad_account: AdAccount(account.clone()),
                    amount: Money::new(from_minor(share, offset), &currency),
                    spend_cap: share.to_string(),
                })
                .collect(),
            total: Money::new(from_minor(total, offset), &currency),
            credit_line: ExtendedCredit(line),
        });
    }
    Ok(previews)
}

fn unreadable(line: &str, problem: &str) -> async_graphql::Error {
    coded(
        ErrorCode::Internal,
        format!("the Graph API's credit line {line} cannot be previewed: {problem}"),
    )
}

/// The number in an ad account's id (`act_<n>`), which orders the split; an id that is not
/// one sorts last.
fn account_number(id: &str) -> u128 {
    id.strip_prefix("act_")
        .unwrap_or(id)
        .parse()
        .unwrap_or(u128::MAX)
}

/// `total` split over `parts`: the quotient each, one more to each of the first `remainder`.
/// Nothing for no parts.
pub(crate) fn split_evenly(total: i128, parts: usize) -> Vec<i128> {
    let Ok(count) = i128::try_from(parts) else {
        return Vec::new();
    };
    if count == 0 {
        return Vec::new();
    }
    let (quotient, remainder) = (total.div_euclid(count), total.rem_euclid(count));
    (0..count)
        .map(|index| quotient + i128::from(index < remainder))
        .collect()
}

/// An amount in a currency's major unit as whole minor units (`37654.33` USD is `3765433`);
/// `None` when it has a fraction of a minor unit.
pub(crate) fn to_minor(amount: Decimal, offset: u32) -> Option<i128> {
    let minor = amount.checked_mul(Decimal::from(offset))?;
    if !minor.fract().is_zero() {
        return None;
    }
    minor.trunc().to_i128()
}

/// Whole minor units as an amount in the major unit, written with the currency's decimals
/// (`1255145` at offset 100 is `12551.45`; `0` is `0.00`).
pub(crate) fn from_minor(minor: i128, offset: u32) -> Decimal {
    let scale = offset.checked_ilog10().unwrap_or(0);
    Decimal::try_from_i128_with_scale(minor, scale).unwrap_or(Decimal::MAX)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn line(id: &str, credit_type: &str, available: &str, currency: &str) -> model::ExtendedCredit {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "credit_type": credit_type,
            "is_access_revoked": false,
            "credit_available": {"amount": available, "currency": currency},
        }))
        .expect("a line")
    }

    fn account(id: &str, funding: &str, status: i64, dcaf: bool) -> model::AdAccount {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "account_status": status,
            "is_dcaf_enabled": dcaf,
            "funding_source": funding,
        }))
        .expect("an account")
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a decimal")
    }

    /// `(account id, amount, spend cap)` of each share of each line.
    fn shares(previews: &[CreditAllocation]) -> Vec<Vec<(String, String, String)>> {
        previews
            .iter()
            .map(|p| {
                p.accounts
                    .iter()
                    .map(|a| {
                        (
                            a.ad_account.0.id.clone(),
                            a.amount.amount.to_string(),
                            a.spend_cap.clone(),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn shares_add_up_with_the_remainder_on_the_first_accounts() {
        assert_eq!(
            split_evenly(3_765_433, 3),
            [1_255_145, 1_255_144, 1_255_144]
        );
        assert_eq!(split_evenly(10, 4), [3, 3, 2, 2]);
        assert_eq!(split_evenly(9, 3), [3, 3, 3]);
        assert_eq!(split_evenly(2, 5), [1, 1, 0, 0, 0]);
        assert_eq!(split_evenly(0, 2), [0, 0]);
        assert!(split_evenly(100, 0).is_empty());
        for (total, parts) in [(1_000_001, 7), (5, 3), (123_456_789_012, 11)] {
            let split = split_evenly(total, parts);
            assert_eq!(split.iter().sum::<i128>(), total);
            assert!(split.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
        }
    }

    #[test]
    fn minor_units_are_exact_both_ways() {
        assert_eq!(to_minor(dec("37654.33"), 100), Some(3_765_433));
        assert_eq!(to_minor(dec("0.00"), 100), Some(0));
        assert_eq!(to_minor(dec("1500"), 1), Some(1500));
        assert_eq!(to_minor(dec("0.001"), 100), None);
        assert_eq!(to_minor(dec("12.5"), 1), None);
        assert_eq!(from_minor(1_255_145, 100).to_string(), "12551.45");
        assert_eq!(from_minor(0, 100).to_string(), "0.00");
        assert_eq!(from_minor(7, 100).to_string(), "0.07");
        assert_eq!(from_minor(1500, 1).to_string(), "1500");
    }

    #[test]
    fn the_preview_follows_dcafs_formula() {
        let lines = vec![
            line("940001", "NORMAL_LIABILITY", "37654.33", "USD"),
            line("940003", "SEQUENTIAL_LIABILITY", "7500.00", "USD"),
        ];
        let accounts = vec![
            // Numeric order: act_9 before act_10, whatever Graph's order.
            account("act_10", "940001", 1, true),
            account("act_9", "940001", 1, true),
            account("act_11", "940001", 2, false),
            account("act_12", "940001", 2, true),
            account("act_13", "940001", 1, false),
            account("act_14", "940003", 1, true),
            account("act_15", "940002", 1, true),
            account("act_16", "940001", 1, true),
        ];
        let previews = preview(lines, &accounts).expect("a preview");
        // The sequential line takes no part in DCAF.
        assert_eq!(previews.len(), 1);
        let only = &previews[0];
        assert_eq!(only.credit_line.0.id, "940001");
        assert_eq!(only.available.amount.to_string(), "37654.33");
        assert_eq!(only.total.amount, only.available.amount);
        assert_eq!(only.total.offset, 100);
        let owned =
            |id: &str, amount: &str, cap: &str| (id.to_owned(), amount.to_owned(), cap.to_owned());
        assert_eq!(
            shares(&previews),
            [vec![
                owned("act_9", "12551.45", "1255145"),
                owned("act_10", "12551.44", "1255144"),
                owned("act_16", "12551.44", "1255144"),
            ]]
        );
        let sum: Decimal = only.accounts.iter().map(|a| a.amount.amount).sum();
        assert_eq!(sum, only.total.amount);
    }

    #[test]
    fn a_line_with_no_account_or_no_credit_allocates_nothing() {
        let previews = preview(
            vec![
                line("1", "NORMAL_LIABILITY", "500.00", "USD"),
                line("2", "NORMAL_LIABILITY", "0.00", "USD"),
                line("3", "NORMAL_LIABILITY", "1001", "JPY"),
            ],
            &[
                account("act_1", "2", 1, true),
                account("act_2", "2", 1, true),
                account("act_3", "3", 1, true),
                account("act_4", "3", 1, true),
            ],
        )
        .expect("a preview");
        assert_eq!(previews.len(), 3);
        assert!(previews[0].accounts.is_empty());
        assert_eq!(previews[0].available.amount.to_string(), "500.00");
        assert_eq!(previews[0].total.amount.to_string(), "0.00");
        assert_eq!(
            shares(&previews)[1..],
            [
                vec![
                    ("act_1".to_owned(), "0.00".to_owned(), "0".to_owned()),
                    ("act_2".to_owned(), "0.00".to_owned(), "0".to_owned()),
                ],
                vec![
                    ("act_3".to_owned(), "501".to_owned(), "501".to_owned()),
                    ("act_4".to_owned(), "500".to_owned(), "500".to_owned()),
                ],
            ]
        );
        assert_eq!(previews[2].total.amount.to_string(), "1001");
        assert_eq!(previews[2].total.offset, 1);
    }

    #[test]
    fn a_revoked_line_or_a_fraction_of_a_cent_is_not_previewed() {
        let mut revoked = line("1", "NORMAL_LIABILITY", "500.00", "USD");
        revoked.is_access_revoked = Some(true);
        assert!(
            preview(vec![revoked], &[account("act_1", "1", 1, true)])
                .expect("a preview")
                .is_empty()
        );
        let odd = line("2", "NORMAL_LIABILITY", "500.001", "USD");
        assert!(preview(vec![odd], &[]).is_err());
    }
}
