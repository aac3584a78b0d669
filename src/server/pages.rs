//! The pages the gateway serves beside /graphql: GraphiQL and its embedded files, the SDL,
//! health and metrics.

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;

/// The query GraphiQL opens with: the README's first query.
const FIRST_QUERY: &str = "{
  viewer {
    name
    businesses(first: 10) {
      nodes { id name vertical primaryPage { name } }
    }
  }
}
";

/// A file the GraphiQL page loads, embedded in the binary.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// GraphiQL's browser build with React and ReactDOM (vendored by `scripts/vendor-graphiql.sh`,
/// versions in `assets/vendor/VERSIONS`), and the page's own script, style and icon.
const ASSETS: &[Asset] = &[
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/vendor/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/vendor/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/vendor/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/vendor/graphiql.min.css"),
    },
    Asset {
        name: "bizgraph-graphiql.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/bizgraph-graphiql.js"),
    },
    Asset {
        name: "bizgraph-graphiql.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/bizgraph-graphiql.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("assets/favicon.svg"),
    },
];

/// Where the assets are served; each URL carries a digest of the file, so they can be cached
/// for good and a new binary's files are fetched afresh.
pub(super) const ASSETS_PATH: &str = "/graphiql/assets";

/// The GraphiQL page's policy: scripts, styles, fonts, images and connections from this origin
/// only (GraphiQL's fonts and icons are `data:` URLs inside its CSS; `'self'` covers the
/// WebSocket to this origin). GraphiQL's dialogs add a `<style>` element of their own (the
/// scroll lock of `react-remove-scroll-bar`), hence `'unsafe-inline'` for styles, never for
/// scripts.
pub(super) const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's template with each asset's URL: its path and the first bytes of its sha256,
/// computed once per process (the files are fixed at build time).
static GRAPHIQL_TEMPLATE: LazyLock<String> = LazyLock::new(|| {
    ASSETS.iter().fold(
        include_str!("assets/graphiql.html").to_owned(),
        |page, asset| {
            let digest = Sha256::digest(asset.bytes);
            let url = format!(
                "{ASSETS_PATH}/{}?v={}",
                asset.name,
                hex::encode(&digest[..8])
            );
            page.replace(&format!("{{{{asset:{}}}}}", asset.name), &url)
        },
    )
});

/// GraphiQL's page: the vendored GraphiQL on `/graphql`, opening with the README's first query
/// and, when the embedded sandbox runs, its demo token in the headers editor (sent on queries
/// and in `connection_init` for subscriptions).
pub(super) fn graphiql_page_html(demo_token: Option<&str>) -> String {
    let config = serde_json::json!({
        "query": FIRST_QUERY,
        "authorization": demo_token.map(|token| format!("Bearer {token}")),
    });
    // `<` is escaped so that nothing in the data can close the script element.
    let config = config.to_string().replace('<', "\\u003c");
    GRAPHIQL_TEMPLATE.replace(
        "<!--CONFIG-->",
        &format!(r#"<script type="application/json" id="bizgraph-config">{config}</script>"#),
    )
}

pub(super) async fn graphiql_page(State(state): State<Arc<AppState>>) -> Response {
    (
        [
            (CONTENT_SECURITY_POLICY, GRAPHIQL_CSP),
            (CACHE_CONTROL, "no-cache"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(state.graphiql.clone()),
    )
        .into_response()
}

/// `/graphiql/assets/{name}`: an embedded file, cacheable for a year.
pub(super) async fn graphiql_asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => (
            [
                (CONTENT_TYPE, asset.content_type),
                (CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
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

/// Readiness with the shared Redis's state: `{"ready": true, "redis": "ok"}` (or `"none"`
/// without `--redis-url`, `"unavailable"` when a PING fails or Redis is being skipped after
/// failures). Not ready (503) only when Redis is unavailable and `--redis-required`: otherwise
/// the gateway serves from memory and Graph.
pub(super) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let redis = match &state.redis {
        None => "none",
        Some(redis) => match redis.ping().await {
            Ok(()) => "ok",
            Err(_) => "unavailable",
        },
    };
    let ready = !(state.redis_required && redis == "unavailable");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({"ready": ready, "redis": redis})),
    )
        .into_response()
}

pub(super) async fn sdl(State(state): State<Arc<AppState>>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.sdl.clone(),
    )
        .into_response()
}
