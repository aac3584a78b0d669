//! Graph's writes, one small struct each: where it goes, with which method, its parameters in
//! Graph's own names, and the objects it changes. Resolvers pass typed, already checked values;
//! only this file knows how Graph spells them.

use std::time::Duration;

use super::GraphError;
use super::client::decode;
use super::model::Created;

/// How a write reaches Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    /// `POST /{node}[/{edge}]`: create on an edge, update a node, add to an edge.
    Post,
    /// `DELETE /{node}[/{edge}]`: delete a node, remove from an edge.
    Delete,
}

/// One Graph write.
pub trait GraphWrite: Send + Sync {
    /// The method.
    fn method(&self) -> WriteMethod {
        WriteMethod::Post
    }
    /// The node written to (or whose edge is written to): an id, or `me`.
    fn node(&self) -> &str;
    /// The edge written to, if the write is not on the node itself.
    fn edge(&self) -> Option<&str> {
        None
    }
    /// The parameters, in Graph's names and wire format.
    fn params(&self) -> Vec<(String, String)>;
    /// Ids of the objects this write changes beyond `node()`: every cached answer mentioning
    /// one of them is forgotten after the write.
    fn also_touches(&self) -> Vec<String> {
        Vec::new()
    }
    /// When Graph answers this write with a throttle code because of a limit of the write's
    /// own (invitations per business per day), how long to wait: the token's other calls are
    /// then not held back, and the caller is told this wait. `None`: a throttle code is the
    /// token's, as for any call.
    fn own_limit(&self) -> Option<Duration> {
        None
    }
}

/// What Graph answered a write with. Its shape differs between writes and node types, so only
/// a create reads it (for the new id); everything else reads the object back.
#[derive(Debug)]
pub struct WriteAnswer(pub(crate) Vec<u8>);

impl WriteAnswer {
    /// The id of the object a create made.
    pub fn created(&self) -> Result<Created, GraphError> {
        decode(&self.0)
    }
}

/// How long a business waits once it reaches its invitation limit (per rolling 24 hours, in
/// either people dialect: docs/graph-api.md §8.2, §8.7).
const INVITATION_LIMIT_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// `POST /me/businesses`: a new business with the caller as its first admin.
#[derive(Debug, Clone)]
pub(crate) struct CreateBusiness {
    /// The name, trimmed and checked.
    pub name: String,
    /// Graph's spelling of the vertical.
    pub vertical: &'static str,
    /// The page to become the primary page.
    pub primary_page: String,
    /// Graph's timezone id.
    pub timezone_id: Option<u16>,
    /// A contact email, checked.
    pub email: Option<String>,
}

impl GraphWrite for CreateBusiness {
    fn node(&self) -> &str {
        "me"
    }

    fn edge(&self) -> Option<&str> {
        Some("businesses")
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            ("name".to_owned(), self.name.clone()),
            ("vertical".to_owned(), self.vertical.to_owned()),
            ("primary_page".to_owned(), self.primary_page.clone()),
        ];
        if let Some(timezone) = self.timezone_id {
            params.push(("timezone_id".to_owned(), timezone.to_string()));
        }
        if let Some(email) = &self.email {
            params.push(("email".to_owned(), email.clone()));
        }
        params
    }

    fn also_touches(&self) -> Vec<String> {
        // The page now has an owner: answers that show the page change too.
        vec![self.primary_page.clone()]
    }
}

/// `POST /{business}`: a new name, vertical or primary page.
#[derive(Debug, Clone)]
pub(crate) struct UpdateBusiness {
    /// The business.
    pub id: String,
    /// A new name, trimmed and checked.
    pub name: Option<String>,
    /// Graph's spelling of a new vertical.
    pub vertical: Option<&'static str>,
    /// A page of the business to become its primary page.
    pub primary_page: Option<String>,
}

impl UpdateBusiness {
    /// Whether the update changes anything at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.name.is_none() && self.vertical.is_none() && self.primary_page.is_none()
    }
}

impl GraphWrite for UpdateBusiness {
    fn node(&self) -> &str {
        &self.id
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if let Some(name) = &self.name {
            params.push(("name".to_owned(), name.clone()));
        }
        if let Some(vertical) = self.vertical {
            params.push(("vertical".to_owned(), vertical.to_owned()));
        }
        if let Some(page) = &self.primary_page {
            params.push(("primary_page".to_owned(), page.clone()));
        }
        params
    }

    fn also_touches(&self) -> Vec<String> {
        self.primary_page.iter().cloned().collect()
    }
}

/// Who a people write is about: a member by user id, or an invitation by its email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Person {
    /// A member (`user=`).
    User(String),
    /// A pending invitation (`email=`).
    Email(String),
}

impl Person {
    fn param(&self) -> (String, String) {
        match self {
            Person::User(id) => ("user".to_owned(), id.clone()),
            Person::Email(email) => ("email".to_owned(), email.clone()),
        }
    }

    fn touched(&self) -> Vec<String> {
        match self {
            // The member's own answers (their businesses, their pages) change too.
            Person::User(id) => vec![id.clone()],
            Person::Email(_) => Vec::new(),
        }
    }
}

/// `POST /{business}/userpermissions` with `email` and `role`: an invitation.
#[derive(Debug, Clone)]
pub(crate) struct InvitePerson {
    /// The business.
    pub business: String,
    /// The address to invite, checked.
    pub email: String,
    /// Graph's spelling of the role offered.
    pub role: &'static str,
}

impl GraphWrite for InvitePerson {
    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("userpermissions")
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("email".to_owned(), self.email.clone()),
            ("role".to_owned(), self.role.to_owned()),
        ]
    }

    fn own_limit(&self) -> Option<Duration> {
        // Code 17 here is the business's invitation limit, per rolling 24 hours: "resume 24
        // hours later", with no figure of its own (docs/graph-api.md §8.2).
        Some(INVITATION_LIMIT_WAIT)
    }
}

/// `POST /{business}/userpermissions` with `user` (a member's role) or `email` (the role an
/// invitation offers), and `role`.
#[derive(Debug, Clone)]
pub(crate) struct ChangeRole {
    /// The business.
    pub business: String,
    /// The member or invitation.
    pub person: Person,
    /// Graph's spelling of the new role.
    pub role: &'static str,
}

impl GraphWrite for ChangeRole {
    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("userpermissions")
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            self.person.param(),
            ("role".to_owned(), self.role.to_owned()),
        ]
    }

    fn also_touches(&self) -> Vec<String> {
        self.person.touched()
    }
}

/// `DELETE /{business}/userpermissions` with `user` (removes a member and their roles on the
/// business's assets) or `email` (cancels an invitation).
#[derive(Debug, Clone)]
pub(crate) struct RemovePerson {
    /// The business.
    pub business: String,
    /// The member or invitation.
    pub person: Person,
}

impl GraphWrite for RemovePerson {
    fn method(&self) -> WriteMethod {
        WriteMethod::Delete
    }

    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("userpermissions")
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![self.person.param()]
    }

    fn also_touches(&self) -> Vec<String> {
        self.person.touched()
    }
}

/// `POST /{persona}` with `first_name`, `last_name`, `email`; a new email stays pending until
/// its owner verifies it.
#[derive(Debug, Clone)]
pub(crate) struct UpdatePersona {
    /// The persona.
    pub id: String,
    /// A new first name, trimmed and not blank.
    pub first_name: Option<String>,
    /// A new last name, trimmed and not blank.
    pub last_name: Option<String>,
    /// A new email, checked.
    pub email: Option<String>,
    /// A new job title, trimmed; empty clears it (today's people API only: a business user's
    /// `title`).
    pub title: Option<String>,
}

impl UpdatePersona {
    /// Whether the update changes anything at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.email.is_none()
            && self.title.is_none()
    }
}

impl GraphWrite for UpdatePersona {
    fn node(&self) -> &str {
        &self.id
    }

    fn params(&self) -> Vec<(String, String)> {
        [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("email", &self.email),
            ("title", &self.title),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| (name.to_owned(), v.clone())))
        .collect()
    }
}

/// `POST /{business}/business_users` with `email` and `role`: an invitation on today's API
/// (docs/graph-api.md §8.7), answered with the new business role request's id.
#[derive(Debug, Clone)]
pub(crate) struct InviteBusinessUser {
    /// The business.
    pub business: String,
    /// The address to invite, checked.
    pub email: String,
    /// Graph's spelling of the role offered.
    pub role: &'static str,
    /// The tasks offered, in Graph's names, when given.
    pub tasks: Option<Vec<String>>,
    /// `FB` or `MWA` (a managed Meta account), when given.
    pub invited_user_type: Option<&'static str>,
}

impl GraphWrite for InviteBusinessUser {
    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("business_users")
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            ("email".to_owned(), self.email.clone()),
            ("role".to_owned(), self.role.to_owned()),
        ];
        // Lists as JSON arrays, as the official SDKs send them.
        if let Some(tasks) = &self.tasks {
            params.push((
                "tasks".to_owned(),
                serde_json::Value::from(tasks.clone()).to_string(),
            ));
        }
        if let Some(kind) = self.invited_user_type {
            params.push((
                "invited_user_type".to_owned(),
                serde_json::json!([kind]).to_string(),
            ));
        }
        params
    }

    fn own_limit(&self) -> Option<Duration> {
        // The same business invitation limit as `userpermissions` (docs/graph-api.md §8.7).
        Some(INVITATION_LIMIT_WAIT)
    }
}

/// What a today's-API people write is about: a member (`BusinessUser`) or an invitation
/// (`BusinessRoleRequest`), both nodes of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeopleNode {
    /// A business user id.
    Member(String),
    /// A business role request id.
    Invitation(String),
}

impl PeopleNode {
    fn id(&self) -> &str {
        match self {
            PeopleNode::Member(id) | PeopleNode::Invitation(id) => id,
        }
    }
}

/// `POST /{business_user_id}` or `POST /{business_role_request_id}` with `role` and/or
/// `tasks`: a member's new role or tasks (a finance role among them), or what an invitation
/// offers.
#[derive(Debug, Clone)]
pub(crate) struct ChangeBusinessUserRole {
    /// The business (its cached people are forgotten).
    pub business: String,
    /// The member or invitation.
    pub person: PeopleNode,
    /// Graph's spelling of the new role, if it changes.
    pub role: Option<&'static str>,
    /// The new tasks, in Graph's names, if they change: the whole list, as Graph replaces it.
    pub tasks: Option<Vec<String>>,
}

impl GraphWrite for ChangeBusinessUserRole {
    fn node(&self) -> &str {
        self.person.id()
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if let Some(role) = self.role {
            params.push(("role".to_owned(), role.to_owned()));
        }
        if let Some(tasks) = &self.tasks {
            // A JSON array, as the official SDKs send list parameters.
            params.push((
                "tasks".to_owned(),
                serde_json::Value::from(tasks.clone()).to_string(),
            ));
        }
        params
    }

    fn also_touches(&self) -> Vec<String> {
        vec![self.business.clone()]
    }
}

/// `DELETE /{business_user_id}` (removes a member and their roles on the business's assets)
/// or `DELETE /{business_role_request_id}` (cancels an invitation).
#[derive(Debug, Clone)]
pub(crate) struct RemoveBusinessUser {
    /// The business (its cached people are forgotten).
    pub business: String,
    /// The member or invitation.
    pub person: PeopleNode,
}

impl GraphWrite for RemoveBusinessUser {
    fn method(&self) -> WriteMethod {
        WriteMethod::Delete
    }

    fn node(&self) -> &str {
        self.person.id()
    }

    fn params(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn also_touches(&self) -> Vec<String> {
        vec![self.business.clone()]
    }
}

/// `POST /{business}/businessprojects` with `name`: a new, empty project.
#[derive(Debug, Clone)]
pub(crate) struct CreateProject {
    /// The business.
    pub business: String,
    /// The name, trimmed and checked.
    pub name: String,
}

impl GraphWrite for CreateProject {
    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("businessprojects")
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![("name".to_owned(), self.name.clone())]
    }
}

/// `DELETE /{project}`: the project goes; its assets stay with the business, free to join
/// another project.
#[derive(Debug, Clone)]
pub(crate) struct DeleteProject {
    /// The project.
    pub id: String,
}

impl GraphWrite for DeleteProject {
    fn method(&self) -> WriteMethod {
        WriteMethod::Delete
    }

    fn node(&self) -> &str {
        &self.id
    }

    fn params(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// One asset a project can hold, with its checked id (`act_<n>` for an ad account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProjectAsset {
    /// A page (`pages`, `page_id`).
    Page(String),
    /// An ad account (`adaccounts`, `adaccount_id=act_<n>`).
    AdAccount(String),
    /// An app (`apps`, `app_id`).
    App(String),
}

impl ProjectAsset {
    /// The project edge that holds this kind of asset.
    pub(crate) fn edge(&self) -> &'static str {
        match self {
            ProjectAsset::Page(_) => "pages",
            ProjectAsset::AdAccount(_) => "adaccounts",
            ProjectAsset::App(_) => "apps",
        }
    }

    /// The asset's id as Graph spells it.
    pub(crate) fn id(&self) -> &str {
        match self {
            ProjectAsset::Page(id) | ProjectAsset::AdAccount(id) | ProjectAsset::App(id) => id,
        }
    }

    fn param(&self) -> (String, String) {
        let name = match self {
            ProjectAsset::Page(_) => "page_id",
            ProjectAsset::AdAccount(_) => "adaccount_id",
            ProjectAsset::App(_) => "app_id",
        };
        (name.to_owned(), self.id().to_owned())
    }
}

/// `POST /{project}/pages|adaccounts|apps` (add) or `DELETE` on the same edge (remove), with
/// the asset's id.
#[derive(Debug, Clone)]
pub(crate) struct ProjectAssetWrite {
    /// The project.
    pub project: String,
    /// The asset added or removed.
    pub asset: ProjectAsset,
    /// `Post` adds, `Delete` removes.
    pub method: WriteMethod,
}

impl GraphWrite for ProjectAssetWrite {
    fn method(&self) -> WriteMethod {
        self.method
    }

    fn node(&self) -> &str {
        &self.project
    }

    fn edge(&self) -> Option<&str> {
        Some(self.asset.edge())
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![self.asset.param()]
    }

    fn also_touches(&self) -> Vec<String> {
        // Answers that list the asset (the project it leaves, say) change too.
        vec![self.asset.id().to_owned()]
    }
}

/// `POST /{business}/finance_permissions` with `user` and `finance_permission`.
#[derive(Debug, Clone)]
pub(crate) struct GrantFinancePermission {
    /// The business.
    pub business: String,
    /// The person or system user.
    pub user: String,
    /// Graph's spelling of the finance role.
    pub role: &'static str,
}

impl GraphWrite for GrantFinancePermission {
    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("finance_permissions")
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("user".to_owned(), self.user.clone()),
            ("finance_permission".to_owned(), self.role.to_owned()),
        ]
    }

    fn also_touches(&self) -> Vec<String> {
        // What the user may read changes: their cached answers go.
        vec![self.user.clone()]
    }
}

/// `DELETE /{business}/finance_permissions` with `user`: takes the user's finance role away.
#[derive(Debug, Clone)]
pub(crate) struct RevokeFinancePermission {
    /// The business.
    pub business: String,
    /// The person or system user.
    pub user: String,
}

impl GraphWrite for RevokeFinancePermission {
    fn method(&self) -> WriteMethod {
        WriteMethod::Delete
    }

    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("finance_permissions")
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![("user".to_owned(), self.user.clone())]
    }

    fn also_touches(&self) -> Vec<String> {
        // What the user may read changes: their cached answers go.
        vec![self.user.clone()]
    }
}

/// `POST /{business}/adaccount`: a new ad account of the business, on its credit line.
#[derive(Debug, Clone)]
pub(crate) struct CreateAdAccount {
    /// The business.
    pub business: String,
    /// The account's name, trimmed and checked.
    pub name: String,
    /// ISO 4217 currency, one an ad account may have.
    pub currency: String,
    /// Graph's timezone id.
    pub timezone_id: u16,
    /// Who the ads are for: a page or app id, or `NONE`.
    pub end_advertiser: String,
    /// The agency running them: a page or app id, or `NONE`.
    pub media_agency: String,
    /// The partner: a page or app id, or `NONE`.
    pub partner: String,
    /// The credit line that pays (an extended credit id).
    pub funding_id: Option<String>,
}

impl GraphWrite for CreateAdAccount {
    fn node(&self) -> &str {
        &self.business
    }

    fn edge(&self) -> Option<&str> {
        Some("adaccount")
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            ("name".to_owned(), self.name.clone()),
            ("currency".to_owned(), self.currency.clone()),
            ("timezone_id".to_owned(), self.timezone_id.to_string()),
            ("end_advertiser".to_owned(), self.end_advertiser.clone()),
            ("media_agency".to_owned(), self.media_agency.clone()),
            ("partner".to_owned(), self.partner.clone()),
        ];
        if let Some(funding) = &self.funding_id {
            params.push(("funding_id".to_owned(), funding.clone()));
        }
        params
    }

    fn also_touches(&self) -> Vec<String> {
        // The credit line's allocation now counts one more account.
        self.funding_id.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_business_create_renders_graphs_parameter_names() {
        let write = CreateBusiness {
            name: "Rivera Photo".to_owned(),
            vertical: "ECOMMERCE",
            primary_page: "300004".to_owned(),
            timezone_id: Some(7),
            email: None,
        };
        assert_eq!((write.node(), write.edge()), ("me", Some("businesses")));
        assert_eq!(
            write.params(),
            vec![
                ("name".to_owned(), "Rivera Photo".to_owned()),
                ("vertical".to_owned(), "ECOMMERCE".to_owned()),
                ("primary_page".to_owned(), "300004".to_owned()),
                ("timezone_id".to_owned(), "7".to_owned()),
            ]
        );
        assert_eq!(write.also_touches(), vec!["300004".to_owned()]);
    }

    #[test]
    fn a_business_update_sends_only_what_changes() {
        let write = UpdateBusiness {
            id: "200001".to_owned(),
            name: None,
            vertical: Some("RETAIL"),
            primary_page: None,
        };
        assert!(!write.is_empty());
        assert_eq!(write.method(), WriteMethod::Post);
        assert_eq!(
            write.params(),
            vec![("vertical".to_owned(), "RETAIL".to_owned())]
        );
    }

    #[test]
    fn project_writes_render_graphs_edges_and_parameter_names() {
        let create = CreateProject {
            business: "200001".to_owned(),
            name: "Spring Launch".to_owned(),
        };
        assert_eq!(
            (create.node(), create.edge(), create.params()),
            (
                "200001",
                Some("businessprojects"),
                vec![("name".to_owned(), "Spring Launch".to_owned())]
            )
        );
        let delete = DeleteProject {
            id: "800001".to_owned(),
        };
        assert_eq!(
            (delete.method(), delete.node(), delete.edge()),
            (WriteMethod::Delete, "800001", None)
        );
        for (asset, edge, param) in [
            (ProjectAsset::Page("300001".to_owned()), "pages", "page_id"),
            (
                ProjectAsset::AdAccount("act_400002".to_owned()),
                "adaccounts",
                "adaccount_id",
            ),
            (ProjectAsset::App("500001".to_owned()), "apps", "app_id"),
        ] {
            let id = asset.id().to_owned();
            let write = ProjectAssetWrite {
                project: "800001".to_owned(),
                asset,
                method: WriteMethod::Delete,
            };
            assert_eq!(write.method(), WriteMethod::Delete);
            assert_eq!((write.node(), write.edge()), ("800001", Some(edge)));
            assert_eq!(write.params(), vec![(param.to_owned(), id.clone())]);
            assert_eq!(write.also_touches(), vec![id]);
        }
    }

    #[test]
    fn people_writes_render_graphs_parameter_names() {
        let invite = InvitePerson {
            business: "200001".to_owned(),
            email: "kim@pomni.example".to_owned(),
            role: "EMPLOYEE",
        };
        assert_eq!(
            (invite.node(), invite.edge(), invite.params()),
            (
                "200001",
                Some("userpermissions"),
                vec![
                    ("email".to_owned(), "kim@pomni.example".to_owned()),
                    ("role".to_owned(), "EMPLOYEE".to_owned()),
                ]
            )
        );
        let remove = RemovePerson {
            business: "200001".to_owned(),
            person: Person::User("100002".to_owned()),
        };
        assert_eq!(invite.own_limit(), Some(Duration::from_secs(86_400)));
        assert_eq!(remove.method(), WriteMethod::Delete);
        assert_eq!(remove.own_limit(), None);
        assert_eq!(
            remove.params(),
            vec![("user".to_owned(), "100002".to_owned())]
        );
        assert_eq!(remove.also_touches(), vec!["100002".to_owned()]);
        let persona = UpdatePersona {
            id: "600002".to_owned(),
            first_name: None,
            last_name: Some("Chen-Li".to_owned()),
            email: None,
            title: None,
        };
        assert_eq!(
            persona.params(),
            vec![("last_name".to_owned(), "Chen-Li".to_owned())]
        );
        let titled = UpdatePersona {
            last_name: None,
            title: Some(String::new()),
            ..persona
        };
        assert!(!titled.is_empty());
        assert_eq!(titled.params(), vec![("title".to_owned(), String::new())]);
    }

    #[test]
    fn todays_people_writes_go_to_the_nodes_and_forget_the_business() {
        let invite = InviteBusinessUser {
            business: "200001".to_owned(),
            email: "kim@pomni.example".to_owned(),
            role: "EMPLOYEE",
            tasks: None,
            invited_user_type: None,
        };
        assert_eq!(
            (invite.node(), invite.edge(), invite.params()),
            (
                "200001",
                Some("business_users"),
                vec![
                    ("email".to_owned(), "kim@pomni.example".to_owned()),
                    ("role".to_owned(), "EMPLOYEE".to_owned()),
                ]
            )
        );
        let managed = InviteBusinessUser {
            tasks: Some(vec!["EMPLOYEE".to_owned()]),
            invited_user_type: Some("MWA"),
            ..invite.clone()
        };
        assert_eq!(
            managed.params()[2..],
            [
                ("tasks".to_owned(), r#"["EMPLOYEE"]"#.to_owned()),
                ("invited_user_type".to_owned(), r#"["MWA"]"#.to_owned()),
            ]
        );
        assert_eq!(invite.own_limit(), Some(Duration::from_secs(86_400)));
        let change = ChangeBusinessUserRole {
            business: "200001".to_owned(),
            person: PeopleNode::Invitation("720004".to_owned()),
            role: Some("ADMIN"),
            tasks: None,
        };
        assert_eq!(
            (change.method(), change.node(), change.edge()),
            (WriteMethod::Post, "720004", None)
        );
        assert_eq!(
            change.params(),
            vec![("role".to_owned(), "ADMIN".to_owned())]
        );
        let tasks = ChangeBusinessUserRole {
            role: None,
            tasks: Some(vec!["EMPLOYEE".to_owned(), "FINANCE_VIEW".to_owned()]),
            ..change.clone()
        };
        assert_eq!(
            tasks.params(),
            vec![(
                "tasks".to_owned(),
                r#"["EMPLOYEE","FINANCE_VIEW"]"#.to_owned()
            )]
        );
        assert_eq!(change.also_touches(), vec!["200001".to_owned()]);
        let remove = RemoveBusinessUser {
            business: "200001".to_owned(),
            person: PeopleNode::Member("710002".to_owned()),
        };
        assert_eq!(
            (
                remove.method(),
                remove.node(),
                remove.edge(),
                remove.params()
            ),
            (WriteMethod::Delete, "710002", None, Vec::new())
        );
        assert_eq!(remove.also_touches(), vec!["200001".to_owned()]);
    }
}
