//! Logs: JSON lines on stderr (stdout is left to command output such as tokens); each line of a request carries its request id, tenant and
//! principal (the fields of the `request` span).

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// `CIVITAS_LOG` (or `RUST_LOG`) sets the filter, `info` by default; `CIVITAS_LOG_FORMAT=text`
/// gives human-readable lines instead of JSON.
pub fn init() {
    let filter = EnvFilter::try_from_env("CIVITAS_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let text = std::env::var("CIVITAS_LOG_FORMAT").is_ok_and(|v| v == "text");
    let registry = tracing_subscriber::registry().with(filter);
    let result = if text {
        registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init()
    } else {
        registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    };
    // Already set (tests initialise more than once): keep the first.
    let _ = result;
}
