//! The Graph API surface: the catch-all HTTP handler, [`execute`] (version, token,
//! appsecret_proof, rate limits) that turns one normalized [`GraphCall`] into an [`Answer`]
//! for the handler and for every batch operation, and the route table from a path to a read
//! or to the node module that does a write.
//!
//! Architecture Invariant: [`execute`] is synchronous and runs under the world's lock; the
//! handler does all awaiting (fault latency, body reading) before taking the lock.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::answer::{Answer, ReadCtx, new_trace_id, read_edge, render_ids, render_node};
use crate::nodes::{
    NodeRef, ad_account, business, business_project, business_user, finance_permission, persona,
    role_request, user_permission,
};
use crate::wire::auth::{Viewer, check_appsecret_proof};
use crate::wire::error::GraphError;
use crate::wire::fields::parse_fields;
use crate::wire::request::{GraphCall, GraphMethod, Params, header_token, parse_list, read_params};
use crate::wire::usage::{Figure, app_usage_header, business_usage_header};
use crate::world::{Fault, JournalEntry, World};
use crate::{Sandbox, SandboxSettings, batch, migration};

/// The version unversioned paths mean, and the one reported before a version is known.
pub(crate) const DEFAULT_VERSION: &str = "v25.0";

/// The oldest and newest versions served.
const VERSIONS_SERVED: std::ops::RangeInclusive<u32> = 21..=26;

/// The most ids one `?ids=` read may name.
const MAX_IDS: usize = 50;

/// Whether a call is a top-level request or an operation inside a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nesting {
    TopLevel,
    InBatch,
}

/// What one call turned out to be about, for its headers.
struct Scope {
    version: String,
    token: Option<String>,
    business: Option<u64>,
    app_exhausted: bool,
}

/// Runs one Graph call against the world and answers it, headers included.
pub(crate) fn execute(
    world: &mut World,
    settings: &SandboxSettings,
    call: &GraphCall,
    trace_id: &str,
    nesting: Nesting,
) -> Answer {
    let mut scope = Scope {
        version: DEFAULT_VERSION.to_owned(),
        token: None,
        business: None,
        app_exhausted: false,
    };
    let result = run(world, settings, call, &mut scope, nesting);
    let mut headers = usage_headers(world, settings, &scope);
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => {
            if let Some(challenge) = error.www_authenticate() {
                headers.push(("www-authenticate", challenge));
            }
            (error.status(), error.to_json(trace_id))
        }
    };
    Answer {
        status,
        body,
        version: scope.version,
        trace_id: trace_id.to_owned(),
        headers,
    }
}

/// The usage headers of a call: `x-app-usage` always (zero without a known token, full when
/// an early code 4 refused the call), `x-business-use-case-usage` when the call was about a
/// business.
fn usage_headers(
    world: &mut World,
    settings: &SandboxSettings,
    scope: &Scope,
) -> Vec<(&'static str, String)> {
    let now = world.now().timestamp();
    let app = match &scope.token {
        Some(token) => world
            .usage
            .app_figure(token, settings.app_calls_per_hour, now),
        None => Figure {
            percent: 0,
            exhausted: false,
            regain_minutes: 0,
        },
    };
    let app = if scope.app_exhausted {
        Figure {
            percent: 100,
            exhausted: true,
            ..app
        }
    } else {
        app
    };
    let mut headers = vec![("x-app-usage", app_usage_header(app))];
    if let Some(business) = scope.business {
        let figure = world
            .usage
            .business_figure(business, settings.business_calls_per_hour, now);
        headers.push((
            "x-business-use-case-usage",
            business_usage_header(business, BUSINESS_USE_CASE, figure),
        ));
    }
    headers
}

/// Splits a path into its version and its node/edge segments.
fn parse_path(path: &str) -> Result<(String, Vec<String>), GraphError> {
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    let Some(first) = segments.first() else {
        return Ok((DEFAULT_VERSION.to_owned(), segments));
    };
    // Node ids are numeric, `act_<n>` or `me`, so a leading `v` can only be a version.
    if !first.starts_with('v') {
        return Ok((DEFAULT_VERSION.to_owned(), segments));
    }
    let served = first
        .strip_prefix('v')
        .and_then(|rest| rest.strip_suffix(".0"))
        .filter(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|major| major.parse::<u32>().ok())
        .filter(|major| VERSIONS_SERVED.contains(major));
    match served {
        Some(major) => {
            segments.remove(0);
            Ok((format!("v{major}.0"), segments))
        }
        None => Err(GraphError::unknown_path(&format!("/{first}"))),
    }
}

fn run(
    world: &mut World,
    settings: &SandboxSettings,
    call: &GraphCall,
    scope: &mut Scope,
    nesting: Nesting,
) -> Result<Value, GraphError> {
    // An empty `access_token=` parameter is no token at all, so the header still counts.
    let token = call
        .params
        .get("access_token")
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .or_else(|| call.header_token.clone());
    let grant = token.as_ref().and_then(|t| world.tokens.get(t)).cloned();
    if grant.is_some() {
        scope.token.clone_from(&token);
    }
    if let Ok((version, _)) = parse_path(&call.path) {
        scope.version = version;
    }
    if let Some(error) = &call.early_error {
        scope.app_exhausted = error.code == 4;
        return Err(error.clone());
    }
    let (version, segments) = parse_path(&call.path)?;
    let token = token.ok_or_else(GraphError::missing_token)?;
    let grant = grant.ok_or_else(GraphError::invalid_token)?;
    check_appsecret_proof(settings, world.now().timestamp(), &token, &call.params)?;
    let viewer = Viewer {
        user_id: grant.user_id,
        token,
        permissions: grant.permissions,
    };

    if segments.is_empty() && call.method == GraphMethod::Post && call.params.get("batch").is_some()
    {
        if nesting == Nesting::InBatch {
            // [guess] Graph does not document nested batches; refusing them keeps recursion out.
            return Err(GraphError::invalid_param("Batch requests cannot be nested"));
        }
        return batch::run(world, settings, call, &viewer);
    }

    let business = segments
        .first()
        .and_then(|id| world.visible(id, viewer.user_id))
        .and_then(use_case_business);
    let calls = match (segments.is_empty(), call.params.get("ids")) {
        (true, Some(ids)) => parse_list(ids).len().clamp(1, MAX_IDS),
        _ => 1,
    };
    throttle(world, settings, &viewer.token, business, calls, scope)?;
    dispatch(world, &viewer, call, &version, &segments)
}

/// The use case that calls about a business are counted under in `x-business-use-case-usage`.
// [guess] Business Manager calls are reported under the `business_management` use case.
const BUSINESS_USE_CASE: &str = "business_management";

/// The business whose use-case limits (`x-business-use-case-usage`) a call on this node
/// counts against.
fn use_case_business(node: NodeRef) -> Option<u64> {
    match node {
        NodeRef::Business(id) => Some(id),
        _ => None,
    }
}

/// Refuses the call at 100 % usage, else counts it (`calls` times: one per id of an `?ids=`
/// read).
fn throttle(
    world: &mut World,
    settings: &SandboxSettings,
    token: &str,
    business: Option<u64>,
    calls: usize,
    scope: &mut Scope,
) -> Result<(), GraphError> {
    let now = world.now().timestamp();
    scope.business = business;
    if world
        .usage
        .app_figure(token, settings.app_calls_per_hour, now)
        .exhausted
    {
        return Err(GraphError::coded(4, "Application request limit reached"));
    }
    if let Some(business) = business {
        let figure = world
            .usage
            .business_figure(business, settings.business_calls_per_hour, now);
        if figure.exhausted {
            // [guess] Graph's business use case throttles use codes 80000-80014; 80004 is the
            // one for this kind of call.
            return Err(GraphError::coded(
                80_004,
                "There have been too many calls to this business account. Wait a bit and try again.",
            ));
        }
        world
            .usage
            .record_business(business, calls, settings.business_calls_per_hour, now);
    }
    world
        .usage
        .record_app(token, calls, settings.app_calls_per_hour, now);
    Ok(())
}

/// Resolves an id to a node the viewer may see, or Graph's "Unsupported request" error.
fn resolve(
    world: &World,
    viewer: &Viewer,
    id: &str,
    method: GraphMethod,
) -> Result<NodeRef, GraphError> {
    world
        .visible(id, viewer.user_id)
        .ok_or_else(|| migration::unreadable(world, viewer.user_id, id, method.lower()))
}

/// Routes a call by its path: the root, a node, or a node's edge.
fn dispatch(
    world: &mut World,
    viewer: &Viewer,
    call: &GraphCall,
    version: &str,
    segments: &[String],
) -> Result<Value, GraphError> {
    let api_base = format!("http://{}/{version}", call.host);
    let method = call.method;
    match segments {
        [] => read_root(world, viewer, call, &api_base),
        [id] => {
            let node = resolve(world, viewer, id, method)?;
            if method == GraphMethod::Get {
                let fields = parse_fields(call.params.get("fields").unwrap_or(""))?;
                let ctx = read_ctx(world, viewer, &api_base);
                return render_node(&ctx, node, Some(&fields));
            }
            write_route(world, viewer, method, node, None, &call.params)
                .unwrap_or_else(|| Err(GraphError::unsupported(method.lower(), id)))
        }
        [id, edge] => {
            let node = resolve(world, viewer, id, method)?;
            let ctx = read_ctx(world, viewer, &api_base);
            // Only an edge the node has can be written to, so an unknown one is the same
            // code 100 for every method.
            let args: Vec<(&str, &str)> = call.params.iter().collect();
            let Some(items) = node.edge_with(&ctx, edge, &args) else {
                return Err(GraphError::nonexisting_field(edge, node.type_name()));
            };
            // A write does not read the edge, so what refuses a read does not refuse it.
            if method == GraphMethod::Get {
                return read_edge(&ctx, &call.params, node, edge, &items?);
            }
            write_route(world, viewer, method, node, Some(edge), &call.params)
                .unwrap_or_else(|| Err(GraphError::unsupported(method.lower(), id)))
        }
        [_, _, rest @ ..] => Err(GraphError::unknown_path(&format!("/{}", rest.join("/")))),
    }
}

/// The write routes, one line each: `POST`/`DELETE` on a node or on one of its edges, done by
/// the node module that owns the written type. `None` when Graph has no such write.
fn write_route(
    world: &mut World,
    viewer: &Viewer,
    method: GraphMethod,
    node: NodeRef,
    edge: Option<&str>,
    params: &Params,
) -> Option<Result<Value, GraphError>> {
    use GraphMethod::{Delete, Post};
    let result = match (method, node, edge) {
        (Post, NodeRef::User(id), Some("businesses")) => {
            business::create(world, viewer, id, params)
        }
        (Post, NodeRef::Business(id), None) => business::update(world, viewer, id, params),
        (Delete, NodeRef::Business(_), None) => business::delete(),
        (Post, NodeRef::Business(id), Some("userpermissions")) => {
            user_permission::write(world, viewer, id, params)
        }
        (Delete, NodeRef::Business(id), Some("userpermissions")) => {
            user_permission::delete(world, viewer, id, params)
        }
        (Post, NodeRef::Persona(id), None) => persona::update(world, viewer, id, params),
        (Post, NodeRef::Business(id), Some("business_users")) => {
            role_request::create(world, viewer, id, params)
        }
        (Post, NodeRef::BusinessUser(id), None) => business_user::update(world, viewer, id, params),
        (Delete, NodeRef::BusinessUser(id), None) => business_user::delete(world, viewer, id),
        (Post, NodeRef::BusinessRoleRequest(id), None) => {
            role_request::update(world, viewer, id, params)
        }
        (Delete, NodeRef::BusinessRoleRequest(id), None) => role_request::cancel(world, viewer, id),
        (Post, NodeRef::Business(id), Some("businessprojects")) => {
            business_project::create(world, viewer, id, params)
        }
        (Delete, NodeRef::BusinessProject(id), None) => business_project::delete(world, viewer, id),
        (Post, NodeRef::BusinessProject(id), Some(edge)) => {
            let kind = business_project::AssetKind::of_edge(edge)?;
            business_project::add_asset(world, viewer, id, kind, params)
        }
        (Delete, NodeRef::BusinessProject(id), Some(edge)) => {
            let kind = business_project::AssetKind::of_edge(edge)?;
            business_project::remove_asset(world, viewer, id, kind, params)
        }
        (Post, NodeRef::Business(id), Some("finance_permissions")) => {
            finance_permission::grant(world, viewer, id, params)
        }
        (Delete, NodeRef::Business(id), Some("finance_permissions")) => {
            finance_permission::revoke(world, viewer, id, params)
        }
        (Post, NodeRef::Business(id), Some("adaccount")) => {
            ad_account::create(world, viewer, id, params)
        }
        (Post, NodeRef::AdAccount(id), None) => ad_account::update(world, viewer, id, params),
        _ => return None,
    };
    Some(result)
}

fn read_ctx<'a>(world: &'a World, viewer: &'a Viewer, api_base: &'a str) -> ReadCtx<'a> {
    ReadCtx {
        world,
        viewer: viewer.user_id,
        token: &viewer.token,
        api_base,
    }
}

/// The root node: `GET /?ids=` reads; everything else on it is refused.
fn read_root(
    world: &World,
    viewer: &Viewer,
    call: &GraphCall,
    api_base: &str,
) -> Result<Value, GraphError> {
    match (call.method, call.params.get("ids")) {
        (GraphMethod::Get, Some(ids)) => {
            let ids = parse_list(ids);
            if ids.len() > MAX_IDS {
                return Err(GraphError::invalid_param(&format!(
                    "Too many IDs. Maximum: {MAX_IDS}. Provided: {}.",
                    ids.len()
                )));
            }
            if ids.is_empty() {
                return Err(GraphError::invalid_param("The parameter ids is required"));
            }
            let fields = parse_fields(call.params.get("fields").unwrap_or(""))?;
            render_ids(&read_ctx(world, viewer, api_base), &ids, &fields)
        }
        // [guess] What Graph says to a bare root request.
        (GraphMethod::Get, None) => Err(GraphError::invalid_param("The parameter ids is required")),
        (GraphMethod::Post, _) => Err(GraphError::invalid_param("The parameter batch is required")),
        (GraphMethod::Delete, _) => Err(GraphError::invalid_param("Unsupported delete request.")),
    }
}

/// The query string as the journal keeps it: without credentials.
fn journal_query(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !matches!(name, "access_token" | "appsecret_proof")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The handler of every Graph route.
pub(crate) async fn graph_handler(State(sandbox): State<Sandbox>, request: Request) -> Response {
    let trace_id = new_trace_id();
    let Some(method) = GraphMethod::from_http(request.method()) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let injected = match sandbox.with_world(World::take_fault) {
        Some(fault) => apply_fault(fault).await,
        None => None,
    };
    let (call, query) = read_call(request, method, injected).await;
    let answer = sandbox.with_world(|world| {
        let answer = execute(
            world,
            sandbox.settings(),
            &call,
            &trace_id,
            Nesting::TopLevel,
        );
        tracing::debug!(
            method = method.upper(),
            path = %call.path,
            status = answer.status.as_u16(),
            trace_id = %trace_id,
            "graph request answered"
        );
        world.stats.record(JournalEntry {
            method: method.upper().to_owned(),
            path: call.path.clone(),
            query: journal_query(&query),
            status: answer.status.as_u16(),
        });
        answer
    });
    answer.into_response()
}

/// Waits an armed fault's latency (outside the world's lock), then answers the error it
/// injects, if it injects one.
async fn apply_fault(fault: Fault) -> Option<GraphError> {
    if fault.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.latency_ms)).await;
    }
    fault
        .error_code
        .map(|code| GraphError::injected(code, fault.error_subcode))
}

/// The HTTP request as a [`GraphCall`], and its raw query string for the journal. A body that
/// cannot be read leaves the query parameters only and becomes the call's early error, unless
/// an injected fault already is.
async fn read_call(
    request: Request,
    method: GraphMethod,
    injected: Option<GraphError>,
) -> (GraphCall, String) {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let header_token = header_token(request.headers());
    let (params, body_error) = match read_params(request).await {
        Ok(params) => (params, None),
        Err(error) => (Params::from_urlencoded(&query), Some(error)),
    };
    let call = GraphCall {
        method,
        path,
        params,
        header_token,
        host,
        early_error: injected.or(body_error),
    };
    (call, query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_parsed_and_malformed_ones_refused() {
        assert_eq!(
            parse_path("/v26.0/me/businesses").expect("served"),
            (
                "v26.0".to_owned(),
                vec!["me".to_owned(), "businesses".to_owned()]
            )
        );
        assert_eq!(
            parse_path("/me").expect("unversioned").0,
            DEFAULT_VERSION.to_owned()
        );
        for bad in ["/v25/me", "/vx.0/me", "/v99.0/me", "/v20.0/me"] {
            let error = parse_path(bad).expect_err("malformed");
            assert_eq!(error.code, 2500, "{bad}");
        }
    }

    #[test]
    fn only_the_writes_in_the_route_table_are_routed() {
        let mut world = crate::seed::seeded_world(chrono::Utc::now());
        let viewer = Viewer {
            user_id: 100_001,
            token: "demo-admin".to_owned(),
            permissions: Default::default(),
        };
        let params = Params::default();
        let mut routed = |method, node, edge| {
            write_route(&mut world, &viewer, method, node, edge, &params).is_some()
        };
        assert!(routed(
            GraphMethod::Post,
            NodeRef::User(100_001),
            Some("businesses")
        ));
        assert!(routed(GraphMethod::Post, NodeRef::Business(200_001), None));
        assert!(routed(
            GraphMethod::Delete,
            NodeRef::Business(200_001),
            None
        ));
        assert!(!routed(
            GraphMethod::Post,
            NodeRef::User(100_001),
            Some("accounts")
        ));
        assert!(!routed(GraphMethod::Post, NodeRef::Page(300_001), None));
        for method in [GraphMethod::Post, GraphMethod::Delete] {
            assert!(routed(
                method,
                NodeRef::Business(200_001),
                Some("userpermissions")
            ));
        }
        assert!(routed(GraphMethod::Post, NodeRef::Persona(600_001), None));
        assert!(!routed(
            GraphMethod::Delete,
            NodeRef::Persona(600_001),
            None
        ));
        assert!(!routed(
            GraphMethod::Delete,
            NodeRef::User(100_001),
            Some("businesses")
        ));
        for method in [GraphMethod::Post, GraphMethod::Delete] {
            assert!(routed(
                method,
                NodeRef::Business(200_001),
                Some("finance_permissions")
            ));
        }
        assert!(routed(
            GraphMethod::Post,
            NodeRef::Business(200_001),
            Some("adaccount")
        ));
        assert!(routed(GraphMethod::Post, NodeRef::AdAccount(400_001), None));
        assert!(!routed(
            GraphMethod::Delete,
            NodeRef::AdAccount(400_001),
            None
        ));
        for edge in ["business_invoices", "creditcards", "extendedcredits"] {
            assert!(!routed(
                GraphMethod::Post,
                NodeRef::Business(200_001),
                Some(edge)
            ));
        }
    }

    #[test]
    fn the_journal_drops_credentials_from_queries() {
        assert_eq!(
            journal_query("fields=id%2Cname&access_token=x&appsecret_proof=y&limit=2"),
            "fields=id%2Cname&limit=2"
        );
    }
}
