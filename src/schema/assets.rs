//! Business assets (pages, ad accounts, apps) and the actors named as authors of changes.

use async_graphql::{ID, Object, Result, SelectionField};
use chrono::{DateTime, Utc};

use super::enums::AdAccountStatus;
use crate::graph::FieldSet;
use crate::graph::model;

/// A Facebook Page.
pub(crate) struct Page(pub model::Page);

/// Adds the Graph fields a selection of `Page` needs.
pub(crate) fn plan_page(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "name" => set.scalar("name"),
            "category" => set.scalar("category"),
            "userAccessExpireTime" => set.scalar("user_access_expire_time"),
            _ => {}
        }
    }
    Ok(())
}

#[Object]
impl Page {
    /// The page's Graph id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The page's name.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The page's category, e.g. `Media/news company`.
    async fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }

    /// When the caller's access to this page through a migrating business ends; null when it
    /// is not about to end.
    async fn user_access_expire_time(&self) -> Option<DateTime<Utc>> {
        self.0.user_access_expire_time
    }
}

/// An ad account.
pub(crate) struct AdAccount(pub model::AdAccount);

/// Adds the Graph fields a selection of `AdAccount` needs.
pub(crate) fn plan_ad_account(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        let graph = match child.name() {
            "accountId" => "account_id",
            "name" => "name",
            "currency" => "currency",
            "accountStatus" => "account_status",
            "timezoneId" => "timezone_id",
            "spendCap" => "spend_cap",
            "amountSpent" => "amount_spent",
            "balance" => "balance",
            "fundingSource" => "funding_source",
            "isDcafEnabled" => "is_dcaf_enabled",
            "userAccessExpireTime" => "user_access_expire_time",
            _ => continue,
        };
        set.scalar(graph);
    }
    Ok(())
}

#[Object]
impl AdAccount {
    /// The ad account's Graph id, `act_<number>`.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The number in the id, without `act_`.
    async fn account_id(&self) -> Option<&str> {
        self.0.account_id.as_deref()
    }

    /// The ad account's name.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// ISO 4217 currency of the account's amounts.
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }

    /// Whether the account is active, disabled, closed...
    async fn account_status(&self) -> Option<AdAccountStatus> {
        self.0.account_status.and_then(AdAccountStatus::from_graph)
    }

    /// Graph's timezone id of the account.
    async fn timezone_id(&self) -> Option<i64> {
        self.0.timezone_id
    }

    /// Spend cap in the currency's minor units, as a decimal string.
    async fn spend_cap(&self) -> Option<&str> {
        self.0.spend_cap.as_deref()
    }

    /// Amount spent in minor units, as a decimal string.
    async fn amount_spent(&self) -> Option<&str> {
        self.0.amount_spent.as_deref()
    }

    /// Balance due in minor units, as a decimal string.
    async fn balance(&self) -> Option<&str> {
        self.0.balance.as_deref()
    }

    /// The id of the extended credit the account is invoiced on (see
    /// `Business.extendedCredits`); null when it is on none.
    async fn funding_source(&self) -> Option<ID> {
        self.0.funding_source.clone().map(ID)
    }

    /// Whether the credit line's allocation (DCAF) sets the account's spend cap.
    async fn is_dcaf_enabled(&self) -> Option<bool> {
        self.0.is_dcaf_enabled
    }

    /// When the caller's access to this account through a migrating business ends; null when
    /// it is not about to end.
    async fn user_access_expire_time(&self) -> Option<DateTime<Utc>> {
        self.0.user_access_expire_time
    }
}

/// An app.
pub(crate) struct App(pub model::App);

/// Adds the Graph fields a selection of `App` needs.
pub(crate) fn plan_app(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    if field.selection_set().any(|f| f.name() == "name") {
        set.scalar("name");
    }
    Ok(())
}

#[Object]
impl App {
    /// The app's Graph id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The app's name.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}

/// Who made a change: a person or a system user, as Graph names them (`{id,name}`).
pub(crate) struct Actor(pub model::Actor);

/// Adds the Graph fields a selection of `Actor` needs.
pub(crate) fn plan_actor(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    if field.selection_set().any(|f| f.name() == "name") {
        set.scalar("name");
    }
    Ok(())
}

#[Object]
impl Actor {
    /// The user's or system user's Graph id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Their name as Graph gives it.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}
