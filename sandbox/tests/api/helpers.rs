//! Test helpers: start a sandbox on a free port and talk raw HTTP to it.

use graph_sandbox::{RunningSandbox, SandboxSettings, spawn};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::net::TcpListener;

/// A sandbox serving on a free port, and a client for it.
pub struct TestSandbox {
    /// Keeps the server task's handle alive for the test's duration.
    pub running: RunningSandbox,
    pub client: reqwest::Client,
}

/// One HTTP answer: status, headers and the JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// A JSON header (`x-app-usage`...) parsed.
    pub fn json_header(&self, name: &str) -> Value {
        serde_json::from_str(self.header(name)).expect("header holds JSON")
    }

    /// The body with `error.fbtrace_id` removed, for whole-JSON comparisons.
    pub fn body_without_trace(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
            error.remove("fbtrace_id");
        }
        body
    }

    /// The error code of an error body.
    pub fn error_code(&self) -> i64 {
        self.body["error"]["code"].as_i64().unwrap_or(-1)
    }
}

/// A sandbox with default settings.
pub async fn spawn_sandbox() -> TestSandbox {
    spawn_sandbox_with(SandboxSettings::default()).await
}

/// A sandbox with the given settings.
pub async fn spawn_sandbox_with(settings: SandboxSettings) -> TestSandbox {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free local port");
    let running = spawn(listener, settings).await.expect("sandbox starts");
    TestSandbox {
        running,
        client: reqwest::Client::new(),
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

impl TestSandbox {
    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// GET with query parameters (no token added).
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let response = self
            .client
            .get(self.url(path))
            .query(query)
            .send()
            .await
            .expect("GET is answered");
        reply(response).await
    }

    /// GET as a token, passed in the query string.
    pub async fn get_as(&self, token: &str, path: &str, query: &[(&str, &str)]) -> Reply {
        let mut query = query.to_vec();
        query.push(("access_token", token));
        self.get(path, &query).await
    }

    /// GET of an absolute URL, such as a paging link.
    pub async fn get_url(&self, url: &str) -> Reply {
        let response = self.client.get(url).send().await.expect("GET is answered");
        reply(response).await
    }

    /// POST with a url-encoded form body (no token added).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let response = self
            .client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST is answered");
        reply(response).await
    }

    /// POST a form as a token, passed in the form.
    pub async fn post_as(&self, token: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        let mut form = form.to_vec();
        form.push(("access_token", token));
        self.post_form(path, &form).await
    }

    /// DELETE as a token.
    pub async fn delete_as(&self, token: &str, path: &str) -> Reply {
        let response = self
            .client
            .delete(self.url(path))
            .query(&[("access_token", token)])
            .send()
            .await
            .expect("DELETE is answered");
        reply(response).await
    }

    /// A control-plane POST with a JSON body.
    pub async fn control(&self, path: &str, body: Value) -> Reply {
        let response = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("control plane answers");
        reply(response).await
    }

    /// The control plane's `requests` counter.
    pub async fn request_count(&self) -> u64 {
        let stats = self.get("/__sandbox/stats", &[]).await;
        stats.body["requests"].as_u64().expect("a request count")
    }

    /// Creates a user through the control plane; answers (id, token).
    pub async fn new_user(&self, name: &str, body_extra: Value) -> (String, String) {
        let mut body = serde_json::json!({ "name": name });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), body_extra.as_object()) {
            body.extend(extra.clone());
        }
        let user = self.control("/__sandbox/users", body).await;
        assert_eq!(user.status, 200, "{:?}", user.body);
        (
            user.body["id"].as_str().expect("an id").to_owned(),
            user.body["access_token"]
                .as_str()
                .expect("a token")
                .to_owned(),
        )
    }
}

impl TestSandbox {
    /// DELETE as a token, with query parameters.
    pub async fn delete_with(&self, token: &str, path: &str, query: &[(&str, &str)]) -> Reply {
        let mut query = query.to_vec();
        query.push(("access_token", token));
        let response = self
            .client
            .delete(self.url(path))
            .query(&query)
            .send()
            .await
            .expect("DELETE is answered");
        reply(response).await
    }
}
