//! Logs and traces. Logs: JSON lines on stderr (stdout is left to command output such as
//! tokens); each line of a request carries its request id, tenant and principal (the fields
//! of the `request` span). Traces: the same spans (requests, GraphQL parsing, validation and
//! resolvers) exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt, prelude::*};

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes what is buffered.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(p) = self.traces
            && let Err(e) = p.shutdown()
        {
            eprintln!("civitas: flushing traces: {e}");
        }
    }
}

fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
}

fn tracer_provider() -> Option<SdkTracerProvider> {
    if !otlp_configured() {
        return None;
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("civitas: traces will not be exported: {e}");
            return None;
        }
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("civitas")
        .build();
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

/// The default filter of traces; logs leave out the per-resolver spans of async-graphql,
/// which no log line prints and which cost a formatted span per field of every response.
const TRACE_FILTER: &str = "info,sqlx=warn,sea_orm=warn";
const LOG_FILTER: &str = "info,sqlx=warn,sea_orm=warn,async_graphql=warn";

/// `CIVITAS_LOG` (or `RUST_LOG`) sets the filter of both, `info` by default. Lines are
/// human-readable when stderr is a terminal (someone running `civitas serve` by hand) and
/// JSON otherwise (a log collector); `CIVITAS_LOG_FORMAT=text` or `json` decides instead.
/// Whether log lines are text rather than JSON: as `CIVITAS_LOG_FORMAT` says, else text on a
/// terminal.
fn text_logs(format: Option<&str>, terminal: bool) -> bool {
    match format {
        Some("text") => true,
        Some("json") => false,
        _ => terminal,
    }
}

pub fn init() -> Telemetry {
    let filter_or = |default: &str| {
        EnvFilter::try_from_env("CIVITAS_LOG")
            .or_else(|_| EnvFilter::try_from_default_env())
            .unwrap_or_else(|_| EnvFilter::new(default))
    };
    let filter = || filter_or(LOG_FILTER);
    let text = text_logs(
        std::env::var("CIVITAS_LOG_FORMAT").ok().as_deref(),
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if text {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed()
    } else {
        fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed()
    };
    let traces = tracer_provider();
    let otel = traces.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("civitas"))
            .with_filter(filter_or(TRACE_FILTER))
    });
    // Already set (tests initialise more than once): keep the first. Not `.with(otel)` on the
    // Option: a `None` layer declares interest in every callsite, so every span (one per
    // GraphQL field among them) would be built in the registry with nothing to record it.
    let registry = tracing_subscriber::registry().with(logs);
    let _ = match otel {
        Some(otel) => registry.with(otel).try_init(),
        None => registry.try_init(),
    };
    Telemetry { traces }
}

#[cfg(test)]
mod format_tests {
    use super::text_logs;

    #[test]
    fn logs_are_text_on_a_terminal_unless_told_otherwise() {
        assert!(text_logs(None, true));
        assert!(!text_logs(None, false));
        assert!(!text_logs(Some("json"), true));
        assert!(text_logs(Some("text"), false));
        assert!(text_logs(Some("other"), true));
    }
}
