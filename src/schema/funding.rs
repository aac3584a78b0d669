//! Funding: a business's credit cards and extended credit lines, finance roles, and ad
//! accounts created on a credit line.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SelectionField};

use super::assets::{Actor, AdAccount, plan_actor, plan_ad_account};
use super::business::{Business, plan_business};
use super::business_users;
use super::enums::FinanceRole;
use super::error::invalid_argument;
use super::input::{ObjectId, TimezoneId, UserId};
use super::money::{AD_ACCOUNT_CURRENCIES, Money};
use super::upstream::{Upstream, read_back};
use crate::graph::write::{CreateAdAccount, GrantFinancePermission, RevokeFinancePermission};
use crate::graph::{ErrorClass, FieldSet, model};

/// Graph's edge of a business's credit cards.
pub(crate) const CREDIT_CARDS_EDGE: &str = "creditcards";
/// Graph's edge of a business's extended credit lines.
pub(crate) const EXTENDED_CREDITS_EDGE: &str = "extendedcredits";

/// Graph's edge of a business's finance roles (the seed's dialect).
pub(crate) const FINANCE_PERMISSIONS_EDGE: &str = "finance_permissions";

/// Graph calls an ad account's read-back after its creation takes: one node read.
const AD_ACCOUNT_READ_BACK_CALLS: usize = 1;

/// The longest ad account name taken.
const MAX_AD_ACCOUNT_NAME_CHARS: usize = 100;

/// A credit card a business pays with.
pub(crate) struct CreditCard(pub(crate) model::CreditCard);

/// Adds the Graph fields a selection of `CreditCard` needs.
pub(crate) fn plan_credit_card(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        let graph = match child.name() {
            "cardType" => "card_type",
            "last4" => "last4",
            "expiryMonth" => "expiry_month",
            "expiryYear" => "expiry_year",
            "cardHolderName" => "card_holder_name",
            "isEnabled" => "is_enabled",
            _ => continue,
        };
        set.scalar(graph);
    }
    Ok(())
}

#[Object]
impl CreditCard {
    /// The card's Graph id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The network, e.g. `VISA`.
    async fn card_type(&self) -> Option<&str> {
        self.0.card_type.as_deref()
    }

    /// The card number's last four digits.
    async fn last4(&self) -> Option<&str> {
        self.0.last4.as_deref()
    }

    /// Expiry month, 1 to 12.
    async fn expiry_month(&self) -> Option<i64> {
        self.0.expiry_month
    }

    /// Expiry year.
    async fn expiry_year(&self) -> Option<i64> {
        self.0.expiry_year
    }

    /// The name on the card.
    async fn card_holder_name(&self) -> Option<&str> {
        self.0.card_holder_name.as_deref()
    }

    /// Whether the card may pay.
    async fn is_enabled(&self) -> Option<bool> {
        self.0.is_enabled
    }
}

/// An extended credit line: Meta invoices the business monthly for what its ad accounts on
/// the line spend.
pub(crate) struct ExtendedCredit(pub(crate) model::ExtendedCredit);

/// Adds the Graph fields a selection of `ExtendedCredit` needs.
pub(crate) fn plan_extended_credit(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        let graph = match child.name() {
            "creditType" => "credit_type",
            "maxBalance" => "max_balance",
            "balance" => "balance",
            "creditAvailable" => "credit_available",
            "allocatedAmount" => "allocated_amount",
            "legalEntityName" => "legal_entity_name",
            "isAccessRevoked" => "is_access_revoked",
            "ownerBusiness" => {
                plan_business(set.object("owner_business"), child)?;
                continue;
            }
            _ => continue,
        };
        set.scalar(graph);
    }
    Ok(())
}

fn money(amount: Option<&model::CurrencyAmount>) -> Option<Money> {
    amount.map(|a| Money::new(a.amount, &a.currency))
}

#[Object]
impl ExtendedCredit {
    /// The credit line's Graph id: the `fundingId` of ad accounts created on it.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Graph's credit type, e.g. `ADS`.
    async fn credit_type(&self) -> Option<&str> {
        self.0.credit_type.as_deref()
    }

    /// The credit approved.
    async fn max_balance(&self) -> Option<Money> {
        money(self.0.max_balance.as_ref())
    }

    /// What is owed on the line.
    async fn balance(&self) -> Option<Money> {
        money(self.0.balance.as_ref())
    }

    /// What can still be spent.
    async fn credit_available(&self) -> Option<Money> {
        money(self.0.credit_available.as_ref())
    }

    /// What the last allocation gave the line's ad accounts.
    async fn allocated_amount(&self) -> Option<Money> {
        money(self.0.allocated_amount.as_ref())
    }

    /// The business that owns the line.
    async fn owner_business(&self) -> Option<Business> {
        let fetched = Arc::new(FieldSet::new());
        self.0
            .owner_business
            .as_deref()
            .map(|b| Business::new(b.clone(), &fetched))
    }

    /// The legal entity Meta bills.
    async fn legal_entity_name(&self) -> Option<&str> {
        self.0.legal_entity_name.as_deref()
    }

    /// Whether the business lost access to the line.
    async fn is_access_revoked(&self) -> Option<bool> {
        self.0.is_access_revoked
    }
}

/// One person's finance role in a business.
pub(crate) struct FinancePermission(pub(crate) model::FinancePermission);

/// Adds the Graph fields a selection of `FinancePermission` needs: a `finance_permissions`
/// row's (seed dialect).
pub(crate) fn plan_finance_permission(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("finance_permission");
    for child in field.selection_set() {
        if child.name() == "user" {
            plan_actor(set.object("user"), child)?;
        }
    }
    Ok(())
}

/// Adds the `BusinessUser` fields a selection of `FinancePermission` needs (today's dialect):
/// the member as the person, and their `finance_permission`.
pub(crate) fn plan_member_finance_permission(
    set: &mut FieldSet,
    field: SelectionField<'_>,
) -> Result<()> {
    set.scalar("id");
    set.scalar("finance_permission");
    let wants_name = field
        .selection_set()
        .filter(|f| f.name() == "user")
        .any(|user| user.selection_set().any(|f| f.name() == "name"));
    if wants_name {
        set.scalar("name");
    }
    Ok(())
}

#[Object]
impl FinancePermission {
    /// Who holds the role, with the id `grantFinancePermission` and
    /// `revokeFinancePermission` take: the user's or system user's id with the seed's people
    /// API, the business user's (as `people` shows it in `user.id`) with today's.
    async fn user(&self) -> Option<Actor> {
        self.0.user.clone().map(Actor)
    }

    /// The role; null for one Graph added after this gateway was built.
    async fn role(&self) -> Option<FinanceRole> {
        self.0
            .finance_permission
            .as_deref()
            .and_then(FinanceRole::from_graph)
    }
}

/// A new ad account on the business's credit line.
#[derive(InputObject)]
pub(crate) struct CreateAdAccountInput {
    /// The account's name.
    pub name: String,
    /// ISO 4217 currency, one Meta allows for ad accounts (`USD`, `EUR`, `JPY`...).
    pub currency: String,
    /// Graph's timezone id, 0 to 592.
    pub timezone_id: i32,
    /// Who the ads are for: a page or app id, `NONE`, or `UNFOUND`.
    pub end_advertiser: String,
    /// The agency running the ads: a page or app id, `NONE`, or `UNFOUND`.
    pub media_agency: String,
    /// The partner: a page or app id, `NONE`, or `UNFOUND`.
    pub partner: String,
    /// The extended credit line that pays (see `Business.extendedCredits`).
    pub funding_id: Option<ID>,
}

/// A page or app id, `NONE` or `UNFOUND` (Graph's two words for "no such party"), for the
/// advertiser, agency and partner of a new account.
fn advertiser(argument: &str, raw: &str) -> Result<String> {
    let raw = raw.trim();
    if raw == "NONE" || raw == "UNFOUND" {
        return Ok(raw.to_owned());
    }
    ObjectId::parse(argument, raw)
        .map(|id| id.as_str().to_owned())
        .map_err(|_| {
            invalid_argument(
                argument,
                &format!("{raw:?} is neither a page or app id (digits) nor NONE or UNFOUND"),
            )
        })
}

impl CreateAdAccountInput {
    /// The checked write.
    fn write(self, business: &ObjectId) -> Result<CreateAdAccount> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(invalid_argument(
                "input.name",
                "must be a non-empty name without control characters",
            ));
        }
        if name.chars().count() > MAX_AD_ACCOUNT_NAME_CHARS {
            return Err(invalid_argument(
                "input.name",
                &format!("must be at most {MAX_AD_ACCOUNT_NAME_CHARS} characters"),
            ));
        }
        let currency = self.currency.trim().to_ascii_uppercase();
        if !AD_ACCOUNT_CURRENCIES.contains(&currency.as_str()) {
            return Err(invalid_argument(
                "input.currency",
                &format!(
                    "{:?} is not a currency Meta allows for ad accounts (ISO 4217, e.g. USD)",
                    self.currency
                ),
            ));
        }
        Ok(CreateAdAccount {
            business: business.as_str().to_owned(),
            name: name.to_owned(),
            currency,
            timezone_id: TimezoneId::parse("input.timezoneId", self.timezone_id)?.get(),
            end_advertiser: advertiser("input.endAdvertiser", &self.end_advertiser)?,
            media_agency: advertiser("input.mediaAgency", &self.media_agency)?,
            partner: advertiser("input.partner", &self.partner)?,
            funding_id: self
                .funding_id
                .as_ref()
                .map(|id| ObjectId::parse("input.fundingId", id).map(|f| f.as_str().to_owned()))
                .transpose()?,
        })
    }
}

/// Funding mutations: ADMINs only (`FORBIDDEN` otherwise).
#[derive(Default)]
pub(crate) struct FundingMutation;

#[Object]
impl FundingMutation {
    /// Gives a person or system user of the business a finance role, replacing the one they
    /// had: reading invoices needs one, being an ADMIN is not enough. Seed people API: posts
    /// to `finance_permissions`; `userId` is the user's id. Today's people API: Graph takes no
    /// writes there, a finance role is a business user's tasks (FINANCE_EDITOR is
    /// `FINANCE_EDIT` and `FINANCE_VIEW`, FINANCE_ANALYST `FINANCE_VIEW` alone), so `userId`
    /// is the member's business user id (the `user.id` that `people` shows) and the gateway
    /// reads their tasks and writes them back with the role's (two Graph calls). A system user
    /// is not a business user: `INVALID_ARGUMENT` there, their finance role is set in
    /// Business Manager.
    async fn grant_finance_permission(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        user_id: ID,
        role: FinanceRole,
    ) -> Result<bool> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let user = UserId::parse("userId", &user_id)?;
        if business_users::current() {
            business_users::set_finance_role(ctx, business.as_str(), user.as_str(), Some(role))
                .await?;
            return Ok(true);
        }
        let write = GrantFinancePermission {
            business: business.as_str().to_owned(),
            user: user.as_str().to_owned(),
            role: role.as_graph(),
        };
        Upstream::of(ctx)?.post_edge(&write, 0).await?;
        Ok(true)
    }

    /// Takes a person's or system user's finance role in the business away: they no longer
    /// read its invoices (nor its funding, unless an ADMIN). ADMINs only (`FORBIDDEN`
    /// otherwise). `userId` is the id `grantFinancePermission` takes (and
    /// `Business.financePermissions` lists as `user.id`) in the gateway's people API. Someone
    /// who holds no finance role in the business (not one of its people included) is refused
    /// with `INVALID_ARGUMENT` naming `userId`, and nothing changes: a revoke is not silently
    /// taken as done. Seed people API: one Graph call (`DELETE finance_permissions`). Today's:
    /// the business user's tasks are read and written back without `FINANCE_EDIT` and
    /// `FINANCE_VIEW` (two Graph calls; the read alone when there is nothing to revoke).
    async fn revoke_finance_permission(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        user_id: ID,
    ) -> Result<bool> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let user = UserId::parse("userId", &user_id)?;
        if business_users::current() {
            business_users::set_finance_role(ctx, business.as_str(), user.as_str(), None).await?;
            return Ok(true);
        }
        let write = RevokeFinancePermission {
            business: business.as_str().to_owned(),
            user: user.as_str().to_owned(),
        };
        let upstream = Upstream::of(ctx)?;
        match upstream.write_outcome(&write, 0).await? {
            Ok(_) => Ok(true),
            // Graph's code 100 on this write is about `user`, the one parameter: no finance
            // role there, or no person of the business (who holds none either).
            Err(error) if error.class() == ErrorClass::InvalidArgument => Err(
                business_users::no_finance_role(user.as_str(), business.as_str()),
            ),
            Err(error) => Err(upstream.fail(&error)),
        }
    }

    /// Creates an ad account owned by the business, paid by its credit line (`fundingId`),
    /// then reads it back with the selected fields.
    async fn create_ad_account(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        input: CreateAdAccountInput,
    ) -> Result<AdAccount> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let write = input.write(&business)?;
        let created = Upstream::of(ctx)?
            .create(&write, AD_ACCOUNT_READ_BACK_CALLS)
            .await?;
        read_back(|| format!("ad account {} was created", created.id), async {
            let mut fields = FieldSet::new();
            plan_ad_account(&mut fields, ctx.field())?;
            let data = Upstream::of(ctx)?
                .node_batched(&created.id, &fields)
                .await?;
            Ok(AdAccount(data))
        })
        .await
    }
}
