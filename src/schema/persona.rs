//! Persona: a person's name and email in one business, its field planning, `Query.persona`
//! and `Business.viewerPersona`'s expansion.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SelectionField};
use chrono::{DateTime, Utc};

use super::assets::{Actor, plan_actor};
use super::business::{Business, plan_business};
use super::business_users;
use super::error::null_on_error;
use super::input::ObjectId;
use super::upstream::Upstream;
use crate::graph::{EdgeArgs, FieldSet, PageRequest, model};

/// Graph's edge holding the token's own persona in a business (a list of at most one).
pub(crate) const VIEWER_PERSONA_EDGE: &str = "business_persona";

/// A person's business persona: the name and email they use in one business. Business
/// Manager shows this name, never the user's own.
pub(crate) struct Persona(pub(crate) model::Persona);

/// Adds the Graph fields a selection of `Persona` needs.
pub(crate) fn plan_persona(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "name" => set.scalar("name"),
            "firstName" => set.scalar("first_name"),
            "lastName" => set.scalar("last_name"),
            "title" => set.scalar("title"),
            "email" => set.scalar("email"),
            "createdTime" => set.scalar("created_time"),
            "updatedTime" => set.scalar("updated_time"),
            "business" => plan_business(set.object("business"), child)?,
            "createdBy" => plan_actor(set.object("created_by"), child)?,
            "updatedBy" => plan_actor(set.object("updated_by"), child)?,
            _ => {}
        }
    }
    Ok(())
}

/// Plans `viewerPersona` into its business's read: Graph's `business_persona` edge, which
/// holds the token's one persona, so one item is enough.
pub(crate) fn plan_viewer_persona(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    let edge = set.edge(VIEWER_PERSONA_EDGE, &viewer_persona_args());
    plan_persona(edge, field)
}

fn viewer_persona_args() -> EdgeArgs {
    EdgeArgs {
        limit: Some(1),
        ..EdgeArgs::default()
    }
}

/// The fields to read for the `Persona` the current field returns.
pub(crate) fn persona_fields(ctx: &Context<'_>) -> Result<Arc<FieldSet>> {
    let mut set = FieldSet::new();
    plan_persona(&mut set, ctx.field())?;
    Ok(Arc::new(set))
}

/// Reads one persona with the fields the current selection needs: with today's people API,
/// the business user `id` (the person's names in a business are on it).
pub(crate) async fn read_persona(ctx: &Context<'_>, id: &str) -> Result<Persona> {
    if business_users::current() {
        return business_users::read_member_persona(ctx, id).await;
    }
    let fields = persona_fields(ctx)?;
    // Read once more without its business's role-guarded edges when Graph refuses them.
    let (data, _) = Upstream::of(ctx)?.node_batched_sparing(id, &fields).await?;
    Ok(Persona(data))
}

/// The token's persona in business `business`, read on its own when the business's read did
/// not plan it.
pub(crate) async fn read_viewer_persona(
    ctx: &Context<'_>,
    business: &str,
) -> Result<Option<Persona>> {
    let fields = persona_fields(ctx)?;
    let page = PageRequest {
        filters: Vec::new(),
        limit: Some(1),
        after: None,
        total_count: false,
    };
    // Read once more without its business's role-guarded edges when Graph refuses them.
    let (list, _) = Upstream::of(ctx)?
        .edge_sparing::<model::Persona>(business, VIEWER_PERSONA_EDGE, &fields, &page)
        .await?;
    Ok(list.data.into_iter().next().map(Persona))
}

#[Object]
impl Persona {
    /// The persona's Graph id; with today's people API, the business user's (the person's
    /// names in a business are on it).
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The name shown for the person in this business: first and last name.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// First name.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }

    /// Last name.
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }

    /// Job title.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    /// The persona's verified email. A new email stays pending, and this one shown, until
    /// its owner verifies it.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// The business the persona belongs to.
    async fn business(&self) -> Option<Business> {
        // Its scalars came with the persona; a connection below it reads on its own.
        let fetched = Arc::new(FieldSet::new());
        self.0
            .business
            .as_deref()
            .map(|b| Business::new(b.clone(), &fetched))
    }

    /// When the persona was made (when its person accepted the invitation); null with today's
    /// people API, whose business users have no times or authors (nor the three below).
    async fn created_time(&self) -> Option<DateTime<Utc>> {
        self.0.created_time
    }

    /// Who made the persona.
    async fn created_by(&self) -> Option<Actor> {
        self.0.created_by.clone().map(Actor)
    }

    /// When the persona last changed.
    async fn updated_time(&self) -> Option<DateTime<Utc>> {
        self.0.updated_time
    }

    /// Who last changed the persona.
    async fn updated_by(&self) -> Option<Actor> {
        self.0.updated_by.clone().map(Actor)
    }
}

/// Persona queries.
#[derive(Default)]
pub(crate) struct PersonaQuery;

#[Object]
impl PersonaQuery {
    /// A business persona by id (with today's people API, a business user id); readable by
    /// the people of its business.
    async fn persona(&self, ctx: &Context<'_>, id: ID) -> Option<Persona> {
        let persona = match ObjectId::parse("id", &id) {
            Ok(id) => Box::pin(read_persona(ctx, id.as_str())).await,
            Err(error) => Err(error),
        };
        null_on_error(ctx, persona)
    }
}
