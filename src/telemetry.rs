//! OpenTelemetry: spans exported over OTLP/HTTP (JSON) to a collector, off unless
//! `--otlp-endpoint` is given. One span per HTTP request (`http`, with its `request_id`, the
//! `x-request-id` every answer carries), one per GraphQL operation below it (`graphql`: the
//! operation name, `graph_calls`, `cache_hits`, the first error code, the status) and one per
//! Graph call below that (`graph_call`: method, path of ids, Graph's error code). No span or
//! attribute holds a token: the spans are the log's spans, which never do.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The endpoint is not an `http://` URL.
    #[error(
        "invalid --otlp-endpoint {0:?}: give the http:// URL of an OTLP/HTTP collector, e.g. \
         http://127.0.0.1:4318 (https is not supported: run a collector or agent beside the \
         gateway)"
    )]
    Endpoint(String),
    /// The exporter could not be built.
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(String),
}

/// The span exporter, to be shut down (flushing what is buffered) when the process ends.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Sends the spans still buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("the OTLP exporter did not shut down cleanly: {error}");
        }
    }
}

/// The traces URL of `endpoint`: a base URL gets OTLP's `/v1/traces`; a URL that already ends
/// with it is used as is.
pub fn traces_url(endpoint: &str) -> Result<String, TelemetryError> {
    let parsed =
        url::Url::parse(endpoint).map_err(|_| TelemetryError::Endpoint(endpoint.to_owned()))?;
    if parsed.scheme() != "http" || parsed.host().is_none() {
        return Err(TelemetryError::Endpoint(endpoint.to_owned()));
    }
    let trimmed = endpoint.trim_end_matches('/');
    Ok(if trimmed.ends_with("/v1/traces") {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/v1/traces")
    })
}

/// The layer that exports this crate's spans to the collector at `endpoint` (batched; the
/// batch's delay and size follow the standard `OTEL_BSP_*` variables), and the handle that
/// flushes it.
pub fn layer<S>(
    endpoint: &str,
) -> Result<(impl Layer<S> + Send + Sync + 'static, Telemetry), TelemetryError>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(traces_url(endpoint)?)
        .build()
        .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder_empty()
                .with_service_name("bizgraph")
                .build(),
        )
        .build();
    let tracer = provider.tracer("bizgraph");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        // The gateway's own spans and events, not those of the libraries below it.
        .with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
            metadata.target().starts_with("bizgraph")
        }));
    Ok((layer, Telemetry { provider }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_url_is_otlps_path_below_the_endpoint_and_only_http_is_taken() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318").ok().as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            traces_url("http://collector:4318/v1/traces/")
                .ok()
                .as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        for bad in ["https://collector:4318", "collector:4318", "", "ftp://x"] {
            assert!(traces_url(bad).is_err(), "{bad}");
        }
    }
}
