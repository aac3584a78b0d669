//! The node types of the emulated world, one module each, and [`NodeRef`]: a reference to one
//! node whose methods delegate, one line per type, to the [`Node`] implementation that the
//! type's module provides.
//!
//! Adding a node type (say `business_project`, with an edge `pages`):
//!
//! 1. `nodes/business_project.rs`: the stored struct, `impl Node` (type name, default fields,
//!    collection, visibility, `field`, `edge`, or `edge_with` for an edge that takes arguments
//!    or refuses some readers, as `Business`'s `business_invoices`), and its writes as plain functions that check
//!    parameters in Graph's order (code 100 first, then the Business Manager codes);
//! 2. here: `mod business_project;`, a `NodeRef` variant, and one arm in each match of
//!    `impl NodeRef` (the compiler lists them) plus one line in `NodeRef::lookup`;
//! 3. `World`: its collection (the field and its `BTreeMap::new()`);
//! 4. the parent's `Node::edge` (`Business`'s `businessprojects`) and each write's line in
//!    `dispatch::write_route`;
//! 5. `seed.rs`: a `seed_business_projects`, its ids in `docs/sandbox-contract.md`; tests in
//!    `sandbox/tests/api/`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::answer::ReadCtx;
use crate::wire::error::GraphError;
use crate::wire::fields::FieldSelection;
use crate::world::World;

pub(crate) mod ad_account;
pub(crate) mod app;
pub(crate) mod business;
pub(crate) mod business_project;
pub(crate) mod business_user;
pub(crate) mod credit_card;
pub(crate) mod extended_credit;
pub(crate) mod finance_permission;
pub(crate) mod invoice;
pub(crate) mod managed_account;
pub(crate) mod page;
pub(crate) mod persona;
pub(crate) mod role_request;
pub(crate) mod user;
pub(crate) mod user_permission;

use ad_account::AdAccount;
use app::App;
use business::Business;
use business_project::BusinessProject;
use credit_card::CreditCard;
use extended_credit::ExtendedCredit;
use finance_permission::FinanceGrant;
use invoice::Invoice;
use page::Page;
use persona::Persona;
use user::User;
use user_permission::Membership;

/// What each node type supplies: how it is named and found, who may see it, and how its
/// fields and edges read. Writes are plain functions of the type's module, routed by
/// `dispatch::write_route`, since each has its own parameters and validation order.
pub(crate) trait Node: Sized {
    /// Graph's node type name, as error messages spell it (`Tried accessing nonexisting
    /// field (x) on node type (Business)`).
    const TYPE_NAME: &'static str;

    /// The fields a node answers with when `fields` is absent.
    const DEFAULT_FIELDS: &'static [&'static str];

    /// The world's collection of this type, keyed by the numeric id.
    fn stored(world: &World) -> &BTreeMap<u64, Self>;

    /// The numeric id a Graph id stands for, if it has this type's shape.
    fn parse_id(id: &str) -> Option<u64> {
        id.parse().ok()
    }

    /// The node's Graph id.
    fn graph_id(id: u64) -> String {
        id.to_string()
    }

    /// Whether `viewer` may read this node.
    fn visible_to(&self, world: &World, viewer: u64) -> bool;

    /// The value of a plain or embedded field: `Ok(None)` when it is unset (Graph then omits
    /// it), code 100 when the type has no such field.
    fn field(
        ctx: &ReadCtx<'_>,
        node: &Self,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError>;

    /// The items of a list edge before visibility filtering; `None` when the type has no
    /// such edge.
    fn edge(_ctx: &ReadCtx<'_>, _id: u64, _name: &str) -> Option<Vec<NodeRef>> {
        None
    }

    /// The items of a list edge read with arguments (the call's parameters, or the modifiers
    /// of an expanded field), before visibility filtering: `None` when the type has no such
    /// edge, an error when the arguments or the viewer's role refuse the read. Edges that take
    /// no arguments need only [`Node::edge`].
    fn edge_with(
        ctx: &ReadCtx<'_>,
        id: u64,
        name: &str,
        _args: &EdgeArgs<'_>,
    ) -> Option<Result<Vec<NodeRef>, GraphError>> {
        Self::edge(ctx, id, name).map(Ok)
    }
}

/// The named arguments of an edge read, in order (a later value of a name wins): the query
/// parameters of `GET /{id}/{edge}`, or the modifiers of `edge.name(value){...}`.
pub(crate) type EdgeArgs<'a> = [(&'a str, &'a str)];

/// The last value of an edge argument.
pub(crate) fn edge_arg<'a>(args: &EdgeArgs<'a>, name: &str) -> Option<&'a str> {
    args.iter()
        .rev()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| *value)
}

/// Code 100 for a field that node type `T` does not have.
pub(crate) fn unknown_field<T: Node>(field: &FieldSelection) -> GraphError {
    GraphError::nonexisting_field(&field.name, T::TYPE_NAME)
}

/// Whether the world holds a node of type `T` with this numeric id.
pub(crate) fn exists<T: Node>(world: &World, id: u64) -> bool {
    T::stored(world).contains_key(&id)
}

/// A reference to one Graph node of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeRef {
    User(u64),
    Business(u64),
    Page(u64),
    AdAccount(u64),
    App(u64),
    Persona(u64),
    /// A row of a business's `userpermissions` edge.
    UserPermission(u64),
    BusinessProject(u64),
    /// A row of a business's `finance_permissions` edge.
    FinancePermission(u64),
    Invoice(u64),
    CreditCard(u64),
    ExtendedCredit(u64),
    /// A member of a business on today's API (`business_users`), by its business user id;
    /// a view of a `userpermissions` row, not a node type of its own (docs/graph-api.md §8.7).
    BusinessUser(u64),
    /// An open invitation on today's API (`pending_users`), by its id: the INVITED row's.
    BusinessRoleRequest(u64),
}

impl NodeRef {
    /// Resolves a Graph id (`me`, a numeric id, `act_<n>`) to a node, ignoring visibility.
    pub(crate) fn lookup(world: &World, id: &str, viewer: Option<u64>) -> Option<NodeRef> {
        if id == "me" {
            return viewer.map(NodeRef::User);
        }
        // Ids come from one counter, so at most one collection holds a given number.
        find::<User>(world, id)
            .map(NodeRef::User)
            .or_else(|| find::<Business>(world, id).map(NodeRef::Business))
            .or_else(|| find::<Page>(world, id).map(NodeRef::Page))
            .or_else(|| find::<AdAccount>(world, id).map(NodeRef::AdAccount))
            .or_else(|| find::<App>(world, id).map(NodeRef::App))
            .or_else(|| find::<Persona>(world, id).map(NodeRef::Persona))
            .or_else(|| find::<Membership>(world, id).map(NodeRef::UserPermission))
            .or_else(|| find::<BusinessProject>(world, id).map(NodeRef::BusinessProject))
            .or_else(|| find::<FinanceGrant>(world, id).map(NodeRef::FinancePermission))
            .or_else(|| find::<Invoice>(world, id).map(NodeRef::Invoice))
            .or_else(|| find::<CreditCard>(world, id).map(NodeRef::CreditCard))
            .or_else(|| find::<ExtendedCredit>(world, id).map(NodeRef::ExtendedCredit))
            .or_else(|| business_user::find(world, id).map(NodeRef::BusinessUser))
            .or_else(|| role_request::find(world, id).map(NodeRef::BusinessRoleRequest))
    }

    /// Graph's node type name, as error messages spell it.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            NodeRef::User(_) => User::TYPE_NAME,
            NodeRef::Business(_) => Business::TYPE_NAME,
            NodeRef::Page(_) => Page::TYPE_NAME,
            NodeRef::AdAccount(_) => AdAccount::TYPE_NAME,
            NodeRef::App(_) => App::TYPE_NAME,
            NodeRef::Persona(_) => Persona::TYPE_NAME,
            NodeRef::UserPermission(_) => Membership::TYPE_NAME,
            NodeRef::BusinessProject(_) => BusinessProject::TYPE_NAME,
            NodeRef::FinancePermission(_) => FinanceGrant::TYPE_NAME,
            NodeRef::Invoice(_) => Invoice::TYPE_NAME,
            NodeRef::CreditCard(_) => CreditCard::TYPE_NAME,
            NodeRef::ExtendedCredit(_) => ExtendedCredit::TYPE_NAME,
            NodeRef::BusinessUser(_) => business_user::TYPE_NAME,
            NodeRef::BusinessRoleRequest(_) => role_request::TYPE_NAME,
        }
    }

    /// The node's Graph id.
    pub(crate) fn graph_id(self) -> String {
        match self {
            NodeRef::User(id) => User::graph_id(id),
            NodeRef::Business(id) => Business::graph_id(id),
            NodeRef::Page(id) => Page::graph_id(id),
            NodeRef::AdAccount(id) => AdAccount::graph_id(id),
            NodeRef::App(id) => App::graph_id(id),
            NodeRef::Persona(id) => Persona::graph_id(id),
            NodeRef::UserPermission(id) => Membership::graph_id(id),
            NodeRef::BusinessProject(id) => BusinessProject::graph_id(id),
            NodeRef::FinancePermission(id) => FinanceGrant::graph_id(id),
            NodeRef::Invoice(id) => Invoice::graph_id(id),
            NodeRef::CreditCard(id) => CreditCard::graph_id(id),
            NodeRef::ExtendedCredit(id) => ExtendedCredit::graph_id(id),
            NodeRef::BusinessUser(id) | NodeRef::BusinessRoleRequest(id) => id.to_string(),
        }
    }

    /// The fields the node answers with when `fields` is absent.
    pub(crate) fn default_fields(self) -> &'static [&'static str] {
        match self {
            NodeRef::User(_) => User::DEFAULT_FIELDS,
            NodeRef::Business(_) => Business::DEFAULT_FIELDS,
            NodeRef::Page(_) => Page::DEFAULT_FIELDS,
            NodeRef::AdAccount(_) => AdAccount::DEFAULT_FIELDS,
            NodeRef::App(_) => App::DEFAULT_FIELDS,
            NodeRef::Persona(_) => Persona::DEFAULT_FIELDS,
            NodeRef::UserPermission(_) => Membership::DEFAULT_FIELDS,
            NodeRef::BusinessProject(_) => BusinessProject::DEFAULT_FIELDS,
            NodeRef::FinancePermission(_) => FinanceGrant::DEFAULT_FIELDS,
            NodeRef::Invoice(_) => Invoice::DEFAULT_FIELDS,
            NodeRef::CreditCard(_) => CreditCard::DEFAULT_FIELDS,
            NodeRef::ExtendedCredit(_) => ExtendedCredit::DEFAULT_FIELDS,
            NodeRef::BusinessUser(_) => business_user::DEFAULT_FIELDS,
            NodeRef::BusinessRoleRequest(_) => role_request::DEFAULT_FIELDS,
        }
    }

    /// Whether the viewer may read the node (false when it does not exist, and when the
    /// viewer's access to it ended with a managed-account migration window).
    pub(crate) fn visible_to(self, world: &World, viewer: u64) -> bool {
        let visible = match self {
            NodeRef::User(id) => visible::<User>(world, viewer, id),
            NodeRef::Business(id) => visible::<Business>(world, viewer, id),
            NodeRef::Page(id) => visible::<Page>(world, viewer, id),
            NodeRef::AdAccount(id) => visible::<AdAccount>(world, viewer, id),
            NodeRef::App(id) => visible::<App>(world, viewer, id),
            NodeRef::Persona(id) => visible::<Persona>(world, viewer, id),
            NodeRef::UserPermission(id) => visible::<Membership>(world, viewer, id),
            NodeRef::BusinessProject(id) => visible::<BusinessProject>(world, viewer, id),
            NodeRef::FinancePermission(id) => visible::<FinanceGrant>(world, viewer, id),
            NodeRef::Invoice(id) => visible::<Invoice>(world, viewer, id),
            NodeRef::CreditCard(id) => visible::<CreditCard>(world, viewer, id),
            NodeRef::ExtendedCredit(id) => visible::<ExtendedCredit>(world, viewer, id),
            NodeRef::BusinessUser(id) => business_user::visible(world, viewer, id),
            NodeRef::BusinessRoleRequest(id) => role_request::visible(world, viewer, id),
        };
        visible && !crate::migration::access_lost(world, viewer, self)
    }

    /// The value of one plain or embedded field of the node.
    pub(crate) fn field(
        self,
        ctx: &ReadCtx<'_>,
        field: &FieldSelection,
    ) -> Result<Option<Value>, GraphError> {
        match self {
            NodeRef::User(id) => field_of::<User>(ctx, id, field),
            NodeRef::Business(id) => field_of::<Business>(ctx, id, field),
            NodeRef::Page(id) => field_of::<Page>(ctx, id, field),
            NodeRef::AdAccount(id) => field_of::<AdAccount>(ctx, id, field),
            NodeRef::App(id) => field_of::<App>(ctx, id, field),
            NodeRef::Persona(id) => field_of::<Persona>(ctx, id, field),
            NodeRef::UserPermission(id) => field_of::<Membership>(ctx, id, field),
            NodeRef::BusinessProject(id) => field_of::<BusinessProject>(ctx, id, field),
            NodeRef::FinancePermission(id) => field_of::<FinanceGrant>(ctx, id, field),
            NodeRef::Invoice(id) => field_of::<Invoice>(ctx, id, field),
            NodeRef::CreditCard(id) => field_of::<CreditCard>(ctx, id, field),
            NodeRef::ExtendedCredit(id) => field_of::<ExtendedCredit>(ctx, id, field),
            NodeRef::BusinessUser(id) => business_user::field(ctx, id, field),
            NodeRef::BusinessRoleRequest(id) => role_request::field(ctx, id, field),
        }
    }

    /// The items of a list edge that the viewer may see, read without arguments; `None` when
    /// the node has no such edge.
    #[cfg(test)]
    pub(crate) fn edge(self, ctx: &ReadCtx<'_>, name: &str) -> Option<Vec<NodeRef>> {
        self.edge_with(ctx, name, &[])
            .map(|items| items.expect("an edge read without arguments"))
    }

    /// The items of a list edge that the viewer may see, read with `args`; `None` when the
    /// node has no such edge, an error when the node refuses the read.
    pub(crate) fn edge_with(
        self,
        ctx: &ReadCtx<'_>,
        name: &str,
        args: &EdgeArgs<'_>,
    ) -> Option<Result<Vec<NodeRef>, GraphError>> {
        let items = match self {
            NodeRef::User(id) => User::edge_with(ctx, id, name, args),
            NodeRef::Business(id) => Business::edge_with(ctx, id, name, args),
            NodeRef::Page(id) => Page::edge_with(ctx, id, name, args),
            NodeRef::AdAccount(id) => AdAccount::edge_with(ctx, id, name, args),
            NodeRef::App(id) => App::edge_with(ctx, id, name, args),
            NodeRef::Persona(id) => Persona::edge_with(ctx, id, name, args),
            NodeRef::UserPermission(id) => Membership::edge_with(ctx, id, name, args),
            NodeRef::BusinessProject(id) => BusinessProject::edge_with(ctx, id, name, args),
            NodeRef::FinancePermission(id) => FinanceGrant::edge_with(ctx, id, name, args),
            NodeRef::Invoice(id) => Invoice::edge_with(ctx, id, name, args),
            NodeRef::CreditCard(id) => CreditCard::edge_with(ctx, id, name, args),
            NodeRef::ExtendedCredit(id) => ExtendedCredit::edge_with(ctx, id, name, args),
            // [guess] Their asset edges (`assigned_pages`...) are not emulated.
            NodeRef::BusinessUser(_) | NodeRef::BusinessRoleRequest(_) => None,
        }?;
        // [guess] Another user's edges show only what the token's user may see too.
        Some(items.map(|items| {
            items
                .into_iter()
                .filter(|item| item.visible_to(ctx.world, ctx.viewer))
                .collect()
        }))
    }
}

/// The numeric id of a `T` that `id` names, if the world holds one.
fn find<T: Node>(world: &World, id: &str) -> Option<u64> {
    T::parse_id(id).filter(|number| exists::<T>(world, *number))
}

fn visible<T: Node>(world: &World, viewer: u64, id: u64) -> bool {
    T::stored(world)
        .get(&id)
        .is_some_and(|node| node.visible_to(world, viewer))
}

fn field_of<T: Node>(
    ctx: &ReadCtx<'_>,
    id: u64,
    field: &FieldSelection,
) -> Result<Option<Value>, GraphError> {
    let node = T::stored(ctx.world)
        .get(&id)
        .ok_or_else(|| unknown_field::<T>(field))?;
    T::field(ctx, node, field)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::seed::seeded_world;
    use crate::wire::fields::FieldSelection;

    const ALEX: u64 = 100_001;
    const SAM: u64 = 100_002;
    const JORDAN: u64 = 100_004;

    fn ctx(world: &World, viewer: u64) -> ReadCtx<'_> {
        ReadCtx {
            world,
            viewer,
            token: "t",
            api_base: "http://sandbox/v25.0",
        }
    }

    #[test]
    fn every_node_type_is_found_by_its_graph_id_and_only_by_it() {
        let world = seeded_world(Utc::now());
        let nodes = [
            NodeRef::User(ALEX),
            NodeRef::Business(200_001),
            NodeRef::Page(300_001),
            NodeRef::AdAccount(400_001),
            NodeRef::App(500_001),
            NodeRef::Persona(600_001),
        ];
        for node in nodes {
            assert_eq!(NodeRef::lookup(&world, &node.graph_id(), None), Some(node));
        }
        assert_eq!(NodeRef::AdAccount(400_001).graph_id(), "act_400001");
        assert_eq!(NodeRef::lookup(&world, "400001", None), None);
        assert_eq!(NodeRef::lookup(&world, "act_200001", None), None);
        assert_eq!(
            NodeRef::lookup(&world, "me", Some(SAM)),
            Some(NodeRef::User(SAM))
        );
        assert_eq!(NodeRef::lookup(&world, "me", None), None);
        // People rows are reached through their business only.
        assert_eq!(NodeRef::lookup(&world, "700001", None), None);
        // Today's views of them have ids of their own: a member's business user, an
        // invitation's role request; a system user is no business user.
        assert_eq!(
            NodeRef::lookup(&world, "710001", None),
            Some(NodeRef::BusinessUser(710_001))
        );
        assert_eq!(
            NodeRef::lookup(&world, "720004", None),
            Some(NodeRef::BusinessRoleRequest(720_004))
        );
        assert_eq!(NodeRef::lookup(&world, "710003", None), None);
        assert_eq!(NodeRef::lookup(&world, "720001", None), None);
    }

    #[test]
    fn each_type_applies_its_own_visibility_rule() {
        let world = seeded_world(Utc::now());
        // Businesses: their people. Pages: their admins and their owner's people. Ad accounts
        // and apps: their owner's people. Users: everyone.
        let cases = [
            (SAM, NodeRef::Business(200_001), true),
            (SAM, NodeRef::Business(200_002), false),
            (SAM, NodeRef::Page(300_001), true),
            (SAM, NodeRef::Page(300_003), false),
            (JORDAN, NodeRef::Page(300_005), true),
            (ALEX, NodeRef::Page(300_005), false),
            (SAM, NodeRef::AdAccount(400_002), true),
            (SAM, NodeRef::AdAccount(400_003), false),
            (SAM, NodeRef::App(500_002), false),
            (SAM, NodeRef::User(JORDAN), true),
            (SAM, NodeRef::User(42), false),
            (SAM, NodeRef::Persona(600_001), true),
            (SAM, NodeRef::Persona(600_004), false),
            (SAM, NodeRef::UserPermission(700_001), true),
            (SAM, NodeRef::UserPermission(700_006), false),
            // A suspended person sees nothing of the business.
            (100_005, NodeRef::Business(200_001), false),
        ];
        for (viewer, node, visible) in cases {
            assert_eq!(
                node.visible_to(&world, viewer),
                visible,
                "{viewer} {node:?}"
            );
        }
    }

    #[test]
    fn an_edge_lists_only_what_the_viewer_may_see_and_an_unknown_edge_is_none() {
        let world = seeded_world(Utc::now());
        let alex = NodeRef::User(ALEX);
        assert_eq!(
            alex.edge(&ctx(&world, ALEX), "businesses"),
            Some(vec![NodeRef::Business(200_001), NodeRef::Business(200_002)])
        );
        assert_eq!(
            alex.edge(&ctx(&world, SAM), "businesses"),
            Some(vec![NodeRef::Business(200_001)])
        );
        assert_eq!(
            NodeRef::Business(200_001).edge(&ctx(&world, SAM), "client_pages"),
            Some(Vec::new())
        );
        assert_eq!(alex.edge(&ctx(&world, ALEX), "owned_pages"), None);
    }

    #[test]
    fn an_unknown_field_names_the_node_type_as_graph_spells_it() {
        let world = seeded_world(Utc::now());
        let error = NodeRef::App(500_001)
            .field(&ctx(&world, ALEX), &FieldSelection::plain("category"))
            .expect_err("apps have no category");
        assert_eq!(
            error.message,
            "(#100) Tried accessing nonexisting field (category) on node type (Application)"
        );
    }
}
