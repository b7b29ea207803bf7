//! SIGTERM under load: requests in flight finish, acknowledged writes are kept, the process
//! exits cleanly.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::{civitas, run, start_server, start_server_with, stdout};

#[tokio::test]
async fn sigterm_under_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tmp");
    // The load comes from one operator: on a fast machine it outruns the default per-principal
    // rate limit, and a refusal is not what this test is about.
    let config = dir.path().join("unlimited.toml");
    std::fs::write(&config, "principal_rps = 100000\nprincipal_burst = 100000\ntenant_rps = 100000\ntenant_burst = 100000\n")
        .expect("config");
    let mut cmd = civitas(dir.path());
    cmd.env("CIVITAS_CONFIG", &config);
    let mut server = start_server_with(cmd);
    let token = stdout(&run(civitas(dir.path()).args([
        "dev",
        "token",
        "--subject",
        "roma-op",
        "--tenant",
        "roma",
        "--roles",
        "operator",
    ])))
    .trim()
    .to_owned();
    let url = format!("http://{}/graphql", server.addr);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let failed: Arc<Mutex<Vec<String>>> = Arc::default();

    let mut clients = Vec::new();
    for worker in 0..8 {
        let (url, token, acked, failed) =
            (url.clone(), token.clone(), acked.clone(), failed.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let started = Instant::now();
            for i in 0.. {
                if started.elapsed() > Duration::from_secs(20) {
                    break;
                }
                let q = json!({ "query": "mutation($g: String!) { registerCitizen(input: { givenName: $g, familyName: \"Carico\" }) { id } }",
                                "variables": { "g": format!("w{worker}n{i}") } });
                let resp = match client.post(&url).bearer_auth(&token).json(&q).send().await {
                    Ok(r) => r,
                    // The server no longer accepts connections: this request never started.
                    Err(_) => break,
                };
                let status = resp.status().as_u16();
                match resp.json::<Value>().await {
                    Ok(body) if status == 200 && body.get("errors").is_none() => {
                        acked.lock().expect("lock").push(body["data"]["registerCitizen"]["id"].as_str().unwrap_or("").to_owned());
                    }
                    Ok(body) => failed.lock().expect("lock").push(format!("{status}: {body}")),
                    // Cut while reading: only possible if the server dropped a request in flight.
                    Err(e) => failed.lock().expect("lock").push(format!("{status}: body lost: {e}")),
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = acked.lock().expect("lock").len();
    assert!(before > 0, "the load is running");
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    for c in clients {
        c.await.expect("client");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit");
    let failed = failed.lock().expect("lock").clone();
    assert!(
        failed.is_empty(),
        "requests failed during shutdown: {failed:?}"
    );

    // Every acknowledged registration is there after a restart.
    let acked = acked.lock().expect("lock").clone();
    let server = start_server(dir.path());
    let url = format!("http://{}/graphql", server.addr);
    let client = reqwest::Client::new();
    let mut found = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body: Value = client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "query": "query($a: String) { searchCitizens(name: \"carico\", first: 100, after: $a) { items { id } nextCursor } }", "variables": { "a": after } }))
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("json");
        let page = &body["data"]["searchCitizens"];
        found.extend(
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_str().map(str::to_owned)),
        );
        match page["nextCursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !found.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost: {missing:?}",
        missing.len()
    );
    assert!(
        acked.len() > before,
        "requests kept completing during the test"
    );
}
