//! CORS: configured origins may call from browsers, others may not.

#[tokio::test]
async fn a_configured_origin_may_call_from_a_browser_and_others_may_not() {
    let app = crate::helpers::spawn_app_configured(|settings| {
        settings.server.cors_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.gateway))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn an_invalid_cors_origin_stops_the_gateway_from_starting() {
    let mut settings = bizgraph::Settings::for_upstream("http://127.0.0.1:9");
    settings.server.cors_origins = vec!["app.example.com/".to_owned()];
    let error = bizgraph::Application::build(settings).await.err().unwrap();
    assert!(error.to_string().contains("app.example.com/"), "{error}");
}
