//! Business: the type, its field planning, the `business`/`businesses` queries and the
//! `createBusiness`/`updateBusiness` mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, PathSegment, Result, SelectionField};
use chrono::{DateTime, Utc};

use super::allocation::{self, CreditAllocation, plan_credit_allocation};
use super::assets::{
    Actor, AdAccount, App, Page, plan_actor, plan_ad_account, plan_app, plan_page,
};
use super::business_users;
use super::connection::{self, Conn, ConnectionArgs, ParentEdges, plan_connection, plan_list};
use super::enums::Vertical;
use super::error::{invalid_argument, null_on_error};
use super::funding::{
    CREDIT_CARDS_EDGE, CreditCard, EXTENDED_CREDITS_EDGE, ExtendedCredit, FINANCE_PERMISSIONS_EDGE,
    FinancePermission, plan_credit_card, plan_extended_credit, plan_finance_permission,
};
use super::input::{BusinessName, Email, ObjectId, TimezoneId};
use super::invoice::{INVOICES_EDGE, Invoice, InvoiceRange, plan_invoice, plan_invoices};
use super::migration::{
    MigrationReadiness, migration_readiness, plan_readiness, readiness_planned,
};
use super::people::{UserPermission, plan_user_permission};
use super::persona::{Persona, VIEWER_PERSONA_EDGE, plan_viewer_persona, read_viewer_persona};
use super::project::{PROJECTS_EDGE, Project, plan_project};
use super::scalars::Date;
use super::upstream::{Upstream, read_back};
use crate::graph::write::{CreateBusiness, UpdateBusiness};
use crate::graph::{FieldSet, model};

/// At most this many ids in one `businesses(ids:)` query.
pub(crate) const MAX_BUSINESS_IDS: usize = 500;

/// Graph calls a business's read-back after a write takes: one node read (the selection is
/// planned into it).
const BUSINESS_READ_BACK_CALLS: usize = 1;

/// A Business Manager business.
pub(crate) struct Business {
    data: model::Business,
    fetched: Arc<FieldSet>,
    /// The caller's own user id, when it was read beside the business (for
    /// `migrationReadiness`).
    viewer: Option<String>,
}

impl Business {
    /// Wraps a business read with the fields in `fetched`.
    pub(crate) fn new(data: model::Business, fetched: &Arc<FieldSet>) -> Business {
        Business {
            data,
            fetched: fetched.clone(),
            viewer: None,
        }
    }

    fn parent(&self) -> ParentEdges<'_> {
        ParentEdges {
            id: &self.data.id,
            edges: &self.data.edges,
            fetched: &self.fetched,
        }
    }
}

/// Adds the Graph fields a selection of `Business` needs, with its edges expanded in place.
pub(crate) fn plan_business(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "name" => set.scalar("name"),
            "vertical" => set.scalar("vertical"),
            "timezoneId" => set.scalar("timezone_id"),
            "link" => set.scalar("link"),
            "verificationStatus" => set.scalar("verification_status"),
            "createdTime" => set.scalar("created_time"),
            "updatedTime" => set.scalar("updated_time"),
            "userAccessExpireTime" => set.scalar("user_access_expire_time"),
            "primaryPage" => plan_page(set.object("primary_page"), child)?,
            "createdBy" => plan_actor(set.object("created_by"), child)?,
            "updatedBy" => plan_actor(set.object("updated_by"), child)?,
            "pages" => plan_connection(set, child, "owned_pages", plan_page)?,
            "adAccounts" => plan_connection(set, child, "owned_ad_accounts", plan_ad_account)?,
            "apps" => plan_connection(set, child, "owned_apps", plan_app)?,
            "people" if business_users::current() => business_users::plan_people(set, child)?,
            "people" => plan_connection(set, child, "userpermissions", plan_user_permission)?,
            "projects" => plan_connection(set, child, PROJECTS_EDGE, plan_project)?,
            "invoices" => plan_invoices(set, child)?,
            "migrationReadiness" => plan_readiness(set),
            "creditCards" => plan_list(set, child, CREDIT_CARDS_EDGE, plan_credit_card)?,
            "extendedCredits" => {
                plan_list(set, child, EXTENDED_CREDITS_EDGE, plan_extended_credit)?
            }
            "creditAllocation" => plan_credit_allocation(set, child)?,
            "financePermissions" if business_users::current() => {
                business_users::plan_finance_permissions(set, child)?
            }
            "financePermissions" => plan_list(
                set,
                child,
                FINANCE_PERMISSIONS_EDGE,
                plan_finance_permission,
            )?,
            // Today's API has no edge of the business for the token's own business user: it
            // is read on its own (`me/business_users`).
            "viewerPersona" if business_users::current() => {}
            "viewerPersona" => plan_viewer_persona(set, child)?,
            _ => {}
        }
    }
    Ok(())
}

/// The fields to read for the `Business` the current field returns.
fn business_fields(ctx: &Context<'_>) -> Result<Arc<FieldSet>> {
    let mut set = FieldSet::new();
    plan_business(&mut set, ctx.field())?;
    Ok(Arc::new(set))
}

/// Reads one business with the fields the current selection needs.
async fn read_business(ctx: &Context<'_>, id: &str) -> Result<Business> {
    let fields = business_fields(ctx)?;
    let upstream = Upstream::of(ctx)?;
    // Graph refuses the whole read when one expanded edge needs a role the token lacks
    // (invoices need a finance role): the read is then made once more without those edges,
    // each of whose fields reads on its own and fails alone, and the business survives.
    let business = upstream.node_batched_sparing::<model::Business>(id, &fields);
    // `migrationReadiness` needs the caller's user too: read beside the business, not after.
    let ((data, fetched), viewer) = if readiness_planned(&fields) {
        let mut id_only = FieldSet::new();
        id_only.scalar("id");
        let (read, me) =
            futures_util::future::join(business, upstream.node::<model::User>("me", &id_only))
                .await;
        (read?, me.ok().map(|me| me.id))
    } else {
        (business.await?, None)
    };
    Ok(Business {
        viewer,
        ..Business::new(data, &fetched)
    })
}

/// A business's edges that need more than membership to read (a finance role, or ADMIN).
/// Graph refuses a whole read that expands one of them for a token without the role.
pub(crate) const ROLE_GUARDED_EDGES: &[&str] = &[
    INVOICES_EDGE,
    CREDIT_CARDS_EDGE,
    EXTENDED_CREDITS_EDGE,
    FINANCE_PERMISSIONS_EDGE,
];

#[Object]
impl Business {
    /// The business's Graph id.
    async fn id(&self) -> ID {
        ID(self.data.id.clone())
    }

    /// The business's name.
    async fn name(&self) -> Option<&str> {
        self.data.name.as_deref()
    }

    /// The business's industry; null for a value newer than this gateway.
    async fn vertical(&self) -> Option<Vertical> {
        let vertical = self.data.vertical.as_deref()?;
        let known = Vertical::from_graph(vertical);
        // Every business read may carry it: one line per window, not one per field.
        if known.is_none()
            && let Some(suppressed) = crate::log_window::log_window().should_log("unknown_vertical")
        {
            tracing::warn!(
                vertical,
                suppressed,
                "Graph returned a vertical this gateway does not know"
            );
        }
        known
    }

    /// Graph's timezone id (0 to 592) of the business.
    async fn timezone_id(&self) -> Option<i64> {
        self.data.timezone_id
    }

    /// The business's primary Facebook Page.
    async fn primary_page(&self) -> Option<Page> {
        self.data.primary_page.clone().map(Page)
    }

    /// The business's page in Business Manager.
    async fn link(&self) -> Option<&str> {
        self.data.link.as_deref()
    }

    /// Meta's business verification status, e.g. `not_verified`.
    async fn verification_status(&self) -> Option<&str> {
        self.data.verification_status.as_deref()
    }

    /// When the business was created.
    async fn created_time(&self) -> Option<DateTime<Utc>> {
        self.data.created_time
    }

    /// Who created the business.
    async fn created_by(&self) -> Option<Actor> {
        self.data.created_by.clone().map(Actor)
    }

    /// When the business was last changed.
    async fn updated_time(&self) -> Option<DateTime<Utc>> {
        self.data.updated_time
    }

    /// Who last changed the business.
    async fn updated_by(&self) -> Option<Actor> {
        self.data.updated_by.clone().map(Actor)
    }

    /// When the caller's access to this business ends because the business is migrating to
    /// managed Meta accounts; null when it is not about to end.
    async fn user_access_expire_time(&self) -> Option<DateTime<Utc>> {
        self.data.user_access_expire_time
    }

    /// Pages the business owns (Graph `owned_pages`). `first` is clamped to 100.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn pages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Page>> {
        Box::pin(connection::resolve(
            ctx,
            self.parent(),
            "owned_pages",
            (first, after),
            plan_page,
            |p, _| Page(p),
        ))
        .await
    }

    /// Ad accounts the business owns (Graph `owned_ad_accounts`). `first` is clamped to 100.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn ad_accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<AdAccount>> {
        Box::pin(connection::resolve(
            ctx,
            self.parent(),
            "owned_ad_accounts",
            (first, after),
            plan_ad_account,
            |a, _| AdAccount(a),
        ))
        .await
    }

    /// Apps the business owns (Graph `owned_apps`). `first` is clamped to 100.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn apps(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<App>> {
        Box::pin(connection::resolve(
            ctx,
            self.parent(),
            "owned_apps",
            (first, after),
            plan_app,
            |a, _| App(a),
        ))
        .await
    }

    /// The business's people: invitations, members and suspended members. With the seed's
    /// people API (Graph `userpermissions`) in the order they were added; with today's
    /// (`business_users` then `pending_users`, read side by side in the business's one read)
    /// the members first, then the open invitations, one cursor paging across both. `first`
    /// is clamped to 100. Every ACTIVE person of the business may read them.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<UserPermission>> {
        if business_users::current() {
            return Box::pin(business_users::resolve_people(
                ctx,
                self.parent(),
                first,
                after,
            ))
            .await;
        }
        Box::pin(connection::resolve(
            ctx,
            self.parent(),
            "userpermissions",
            (first, after),
            plan_user_permission,
            |row, _| UserPermission(row),
        ))
        .await
    }

    /// The business's projects (Graph `businessprojects`), oldest first, each with the pages,
    /// ad accounts and apps selected below it read in the same Graph call. `first` is clamped
    /// to 100. Every ACTIVE person of the business may read them.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Project>> {
        Box::pin(connection::resolve(
            ctx,
            self.parent(),
            PROJECTS_EDGE,
            (first, after),
            plan_project,
            Project::new,
        ))
        .await
    }

    /// The business's invoices (and credit memos) for the months from `startDate` to
    /// `endDate`, both inclusive, by billing period (the first day of the month billed); at
    /// most 366 days at a time. Graph `business_invoices`, read with the business in one call.
    /// Needs a finance role (`grantFinancePermission`): being an ADMIN is not enough; without
    /// one this field is null with a `FORBIDDEN` error and the rest of the business still
    /// answers. `first` is clamped to 100.
    #[graphql(complexity = "connection::page_complexity(first, child_complexity)")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        start_date: Date,
        end_date: Date,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Conn<Invoice>>> {
        let range = InvoiceRange::new(start_date, end_date)?;
        let args = ConnectionArgs::new(first, after.as_deref())?.with_filters(range.filters());
        Box::pin(connection::resolve_with(
            ctx,
            self.parent(),
            INVOICES_EDGE,
            args,
            plan_invoice,
            |invoice, _| Invoice(invoice),
        ))
        .await
        .map(Some)
    }

    /// The credit cards the business pays with (Graph `creditcards`, the first 100). ADMINs
    /// and finance roles read them; for anyone else this field is null with a `FORBIDDEN`
    /// error and the rest of the business still answers.
    async fn credit_cards(&self, ctx: &Context<'_>) -> Result<Option<Vec<CreditCard>>> {
        Box::pin(connection::resolve_list(
            ctx,
            self.parent(),
            CREDIT_CARDS_EDGE,
            plan_credit_card,
            CreditCard,
        ))
        .await
        .map(Some)
    }

    /// The business's extended credit lines (Graph `extendedcredits`, the first 100). ADMINs
    /// and finance roles read them; for anyone else this field is null with a `FORBIDDEN`
    /// error and the rest of the business still answers.
    async fn extended_credits(&self, ctx: &Context<'_>) -> Result<Option<Vec<ExtendedCredit>>> {
        Box::pin(connection::resolve_list(
            ctx,
            self.parent(),
            EXTENDED_CREDITS_EDGE,
            plan_extended_credit,
            ExtendedCredit,
        ))
        .await
        .map(Some)
    }

    /// Who holds a finance role in the business (reading invoices needs one), with the role:
    /// the first 100, read with the business in one Graph call. `user.id` is the id
    /// `grantFinancePermission` and `revokeFinancePermission` take. Seed people API: Graph's
    /// `finance_permissions`, people and system users alike; ADMINs and finance roles read
    /// it, for anyone else this field is null with a `FORBIDDEN` error and the rest of the
    /// business still answers. Today's people API: the members (`business_users`, the first
    /// 100) whose `finance_permission` is set, each as their business user; every person of
    /// the business reads them, as Graph shows members' tasks to all of them, and a system
    /// user's finance role is not listed (it is no business user).
    async fn finance_permissions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<FinancePermission>>> {
        if business_users::current() {
            return Box::pin(business_users::resolve_finance_permissions(
                ctx,
                self.parent(),
            ))
            .await
            .map(Some);
        }
        Box::pin(connection::resolve_list(
            ctx,
            self.parent(),
            FINANCE_PERMISSIONS_EDGE,
            plan_finance_permission,
            FinancePermission,
        ))
        .await
        .map(Some)
    }

    /// How ready the business is for its move to managed Meta accounts, seen with your
    /// token: who is migrating (from Meta's webhooks), which of its assets (the business, its
    /// pages and ad accounts) your access to expires and when, which are already lost, the
    /// earliest expiry ahead, and whether your token is a system user's (unaffected). Read
    /// with the business (its assets, people and system users planned into the business's
    /// read), plus one read of your user.
    async fn migration_readiness(&self, ctx: &Context<'_>) -> Result<MigrationReadiness> {
        let planned =
            readiness_planned(&self.fetched).then_some((&self.data, self.viewer.as_deref()));
        Box::pin(migration_readiness(ctx, &self.data.id, planned)).await
    }

    /// A preview of what the next allocation of each credit line (Meta's DCAF, every 30
    /// minutes) gives each of its ad accounts: the line's available credit split evenly, in
    /// minor units, over the business's ACTIVE, DCAF-enabled ad accounts invoiced on it, in
    /// id order, the first accounts getting one minor unit more while a remainder lasts, so
    /// that the shares add up to the available credit exactly. One entry per credit line with
    /// normal liability and access (sequential lines take no part). Read with the business in
    /// one Graph call (its `extendedcredits` and `owned_ad_accounts`, at most 1000 of them);
    /// needs the ADMIN role or a finance role (else null with a `FORBIDDEN` error).
    async fn credit_allocation(&self, ctx: &Context<'_>) -> Result<Option<Vec<CreditAllocation>>> {
        Box::pin(allocation::resolve(ctx, self.parent()))
            .await
            .map(Some)
    }

    /// Your own persona in this business (Graph `business_persona`, read with the business;
    /// with today's people API your business user in it, read on its own from
    /// `me/business_users`); null for a system user, who has none.
    async fn viewer_persona(&self, ctx: &Context<'_>) -> Result<Option<Persona>> {
        if business_users::current() {
            return Box::pin(business_users::read_viewer_member_persona(
                ctx,
                &self.data.id,
            ))
            .await;
        }
        match self.data.edges.list::<model::Persona>(VIEWER_PERSONA_EDGE) {
            Ok(Some(list)) => Ok(list.data.into_iter().next().map(Persona)),
            Ok(None) if self.fetched.contains(VIEWER_PERSONA_EDGE) => Ok(None),
            Ok(None) => Box::pin(read_viewer_persona(ctx, &self.data.id)).await,
            Err(e) => Err(Upstream::of(ctx)?.fail(&e)),
        }
    }
}

/// Business queries.
#[derive(Default)]
pub(crate) struct BusinessQuery;

#[Object]
impl BusinessQuery {
    /// A business by id, with everything selected below it read in one Graph call.
    async fn business(&self, ctx: &Context<'_>, id: ID) -> Option<Business> {
        let business = match ObjectId::parse("id", &id) {
            Ok(id) => Box::pin(read_business(ctx, id.as_str())).await,
            Err(error) => Err(error),
        };
        null_on_error(ctx, business)
    }

    /// Businesses by id, in the order asked, read with one Graph `?ids=` call per 50 ids.
    /// At most 500 ids. An id that cannot be read is null with its own error (found with one
    /// more Graph call); the others are still answered. A business's invoices, credit cards or
    /// credit lines refused for a role you lack are null, each with its own `FORBIDDEN` error,
    /// the rest of every business still answered (one more read, then one batch call for the
    /// refused fields of all of them).
    #[graphql(complexity = "ids.len().max(1).saturating_mul(child_complexity).saturating_add(1)")]
    async fn businesses(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Business>>> {
        if ids.len() > MAX_BUSINESS_IDS {
            return Err(invalid_argument(
                "ids",
                &format!("at most {MAX_BUSINESS_IDS} ids, got {}", ids.len()),
            ));
        }
        for (index, id) in ids.iter().enumerate() {
            ObjectId::parse(&format!("ids[{index}]"), id)?;
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let fields = business_fields(ctx)?;
        let wanted: Vec<String> = ids.iter().map(|id| id.0.clone()).collect();
        let upstream = Upstream::of(ctx)?;
        // Boxed: every field of the root objects is resolved in a future as large as the
        // largest of them, which async-graphql moves into a box per field.
        let found = Box::pin(upstream.nodes_sparing::<model::Business>(&wanted, &fields)).await?;
        // An id that could not be read becomes null with its own error at its index; the
        // others stay. (async-graphql would turn an item error into an error of the list.)
        Ok(wanted
            .iter()
            .enumerate()
            .map(|(index, id)| match found.get(id) {
                Some(Ok((data, fetched))) => Some(Business::new(data.clone(), fetched)),
                Some(Err(error)) => {
                    let mut error =
                        ctx.set_error_path(error.clone().into_server_error(ctx.item.pos));
                    error.path.push(PathSegment::Index(index));
                    ctx.add_error(error);
                    None
                }
                None => None,
            })
            .collect())
    }
}

/// What a new business needs.
#[derive(InputObject)]
pub(crate) struct CreateBusinessInput {
    /// The business's name, unique among the businesses you administer.
    pub name: String,
    /// The business's industry.
    pub vertical: Vertical,
    /// A Facebook Page you administer that no other business owns.
    pub primary_page_id: ID,
    /// Graph's timezone id, 0 to 592.
    pub timezone_id: Option<i32>,
    /// A contact email for the business.
    pub email: Option<String>,
}

/// What to change in a business; fields left out stay as they are.
#[derive(InputObject)]
pub(crate) struct UpdateBusinessInput {
    /// A new name.
    pub name: Option<String>,
    /// A new industry.
    pub vertical: Option<Vertical>,
    /// A page the business owns, to become its primary page.
    pub primary_page_id: Option<ID>,
}

/// Business mutations.
#[derive(Default)]
pub(crate) struct BusinessMutation;

#[Object]
impl BusinessMutation {
    /// Creates a business with you as its first admin, then reads it back with the selected
    /// fields. Graph does not allow deleting a business.
    async fn create_business(
        &self,
        ctx: &Context<'_>,
        input: CreateBusinessInput,
    ) -> Result<Business> {
        let write = CreateBusiness {
            name: BusinessName::parse("input.name", &input.name)?
                .as_str()
                .to_owned(),
            vertical: input.vertical.as_graph(),
            primary_page: ObjectId::parse("input.primaryPageId", &input.primary_page_id)?
                .as_str()
                .to_owned(),
            timezone_id: input
                .timezone_id
                .map(|raw| TimezoneId::parse("input.timezoneId", raw).map(TimezoneId::get))
                .transpose()?,
            email: input
                .email
                .as_deref()
                .map(|raw| Email::parse("input.email", raw).map(|e| e.as_str().to_owned()))
                .transpose()?,
        };
        let created = Upstream::of(ctx)?
            .create(&write, BUSINESS_READ_BACK_CALLS)
            .await?;
        read_back(
            || format!("business {} was created", created.id),
            read_business(ctx, &created.id),
        )
        .await
    }

    /// Changes a business's name, vertical or primary page (admins only), then reads it back
    /// with the selected fields.
    async fn update_business(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateBusinessInput,
    ) -> Result<Business> {
        let id = ObjectId::parse("id", &id)?;
        let write = UpdateBusiness {
            id: id.as_str().to_owned(),
            name: input
                .name
                .as_deref()
                .map(|raw| BusinessName::parse("input.name", raw).map(|n| n.as_str().to_owned()))
                .transpose()?,
            vertical: input.vertical.map(Vertical::as_graph),
            primary_page: input
                .primary_page_id
                .as_deref()
                .map(|raw| {
                    ObjectId::parse("input.primaryPageId", raw).map(|p| p.as_str().to_owned())
                })
                .transpose()?,
        };
        if write.is_empty() {
            return Err(invalid_argument(
                "input",
                "give at least one of name, vertical, primaryPageId",
            ));
        }
        Upstream::of(ctx)?
            .update(&write, BUSINESS_READ_BACK_CALLS)
            .await?;
        read_back(
            || format!("business {} was updated", id.as_str()),
            read_business(ctx, id.as_str()),
        )
        .await
    }
}
