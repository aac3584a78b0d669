//! People of a business: the `UserPermission` type (an invitation, a member or a suspended
//! member, Graph's `userpermissions` rows), its field planning, and the people and persona
//! mutations. With `--people-api current` the same types and mutations go through today's
//! `business_users` and `pending_users` (`business_users.rs`).

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SelectionField};
use chrono::{DateTime, Utc};

use super::assets::{Actor, plan_actor};
use super::business_users;
use super::enums::{BusinessRole, FinanceRole, PermissionStatus};
use super::error::{coded, invalid_argument};
use super::input::{Email, ObjectId, PersonRef, UserId};
use super::persona::{Persona, plan_persona, read_persona};
use super::upstream::{Upstream, read_back};
use crate::error::ErrorCode;
use crate::graph::write::{
    ChangeBusinessUserRole, ChangeRole, InviteBusinessUser, InvitePerson, PeopleNode, Person,
    RemoveBusinessUser, RemovePerson, UpdatePersona,
};
use crate::graph::{FieldSet, PageRequest, model};

/// Graph calls a persona's read-back after a write takes: one node read.
const PERSONA_READ_BACK_CALLS: usize = 1;

/// A person in a business: invited by email, a member, or a suspended member.
pub(crate) struct UserPermission(pub(crate) model::UserPermission);

/// The kind of account a person was invited as (Graph's `invited_user_type`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum InvitedUserType {
    /// A Facebook account (Graph `FB`).
    #[graphql(name = "FACEBOOK")]
    Facebook,
    /// A managed Meta (work) account (Graph `MWA`).
    #[graphql(name = "MANAGED_META_ACCOUNT")]
    ManagedMetaAccount,
}

impl InvitedUserType {
    /// Graph's spelling.
    fn as_graph(self) -> &'static str {
        match self {
            InvitedUserType::Facebook => "FB",
            InvitedUserType::ManagedMetaAccount => "MWA",
        }
    }

    fn from_graph(name: &str) -> Option<InvitedUserType> {
        match name {
            "FB" => Some(InvitedUserType::Facebook),
            "MWA" => Some(InvitedUserType::ManagedMetaAccount),
            _ => None,
        }
    }
}

/// Adds the Graph fields a selection of `UserPermission` needs.
pub(crate) fn plan_user_permission(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "role" => set.scalar("role"),
            "status" => set.scalar("status"),
            "email" => set.scalar("email"),
            "createdTime" => set.scalar("created_time"),
            "updatedTime" => set.scalar("updated_time"),
            "user" => plan_actor(set.object("user"), child)?,
            "persona" => plan_persona(set.object("business_persona"), child)?,
            "createdBy" => plan_actor(set.object("created_by"), child)?,
            "updatedBy" => plan_actor(set.object("updated_by"), child)?,
            // Business Manager's rule: the persona's name, else the invited email; never the
            // user's own name, so `user.name` is not even asked for.
            "displayName" => {
                let persona = set.object("business_persona");
                // A persona is decoded by its id, as every node is.
                persona.scalar("id");
                persona.scalar("name");
                set.scalar("email");
            }
            _ => {}
        }
    }
    Ok(())
}

#[Object]
impl UserPermission {
    /// The person's Graph id in this business. Seed people API: the `userpermissions` row's
    /// (rows are not nodes: they are only read through `Business.people`). Today's: the
    /// business user's for a member, the business role request's for an invitation.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The person's role; null for a role newer than this gateway.
    async fn role(&self) -> Option<BusinessRole> {
        self.0.role.as_deref().and_then(BusinessRole::from_graph)
    }

    /// Invited, a member, or suspended; null for a status newer than this gateway. With
    /// today's people API, INVITED for an invitation and null for a member: today's API has
    /// no status on a business user, so an ACTIVE member cannot be told from a SUSPENDED one.
    async fn status(&self) -> Option<PermissionStatus> {
        self.0
            .status
            .as_deref()
            .and_then(PermissionStatus::from_graph)
    }

    /// The address the person was invited with; null for members invited by no address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// The member's user; null unless ACTIVE. Show `displayName`, not this user's name. With
    /// today's people API, the business-scoped user: the business user's id and name (Graph
    /// gives a business user no user), for every member; null for an invitation.
    async fn user(&self) -> Option<Actor> {
        self.0.user.clone().map(Actor)
    }

    /// The person's persona in this business; null until the invitation is accepted, and for
    /// system users. With today's people API, the business user itself (its id is the
    /// business user's; it has no times or authors).
    async fn persona(&self) -> Option<Persona> {
        self.0.business_persona.clone().map(Persona)
    }

    /// The name to show for the person: the persona's name, else the invited email; never the
    /// user's own name (Business Manager's rule). Null when the person has neither.
    async fn display_name(&self) -> Option<&str> {
        self.0
            .business_persona
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .or(self.0.email.as_deref())
    }

    /// When the person was invited or added.
    async fn created_time(&self) -> Option<DateTime<Utc>> {
        self.0.created_time
    }

    /// Who invited or added the person.
    async fn created_by(&self) -> Option<Actor> {
        self.0.created_by.clone().map(Actor)
    }

    /// When the row last changed.
    async fn updated_time(&self) -> Option<DateTime<Utc>> {
        self.0.updated_time
    }

    /// Who last changed the row.
    async fn updated_by(&self) -> Option<Actor> {
        self.0.updated_by.clone().map(Actor)
    }

    /// What the person may do, in Graph's task names (`ADMIN`, `DEVELOPER`, `EMPLOYEE`,
    /// `FINANCE_EDIT`, `FINANCE_VIEW`, `MANAGE`, ...). Today's people API only: null with the
    /// seed's, which has no tasks.
    async fn tasks(&self) -> Option<&[String]> {
        self.0.tasks.as_deref()
    }

    /// The kind of account invited: a Facebook account or a managed Meta account. Today's
    /// people API only: null with the seed's.
    async fn invited_user_type(&self) -> Option<InvitedUserType> {
        self.0
            .invited_user_type
            .as_ref()
            .and_then(|kinds| kinds.first())
            .and_then(|kind| InvitedUserType::from_graph(kind))
    }

    /// The person's finance role in the business (reading invoices needs one; see
    /// `grantFinancePermission`). Today's people API only, members only (a business user's
    /// `finance_permission`): null without a finance role, for an invitation, and with the
    /// seed's, whose people rows do not carry it (its finance roles are a separate list only
    /// ADMINs and finance people may read).
    async fn finance_role(&self) -> Option<FinanceRole> {
        self.0
            .finance_role
            .as_deref()
            .and_then(FinanceRole::from_graph)
    }

    /// Where an invitation is accepted. Today's people API, invitations only: null for
    /// members and with the seed's.
    async fn invite_link(&self) -> Option<&str> {
        self.0.invite_link.as_deref()
    }

    /// When an invitation lapses. Today's people API, invitations only: null for members and
    /// with the seed's.
    async fn expiration_time(&self) -> Option<DateTime<Utc>> {
        self.0.expiration_time
    }
}

/// Graph calls a person's read-back after a write takes: one page of the business's people.
const PEOPLE_READ_BACK_CALLS: usize = 1;

/// The rows a read-back looks through for the person written: Graph's largest page.
const PEOPLE_READ_BACK_PAGE: u32 = 100;

/// Reads back the row of `person` in `business`: rows are not nodes, so the business's
/// `userpermissions` are read (the first 100) and the row is found by its user id or, for
/// an invitation, by its email (Graph stores emails in lowercase).
async fn read_person(ctx: &Context<'_>, business: &str, person: &Person) -> Result<UserPermission> {
    let mut fields = FieldSet::new();
    plan_user_permission(&mut fields, ctx.field())?;
    // What the row is found by.
    fields.scalar("email");
    fields.object("user").scalar("id");
    let page = PageRequest {
        filters: Vec::new(),
        limit: Some(PEOPLE_READ_BACK_PAGE),
        after: None,
        total_count: false,
    };
    // Read once more without its business's role-guarded edges when Graph refuses them.
    let (list, _) = Upstream::of(ctx)?
        .edge_sparing::<model::UserPermission>(
            business,
            "userpermissions",
            &Arc::new(fields),
            &page,
        )
        .await?;
    let found = list.data.into_iter().find(|row| match person {
        Person::User(id) => row.user.as_ref().is_some_and(|u| &u.id == id),
        Person::Email(email) => row
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email)),
    });
    found.map(UserPermission).ok_or_else(|| {
        coded(
            ErrorCode::NotFound,
            format!(
                "business {business} lists no such person among its first {PEOPLE_READ_BACK_PAGE}"
            ),
        )
    })
}

/// `changeRole` with today's people API: a member's business user, or the invitation of an
/// email found through `pending_users`, gets the new role; then it is read back.
async fn change_role_current(
    ctx: &Context<'_>,
    business: &str,
    person: Person,
    role: BusinessRole,
    tasks: Option<Vec<String>>,
) -> Result<UserPermission> {
    let node = match &person {
        Person::User(id) => PeopleNode::Member(id.clone()),
        Person::Email(email) => {
            let found = business_users::find_invitation(ctx, business, email, false).await?;
            PeopleNode::Invitation(found.0.id)
        }
    };
    let write = ChangeBusinessUserRole {
        business: business.to_owned(),
        person: node,
        role: Some(role.as_graph()),
        tasks,
    };
    Upstream::of(ctx)?
        .update(&write, PEOPLE_READ_BACK_CALLS)
        .await?;
    let written = || format!("the role of {} was changed", describe(&person));
    match &person {
        Person::User(id) => read_back(written, business_users::read_member(ctx, id)).await,
        Person::Email(email) => {
            read_back(
                written,
                business_users::find_invitation(ctx, business, email, true),
            )
            .await
        }
    }
}

/// Today's tasks of a business user or invitation, as the official SDKs spell them
/// (`BusinessUser.Tasks`): what a `tasks` argument may hold.
const TASKS: [&str; 15] = [
    "ADMIN",
    "ADS_RIGHTS_REVIEWER",
    "DEFAULT",
    "DEVELOPER",
    "EMPLOYEE",
    "FINANCE_ANALYST",
    "FINANCE_EDIT",
    "FINANCE_EDITOR",
    "FINANCE_VIEW",
    "MANAGE",
    "PARTNER_CENTER_ADMIN",
    "PARTNER_CENTER_ANALYST",
    "PARTNER_CENTER_EDUCATION",
    "PARTNER_CENTER_MARKETING",
    "PARTNER_CENTER_OPERATIONS",
];

/// A checked `tasks` argument: not empty, each one of Graph's tasks, without repeats (kept in
/// the order given).
fn tasks_argument(argument: &str, tasks: Option<Vec<String>>) -> Result<Option<Vec<String>>> {
    let Some(tasks) = tasks else { return Ok(None) };
    if tasks.is_empty() {
        return Err(invalid_argument(
            argument,
            "must name at least one task (leave it out to keep the role's)",
        ));
    }
    let mut checked: Vec<String> = Vec::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        let task = task.trim();
        if !TASKS.contains(&task) {
            return Err(invalid_argument(
                argument,
                &format!(
                    "[{index}] {task:?} is not one of Graph's tasks ({})",
                    TASKS.join(", ")
                ),
            ));
        }
        if !checked.iter().any(|t| t == task) {
            checked.push(task.to_owned());
        }
    }
    Ok(Some(checked))
}

/// Refuses an argument the seed's people API cannot express, before any Graph call: never
/// dropped without a word.
fn seed_cannot_express(argument: &str, given: bool, what: &str) -> Result<()> {
    if given && !business_users::current() {
        return Err(invalid_argument(
            argument,
            &format!(
                "the seed's people API (--people-api seed) has no {what}; leave it out, or run \
                 the gateway with --people-api current (today's business_users)"
            ),
        ));
    }
    Ok(())
}

/// The checked `userId`/`email` as the write names its person.
fn person_of(reference: PersonRef) -> Person {
    match reference {
        PersonRef::User(id) => Person::User(id.as_str().to_owned()),
        PersonRef::Email(email) => Person::Email(email.as_str().to_owned()),
    }
}

/// The person, as a read-back's error says what was written.
fn describe(person: &Person) -> String {
    match person {
        Person::User(id) => format!("user {id}"),
        Person::Email(email) => format!("the invitation of {email}"),
    }
}

/// A persona name part: trimmed, not blank, no control characters.
fn name_part(argument: &str, raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let name = raw.trim();
    if name.is_empty() {
        return Err(invalid_argument(argument, "must not be blank"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid_argument(
            argument,
            "must not contain control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

/// A job title: trimmed, no control characters, at most 100 characters; empty clears it.
fn title_part(argument: &str, raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let title = raw.trim();
    if title.chars().any(char::is_control) {
        return Err(invalid_argument(
            argument,
            "must not contain control characters",
        ));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(invalid_argument(
            argument,
            &format!("must be at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(Some(title.to_owned()))
}

/// The longest job title taken. [guess] Graph does not publish one; Business Manager's form
/// stops well before.
const MAX_TITLE_CHARS: usize = 100;

/// What to change in a persona; fields left out stay as they are.
#[derive(InputObject)]
pub(crate) struct UpdatePersonaInput {
    /// A new first name.
    pub first_name: Option<String>,
    /// A new last name.
    pub last_name: Option<String>,
    /// A new email; it stays pending, and the old one shown, until its owner verifies it.
    pub email: Option<String>,
    /// A new job title; an empty one clears it. Today's people API only (a business user's
    /// `title`): the seed's persona updates take none (`INVALID_ARGUMENT`, no Graph call).
    pub title: Option<String>,
}

/// People and persona mutations. Only ADMINs of a business may invite, change roles and
/// remove people (`FORBIDDEN` otherwise); only its own person may change a persona.
#[derive(Default)]
pub(crate) struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Invites `email` to the business as `role`, then reads the invitation back (INVITED):
    /// the business's people are read and the row found by its email (with today's people
    /// API, its `pending_users` of that email). Past the business's invitation limit,
    /// `RATE_LIMITED` with `retryAfterSeconds` of a day. Today's people API only (the seed's
    /// cannot express them: `INVALID_ARGUMENT` there, no Graph call): `tasks` names the
    /// tasks the invitation offers (Graph's names, e.g. `EMPLOYEE`, `FINANCE_VIEW`; a finance
    /// task becomes the member's finance role once accepted) and `invitedUserType` invites a managed Meta
    /// account (`MANAGED_META_ACCOUNT`) rather than a Facebook account.
    async fn invite_person(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        email: String,
        role: BusinessRole,
        tasks: Option<Vec<String>>,
        invited_user_type: Option<InvitedUserType>,
    ) -> Result<UserPermission> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let email = Email::parse("email", &email)?;
        let tasks = tasks_argument("tasks", tasks)?;
        seed_cannot_express("tasks", tasks.is_some(), "tasks")?;
        seed_cannot_express(
            "invitedUserType",
            invited_user_type.is_some(),
            "invited user type (every invitation is for a Facebook account)",
        )?;
        if business_users::current() {
            let write = InviteBusinessUser {
                business: business.as_str().to_owned(),
                email: email.as_str().to_owned(),
                role: role.as_graph(),
                tasks,
                invited_user_type: invited_user_type.map(InvitedUserType::as_graph),
            };
            Upstream::of(ctx)?
                .post_edge(&write, PEOPLE_READ_BACK_CALLS)
                .await?;
            return read_back(
                || format!("{} was invited", email.as_str()),
                business_users::find_invitation(ctx, business.as_str(), &write.email, true),
            )
            .await;
        }
        let write = InvitePerson {
            business: business.as_str().to_owned(),
            email: email.as_str().to_owned(),
            role: role.as_graph(),
        };
        Upstream::of(ctx)?
            .post_edge(&write, PEOPLE_READ_BACK_CALLS)
            .await?;
        let person = Person::Email(write.email);
        read_back(
            || format!("{} was invited", email.as_str()),
            read_person(ctx, business.as_str(), &person),
        )
        .await
    }

    /// Changes the role of a member (`userId`) or the role an invitation offers (`email`),
    /// exactly one of the two, then reads the person back. Demoting the last ADMIN is
    /// `FAILED_PRECONDITION`. Graph names a row's user only while the person is ACTIVE, so
    /// for a suspended member the change is made but its read-back fails (and says so). With
    /// today's people API, `userId` is the member's business user id (`UserPermission.id`),
    /// and an invitation is found by its email first (one more Graph call). `tasks` (today's
    /// people API only; `INVALID_ARGUMENT` with the seed's, no Graph call) sets the person's
    /// tasks with the role, the whole list, in Graph's names; a finance task among them is
    /// the member's finance role (`FINANCE_EDIT`, `FINANCE_VIEW`) and leaving finance tasks
    /// out takes it away. Without `tasks`, the new role's own tasks apply.
    async fn change_role(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        user_id: Option<ID>,
        email: Option<String>,
        role: BusinessRole,
        tasks: Option<Vec<String>>,
    ) -> Result<UserPermission> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let person = person_of(PersonRef::parse(
            user_id.as_ref().map(|id| id.as_str()),
            email.as_deref(),
        )?);
        let tasks = tasks_argument("tasks", tasks)?;
        seed_cannot_express("tasks", tasks.is_some(), "tasks")?;
        if business_users::current() {
            return change_role_current(ctx, business.as_str(), person, role, tasks).await;
        }
        let write = ChangeRole {
            business: business.as_str().to_owned(),
            person,
            role: role.as_graph(),
        };
        Upstream::of(ctx)?
            .update(&write, PEOPLE_READ_BACK_CALLS)
            .await?;
        read_back(
            || format!("the role of {} was changed", describe(&write.person)),
            read_person(ctx, business.as_str(), &write.person),
        )
        .await
    }

    /// Removes a member from the business and from every asset they held through it (their
    /// roles elsewhere stay). Removing the last ADMIN is `FAILED_PRECONDITION`. With today's
    /// people API, `userId` is the member's business user id (`UserPermission.id`).
    async fn remove_person(&self, ctx: &Context<'_>, business_id: ID, user_id: ID) -> Result<bool> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let user = UserId::parse("userId", &user_id)?;
        if business_users::current() {
            let write = RemoveBusinessUser {
                business: business.as_str().to_owned(),
                person: PeopleNode::Member(user.as_str().to_owned()),
            };
            Upstream::of(ctx)?.delete(&write).await?;
            return Ok(true);
        }
        let write = RemovePerson {
            business: business.as_str().to_owned(),
            person: Person::User(user.as_str().to_owned()),
        };
        Upstream::of(ctx)?.delete_edge(&write, 0).await?;
        Ok(true)
    }

    /// Cancels the pending invitation of `email` (with today's people API, found by its email
    /// first, then deleted by its id: two Graph calls).
    async fn cancel_invitation(
        &self,
        ctx: &Context<'_>,
        business_id: ID,
        email: String,
    ) -> Result<bool> {
        let business = ObjectId::parse("businessId", &business_id)?;
        let email = Email::parse("email", &email)?;
        if business_users::current() {
            let found =
                business_users::find_invitation(ctx, business.as_str(), email.as_str(), false)
                    .await?;
            let write = RemoveBusinessUser {
                business: business.as_str().to_owned(),
                person: PeopleNode::Invitation(found.0.id),
            };
            Upstream::of(ctx)?.delete(&write).await?;
            return Ok(true);
        }
        let write = RemovePerson {
            business: business.as_str().to_owned(),
            person: Person::Email(email.as_str().to_owned()),
        };
        Upstream::of(ctx)?.delete_edge(&write, 0).await?;
        Ok(true)
    }

    /// Changes your own persona's names, email or (today's people API only) job title, then
    /// reads it back. A new email is pending: the persona keeps showing the old one until you
    /// verify the new one. With today's people API, `id` is your business user id
    /// (`Persona.id` there).
    async fn update_persona(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePersonaInput,
    ) -> Result<Persona> {
        let id = ObjectId::parse("id", &id)?;
        let write = UpdatePersona {
            id: id.as_str().to_owned(),
            first_name: name_part("input.firstName", input.first_name.as_deref())?,
            last_name: name_part("input.lastName", input.last_name.as_deref())?,
            email: input
                .email
                .as_deref()
                .map(|raw| Email::parse("input.email", raw).map(|e| e.as_str().to_owned()))
                .transpose()?,
            title: title_part("input.title", input.title.as_deref())?,
        };
        if write.is_empty() {
            return Err(invalid_argument(
                "input",
                "give at least one of firstName, lastName, email, title",
            ));
        }
        seed_cannot_express("input.title", write.title.is_some(), "job titles")?;
        Upstream::of(ctx)?
            .update(&write, PERSONA_READ_BACK_CALLS)
            .await?;
        read_back(
            || format!("persona {} was updated", id.as_str()),
            read_persona(ctx, id.as_str()),
        )
        .await
    }
}
