//! One body floods the server while the others' operators open citizen views: their p99
//! is compared with a run without the flood, in the same invocation.

use serde::Serialize;

use super::driver::{self, LoadResult};
use super::layout::Layout;
use super::scenarios::{Bodies, Scenario, workload};
use super::{RunArgs, load_options, tokens};
use crate::config::Config;

/// The body that floods: the first generated one.
const FLOODER: u32 = 0;

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

pub async fn run(config: &Config, args: &RunArgs) -> anyhow::Result<FairnessOutcome> {
    let layout = Layout::load(&config.data_dir)?;
    let tokens = tokens(config, &layout, args.seed)?;
    let others = workload(
        Scenario::CitizenView,
        layout,
        tokens.clone(),
        Bodies::AllBut(FLOODER),
    );
    let flooder = workload(Scenario::CitizenView, layout, tokens, Bodies::Only(FLOODER));
    let opts = load_options(args);
    let baseline = driver::run(others.clone(), &opts).await?;
    let flood_opts = driver::LoadOptions {
        seed: opts.seed ^ 0xF100D,
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
