//! The `civitas` server: configuration, the HTTP shell around the GraphQL schema, the
//! development token issuer, telemetry and the demo data set.

// The merged GraphQL root types nest one level per module; their layout needs more.
#![recursion_limit = "256"]

pub mod app;
pub mod bench;
pub mod blobs;
pub mod config;
pub mod demo;
mod demo_places;
pub mod dev_issuer;
mod document;
mod files;
pub mod gateways;
mod graphiql;
mod http;
pub mod idempotency;
pub mod identity;
mod invalidation;
pub mod limits;
mod logo;
pub mod mailer;
pub mod metrics;
pub mod notify;
mod open311;
pub mod outbound;
mod passes;
mod portal;
pub mod telemetry;
mod unsubscribe;
pub mod webhooks;

pub use app::{App, build, build_with_clock};
pub use config::{Config, Environment};

use std::sync::Arc;

use anyhow::Context;

/// Builds the HTTP router of an app (for tests and for [`serve`]).
pub fn router(app: Arc<App>) -> axum::Router {
    http::router(app)
}

/// Runs the server until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let app = Arc::new(build(config).await?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, dev = app.config.dev, "civitas listening");
    let grace = std::time::Duration::from_secs(app.config.shutdown_grace_seconds);
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = stopping.clone();
    let server = axum::serve(listener, router(app.clone())).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!(
            grace_seconds = grace.as_secs(),
            "stopping: no new connections, finishing requests in flight"
        );
        signalled.notify_one();
    });
    // In-flight requests get the grace period; then the process stops regardless (a
    // subscription or a hung client must not hold a rolling upgrade).
    let deadline = async {
        stopping.notified().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r?,
        _ = deadline => tracing::warn!("grace period over with requests still open; stopping anyway"),
    }
    app.stop_background_tasks();
    tracing::info!("civitas stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
