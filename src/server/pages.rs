//! The pages the gateway serves beside /graphql: GraphiQL, the offline explorer, the SDL, health and metrics.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

/// The query both explorers open with: the README's first query.
const FIRST_QUERY: &str = "{
  viewer {
    name
    businesses(first: 10) {
      nodes { id name vertical primaryPage { name } }
    }
  }
}
";

/// GraphiQL's page loads its scripts from a CDN; on a machine without internet it would stay
/// blank, so after a few seconds without GraphiQL it sends the visitor to the offline explorer.
pub(super) const GRAPHIQL_FALLBACK: &str = r#"<script>
  setTimeout(function () {
    if (typeof window.GraphiQL === "undefined") { window.location.replace("/explorer?from=graphiql"); }
  }, 8000);
</script>"#;

/// The offline explorer page (no script from outside), with its start query and token.
pub(super) fn explorer_page(demo_token: Option<&str>) -> String {
    let config = serde_json::json!({"query": FIRST_QUERY, "token": demo_token});
    // `<` is escaped so that nothing in the data can close the script element.
    let config = config.to_string().replace('<', "\\u003c");
    include_str!("explorer.html").replace(
        "<!--CONFIG-->",
        &format!(r#"<script type="application/json" id="config">{config}</script>"#),
    )
}

pub(super) async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}

pub(super) async fn healthz() -> &'static str {
    "ok"
}

pub(super) async fn graphiql_page(State(state): State<Arc<AppState>>) -> Html<String> {
    Html(state.graphiql.clone())
}

pub(super) async fn explorer_page_handler(State(state): State<Arc<AppState>>) -> Html<String> {
    Html(state.explorer.clone())
}

pub(super) async fn sdl(State(state): State<Arc<AppState>>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.sdl.clone(),
    )
        .into_response()
}
