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
use super::error::null_on_error;
use super::input::{ObjectId, ProjectName, project_asset};
use super::upstream::{Upstream, read_back};
use crate::graph::write::{CreateProject, DeleteProject, ProjectAssetWrite, WriteMethod};
use crate::graph::{FieldSet, model};

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
    let data = Upstream::of(ctx)?.node_batched(id, &fields).await?;
    Ok(Project::new(data, &fields))
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

/// Project mutations; only ADMINs of the project's business may make them (`FORBIDDEN`
/// otherwise).
#[derive(Default)]
pub(crate) struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Creates an empty project in the business, then reads it back with the selected fields.
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
        let created = Upstream::of(ctx)?
            .create(&write, PROJECT_READ_BACK_CALLS)
            .await?;
        read_back(
            || format!("project {} was created", created.id),
            read_project(ctx, &created.id),
        )
        .await
    }

    /// Deletes a project. Its assets stay with the business, free to join another project.
    async fn delete_project(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = ObjectId::parse("id", &id)?;
        let write = DeleteProject {
            id: id.as_str().to_owned(),
        };
        Upstream::of(ctx)?.delete(&write).await?;
        Ok(true)
    }

    /// Adds one asset of the project's business to the project: exactly one of `pageId`,
    /// `adAccountId` (with or without `act_`) and `appId`. An asset is in at most one project;
    /// one that is in another project must be removed from there first (`INVALID_ARGUMENT`).
    /// Adding an asset the project already holds changes nothing. Answers the project as it
    /// is now.
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
        Upstream::of(ctx)?
            .post_edge(&write, PROJECT_READ_BACK_CALLS)
            .await?;
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
    /// it stays with the business. Answers the project as it is now.
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
        Upstream::of(ctx)?
            .delete_edge(&write, PROJECT_READ_BACK_CALLS)
            .await?;
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
