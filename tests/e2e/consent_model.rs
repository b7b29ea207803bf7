//! A model-based test of consented sharing: random sequences of grants, revocations,
//! expiries (a moving clock) and reads by operators of random bodies, each read checked
//! against a small in-memory model of who may see what.

use std::collections::BTreeSet;

use civitas_tenants::Role;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const TENANTS: [&str; 3] = ["alfa", "beta", "gamma"];
const PERSONS: [&str; 3] = ["RSSMRA85T10A562S", "BNCLRA90D45F205B", "VRDGPP80A01H501U"];

/// A small deterministic generator, so that a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Consent {
    id: Value,
    person: usize,
    source: Option<usize>,
    grantee: usize,
    profile: bool,
    /// Minutes on the model's clock.
    expires: Option<i64>,
    revoked: bool,
}

struct Model {
    registered: [[bool; 3]; 3],
    consents: Vec<Consent>,
    now: i64,
}

impl Model {
    fn visible(&self, reader: usize, person: usize) -> BTreeSet<&'static str> {
        (0..TENANTS.len())
            .filter(|&t| self.registered[person][t])
            .filter(|&t| {
                t == reader
                    || self.consents.iter().any(|c| {
                        c.person == person
                            && c.grantee == reader
                            && c.profile
                            && !c.revoked
                            && c.expires.is_none_or(|e| e > self.now)
                            && c.source.is_none_or(|s| s == t)
                    })
            })
            .map(|t| TENANTS[t])
            .collect()
    }
}

async fn observed(app: &TestApp, op: &str, person: &str) -> Option<BTreeSet<String>> {
    let body = app
        .gql(op, "query($fc: String) { citizenView(fiscalCode: $fc, purpose: \"citizen_contact\") { profiles { profile { tenant { slug } } } } }", json!({ "fc": person }))
        .await;
    if body.get("errors").is_some() {
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        return None;
    }
    Some(
        body["data"]["citizenView"]["profiles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                p["profile"]["tenant"]["slug"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect(),
    )
}

#[rstest]
#[tokio::test]
async fn sharing_matches_the_model(
    #[values(Sqlite, Postgres)] backend: Backend,
    #[values(7, 1234, 987654321)] seed: u64,
) {
    let app = TestApp::spawn(backend).await;
    let mut rng = Rng(seed);
    let mut ops = Vec::new();
    for slug in TENANTS {
        app.onboard(slug).await;
        ops.push(
            app.member(slug, &format!("{slug}-op"), Role::Operator)
                .await,
        );
    }
    let mut model = Model {
        registered: [[false; 3]; 3],
        consents: Vec::new(),
        now: 0,
    };
    for (p, code) in PERSONS.iter().enumerate() {
        for (t, op) in ops.iter().enumerate() {
            if rng.chance(60) {
                app.register(op, Some(code), "Nome", "Cognome", &[]).await;
                model.registered[p][t] = true;
            }
        }
    }
    let base = chrono::Utc::now();
    let mut shared_reads = 0;

    for step in 0..60 {
        match rng.below(10) {
            0..=2 => {
                let person = rng.below(3);
                let grantee = rng.below(3);
                let source = if rng.chance(40) {
                    None
                } else {
                    Some(rng.below(3))
                };
                if source == Some(grantee) {
                    continue;
                }
                let profile = rng.chance(75);
                let expires = if rng.chance(50) {
                    Some(model.now + 1 + rng.below(30) as i64)
                } else {
                    None
                };
                let input = json!({
                    "source": source.map(|s| TENANTS[s]),
                    "grantee": TENANTS[grantee],
                    "scopes": if profile { json!(["PROFILE"]) } else { json!(["CASES", "INTERACTIONS"]) },
                    "purpose": format!("step {step}"),
                    "expiresAt": expires.map(|m| (base + chrono::Duration::minutes(m)).to_rfc3339()),
                });
                let body = app.gql(&app.citizen(PERSONS[person]), "mutation($i: GrantSharingConsentInput!) { grantSharingConsent(input: $i) { id } }", json!({ "i": input })).await;
                assert_no_errors(&body);
                let id = body["data"]["grantSharingConsent"]["id"].clone();
                model.consents.push(Consent {
                    id,
                    person,
                    source,
                    grantee,
                    profile,
                    expires,
                    revoked: false,
                });
            }
            3 => {
                let live: Vec<usize> = (0..model.consents.len())
                    .filter(|&i| !model.consents[i].revoked)
                    .collect();
                if live.is_empty() {
                    continue;
                }
                let c = &mut model.consents[live[rng.below(live.len())]];
                let body = app
                    .gql(
                        &app.citizen(PERSONS[c.person]),
                        "mutation($id: ID!) { revokeSharingConsent(id: $id) { id } }",
                        json!({ "id": c.id }),
                    )
                    .await;
                assert_no_errors(&body);
                c.revoked = true;
            }
            4 => {
                let minutes = 1 + rng.below(15) as i64;
                app.clock.advance(chrono::Duration::minutes(minutes));
                model.now += minutes;
            }
            _ => {
                let reader = rng.below(3);
                let person = rng.below(3);
                let want = model.visible(reader, person);
                if want.iter().any(|t| *t != TENANTS[reader]) {
                    shared_reads += 1;
                }
                let got = observed(&app, &ops[reader], PERSONS[person]).await;
                let want = if want.is_empty() {
                    None
                } else {
                    Some(want.into_iter().map(str::to_owned).collect())
                };
                assert_eq!(
                    got, want,
                    "seed {seed}, step {step}: {} reading person {person} at minute {}",
                    TENANTS[reader], model.now
                );
            }
        }
    }
    assert!(
        shared_reads > 0,
        "seed {seed} never read another body's record: the sequence checks too little"
    );
}
