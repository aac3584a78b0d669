//! Projects: named groups of a business's pages, ad accounts and apps (Graph's
//! `businessprojects`). The type, its field planning, `Query.project`, `Business.projects`'
//! plan, and the project mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SelectionField};
use chrono::{DateTime, Utc};

use super::assets::{
    Actor, AdAccount, App, Page, plan_actor, plan_ad_account, plan_app, plan_page,
};
use super::business::{Business, plan_business};
use super::connection::{self, Conn, ParentEdges, plan_connection};
use super::error::{coded, has_code, null_on_error};
use super::input::{ObjectId, ProjectName, project_asset};
use super::upstream::{Upstream, read_back};
use crate::error::ErrorCode;
use crate::graph::write::{
    CreateProject, DeleteProject, GraphWrite, ProjectAssetWrite, WriteAnswer, WriteMethod,
};
use crate::graph::{FieldSet, GraphError, model};

/// Graph's edge listing a business's projects.
pub(crate) const PROJECTS_EDGE: &str = "businessprojects";

/// Graph calls a project's read-back after a write takes: one node read (the selection,
/// asset connections included, is planned into it).
const PROJECT_READ_BACK_CALLS: usize = 1;

/// A business project: a named group of the business's pages, ad accounts and apps. An asset
/// is in at most one project at a time.
pub(crate) struct Project {
    data: model::Project,
    fetched: Arc<FieldSet>,
}

impl Project {
    /// Wraps a project read with the fields in `fetched`.
    pub(crate) fn new(data: model::Project, fetched: &Arc<FieldSet>) -> Project {
        Project {
            data,
            fetched: fetched.clone(),
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

/// Adds the Graph fields a selection of `Project` needs, with its asset edges expanded in
/// place.
pub(crate) fn plan_project(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "name" => set.scalar("name"),
            "createdTime" => set.scalar("created_time"),
            "updatedTime" => set.scalar("update_time"),
            "business" => plan_business(set.object("business"), child)?,
            "createdBy" => plan_actor(set.object("created_by"), child)?,
            "updatedBy" => plan_actor(set.object("updated_by"), child)?,
            "pages" => plan_connection(set, child, "pages", plan_page)?,
            "adAccounts" => plan_connection(set, child, "adaccounts", plan_ad_account)?,
            "apps" => plan_connection(set, child, "apps", plan_app)?,
            _ => {}
        }
    }
    Ok(())
}

/// Reads one project with the fields the current selection needs, through the request's
/// `?ids=` loader.
async fn read_project(ctx: &Context<'_>, id: &str) -> Result<Project> {
    let mut set = FieldSet::new();
    plan_project(&mut set, ctx.field())?;
    let fields = Arc::new(set);
    // Read once more without the role-guarded edges of its business when Graph refuses them.
    let (data, fetched) = Upstream::of(ctx)?.node_batched_sparing(id, &fields).await?;
    Ok(Project::new(data, &fetched))
}

#[Object]
impl Project {
    /// The project's Graph id.
    async fn id(&self) -> ID {
        ID(self.data.id.clone())
    }

    /// The project's name.
    async fn name(&self) -> Option<&str> {
        self.data.name.as_deref()
    }

    /// The business the project belongs to.
    async fn business(&self) -> Option<Business> {
        // Its scalars came with the project; a connection below it reads on its own.
        let fetched = Arc::new(FieldSet::new());
        self.data
            .business
            .as_deref()
            .map(|b| Business::new(b.clone(), &fetched))
    }

    /// When the project was made.
    async fn created_time(&self) -> Option<DateTime<Utc>> {
        self.data.created_time
    }

    /// Who made the project.
    async fn created_by(&self) -> Option<Actor> {
        self.data.created_by.clone().map(Actor)
    }

    /// When the project last changed.
    async fn updated_time(&self) -> Option<DateTime<Utc>> {
        self.data.update_time
    }

    /// Who last changed the project.
    async fn updated_by(&self) -> Option<Actor> {
        self.data.updated_by.clone().map(Actor)
    }

    /// The pages in the project (Graph `pages`). `first` is clamped to 100.
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
            "pages",
            (first, after),
            plan_page,
            |p, _| Page(p),
        ))
        .await
    }

    /// The ad accounts in the project (Graph `adaccounts`). `first` is clamped to 100.
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
            "adaccounts",
            (first, after),
            plan_ad_account,
            |a, _| AdAccount(a),
        ))
        .await
    }

    /// The apps in the project (Graph `apps`). `first` is clamped to 100.
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
            "apps",
            (first, after),
            plan_app,
            |a, _| App(a),
        ))
        .await
    }
}

/// Project queries.
#[derive(Default)]
pub(crate) struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// A project by id, with its assets read in the same Graph call; readable by the people
    /// of its business. Several `project` fields in one query share one `?ids=` call.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Option<Project> {
        let project = match ObjectId::parse("id", &id) {
            Ok(id) => Box::pin(read_project(ctx, id.as_str())).await,
            Err(error) => Err(error),
        };
        null_on_error(ctx, project)
    }
}

/// What a project write answers when today's Graph refuses it: projects are read-only there.
const READ_ONLY_PROJECTS: &str = "Graph no longer takes project writes: Meta made business \
    projects read-only in 2024 and replaced them with business asset groups; group the assets \
    with a business asset group in Business Manager (Business settings, Accounts, Business \
    asset groups). Reading projects still works.";

/// Whether Graph refused a write as an operation the object does not support: code 100,
/// subcode 33, "Unsupported post request" or "Unsupported delete request". Graph answers the
/// same for an object that does not exist or that the token cannot see, so the caller checks
/// that the object reads before it says projects are read-only.
fn is_unsupported_write(error: &GraphError) -> bool {
    error.api().is_some_and(|api| {
        api.code == 100
            && api.subcode == Some(33)
            && (api.message.starts_with("Unsupported post request")
                || api.message.starts_with("Unsupported delete request"))
    })
}

/// Sends a project write. Today's Graph refuses every project write (docs/graph-api.md §8.4)
/// with its "Unsupported post/delete request"; when the object written to still reads (one
/// more call, only then), that is `FAILED_PRECONDITION` naming business asset groups, the
/// replacement. Any other refusal, this one on an object that does not read included, is
/// Graph's own error.
async fn write_project(
    ctx: &Context<'_>,
    write: &dyn GraphWrite,
    read_back_calls: usize,
) -> Result<WriteAnswer> {
    let upstream = Upstream::of(ctx)?;
    let error = match upstream.write_outcome(write, read_back_calls).await? {
        Ok(answer) => return Ok(answer),
        Err(error) => error,
    };
    if is_unsupported_write(&error) {
        let mut fields = FieldSet::new();
        fields.scalar("id");
        match upstream
            .node::<serde_json::Value>(write.node(), &fields)
            .await
        {
            Ok(_) => return Err(coded(ErrorCode::FailedPrecondition, READ_ONLY_PROJECTS)),
            // A read that could not be made tells nothing: say so rather than "not found".
            Err(unread)
                if has_code(&unread, ErrorCode::UpstreamBudgetExceeded)
                    || has_code(&unread, ErrorCode::UpstreamUnavailable)
                    || has_code(&unread, ErrorCode::RateLimited) =>
            {
                return Err(unread);
            }
            Err(_) => {}
        }
    }
    Err(upstream.fail(&error))
}

/// Project mutations; only ADMINs of the project's business may make them (`FORBIDDEN`
/// otherwise). Today's Graph made projects read-only in 2024: against it, each of these is
/// `FAILED_PRECONDITION` with a message naming the replacement, business asset groups in
/// Business Manager; reading projects still works.
#[derive(Default)]
pub(crate) struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Creates an empty project in the business, then reads it back with the selected fields.
    /// `FAILED_PRECONDITION` where Graph's projects are read-only (use business asset groups).
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        name: String,
    ) -> Result<Project> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let write = CreateProject {
            business: business.as_str().to_owned(),
            name: ProjectName::parse("name", &name)?.into_string(),
        };
        let upstream = Upstream::of(ctx)?;
        let created = write_project(ctx, &write, PROJECT_READ_BACK_CALLS)
            .await?
            .created()
            .map_err(|e| upstream.fail(&e))?;
        read_back(
            || format!("project {} was created", created.id),
            read_project(ctx, &created.id),
        )
        .await
    }

    /// Deletes a project. Its assets stay with the business, free to join another project.
    /// `FAILED_PRECONDITION` where Graph's projects are read-only (use business asset groups).
    async fn delete_project(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = ObjectId::parse("id", &id)?;
        let write = DeleteProject {
            id: id.as_str().to_owned(),
        };
        write_project(ctx, &write, 0).await?;
        Ok(true)
    }

    /// Adds one asset of the project's business to the project: exactly one of `pageId`,
    /// `adAccountId` (with or without `act_`) and `appId`. An asset is in at most one project;
    /// one that is in another project must be removed from there first (`INVALID_ARGUMENT`).
    /// Adding an asset the project already holds changes nothing. Answers the project as it
    /// is now. `FAILED_PRECONDITION` where Graph's projects are read-only (use business asset
    /// groups).
    async fn add_project_asset(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        page_id: Option<ID>,
        ad_account_id: Option<ID>,
        app_id: Option<ID>,
    ) -> Result<Project> {
        let write = asset_write(
            WriteMethod::Post,
            &project_id,
            [&page_id, &ad_account_id, &app_id],
        )?;
        write_project(ctx, &write, PROJECT_READ_BACK_CALLS).await?;
        read_back(
            || {
                format!(
                    "{} was added to project {}",
                    write.asset.id(),
                    write.project
                )
            },
            read_project(ctx, &write.project),
        )
        .await
    }

    /// Removes one asset from the project (exactly one of `pageId`, `adAccountId`, `appId`);
    /// it stays with the business. Answers the project as it is now. `FAILED_PRECONDITION`
    /// where Graph's projects are read-only (use business asset groups).
    async fn remove_project_asset(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        page_id: Option<ID>,
        ad_account_id: Option<ID>,
        app_id: Option<ID>,
    ) -> Result<Project> {
        let write = asset_write(
            WriteMethod::Delete,
            &project_id,
            [&page_id, &ad_account_id, &app_id],
        )?;
        write_project(ctx, &write, PROJECT_READ_BACK_CALLS).await?;
        read_back(
            || {
                format!(
                    "{} was removed from project {}",
                    write.asset.id(),
                    write.project
                )
            },
            read_project(ctx, &write.project),
        )
        .await
    }
}

/// The checked write of an asset mutation's arguments.
fn asset_write(
    method: WriteMethod,
    project_id: &ID,
    [page, ad_account, app]: [&Option<ID>; 3],
) -> Result<ProjectAssetWrite> {
    let project = ObjectId::parse("projectId", project_id)?;
    let asset = project_asset(
        page.as_ref().map(|id| id.as_str()),
        ad_account.as_ref().map(|id| id.as_str()),
        app.as_ref().map(|id| id.as_str()),
    )?;
    Ok(ProjectAssetWrite {
        project: project.as_str().to_owned(),
        asset,
        method,
    })
}
