//! One body floods the server while the others' operators open citizen views: their p99
//! is compared with a run without the flood, in the same invocation.

use serde::Serialize;

use super::driver::{self, LoadResult};
use super::layout::Layout;
use super::layout::tenant_slug;
use super::scenarios::{Bodies, Scenario, workload};
use super::{FairnessArgs, load_options, tokens};
use crate::config::Config;
use crate::dev_issuer::{DevIssuer, TokenRequest};
use civitas_tenants::{PrincipalKind, Role};

/// The body that floods: the first generated one.
pub const FLOODER: u32 = 0;

#[derive(Debug, Serialize)]
pub struct FairnessOutcome {
    pub layout: Layout,
    pub clients: usize,
    pub flood_clients: usize,
    /// The other bodies' citizen views, alone.
    pub baseline: LoadResult,
    /// The same, while the flooding body sends as fast as it is answered.
    pub under_flood: LoadResult,
    pub flood: LoadResult,
    /// How much the other bodies' p99 grew, in percent.
    pub p99_degradation_pct: f64,
}

/// Sets the flooding body's settings as the platform administrator would: its limits for
/// the run, then back to the generated body's (none), so that later runs are not limited.
pub(crate) async fn set_flooder_settings(
    config: &Config,
    base_url: &str,
    settings: serde_json::Value,
) -> anyhow::Result<()> {
    let issuer = DevIssuer::load_or_create(&config.data_dir)?;
    let token = issuer.mint(&TokenRequest {
        subject: "bench-platform-admin".into(),
        kind: PrincipalKind::Operator,
        name: None,
        tenant: None,
        roles: vec![Role::PlatformAdmin],
        fiscal_code: None,
        ttl: chrono::Duration::minutes(10),
    })?;
    // Right after the flood the body's bucket is empty: a refusal is waited out, not fatal.
    for _ in 0..50 {
        let resp: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/graphql", base_url.trim_end_matches('/')))
            .bearer_auth(&token)
            .header("x-civitas-tenant", tenant_slug(FLOODER))
            .json(&serde_json::json!({
                "query": "mutation($s: JSON!) { updateTenantSettings(settings: $s) { slug } }",
                "variables": { "s": settings },
            }))
            .send()
            .await?
            .json()
            .await?;
        match resp.get("errors") {
            None => return Ok(()),
            Some(e) if e[0]["extensions"]["code"] == "RATE_LIMITED" => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Some(_) => anyhow::bail!("setting the flooding body's settings: {resp}"),
        }
    }
    anyhow::bail!("setting the flooding body's settings: still rate-limited after 5 s")
}

pub async fn run(config: &Config, fa: &FairnessArgs) -> anyhow::Result<FairnessOutcome> {
    let rps = fa.flood_limit;
    let limits = serde_json::json!({ "limits": {
        "tenantRps": rps, "tenantBurst": rps, "principalRps": rps, "principalBurst": rps } });
    set_flooder_settings(config, &fa.run.url, limits).await?;
    let outcome = measure(config, fa).await;
    set_flooder_settings(config, &fa.run.url, serde_json::json!({})).await?;
    outcome
}

async fn measure(config: &Config, fa: &FairnessArgs) -> anyhow::Result<FairnessOutcome> {
    let args = &fa.run;
    let layout = Layout::load(&config.data_dir)?;
    let tokens = tokens(config, &layout, args.seed)?;
    let others = workload(
        Scenario::CitizenView,
        layout,
        tokens.clone(),
        Bodies::AllBut(FLOODER),
        args.seed,
    );
    let flooder = workload(
        Scenario::CitizenView,
        layout,
        tokens,
        Bodies::Only(FLOODER),
        args.seed,
    );
    let opts = load_options(args);
    let baseline = driver::run(others.clone(), &opts).await?;
    let flood_opts = driver::LoadOptions {
        seed: opts.seed ^ 0xF100D,
        clients: fa.flood_clients,
        ..opts.clone()
    };
    let (under_flood, flood) = tokio::join!(
        driver::run(others, &opts),
        driver::run(flooder, &flood_opts)
    );
    let under_flood = under_flood?;
    Ok(FairnessOutcome {
        layout,
        clients: args.clients,
        flood_clients: flood_opts.clients,
        p99_degradation_pct: (under_flood.p99_ms / baseline.p99_ms.max(1e-9) - 1.0) * 100.0,
        baseline,
        under_flood,
        flood: flood?,
    })
}
