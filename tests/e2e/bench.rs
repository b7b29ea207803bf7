//! The benchmark harness at a tiny size: the generator loads a data set through the schema,
//! every scenario runs without an error against a real server, pgbench runs every script
//! as the application role, and the fairness run shows the flooding body RATE_LIMITED. A
//! smoke test only: nothing here is timed (docs/performance.md has the figures).

use civitas::bench::layout::Layout;
use civitas::bench::layout::tenant_slug;
use civitas::bench::scenarios::Scenario;
use civitas::bench::{FairnessArgs, RunArgs, fairness, generate, run};
use civitas_tenants::{TenantSlug, registry};
use rstest::{fixture, rstest};
use sea_orm::{ConnectionTrait, Database};

use crate::harness::*;

const TINY: Layout = Layout {
    tenants: 4,
    persons: 400,
    profiles_per_person: 3,
    cases: 1_200,
    consents: 80,
};

/// A server on PostgreSQL with a tiny generated data set.
#[fixture]
async fn city() -> TestApp {
    // The bench measures the server, not the default limits: on a fast machine two clients
    // of one operator pass the default 100 requests/s of a principal.
    let app = TestApp::spawn_with(Postgres, |c| {
        c.default_limits = civitas::limits::Limits {
            tenant_rps: 1e6,
            tenant_burst: 1e6,
            principal_rps: 1e6,
            principal_burst: 1e6,
            max_concurrent: 1024,
        }
    })
    .await;
    let owner = app
        .config
        .migration_database_url
        .clone()
        .expect("owner url");
    generate::generate(&owner, &TINY, &app.data_dir)
        .await
        .expect("generate");
    TINY.save(&app.data_dir).expect("manifest");
    app
}

fn args(app: &TestApp) -> RunArgs {
    RunArgs {
        scenario: vec![],
        url: format!("http://{}", app.addr),
        clients: 2,
        seconds: 1.0,
        warmup: 0.2,
        seed: 3,
        pgbench: true,
        json: None,
    }
}

#[rstest]
#[tokio::test(flavor = "multi_thread")]
async fn the_generator_loads_what_the_layout_says(#[future] city: TestApp) {
    let app = city.await;
    let owner = app
        .config
        .migration_database_url
        .clone()
        .expect("owner url");
    let db = Database::connect(owner).await.expect("connect");
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .expect("query")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("count") as u64
        }
    };
    assert_eq!(count("SELECT count(*) FROM persons").await, TINY.persons);
    assert_eq!(
        count("SELECT count(*) FROM profiles").await,
        TINY.persons * 3
    );
    assert_eq!(count("SELECT count(*) FROM cases").await, TINY.cases);
    assert_eq!(
        count("SELECT count(*) FROM sharing_consents").await,
        TINY.consents
    );
    // Every case has its history; every case that moved, its status change too.
    assert_eq!(
        count("SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.kind = 'created')").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM tenants WHERE slug LIKE 'bench-%'").await,
        u64::from(TINY.tenants)
    );
    // One file per person, on a case of theirs, its bytes once per body on disk.
    assert_eq!(
        count("SELECT count(*) FROM attachments a JOIN cases c ON c.id = a.case_id AND c.person_id = a.person_id").await,
        TINY.persons
    );
    let stored: Vec<_> = std::fs::read_dir(app.data_dir.join("attachments"))
        .expect("the attachment store")
        .flatten()
        .collect();
    assert_eq!(stored.len() as u32, TINY.tenants);
}

#[rstest]
#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_runs_clean_and_so_does_pgbench(#[future] city: TestApp) {
    let app = city.await;
    let outcomes = run(&app.config, &args(&app)).await.expect("bench run");
    assert_eq!(outcomes.len(), Scenario::ALL.len());
    for o in &outcomes {
        assert!(o.server.ok > 0, "{}: no request succeeded", o.scenario);
        assert!(
            o.server.errors.is_empty(),
            "{}: {:?}",
            o.scenario,
            o.server.errors
        );
        let pg = o.pgbench.as_ref().expect("pgbench ran");
        assert!(pg.transactions > 0, "{}: pgbench did nothing", o.scenario);
    }
}

#[rstest]
#[tokio::test(flavor = "multi_thread")]
async fn the_fairness_run_limits_the_flooding_body_only(#[future] city: TestApp) {
    let app = city.await;
    let fa = FairnessArgs {
        run: RunArgs {
            pgbench: false,
            ..args(&app)
        },
        flood_clients: 4,
        flood_limit: 5.0,
    };
    let out = fairness::run(&app.config, &fa).await.expect("fairness run");
    assert!(out.baseline.ok > 0 && out.under_flood.ok > 0);
    assert!(out.baseline.errors.is_empty(), "{:?}", out.baseline.errors);
    assert!(
        out.under_flood.errors.is_empty(),
        "{:?}",
        out.under_flood.errors
    );
    assert!(
        out.flood.errors.get("RATE_LIMITED").copied().unwrap_or(0) > 0,
        "the flooding body was never limited: {:?}",
        out.flood
    );
    let slug = TenantSlug::parse(&tenant_slug(fairness::FLOODER)).expect("slug");
    let flooder = registry::find_by_slug(&app.app.db, &slug)
        .await
        .expect("lookup")
        .expect("flooding body");
    assert_eq!(
        flooder.settings,
        serde_json::json!({}),
        "the run gives the flooding body back its settings, so later runs are not limited"
    );
}

#[rstest]
#[tokio::test(flavor = "multi_thread")]
async fn the_drain_run_sends_every_queued_mail_to_a_real_smtp_server(#[future] city: TestApp) {
    let app = city.await;
    let sink = crate::smtp::SmtpSink::start();
    let da = civitas::bench::drain::DrainArgs {
        run: RunArgs {
            pgbench: false,
            ..args(&app)
        },
        count: 40,
        smtp_port: sink.port,
        server_pid: Some(std::process::id()),
        owner_url: app
            .config
            .migration_database_url
            .clone()
            .expect("owner url"),
        timeout: 60.0,
    };
    let out = civitas::bench::drain::run(&app.config, &da)
        .await
        .expect("drain run");
    assert_eq!((out.sent, out.failed_or_skipped), (40, 0));
    assert!(out.rss_peak_mb.is_some_and(|m| m > 0.0));
    assert!(out.baseline.errors.is_empty() && out.under_drain.errors.is_empty());
    assert_eq!(
        sink.received().len(),
        40,
        "each one reached the SMTP server"
    );
}
