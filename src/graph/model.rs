//! Graph objects as Graph renders them: every field optional, because a read returns only
//! the fields it asked for.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::error::GraphError;
use super::paging::GraphList;

/// Expanded edges and aliased fields of a node, read on demand by the edge's answer key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub(crate) struct Edges(Map<String, Value>);

impl Edges {
    /// The expanded list under `key`, or `None` when the answer has no such key.
    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<GraphList<T>>, GraphError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => GraphList::deserialize(value)
                .map(Some)
                .map_err(|e| GraphError::Decode(format!("edge {key}: {e}"))),
        }
    }
}

/// Implements `Deserialize` for a node that keeps its other keys as [`Edges`], reading the
/// answer's object once: a known key is decoded straight into its field, every other key's
/// value into the edges. (`#[serde(flatten)]` would buffer the whole object into serde's
/// private content tree first and decode every field again from it.)
///
/// Each field is listed with how it is read, as `#[serde(...)]` attributes would say it:
/// `required` (an error naming the field when absent), `optional` (`#[serde(default)]`) or
/// `graph_time` (`#[serde(default, deserialize_with = "graph_time")]`), and `| "alias"` for
/// another name of the key. As the derive does, a non-object is refused, and a key met twice
/// (or a field under both of its names) is an error naming the field.
macro_rules! deserialize_node_with_edges {
    ($node:ident { $($field:ident $(| $alias:literal)* : $read:ident),* $(,)? }) => {
        impl<'de> Deserialize<'de> for $node {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                /// The node's fields, as its keys name them.
                #[allow(non_camel_case_types)]
                enum Field {
                    $($field,)*
                }

                /// The field a key names, if any.
                fn field(key: &str) -> Option<Field> {
                    match key {
                        $(stringify!($field) $(| $alias)* => Some(Field::$field),)*
                        _ => None,
                    }
                }

                struct NodeVisitor;

                impl<'de> serde::de::Visitor<'de> for NodeVisitor {
                    type Value = $node;

                    fn expecting(
                        &self,
                        formatter: &mut std::fmt::Formatter<'_>,
                    ) -> std::fmt::Result {
                        formatter.write_str(concat!("struct ", stringify!($node)))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$node, A::Error> {
                        $(let mut $field = None;)*
                        let mut edges = Map::new();
                        while let Some(key) = map.next_key_seed(NodeKey(field))? {
                            match key {
                                $(Ok(Field::$field) => {
                                    if $field.is_some() {
                                        return Err(serde::de::Error::duplicate_field(
                                            stringify!($field),
                                        ));
                                    }
                                    $field = Some(deserialize_node_with_edges!(@value $read, map));
                                })*
                                Err(other) => {
                                    edges.insert(other, map.next_value::<Value>()?);
                                }
                            }
                        }
                        Ok($node {
                            $($field: deserialize_node_with_edges!(@finish $read, $field),)*
                            edges: Edges(edges),
                        })
                    }
                }

                deserializer.deserialize_map(NodeVisitor)
            }
        }
    };
    (@value required, $map:ident) => {
        $map.next_value()?
    };
    (@value optional, $map:ident) => {
        $map.next_value()?
    };
    (@value graph_time, $map:ident) => {
        $map.next_value::<GraphTime>()?.0
    };
    (@finish required, $field:ident) => {
        $field.ok_or_else(|| serde::de::Error::missing_field(stringify!($field)))?
    };
    (@finish optional, $field:ident) => {
        $field.unwrap_or_default()
    };
    (@finish graph_time, $field:ident) => {
        $field.unwrap_or_default()
    };
}

/// Reads an object's key as the field of a node it names (`Ok`), or as another key (`Err`,
/// the key itself, for the node's [`Edges`]).
struct NodeKey<F>(fn(&str) -> Option<F>);

impl<'de, F> serde::de::DeserializeSeed<'de> for NodeKey<F> {
    type Value = Result<F, String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, F> serde::de::Visitor<'de> for NodeKey<F> {
    type Value = Result<F, String>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok((self.0)(key).ok_or_else(|| key.to_owned()))
    }

    fn visit_string<E>(self, key: String) -> Result<Self::Value, E> {
        Ok((self.0)(&key).ok_or(key))
    }
}

/// A field read by [`graph_time`].
struct GraphTime(Option<DateTime<Utc>>);

impl<'de> Deserialize<'de> for GraphTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        graph_time(deserializer).map(GraphTime)
    }
}

/// A Graph user (`GET /me`, `GET /{user_id}`). Decoded by `deserialize_node_with_edges!`.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// Numeric id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether this is a managed Meta (work) account.
    pub is_work_account: Option<bool>,
    /// Expanded edges (`businesses`).
    pub edges: Edges,
}

deserialize_node_with_edges!(User {
    id: required,
    name: optional,
    is_work_account: optional,
});

/// A Business Manager business (`GET /{business_id}`). Decoded by
/// `deserialize_node_with_edges!`.
#[derive(Debug, Clone)]
pub(crate) struct Business {
    /// Numeric id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Vertical, e.g. `ENTERTAINMENT_AND_MEDIA`.
    pub vertical: Option<String>,
    /// Timezone id (0..592).
    pub timezone_id: Option<i64>,
    /// The business's primary page.
    pub primary_page: Option<Page>,
    /// When the business was created.
    pub created_time: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: Option<Actor>,
    /// When it was last changed.
    pub updated_time: Option<DateTime<Utc>>,
    /// Who last changed it.
    pub updated_by: Option<Actor>,
    /// Business Manager link.
    pub link: Option<String>,
    /// Verification status, e.g. `not_verified`.
    pub verification_status: Option<String>,
    /// When the token's access through a migrating business ends (absent otherwise).
    pub user_access_expire_time: Option<DateTime<Utc>>,
    /// Expanded edges (`owned_pages`, `owned_ad_accounts`, `owned_apps`...).
    pub edges: Edges,
}

deserialize_node_with_edges!(Business {
    id: required,
    name: optional,
    vertical: optional,
    timezone_id: optional,
    primary_page: optional,
    created_time: graph_time,
    created_by: optional,
    updated_time: graph_time,
    updated_by: optional,
    link: optional,
    verification_status: optional,
    user_access_expire_time: graph_time,
});

/// A person's row in a business's `userpermissions` edge: an invitation, a member or a
/// suspended member. Rows are not nodes; they are only read through the edge.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UserPermission {
    /// The row's id.
    pub id: String,
    /// `ADMIN` or `EMPLOYEE`.
    #[serde(default)]
    pub role: Option<String>,
    /// `INVITED`, `ACTIVE` or `SUSPENDED`.
    #[serde(default)]
    pub status: Option<String>,
    /// The address invited (absent for members invited by no address).
    #[serde(default)]
    pub email: Option<String>,
    /// The member's user; absent unless `ACTIVE`.
    #[serde(default)]
    pub user: Option<Actor>,
    /// The person's persona in this business; absent until the invitation is accepted.
    #[serde(default)]
    pub business_persona: Option<Persona>,
    /// When the row was made.
    #[serde(default, deserialize_with = "graph_time")]
    pub created_time: Option<DateTime<Utc>>,
    /// Who made it.
    #[serde(default)]
    pub created_by: Option<Actor>,
    /// When it last changed.
    #[serde(default, deserialize_with = "graph_time")]
    pub updated_time: Option<DateTime<Utc>>,
    /// Who last changed it.
    #[serde(default)]
    pub updated_by: Option<Actor>,
    /// The person's tasks, in Graph's names (today's dialect only).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// `["FB"]` or `["MWA"]` (today's dialect only).
    #[serde(default)]
    pub invited_user_type: Option<Vec<String>>,
    /// Where an invitation is accepted (today's dialect only).
    #[serde(default)]
    pub invite_link: Option<String>,
    /// When an invitation lapses (today's dialect only).
    #[serde(default, deserialize_with = "graph_time")]
    pub expiration_time: Option<DateTime<Utc>>,
    /// A member's finance role, `FINANCE_EDITOR` or `FINANCE_ANALYST` (today's dialect only:
    /// a business user's `finance_permission`; the seed's rows have none).
    #[serde(skip)]
    pub finance_role: Option<String>,
}

/// A member of a business on today's API (`business_users`, `GET /{business_user_id}`): a
/// node of its own, with the person's names in this business (docs/graph-api.md §8.7).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BusinessUser {
    /// The business user's own id (neither the user's nor a row's).
    pub id: String,
    /// The person's name in this business.
    #[serde(default)]
    pub name: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// The verified email, else the address invited.
    #[serde(default)]
    pub email: Option<String>,
    /// `ADMIN` or `EMPLOYEE`.
    #[serde(default)]
    pub role: Option<String>,
    /// Tasks, in Graph's names.
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// `["FB"]` or `["MWA"]`.
    #[serde(default)]
    pub invited_user_type: Option<Vec<String>>,
    /// `FINANCE_EDITOR` or `FINANCE_ANALYST`; absent without a finance role.
    #[serde(default)]
    pub finance_permission: Option<String>,
    /// The business.
    #[serde(default)]
    pub business: Option<Box<Business>>,
}

impl BusinessUser {
    /// The member as the persona it stands for: today's API keeps the person's names in this
    /// business on the business user itself, so the persona's id is the business user's.
    pub(crate) fn persona(&self) -> Persona {
        Persona {
            id: self.id.clone(),
            name: self.name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            title: self.title.clone(),
            email: self.email.clone(),
            business: self.business.clone(),
            created_time: None,
            created_by: None,
            updated_time: None,
            updated_by: None,
        }
    }
}

impl From<BusinessUser> for UserPermission {
    /// A member as a person of the business: the business-scoped user (id and name), no
    /// status (today's API cannot tell ACTIVE from SUSPENDED), no times (it has none).
    fn from(member: BusinessUser) -> UserPermission {
        UserPermission {
            business_persona: Some(member.persona()),
            user: Some(Actor {
                id: member.id.clone(),
                name: member.name.clone(),
            }),
            id: member.id,
            role: member.role,
            status: None,
            email: member.email,
            created_time: None,
            created_by: None,
            updated_time: None,
            updated_by: None,
            tasks: member.tasks,
            invited_user_type: member.invited_user_type,
            invite_link: None,
            expiration_time: None,
            finance_role: member.finance_permission,
        }
    }
}

/// An open invitation on today's API (`pending_users`, a `BusinessRoleRequest` node).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RoleRequest {
    /// The request's own id.
    pub id: String,
    /// The address invited.
    #[serde(default)]
    pub email: Option<String>,
    /// The role offered.
    #[serde(default)]
    pub role: Option<String>,
    /// The tasks offered.
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// `["FB"]` or `["MWA"]`.
    #[serde(default)]
    pub invited_user_type: Option<Vec<String>>,
    /// Where the invitation is accepted.
    #[serde(default)]
    pub invite_link: Option<String>,
    /// When the invitation lapses.
    #[serde(default, deserialize_with = "graph_time")]
    pub expiration_time: Option<DateTime<Utc>>,
    /// When it was made.
    #[serde(default, deserialize_with = "graph_time")]
    pub created_time: Option<DateTime<Utc>>,
    /// Who made it (a business user or a system user).
    #[serde(default)]
    pub created_by: Option<Actor>,
    /// When it last changed.
    #[serde(default, deserialize_with = "graph_time")]
    pub updated_time: Option<DateTime<Utc>>,
    /// Who last changed it.
    #[serde(default)]
    pub updated_by: Option<Actor>,
}

impl From<RoleRequest> for UserPermission {
    /// An invitation as a person of the business: INVITED, no user and no persona yet.
    fn from(request: RoleRequest) -> UserPermission {
        UserPermission {
            id: request.id,
            role: request.role,
            status: Some("INVITED".to_owned()),
            email: request.email,
            user: None,
            business_persona: None,
            created_time: request.created_time,
            created_by: request.created_by,
            updated_time: request.updated_time,
            updated_by: request.updated_by,
            tasks: request.tasks,
            invited_user_type: request.invited_user_type,
            invite_link: request.invite_link,
            expiration_time: request.expiration_time,
            finance_role: None,
        }
    }
}

/// A person's business persona: the name and email they use in one business.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Persona {
    /// Numeric id.
    pub id: String,
    /// `first_name last_name`.
    #[serde(default)]
    pub name: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// The verified email (a pending change is never shown).
    #[serde(default)]
    pub email: Option<String>,
    /// The business the persona belongs to.
    #[serde(default)]
    pub business: Option<Box<Business>>,
    /// When the persona was made.
    #[serde(default, deserialize_with = "graph_time")]
    pub created_time: Option<DateTime<Utc>>,
    /// Who made it.
    #[serde(default)]
    pub created_by: Option<Actor>,
    /// When it last changed.
    #[serde(default, deserialize_with = "graph_time")]
    pub updated_time: Option<DateTime<Utc>>,
    /// Who last changed it.
    #[serde(default)]
    pub updated_by: Option<Actor>,
}

/// A business project (`GET /{project_id}`, the `businessprojects` edge): a named group of
/// its business's pages, ad accounts and apps. Decoded by `deserialize_node_with_edges!`.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    /// Numeric id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// The business the project belongs to.
    pub business: Option<Box<Business>>,
    /// When the project was made.
    pub created_time: Option<DateTime<Utc>>,
    /// Who made it.
    pub created_by: Option<Actor>,
    /// When it last changed: the seed names it `update_time`.
    pub update_time: Option<DateTime<Utc>>,
    /// Who last changed it.
    pub updated_by: Option<Actor>,
    /// Expanded edges (`pages`, `adaccounts`, `apps`).
    pub edges: Edges,
}

deserialize_node_with_edges!(Project {
    id: required,
    name: optional,
    business: optional,
    created_time: graph_time,
    created_by: optional,
    update_time | "updated_time": graph_time,
    updated_by: optional,
});

/// A Facebook page.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Page {
    /// Numeric id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Category, e.g. `Media/news company`.
    #[serde(default)]
    pub category: Option<String>,
    /// When the token's access through a migrating business ends (absent otherwise).
    #[serde(default, deserialize_with = "graph_time")]
    pub user_access_expire_time: Option<DateTime<Utc>>,
}

/// An ad account (`act_<n>`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AdAccount {
    /// `act_<n>`.
    pub id: String,
    /// `<n>`.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// ISO 4217 currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// 1 active, 2 disabled, 101 closed, and Graph's other statuses.
    #[serde(default)]
    pub account_status: Option<i64>,
    /// Timezone id.
    #[serde(default)]
    pub timezone_id: Option<i64>,
    /// Spend cap in minor units, as a decimal string.
    #[serde(default)]
    pub spend_cap: Option<String>,
    /// Amount spent in minor units, as a decimal string.
    #[serde(default)]
    pub amount_spent: Option<String>,
    /// Balance in minor units, as a decimal string.
    #[serde(default)]
    pub balance: Option<String>,
    /// The id of what pays for it: the extended credit it is invoiced on (absent otherwise).
    #[serde(default)]
    pub funding_source: Option<String>,
    /// Whether DCAF splits its credit line's available credit onto it.
    #[serde(default)]
    pub is_dcaf_enabled: Option<bool>,
    /// When the token's access through a migrating business ends (absent otherwise).
    #[serde(default, deserialize_with = "graph_time")]
    pub user_access_expire_time: Option<DateTime<Utc>>,
}

/// An app.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct App {
    /// Numeric id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A user or system user as Graph names the author of a change (`{id,name}`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Actor {
    /// Numeric id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// An invoice of a business (`business_invoices`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Invoice {
    /// Graph id.
    pub id: String,
    /// The invoice's number as printed on it.
    #[serde(default)]
    pub invoice_id: Option<String>,
    /// The month billed, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "graph_date")]
    pub billing_period: Option<NaiveDate>,
    /// The Meta entity that bills.
    #[serde(default)]
    pub entity: Option<String>,
    /// `Normal`, `Sequential`...
    #[serde(default)]
    pub liability_type: Option<String>,
    /// `INVOICE`, `CM` (credit memo)...
    #[serde(default)]
    pub invoice_type: Option<String>,
    /// Payment terms, e.g. `NET 30`.
    #[serde(default)]
    pub payment_term: Option<String>,
    /// Graph's `type`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `PAID`, `UNPAID`...
    #[serde(default)]
    pub payment_status: Option<String>,
    /// When payment is due.
    #[serde(default, deserialize_with = "graph_date")]
    pub due_date: Option<NaiveDate>,
    /// When the invoice was issued.
    #[serde(default, deserialize_with = "graph_date")]
    pub invoice_date: Option<NaiveDate>,
    /// ISO 4217 currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Net, tax and total.
    #[serde(default)]
    pub billed_amount_details: Option<BilledAmount>,
    /// The campaigns billed (an expanded list).
    #[serde(default)]
    pub campaigns: Option<GraphList<InvoiceCampaign>>,
}

/// An amount billed, as decimal strings in the currency's major unit.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BilledAmount {
    /// ISO 4217 currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Before tax.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub net_amount: Option<Decimal>,
    /// Tax.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub tax_amount: Option<Decimal>,
    /// Net plus tax.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total_amount: Option<Decimal>,
}

/// One campaign of an invoice.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InvoiceCampaign {
    /// The campaign's id.
    #[serde(default)]
    pub campaign_id: Option<String>,
    /// Its name.
    #[serde(default)]
    pub campaign_name: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// What it was billed.
    #[serde(default)]
    pub billed_amount_details: Option<BilledAmount>,
    /// Impressions in the period.
    #[serde(default, deserialize_with = "graph_count")]
    pub impressions: Option<i64>,
    /// Clicks in the period.
    #[serde(default, deserialize_with = "graph_count")]
    pub clicks: Option<i64>,
    /// Conversions in the period.
    #[serde(default, deserialize_with = "graph_count")]
    pub conversions: Option<i64>,
}

/// A finance role in a business (`finance_permissions`, the seed's dialect): who holds it and
/// which.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FinancePermission {
    /// The person or system user.
    #[serde(default)]
    pub user: Option<Actor>,
    /// `FINANCE_EDITOR` or `FINANCE_ANALYST`.
    #[serde(default)]
    pub finance_permission: Option<String>,
}

impl FinancePermission {
    /// A member's finance role on today's API (a business user's `finance_permission`), with
    /// the business user as the person; `None` without one.
    pub(crate) fn of_member(member: BusinessUser) -> Option<FinancePermission> {
        let role = member.finance_permission?;
        Some(FinancePermission {
            user: Some(Actor {
                id: member.id,
                name: member.name,
            }),
            finance_permission: Some(role),
        })
    }
}

/// A credit card of a business (`creditcards`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CreditCard {
    /// Graph id.
    pub id: String,
    /// `VISA`, `MASTERCARD`...
    #[serde(default)]
    pub card_type: Option<String>,
    /// The last four digits.
    #[serde(default)]
    pub last4: Option<String>,
    /// 1 to 12.
    #[serde(default, deserialize_with = "graph_count")]
    pub expiry_month: Option<i64>,
    /// Four digits.
    #[serde(default, deserialize_with = "graph_count")]
    pub expiry_year: Option<i64>,
    /// The name on the card.
    #[serde(default)]
    pub card_holder_name: Option<String>,
    /// Whether it may pay.
    #[serde(default)]
    pub is_enabled: Option<bool>,
}

/// An extended credit line (`extendedcredits`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExtendedCredit {
    /// Graph id: the `funding_id` of ad accounts created on it.
    pub id: String,
    /// `ADS`, ...
    #[serde(default)]
    pub credit_type: Option<String>,
    /// The credit approved.
    #[serde(default)]
    pub max_balance: Option<CurrencyAmount>,
    /// What is owed.
    #[serde(default)]
    pub balance: Option<CurrencyAmount>,
    /// What can still be spent.
    #[serde(default)]
    pub credit_available: Option<CurrencyAmount>,
    /// What the last allocation gave the line's ad accounts.
    #[serde(default)]
    pub allocated_amount: Option<CurrencyAmount>,
    /// The business that owns the line.
    #[serde(default)]
    pub owner_business: Option<Box<Business>>,
    /// The legal entity billed.
    #[serde(default)]
    pub legal_entity_name: Option<String>,
    /// Whether the business lost access to the line.
    #[serde(default)]
    pub is_access_revoked: Option<bool>,
}

/// Graph's `{amount, currency}`, the amount a decimal string in the major unit.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CurrencyAmount {
    /// The amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: String,
}

/// The answer to a create: `{"id":"..."}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Created {
    /// The new object's id.
    pub id: String,
}

/// Parses Graph's times: `2026-06-23T12:00:00+0000`, and RFC 3339 (`+00:00`, `Z`) as the
/// migration answers spell them.
pub(crate) fn parse_graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::<FixedOffset>::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn graph_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => parse_graph_time(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a Graph time: {text}"))),
    }
}

/// Parses Graph's dates: `2026-06-01`, the seed's `2026/6/1`, or the date of a Graph time.
pub(crate) fn parse_graph_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y/%m/%d"))
        .ok()
        .or_else(|| parse_graph_time(text).map(|t| t.date_naive()))
}

fn graph_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => parse_graph_date(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a Graph date: {text}"))),
    }
}

/// A count Graph sends as a number or as a string of digits.
fn graph_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a count: {n}"))),
        Some(Value::String(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("not a count: {text:?}"))),
        Some(other) => Err(serde::de::Error::custom(format!("not a count: {other}"))),
    }
}

/// What replaces the value of a `paging.next` or `paging.previous` link in an answer the
/// gateway keeps: Graph writes the caller's access token into those links, and the cache may be
/// Redis, readable by every replica. The gateway reads the links only as "there is a next
/// page" ([`super::paging::GraphList::has_next`]), which the placeholder still says.
pub(crate) const PAGE_LINK_OMITTED: &str = "(link omitted: it carries the access token)";

/// An answer as the cache keeps it, and the ids of the Graph objects it mentions.
///
/// The body: every `paging.next`/`paging.previous` link replaced by [`PAGE_LINK_OMITTED`], so
/// that no token reaches the cache's memory or Redis; an answer without links is kept byte for
/// byte. The ids: every `"id"` value, and the keys of a `?ids=` answer (which is keyed by id),
/// sorted and without repeats; the cache stores an answer under one `node:<id>` tag per id, so
/// that a write to any of them forgets it. Both are here because `graph/` is the only code that
/// reads Graph JSON; it is read as a stream for the ids, and as a tree only when it may hold a link. An answer that is not JSON is kept as it is and
/// mentions nothing.
pub(crate) fn answer_for_cache(body: Vec<u8>) -> (Vec<u8>, Vec<String>) {
    let ids = mentioned_ids(&body);
    // Only an answer that may hold a link is read as a tree and written again (Graph writes
    // keys plainly; an escape anywhere takes the careful path too).
    if !may_hold_page_link(&body) {
        return (body, ids);
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return (body, ids);
    };
    if !omit_page_links(&mut value) {
        return (body, ids);
    }
    // Writing a `Value` to a `Vec` cannot fail; were it to, an empty body fails to decode
    // rather than keeping the token.
    (serde_json::to_vec(&value).unwrap_or_default(), ids)
}

/// Whether an answer's bytes may hold a `next` or `previous` key: they name one, or hold an
/// escape that could spell one.
fn may_hold_page_link(body: &[u8]) -> bool {
    let holds = |needle: &[u8]| memchr::memmem::find(body, needle).is_some();
    holds(b"\"next\"") || holds(b"\"previous\"") || holds(b"\\u")
}

/// Replaces every `paging.next`/`paging.previous` link in `value`; whether there was one.
fn omit_page_links(value: &mut Value) -> bool {
    let mut omitted = false;
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(paging)) = map.get_mut("paging") {
                for link in ["next", "previous"] {
                    if let Some(Value::String(url)) = paging.get_mut(link)
                        && url != PAGE_LINK_OMITTED
                    {
                        *url = PAGE_LINK_OMITTED.to_owned();
                        omitted = true;
                    }
                }
            }
            for child in map.values_mut() {
                omitted |= omit_page_links(child);
            }
        }
        Value::Array(items) => {
            for item in items {
                omitted |= omit_page_links(item);
            }
        }
        _ => {}
    }
    omitted
}

/// The ids an answer mentions (see [`answer_for_cache`]), read as a stream: no tree of values
/// is built for an answer that is only searched. An answer that is not JSON mentions nothing.
fn mentioned_ids(body: &[u8]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut reader = serde_json::Deserializer::from_slice(body);
    let read = serde::de::DeserializeSeed::deserialize(CollectIds::new(&mut ids), &mut reader)
        .and_then(|_| reader.end());
    if read.is_err() {
        ids.clear();
    }
    ids.sort();
    ids.dedup();
    ids
}

/// Walks one JSON value, collecting the ids in it; answers whether the value was an object.
struct CollectIds<'a> {
    ids: &'a mut Vec<String>,
    /// Whether the value is that of an `"id"` key: a string there is an id.
    id_field: bool,
}

impl<'a> CollectIds<'a> {
    fn new(ids: &'a mut Vec<String>) -> Self {
        Self {
            ids,
            id_field: false,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for CollectIds<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CollectIds<'_> {
    type Value = bool;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, value: &str) -> Result<bool, E> {
        if self.id_field {
            self.ids.push(value.to_owned());
        }
        Ok(false)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<bool, A::Error> {
        let ids = self.ids;
        while items.next_element_seed(CollectIds::new(ids))?.is_some() {}
        Ok(false)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let ids = self.ids;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                KeyKind::Id => {
                    map.next_value_seed(CollectIds {
                        ids: &mut *ids,
                        id_field: true,
                    })?;
                }
                // `?ids=` answers are keyed by id.
                KeyKind::Node(id) => {
                    if map.next_value_seed(CollectIds::new(ids))? {
                        ids.push(id);
                    }
                }
                KeyKind::Other => {
                    map.next_value_seed(CollectIds::new(ids))?;
                }
            }
        }
        Ok(true)
    }
}

/// What an object's key says about its value: `"id"`, a node id, or anything else.
enum KeyKind {
    Id,
    Node(String),
    Other,
}

/// Reads an object's key as a [`KeyKind`].
struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = KeyKind;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KeyKind, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed {
    type Value = KeyKind;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<KeyKind, E> {
        Ok(if key == "id" {
            KeyKind::Id
        } else if super::is_node_id(key) {
            KeyKind::Node(key.to_owned())
        } else {
            KeyKind::Other
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_mentions_every_id_in_it_and_the_keys_of_an_ids_answer() {
        let body =
            br#"{"id":"1","businesses":{"data":[{"id":"200001","primary_page":{"id":"300001"}}]},
            "200002":{"name":"by ids"},"other":{"id":"1"}}"#;
        assert_eq!(mentioned_ids(body), ["1", "200001", "200002", "300001"]);
        assert!(mentioned_ids(b"<html>").is_empty());
        // An id that is not a string, a node-id key whose value is not an object, escapes,
        // and an answer cut short (nothing, not what was read before the cut).
        let odd = br#"{"id":7,"300002":"text","list":[{"id":"30\u00300"}],"400001":{}}"#;
        assert_eq!(mentioned_ids(odd), ["3000", "400001"]);
        assert!(mentioned_ids(br#"{"id":"1","data":[{"id":"2"}"#).is_empty());
        assert!(mentioned_ids(br#"{"id":"1"} trailing"#).is_empty());
        assert_eq!(
            answer_for_cache(body.to_vec()).1,
            ["1", "200001", "200002", "300001"]
        );
        assert!(answer_for_cache(b"<html>".to_vec()).1.is_empty());
    }

    #[test]
    fn an_answer_kept_by_the_cache_has_no_page_link_and_the_same_ids() {
        let body = br#"{"id":"200001","businessprojects":{"data":[{"id":"800001"}],"paging":{"cursors":{"before":"QQ","after":"QQ"},"next":"https://graph.facebook.com/v25.0/200001/businessprojects?access_token=EAAsecret&limit=1&after=QQ","previous":"https://graph.facebook.com/v25.0/200001/businessprojects?access_token=EAAsecret&before=QQ"}}}"#;
        let (kept, ids) = answer_for_cache(body.to_vec());
        assert_eq!(ids, ["200001", "800001"]);
        let kept = String::from_utf8(kept).unwrap_or_default();
        assert!(!kept.contains("EAAsecret"), "{kept}");
        let list: Value = serde_json::from_str(&kept).unwrap_or_default();
        let paging = &list["businessprojects"]["paging"];
        assert_eq!(paging["next"], PAGE_LINK_OMITTED);
        assert_eq!(paging["previous"], PAGE_LINK_OMITTED);
        assert_eq!(paging["cursors"]["after"], "QQ");
        // A link whose key is spelt with an escape is found too.
        let escaped =
            br#"{"data":[],"paging":{"ne\u0078t":"https://graph/x?access_token=EAAsecret"}}"#;
        let kept = String::from_utf8(answer_for_cache(escaped.to_vec()).0).unwrap_or_default();
        assert!(!kept.contains("EAAsecret"), "{kept}");
        // Without links, the bytes are kept as Graph sent them; not JSON, likewise.
        let plain = br#"{"id":"1",  "name":"x"}"#.to_vec();
        assert_eq!(
            answer_for_cache(plain.clone()),
            (plain, vec!["1".to_owned()])
        );
        assert_eq!(
            answer_for_cache(b"<html>".to_vec()),
            (b"<html>".to_vec(), Vec::new())
        );
    }

    #[test]
    fn both_time_spellings_parse() {
        let a = parse_graph_time("2026-06-23T12:00:00+0000").expect("Graph style");
        let b = parse_graph_time("2026-06-23T12:00:00+00:00").expect("RFC 3339");
        let c = parse_graph_time("2026-06-23T12:00:00Z").expect("Zulu");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(parse_graph_time("yesterday").is_none());
    }

    #[test]
    fn a_business_keeps_its_expanded_edges() {
        let business: Business = serde_json::from_value(serde_json::json!({
            "id": "1", "name": "Pomni Media", "created_time": "2026-01-02T03:04:05+0000",
            "owned_pages": {"data": [{"id": "3", "name": "P"}], "paging": {"cursors": {"before": "a", "after": "b"}}}
        }))
        .expect("a business");
        let pages = business
            .edges
            .list::<Page>("owned_pages")
            .expect("decodes")
            .expect("present");
        assert_eq!(pages.data[0].name.as_deref(), Some("P"));
        assert_eq!(pages.after_cursor(), Some("b"));
        assert!(!pages.has_next());
        assert!(
            business
                .edges
                .list::<Page>("owned_apps")
                .expect("decodes")
                .is_none()
        );
    }

    #[test]
    fn a_user_decodes_its_fields_and_keeps_every_other_key_as_an_edge() {
        let user: User = serde_json::from_str(
            r#"{"id":"1","name":"Pomni","is_work_account":false,
            "businesses":{"data":[]},"viewer_persona":{"id":"9"},"count":3}"#,
        )
        .expect("a user");
        assert_eq!(user.id, "1");
        assert_eq!(user.name.as_deref(), Some("Pomni"));
        assert_eq!(user.is_work_account, Some(false));
        let keys: Vec<&String> = user.edges.0.keys().collect();
        assert_eq!(keys, ["businesses", "count", "viewer_persona"]);
        assert_eq!(
            user.edges.0["viewer_persona"],
            serde_json::json!({"id": "9"})
        );
        // Absent and null fields are `None`; a key is matched however it is escaped.
        let user: User = serde_json::from_str(r#"{"\u0069d":"2","name":null}"#).expect("a user");
        assert_eq!(user.id, "2");
        assert_eq!((user.name, user.is_work_account), (None, None));
        assert!(user.edges.0.is_empty());
    }

    #[test]
    fn graph_time_fields_decode_both_spellings_and_refuse_other_text() {
        let business: Business = serde_json::from_str(
            r#"{"id":"1","created_time":"2026-01-02T03:04:05+0000",
            "updated_time":"2026-01-02T03:04:05Z","user_access_expire_time":null}"#,
        )
        .expect("a business");
        let time = parse_graph_time("2026-01-02T03:04:05+0000");
        assert_eq!(business.created_time, time);
        assert_eq!(business.updated_time, time);
        assert_eq!(business.user_access_expire_time, None);
        // A project's `update_time` is read under `updated_time` too, but not under both.
        for key in ["update_time", "updated_time"] {
            let text = format!(r#"{{"id":"8","{key}":"2026-01-02T03:04:05+0000"}}"#);
            let project: Project = serde_json::from_str(&text).expect("a project");
            assert_eq!(project.update_time, time);
            assert!(project.edges.0.is_empty());
        }
        let both = r#"{"id":"8","update_time":"2026-01-02T03:04:05+0000","updated_time":null}"#;
        let error = serde_json::from_str::<Project>(both).expect_err("twice");
        assert!(
            error.to_string().contains("duplicate field `update_time`"),
            "{error}"
        );
        let error = serde_json::from_str::<Business>(r#"{"id":"1","created_time":"yesterday"}"#)
            .expect_err("not a time");
        assert!(
            error.to_string().contains("not a Graph time: yesterday"),
            "{error}"
        );
    }

    #[test]
    fn a_node_without_an_id_is_refused_naming_it() {
        let text = r#"{"name":"no id","owned_pages":{"data":[]}}"#;
        let nested = serde_json::json!({"business": {"name": "x"}, "id": "8"});
        for error in [
            serde_json::from_str::<User>(text).map(|_| ()),
            serde_json::from_str::<Business>(text).map(|_| ()),
            serde_json::from_str::<Project>(text).map(|_| ()),
            serde_json::from_value::<Project>(nested).map(|_| ()),
        ] {
            let error = error.expect_err("no id");
            assert!(error.to_string().contains("missing field `id`"), "{error}");
        }
    }

    #[test]
    fn a_wrongly_typed_field_or_answer_is_refused() {
        let cases = [
            (
                r#"{"id":"1","timezone_id":"5"}"#,
                "invalid type: string \"5\", expected i64",
            ),
            (
                r#"{"id":5}"#,
                "invalid type: integer `5`, expected a string",
            ),
            (r#"{"id":"1","primary_page":"x"}"#, "expected struct Page"),
            (
                r#"{"id":"1","created_time":5}"#,
                "invalid type: integer `5`, expected a string",
            ),
            (
                r#"["1"]"#,
                "invalid type: sequence, expected struct Business",
            ),
            (
                r#"{"id":"1","name":"a","name":"b"}"#,
                "duplicate field `name`",
            ),
        ];
        for (text, expected) in cases {
            let error = serde_json::from_str::<Business>(text).expect_err(text);
            assert!(error.to_string().contains(expected), "{text}: {error}");
        }
        let error = serde_json::from_str::<User>(r#"{"id":"1","is_work_account":"yes"}"#)
            .expect_err("not a boolean");
        assert!(error.to_string().contains("expected a boolean"), "{error}");
        // An edge met twice is kept as the derive kept it: the last one.
        let user: User = serde_json::from_str(r#"{"id":"1","e":1,"e":2}"#).expect("a user");
        assert_eq!(user.edges.0["e"], 2);
    }

    #[test]
    fn a_users_businesses_decode_through_its_edge_with_their_own_edges() {
        let user: User = serde_json::from_str(
            r#"{"id":"1","businesses":{"data":[
                {"id":"200001","name":"A","created_time":"2026-01-02T03:04:05+0000",
                 "owned_apps":{"data":[{"id":"5","name":"App"}]}},
                {"id":"200002","timezone_id":7,"primary_page":{"id":"3"}}
            ],"paging":{"cursors":{"before":"a","after":"b"}}},"broken":{"data":[{"name":"x"}]}}"#,
        )
        .expect("a user");
        let businesses = user
            .edges
            .list::<Business>("businesses")
            .expect("decodes")
            .expect("present");
        assert_eq!(businesses.after_cursor(), Some("b"));
        let [first, second] = &businesses.data[..] else {
            panic!("two businesses: {:?}", businesses.data);
        };
        assert_eq!(
            (first.id.as_str(), first.name.as_deref()),
            ("200001", Some("A"))
        );
        assert_eq!(first.created_time, parse_graph_time("2026-01-02T03:04:05Z"));
        let apps = first
            .edges
            .list::<App>("owned_apps")
            .expect("decodes")
            .expect("present");
        assert_eq!(apps.data[0].name.as_deref(), Some("App"));
        assert_eq!(second.timezone_id, Some(7));
        assert_eq!(
            second.primary_page.as_ref().map(|p| p.id.as_str()),
            Some("3")
        );
        assert!(second.edges.0.is_empty());
        // A business without its id fails the edge, naming both.
        let error = user
            .edges
            .list::<Business>("broken")
            .expect_err("no id")
            .to_string();
        assert!(
            error.contains("edge broken") && error.contains("missing field `id`"),
            "{error}"
        );
    }

    #[test]
    fn a_null_edge_reads_as_none() {
        let project: Project =
            serde_json::from_str(r#"{"id":"8","business":null,"pages":null}"#).expect("a project");
        assert!(project.business.is_none());
        assert_eq!(project.edges.0.get("pages"), Some(&Value::Null));
        assert!(
            project
                .edges
                .list::<Page>("pages")
                .expect("decodes")
                .is_none()
        );
        assert!(
            project
                .edges
                .list::<Page>("apps")
                .expect("decodes")
                .is_none()
        );
    }
}
