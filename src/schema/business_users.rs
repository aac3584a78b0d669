//! People on today's Graph API (`--people-api current`, docs/graph-api.md §8.7): a business's
//! members (`business_users`, `BusinessUser` nodes) and open invitations (`pending_users`,
//! `BusinessRoleRequest` nodes) served as the same `UserPermission`s and `Persona`s the seed's
//! `userpermissions` and `business_persona` give, with the dialect chosen per gateway.
//!
//! `Business.people` pages across both lists, members first, with one composite cursor: which
//! list it is in (`m` or `i`), a Graph cursor of that list and a number of items to skip after
//! it (as `connection.rs`'s cursors). The last member's cursor points at the start of the
//! invitations, so `after` never needs the members' list again once it is used up.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Context, Result, SelectionField};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;

use super::assets::plan_actor;
use super::business::plan_business;
use super::connection::{
    Conn, DEFAULT_PAGE_SIZE, LIST_LIMIT, MAX_PAGE_SIZE, ParentEdges, Totals, edge_key, plan_nodes,
};
use super::enums::FinanceRole;
use super::error::{coded, invalid_argument};
use super::funding::{FinancePermission, plan_member_finance_permission};
use super::people::UserPermission;
use super::persona::Persona;
use super::upstream::Upstream;
use crate::config::PeopleApi;
use crate::error::ErrorCode;
use crate::graph::write::{ChangeBusinessUserRole, PeopleNode};
use crate::graph::{EdgeArgs, FieldSet, GraphError, GraphList, PageRequest, model};

/// The answer key of the business's members read for `Business.financePermissions`: apart
/// from `people`'s read of the same edge, which pages differently.
fn finance_members_key(field: &SelectionField<'_>) -> String {
    match field.alias() {
        Some(alias) => format!("{MEMBERS_EDGE}__finance__{alias}"),
        None => format!("{MEMBERS_EDGE}__finance"),
    }
}

/// Plans `Business.financePermissions` into its business's read on today's API: the first
/// [`LIST_LIMIT`] members (`business_users`, aliased) with their `finance_permission`.
pub(crate) fn plan_finance_permissions(
    parent: &mut FieldSet,
    field: SelectionField<'_>,
) -> Result<()> {
    let mut nodes = FieldSet::new();
    plan_member_finance_permission(&mut nodes, field)?;
    let args = EdgeArgs {
        limit: Some(LIST_LIMIT),
        alias: Some(finance_members_key(&field)),
        ..EdgeArgs::default()
    };
    parent.edge(MEMBERS_EDGE, &args).merge(&nodes);
    Ok(())
}

/// Resolves `Business.financePermissions` on today's API: the members holding a finance role,
/// from the business's read when it planned them, else with one read of the business's
/// members.
pub(crate) async fn resolve_finance_permissions(
    ctx: &Context<'_>,
    parent: ParentEdges<'_>,
) -> Result<Vec<FinancePermission>> {
    let field = ctx.field();
    let key = finance_members_key(&field);
    let upstream = Upstream::of(ctx)?;
    let members = match parent.edges.list::<model::BusinessUser>(&key) {
        Ok(Some(list)) => list.data,
        // Graph leaves an empty expanded edge out of its answer.
        Ok(None) if parent.fetched.contains(&key) => Vec::new(),
        Ok(None) => {
            let mut fields = FieldSet::new();
            plan_member_finance_permission(&mut fields, field)?;
            let page = PageRequest {
                limit: Some(LIST_LIMIT),
                ..PageRequest::default()
            };
            upstream
                .edge::<model::BusinessUser>(parent.id, MEMBERS_EDGE, &fields, &page)
                .await?
                .data
        }
        Err(e) => return Err(upstream.fail(&e)),
    };
    Ok(members
        .into_iter()
        .filter_map(model::FinancePermission::of_member)
        .map(FinancePermission)
        .collect())
}

/// The business's members on today's API.
pub(crate) const MEMBERS_EDGE: &str = "business_users";
/// The business's open invitations on today's API.
pub(crate) const INVITATIONS_EDGE: &str = "pending_users";

tokio::task_local! {
    /// The dialect of the request being executed (set by [`in_dialect`]).
    static PEOPLE_API: PeopleApi;
}

/// The people dialect of the request being executed; the seed's outside of one (unit tests).
/// Planning is synchronous and has no `Context`, so the dialect travels with the request's
/// task rather than through every planner's arguments.
pub(crate) fn people_api() -> PeopleApi {
    PEOPLE_API.try_with(|api| *api).unwrap_or(PeopleApi::Seed)
}

/// Whether the request speaks today's people dialect.
pub(crate) fn current() -> bool {
    people_api() == PeopleApi::Current
}

/// Runs an operation (a query or a mutation) in a people dialect (the gateway's extension,
/// `server/extension.rs`, calls it for every operation).
pub(crate) async fn in_dialect<T>(api: PeopleApi, operation: impl Future<Output = T>) -> T {
    PEOPLE_API.scope(api, operation).await
}

/// A subscription's events, each produced in a people dialect.
pub(crate) fn stream_in_dialect<'s, T: 's>(
    api: PeopleApi,
    mut events: BoxStream<'s, T>,
) -> BoxStream<'s, T> {
    futures_util::stream::poll_fn(move |cx| {
        PEOPLE_API.sync_scope(api, || events.poll_next_unpin(cx))
    })
    .boxed()
}

// Planning.

/// Adds the `BusinessUser` fields a selection of `UserPermission` needs (a member).
pub(crate) fn plan_member(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "role" => set.scalar("role"),
            "email" => set.scalar("email"),
            "tasks" => set.scalar("tasks"),
            "invitedUserType" => set.scalar("invited_user_type"),
            "financeRole" => set.scalar("finance_permission"),
            // The business-scoped user: the business user's id and name.
            "user" if child.selection_set().any(|f| f.name() == "name") => set.scalar("name"),
            "persona" => plan_member_persona(set, child)?,
            "displayName" => {
                set.scalar("name");
                set.scalar("email");
            }
            // No status, times or authors on a business user; no link or expiry on a member.
            _ => {}
        }
    }
    Ok(())
}

/// Adds the `BusinessRoleRequest` fields a selection of `UserPermission` needs (an invitation).
pub(crate) fn plan_invitation(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "role" => set.scalar("role"),
            "email" | "displayName" => set.scalar("email"),
            "tasks" => set.scalar("tasks"),
            "invitedUserType" => set.scalar("invited_user_type"),
            "inviteLink" => set.scalar("invite_link"),
            "expirationTime" => set.scalar("expiration_time"),
            "createdTime" => set.scalar("created_time"),
            "updatedTime" => set.scalar("updated_time"),
            "createdBy" => plan_actor(set.object("created_by"), child)?,
            "updatedBy" => plan_actor(set.object("updated_by"), child)?,
            // No user and no persona until the invitation is accepted.
            _ => {}
        }
    }
    Ok(())
}

/// Adds the `BusinessUser` fields a selection of `Persona` needs: today's API keeps the
/// person's names in a business on their business user.
pub(crate) fn plan_member_persona(set: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    set.scalar("id");
    for child in field.selection_set() {
        match child.name() {
            "name" => set.scalar("name"),
            "firstName" => set.scalar("first_name"),
            "lastName" => set.scalar("last_name"),
            "title" => set.scalar("title"),
            "email" => set.scalar("email"),
            "business" => plan_business(set.object("business"), child)?,
            // A business user has no times or authors of its own.
            _ => {}
        }
    }
    Ok(())
}

// The composite cursor.

/// Which list a cursor is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Members,
    Invitations,
}

/// Where a page of people resumes: in which list, after which Graph cursor of it, skipping
/// how many items more.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PeopleCursor {
    list: List,
    after: Option<String>,
    skip: u32,
}

impl PeopleCursor {
    const START: PeopleCursor = PeopleCursor {
        list: List::Members,
        after: None,
        skip: 0,
    };

    fn invitations_start() -> PeopleCursor {
        PeopleCursor {
            list: List::Invitations,
            after: None,
            skip: 0,
        }
    }

    fn encode(&self) -> String {
        let list = match self.list {
            List::Members => 'm',
            List::Invitations => 'i',
        };
        let after = self.after.as_deref().unwrap_or("");
        URL_SAFE_NO_PAD.encode(format!("{list}:{}:{after}", self.skip))
    }

    fn decode(cursor: &str) -> Option<PeopleCursor> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let mut parts = text.splitn(3, ':');
        let list = match parts.next()? {
            "m" => List::Members,
            "i" => List::Invitations,
            _ => return None,
        };
        let skip: u32 = parts.next()?.parse().ok()?;
        let after = parts.next()?;
        // Graph cursors are opaque but printable; anything else cannot have come from us.
        let printable = after
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(&b));
        if skip > 2 * MAX_PAGE_SIZE || !printable {
            return None;
        }
        Some(PeopleCursor {
            list,
            after: (!after.is_empty()).then(|| after.to_owned()),
            skip,
        })
    }

    /// The cursor of item `index` of a page of `list` read from `self`: the Graph cursor after
    /// the page's last item for the last one, else the page's first item's cursor plus the
    /// items between (as `connection::build`).
    fn of_item<T>(&self, page: &GraphList<T>, index: usize) -> PeopleCursor {
        let (after, skip) = if index + 1 == page.data.len() && page.after_cursor().is_some() {
            (page.after_cursor().map(str::to_owned), 0)
        } else if let Some(before) = page.before_cursor() {
            (Some(before.to_owned()), index as u32)
        } else {
            (self.after.clone(), index as u32 + 1)
        };
        PeopleCursor {
            list: self.list,
            after,
            skip,
        }
    }
}

/// Checked `first`/`after` of `Business.people` in today's dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PeopleArgs {
    first: u32,
    from: PeopleCursor,
}

impl PeopleArgs {
    fn new(first: Option<i32>, after: Option<&str>) -> Result<PeopleArgs> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => return Err(invalid_argument("first", "must not be negative")),
            Some(n) => (n as u32).min(MAX_PAGE_SIZE),
        };
        let from = match after {
            None => PeopleCursor::START,
            Some(cursor) => PeopleCursor::decode(cursor)
                .ok_or_else(|| invalid_argument("after", "is not a cursor this API gave out"))?,
        };
        Ok(PeopleArgs { first, from })
    }

    fn from_selection(field: &SelectionField<'_>) -> Result<PeopleArgs> {
        let mut first = None;
        let mut after = None;
        for (name, value) in field.arguments()? {
            match (name.as_str(), value) {
                ("first", async_graphql::Value::Number(n)) => {
                    first = Some(
                        n.as_i64()
                            .unwrap_or(-1)
                            .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                            as i32,
                    )
                }
                ("after", async_graphql::Value::String(s)) => after = Some(s),
                _ => {}
            }
        }
        PeopleArgs::new(first, after.as_deref())
    }

    /// The reads of both lists, each `(edge, args)`: the members' list only while the cursor
    /// is in it (or to count them); the invitations from their start while it is in the
    /// members', since the page may run on into them.
    fn reads(&self, total_count: bool) -> Vec<(&'static str, EdgeArgs)> {
        let mut reads = Vec::new();
        match self.from.list {
            List::Members => {
                reads.push((
                    MEMBERS_EDGE,
                    EdgeArgs {
                        limit: Some(self.first + self.from.skip),
                        after: self.from.after.clone(),
                        total_count,
                        ..EdgeArgs::default()
                    },
                ));
                reads.push((
                    INVITATIONS_EDGE,
                    EdgeArgs {
                        limit: Some(self.first),
                        total_count,
                        ..EdgeArgs::default()
                    },
                ));
            }
            List::Invitations => {
                if total_count {
                    reads.push((
                        MEMBERS_EDGE,
                        EdgeArgs {
                            limit: Some(1),
                            total_count,
                            ..EdgeArgs::default()
                        },
                    ));
                }
                reads.push((
                    INVITATIONS_EDGE,
                    EdgeArgs {
                        limit: Some(self.first + self.from.skip),
                        after: self.from.after.clone(),
                        total_count,
                        ..EdgeArgs::default()
                    },
                ));
            }
        }
        reads
    }
}

fn wants_total(field: &SelectionField<'_>) -> bool {
    field.selection_set().any(|f| f.name() == "totalCount")
}

/// Plans `Business.people` into its business's read: `business_users` and `pending_users`
/// expanded side by side.
pub(crate) fn plan_people(parent: &mut FieldSet, field: SelectionField<'_>) -> Result<()> {
    let args = PeopleArgs::from_selection(&field)?;
    plan_people_with(parent, &field, &args)
}

fn plan_people_with(
    parent: &mut FieldSet,
    field: &SelectionField<'_>,
    args: &PeopleArgs,
) -> Result<()> {
    let members = plan_nodes(field, plan_member)?;
    let invitations = plan_nodes(field, plan_invitation)?;
    for (edge, mut edge_args) in args.reads(wants_total(field)) {
        edge_args.alias = field.alias().map(|_| edge_key(edge, field));
        let nodes = if edge == MEMBERS_EDGE {
            &members
        } else {
            &invitations
        };
        parent.edge(edge, &edge_args).merge(nodes);
    }
    Ok(())
}

/// Resolves `Business.people` in today's dialect: from the business's read when it planned the
/// lists, else with one read of the business carrying both.
pub(crate) async fn resolve_people(
    ctx: &Context<'_>,
    parent: ParentEdges<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Conn<UserPermission>> {
    let args = PeopleArgs::new(first, after.as_deref())?;
    let field = ctx.field();
    let members_key = edge_key(MEMBERS_EDGE, &field);
    let invitations_key = edge_key(INVITATIONS_EDGE, &field);
    let read;
    let (edges, fetched) = if parent.fetched.contains(&invitations_key) {
        (parent.edges, parent.fetched)
    } else {
        let mut fields = FieldSet::new();
        fields.scalar("id");
        plan_people_with(&mut fields, &field, &args)?;
        let business = Upstream::of(ctx)?
            .node::<model::Business>(parent.id, &fields)
            .await?;
        read = (business.edges, fields);
        (&read.0, &read.1)
    };
    let upstream = Upstream::of(ctx)?;
    // Graph leaves an empty expanded edge out of its answer.
    let members = match edges.list::<model::BusinessUser>(&members_key) {
        Ok(Some(list)) => Some(list),
        Ok(None) => fetched.contains(&members_key).then(GraphList::empty),
        Err(e) => return Err(upstream.fail(&e)),
    };
    let invitations = edges
        .list::<model::RoleRequest>(&invitations_key)
        .map_err(|e| upstream.fail(&e))?
        .unwrap_or_else(GraphList::empty);
    Ok(build_people(members, invitations, &args))
}

/// Builds a page of people from the lists read for `args`: the members from the cursor on,
/// then, once they are used up, the invitations from their start.
fn build_people(
    members: Option<GraphList<model::BusinessUser>>,
    invitations: GraphList<model::RoleRequest>,
    args: &PeopleArgs,
) -> Conn<UserPermission> {
    let total = match (&members, invitations.total_count()) {
        (Some(m), Some(i)) => m.total_count().map(|m| m + i),
        _ => None,
    };
    let mut edges = Vec::new();
    let mut has_next = false;
    let mut left = args.first as usize;
    let (from, skip) = match args.from.list {
        List::Members => {
            let members = members.unwrap_or_else(GraphList::empty);
            let fetched = members.data.len();
            let done = !members.has_next();
            let start = (args.from.skip as usize).min(fetched);
            let end = (start + left).min(fetched);
            // The last member's cursor resumes at the invitations' start.
            let cursors: Vec<PeopleCursor> = (start..end)
                .map(|index| {
                    if index + 1 == fetched && done {
                        PeopleCursor::invitations_start()
                    } else {
                        args.from.of_item(&members, index)
                    }
                })
                .collect();
            for (member, cursor) in members.data.into_iter().skip(start).zip(cursors) {
                edges.push(Edge::new(
                    cursor.encode(),
                    UserPermission(model::UserPermission::from(member)),
                ));
            }
            left -= end - start;
            if end < fetched || !done {
                // The page ends among the members.
                has_next = true;
                left = 0;
            }
            (PeopleCursor::invitations_start(), 0)
        }
        List::Invitations => (args.from.clone(), args.from.skip as usize),
    };
    let fetched = invitations.data.len();
    let start = skip.min(fetched);
    let end = (start + left).min(fetched);
    has_next |= end < fetched || invitations.has_next();
    let cursors: Vec<PeopleCursor> = (start..end)
        .map(|index| from.of_item(&invitations, index))
        .collect();
    for (invitation, cursor) in invitations.data.into_iter().skip(start).zip(cursors) {
        edges.push(Edge::new(
            cursor.encode(),
            UserPermission(model::UserPermission::from(invitation)),
        ));
    }
    let mut connection = Connection::with_additional_fields(
        args.from != PeopleCursor::START,
        has_next,
        Totals {
            total_count: total.map(|n| n.clamp(0, i64::from(i32::MAX)) as i32),
        },
    );
    connection.edges = edges;
    connection
}

// Reads and lookups of the mutations and `Persona`.

/// Reads one business user as the `UserPermission` the current field selects.
pub(crate) async fn read_member(ctx: &Context<'_>, id: &str) -> Result<UserPermission> {
    let mut fields = FieldSet::new();
    plan_member(&mut fields, ctx.field())?;
    // Read once more without its business's role-guarded edges when Graph refuses them.
    let (member, _) = Upstream::of(ctx)?
        .node_batched_sparing::<model::BusinessUser>(id, &Arc::new(fields))
        .await?;
    Ok(UserPermission(member.into()))
}

/// Reads one business user as the `Persona` the current field selects.
pub(crate) async fn read_member_persona(ctx: &Context<'_>, id: &str) -> Result<Persona> {
    let mut fields = FieldSet::new();
    plan_member_persona(&mut fields, ctx.field())?;
    // Read once more without its business's role-guarded edges when Graph refuses them.
    let (member, _) = Upstream::of(ctx)?
        .node_batched_sparing::<model::BusinessUser>(id, &Arc::new(fields))
        .await?;
    Ok(Persona(member.persona()))
}

/// The business's open invitation of `email` (Graph's `pending_users?email=`), with the fields
/// the current selection needs when `selected`, else its id only.
pub(crate) async fn find_invitation(
    ctx: &Context<'_>,
    business: &str,
    email: &str,
    selected: bool,
) -> Result<UserPermission> {
    let mut fields = FieldSet::new();
    if selected {
        plan_invitation(&mut fields, ctx.field())?;
    }
    fields.scalar("id");
    fields.scalar("email");
    let page = PageRequest {
        filters: vec![("email".to_owned(), email.to_owned())],
        limit: Some(DEFAULT_PAGE_SIZE),
        after: None,
        total_count: false,
    };
    let list = Upstream::of(ctx)?
        .edge::<model::RoleRequest>(business, INVITATIONS_EDGE, &fields, &page)
        .await?;
    list.data
        .into_iter()
        .find(|request| {
            request
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .map(|request| UserPermission(request.into()))
        .ok_or_else(|| {
            invalid_argument(
                "email",
                &format!("business {business} has no pending invitation of {email}"),
            )
        })
}

/// Business user tasks that are a finance role (the SDK names both spellings).
const FINANCE_TASKS: [&str; 4] = [
    "FINANCE_ANALYST",
    "FINANCE_EDIT",
    "FINANCE_EDITOR",
    "FINANCE_VIEW",
];

/// The tasks business user `member` held, `tasks` as Graph read them, with the finance role
/// `role` in place of any finance task (none when `role` is `None`: a revoke): the whole list
/// a business user update sends, since Graph replaces it. A read without `tasks` is refused
/// rather than taken as none: posting the finance tasks alone would take every other task (an
/// ADMIN's included) away.
pub(crate) fn with_finance_role(
    member: &str,
    tasks: Option<Vec<String>>,
    role: Option<FinanceRole>,
) -> Result<Vec<String>> {
    let Some(tasks) = tasks else {
        return Err(coded(
            ErrorCode::UpstreamUnavailable,
            format!(
                "Graph's answer for business user {member} had no tasks, so the finance role \
                 was not changed: the tasks written replace all of theirs"
            ),
        ));
    };
    let mut tasks: Vec<String> = tasks
        .into_iter()
        .filter(|task| !is_finance_task(task))
        .collect();
    if let Some(role) = role {
        tasks.extend(role.tasks().iter().map(|task| (*task).to_owned()));
    }
    Ok(tasks)
}

/// Whether a business user task is part of a finance role.
fn is_finance_task(task: &str) -> bool {
    FINANCE_TASKS.contains(&task)
}

/// Whether a failed read of `userId` as a business user says it is none: another kind of
/// node (Graph's code 100 for a field its type lacks, such as a user's or a system user's
/// `tasks`) or nothing this token can see (code 100, subcode 33).
fn is_not_a_business_user(error: &GraphError) -> bool {
    error.api().is_some_and(|api| api.code == 100)
}

/// The error for a `userId` that names no business user of `business`.
fn not_a_member(user: &str, business: &str, why: &str) -> async_graphql::Error {
    invalid_argument(
        "userId",
        &format!(
            "{user} {why}; with today's people API a finance role is a business user's task, so \
             userId must be the id `people` of business {business} shows as `user.id` (a \
             system user's finance role is set in Business Manager, or through this gateway \
             with --people-api seed where Graph still takes finance_permissions)"
        ),
    )
}

/// `grantFinancePermission` (`role`) and `revokeFinancePermission` (`None`) with today's
/// people API (docs/graph-api.md §8.7): Graph takes no writes on `finance_permissions`; a
/// finance role is a business user's tasks. Reads the business user's tasks and business (one
/// call), then posts the tasks with the role's finance tasks in place of any it had, or
/// without any (one call). Revoking from a member without a finance task is refused with
/// `INVALID_ARGUMENT` after the read, as the seed's Graph refuses it, and writes nothing.
pub(crate) async fn set_finance_role(
    ctx: &Context<'_>,
    business: &str,
    member: &str,
    role: Option<FinanceRole>,
) -> Result<()> {
    let mut fields = FieldSet::new();
    fields.scalar("id");
    fields.scalar("tasks");
    fields.object("business").scalar("id");
    let upstream = Upstream::of(ctx)?;
    let mut read = upstream
        .node_outcomes::<model::BusinessUser>(&[member.to_owned()], &fields)
        .await?;
    let found = match read.remove(member) {
        Some(Ok(found)) => found,
        Some(Err(error)) if is_not_a_business_user(&error) => {
            return Err(not_a_member(
                member,
                business,
                "is not a business user this token can see",
            ));
        }
        Some(Err(error)) => return Err(upstream.fail(&error)),
        None => {
            return Err(coded(
                ErrorCode::NotFound,
                format!("Graph's answer had no object {member}"),
            ));
        }
    };
    let of_business = found.business.as_ref().map(|b| b.id.as_str());
    if of_business != Some(business) {
        let why = match of_business {
            Some(other) => format!("is a business user of business {other}"),
            None => "is a business user of no business Graph names".to_owned(),
        };
        return Err(not_a_member(member, business, &why));
    }
    let holds_one = found
        .tasks
        .as_ref()
        .is_some_and(|tasks| tasks.iter().any(|task| is_finance_task(task)));
    if role.is_none() && found.tasks.is_some() && !holds_one {
        return Err(no_finance_role(member, business));
    }
    let tasks = with_finance_role(member, found.tasks, role)?;
    if tasks.is_empty() {
        // Graph refuses an empty list; a member keeps at least their role's task.
        return Err(invalid_argument(
            "userId",
            &format!(
                "business user {member} holds no task but their finance role, and Graph keeps \
                 a member's tasks non-empty: change their role (`changeRole`) first"
            ),
        ));
    }
    let write = ChangeBusinessUserRole {
        business: business.to_owned(),
        person: PeopleNode::Member(member.to_owned()),
        role: None,
        tasks: Some(tasks),
    };
    upstream.update(&write, 0).await
}

/// The error for revoking the finance role of `user`, a person of `business` who holds none
/// (both dialects word it so).
pub(crate) fn no_finance_role(user: &str, business: &str) -> async_graphql::Error {
    invalid_argument(
        "userId",
        &format!(
            "{user} holds no finance role in business {business}, so there is none to revoke \
             (`Business.financePermissions` lists who holds one)"
        ),
    )
}

/// The token's own business user in `business`, as the `Persona` the current field selects:
/// Graph's `me/business_users` (one per business the token's user is a member of), found by
/// its business. Null for a system user, who has none.
pub(crate) async fn read_viewer_member_persona(
    ctx: &Context<'_>,
    business: &str,
) -> Result<Option<Persona>> {
    let mut fields = FieldSet::new();
    plan_member_persona(&mut fields, ctx.field())?;
    fields.object("business").scalar("id");
    let page = PageRequest {
        filters: Vec::new(),
        limit: Some(MAX_PAGE_SIZE),
        after: None,
        total_count: false,
    };
    // Read once more without its business's role-guarded edges when Graph refuses them.
    let (list, _) = Upstream::of(ctx)?
        .edge_sparing::<model::BusinessUser>("me", MEMBERS_EDGE, &Arc::new(fields), &page)
        .await?;
    Ok(list
        .data
        .into_iter()
        .find(|member| member.business.as_ref().is_some_and(|b| b.id == business))
        .map(|member| Persona(member.persona())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<T: serde::de::DeserializeOwned>(
        items: serde_json::Value,
        cursors: Option<(&str, &str)>,
        next: bool,
    ) -> GraphList<T> {
        let mut list = serde_json::json!({"data": items});
        if let Some((before, after)) = cursors {
            list["paging"] = serde_json::json!({
                "cursors": {"before": before, "after": after},
                "next": if next { serde_json::Value::from("http://x/next") } else { serde_json::Value::Null }
            });
        }
        serde_json::from_value(list).expect("a page")
    }

    fn members(
        ids: &[&str],
        cursors: Option<(&str, &str)>,
        next: bool,
    ) -> GraphList<model::BusinessUser> {
        let items: Vec<serde_json::Value> =
            ids.iter().map(|id| serde_json::json!({"id": id})).collect();
        page(serde_json::Value::from(items), cursors, next)
    }

    fn invitations(
        ids: &[&str],
        cursors: Option<(&str, &str)>,
        next: bool,
    ) -> GraphList<model::RoleRequest> {
        let items: Vec<serde_json::Value> =
            ids.iter().map(|id| serde_json::json!({"id": id})).collect();
        page(serde_json::Value::from(items), cursors, next)
    }

    fn ids(conn: &Conn<UserPermission>) -> Vec<&str> {
        conn.edges.iter().map(|e| e.node.0.id.as_str()).collect()
    }

    fn cursor(conn: &Conn<UserPermission>, index: usize) -> PeopleCursor {
        PeopleCursor::decode(&conn.edges[index].cursor).expect("our cursor")
    }

    #[test]
    fn a_finance_role_replaces_finance_tasks_a_revoke_drops_them_and_a_read_without_tasks_writes_nothing()
     {
        let held = ["ADMIN", "FINANCE_VIEW", "MANAGE"]
            .map(str::to_owned)
            .to_vec();
        let tasks = with_finance_role(
            "710001",
            Some(held.clone()),
            Some(FinanceRole::FinanceEditor),
        )
        .unwrap_or_else(|error| panic!("{}", error.message));
        assert_eq!(tasks, ["ADMIN", "MANAGE", "FINANCE_EDIT", "FINANCE_VIEW"]);
        let none = with_finance_role(
            "710001",
            Some(Vec::new()),
            Some(FinanceRole::FinanceAnalyst),
        )
        .unwrap_or_else(|error| panic!("{}", error.message));
        assert_eq!(none, ["FINANCE_VIEW"]);
        // A revoke keeps every task but the finance ones.
        let revoked = with_finance_role("710001", Some(held), None)
            .unwrap_or_else(|error| panic!("{}", error.message));
        assert_eq!(revoked, ["ADMIN", "MANAGE"]);
        // Graph left `tasks` out: taking that as none would post FINANCE_VIEW alone and take
        // the member's ADMIN tasks away.
        let refused = with_finance_role("710001", None, Some(FinanceRole::FinanceAnalyst))
            .expect_err("no tasks read, nothing written");
        assert!(
            refused
                .message
                .contains("business user 710001 had no tasks"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn cursors_round_trip_and_others_are_refused() {
        for cursor in [
            PeopleCursor::START,
            PeopleCursor::invitations_start(),
            PeopleCursor {
                list: List::Members,
                after: Some("QVFIUmxyZAZDZD".to_owned()),
                skip: 3,
            },
        ] {
            assert_eq!(PeopleCursor::decode(&cursor.encode()), Some(cursor));
        }
        // A seed cursor (`<skip>:<graph cursor>`), garbage, a skip too large, a cursor that
        // is not printable.
        assert_eq!(PeopleCursor::decode(&URL_SAFE_NO_PAD.encode("1:abc")), None);
        assert_eq!(PeopleCursor::decode("not base64!"), None);
        assert_eq!(
            PeopleCursor::decode(&URL_SAFE_NO_PAD.encode("m:1000:abc")),
            None
        );
        assert_eq!(
            PeopleCursor::decode(&URL_SAFE_NO_PAD.encode("i:0:a b")),
            None
        );
        assert!(PeopleArgs::new(Some(-1), None).is_err());
        assert!(PeopleArgs::new(None, Some("garbage")).is_err());
    }

    #[test]
    fn the_first_page_reads_both_lists_and_a_later_one_only_what_it_needs() {
        let first = PeopleArgs::new(Some(2), None).expect("args");
        let reads = first.reads(false);
        assert_eq!(
            reads
                .iter()
                .map(|(edge, args)| (*edge, args.limit, args.after.clone()))
                .collect::<Vec<_>>(),
            [
                (MEMBERS_EDGE, Some(2), None),
                (INVITATIONS_EDGE, Some(2), None)
            ]
        );
        let later = PeopleArgs::new(
            Some(2),
            Some(
                &PeopleCursor {
                    list: List::Invitations,
                    after: Some("c1".to_owned()),
                    skip: 1,
                }
                .encode(),
            ),
        )
        .expect("args");
        let reads = later.reads(false);
        assert_eq!(
            reads
                .iter()
                .map(|(edge, args)| (*edge, args.limit, args.after.clone()))
                .collect::<Vec<_>>(),
            [(INVITATIONS_EDGE, Some(3), Some("c1".to_owned()))]
        );
        // Counting needs the members' summary too.
        assert_eq!(later.reads(true).len(), 2);
    }

    #[test]
    fn a_page_runs_from_the_last_member_into_the_invitations() {
        let args = PeopleArgs::new(Some(3), None).expect("args");
        let conn = build_people(
            Some(members(&["m1", "m2"], Some(("a1", "a2")), false)),
            invitations(&["i1", "i2", "i3"], Some(("b1", "b3")), false),
            &args,
        );
        assert_eq!(ids(&conn), ["m1", "m2", "i1"]);
        assert!(conn.has_next_page);
        assert!(!conn.has_previous_page);
        // m1 resumes after Graph's first member cursor; m2, the last member, at the
        // invitations' start; i1 after their first cursor.
        assert_eq!(
            cursor(&conn, 0),
            PeopleCursor {
                list: List::Members,
                after: Some("a1".to_owned()),
                skip: 0
            }
        );
        assert_eq!(cursor(&conn, 1), PeopleCursor::invitations_start());
        assert_eq!(
            cursor(&conn, 2),
            PeopleCursor {
                list: List::Invitations,
                after: Some("b1".to_owned()),
                skip: 0
            }
        );
    }

    #[test]
    fn a_page_that_ends_among_the_members_leaves_the_invitations_for_later() {
        let args = PeopleArgs::new(Some(2), None).expect("args");
        let conn = build_people(
            Some(members(&["m1", "m2"], Some(("a1", "a2")), true)),
            invitations(&["i1"], Some(("b1", "b1")), false),
            &args,
        );
        assert_eq!(ids(&conn), ["m1", "m2"]);
        assert!(conn.has_next_page);
        assert_eq!(
            cursor(&conn, 1),
            PeopleCursor {
                list: List::Members,
                after: Some("a2".to_owned()),
                skip: 0
            }
        );
    }

    #[test]
    fn a_page_of_invitations_skips_what_its_cursor_says_and_counts_both_lists() {
        let args = PeopleArgs::new(
            Some(2),
            Some(
                &PeopleCursor {
                    list: List::Invitations,
                    after: Some("b0".to_owned()),
                    skip: 1,
                }
                .encode(),
            ),
        )
        .expect("args");
        let mut counted_members = members(&["m1"], Some(("a1", "a1")), true);
        counted_members.summary =
            serde_json::from_value(serde_json::json!({"total_count": 3})).ok();
        let mut read = invitations(&["i1", "i2", "i3"], Some(("b1", "b3")), false);
        read.summary = serde_json::from_value(serde_json::json!({"total_count": 4})).ok();
        let conn = build_people(Some(counted_members), read, &args);
        assert_eq!(ids(&conn), ["i2", "i3"]);
        assert!(!conn.has_next_page);
        assert!(conn.has_previous_page);
        assert_eq!(conn.additional_fields.total_count, Some(7));
    }
}
