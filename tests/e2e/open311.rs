//! Open311 GeoReport v2: a city of nested bodies with areas, reports routed by place and
//! category, the spec's formats and errors, and a real client library (georeport, from
//! PyPI) driving the endpoint.

use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

/// Roma Capitale's territory, and inside it Municipio I (with a quartiere inside that) and
/// Municipio II; [lon, lat] squares as GeoJSON.
fn square(w: f64, s: f64, e: f64, n: f64) -> String {
    json!({ "type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]] })
        .to_string()
}

pub const IN_QUARTIERE: (f64, f64) = (41.895, 12.465);
pub const IN_MUN_I: (f64, f64) = (41.93, 12.42);
pub const IN_MUN_II: (f64, f64) = (41.90, 12.55);
pub const IN_ROMA_ONLY: (f64, f64) = (41.80, 12.30);
pub const OUTSIDE: (f64, f64) = (45.46, 9.19);

async fn body(app: &TestApp, slug: &str, kind: &str, parent: Option<&str>) {
    let b = app
        .gql(
            &app.platform_admin(),
            ONBOARD,
            json!({ "input": { "slug": slug, "displayName": format!("Ente {slug}"), "kind": kind,
                "parentSlug": parent, "admin": { "subject": format!("{slug}-admin"), "displayName": "Admin" } } }),
        )
        .await;
    assert_no_errors(&b);
}

async fn admin(app: &TestApp, slug: &str, query: &str, vars: Value) -> Value {
    let b = app.gql(&app.admin_of(slug), query, vars).await;
    assert_no_errors(&b);
    b
}

const POTHOLE: &str = r#"{ code: "BUCHE", name: "Buca stradale", area: "Strade", channels: ["app", "web"],
  customFields: [{ key: "profondita", label: "Profondità (cm)", type: NUMBER, required: true },
                 { key: "sede", label: "Dove", type: SELECT, options: ["carreggiata", "marciapiede"] }] }"#;

async fn service(app: &TestApp, slug: &str, input: &str) {
    admin(
        app,
        slug,
        &format!("mutation {{ createService(input: {input}) {{ code }} }}"),
        json!({}),
    )
    .await;
}

async fn area(app: &TestApp, slug: &str, name: &str, geojson: String) {
    admin(
        app,
        slug,
        "mutation($i: ServiceAreaInput!) { defineServiceArea(input: $i) { id vertices } }",
        json!({ "i": { "name": name, "geojson": geojson } }),
    )
    .await;
}

/// The city, and an Open311 key of Roma Capitale.
pub async fn city(backend: Backend) -> (TestApp, String) {
    let app = TestApp::spawn(backend).await;
    body(&app, "roma", "CAPITALE", None).await;
    body(&app, "mun-i", "MUNICIPIO", Some("roma")).await;
    body(&app, "mun-ii", "MUNICIPIO", Some("roma")).await;
    body(&app, "quartiere", "OTHER", Some("mun-i")).await;
    body(&app, "areti", "PARTECIPATA", Some("roma")).await;
    for slug in ["roma", "mun-i", "quartiere"] {
        service(&app, slug, POTHOLE).await;
    }
    service(
        &app,
        "areti",
        r#"{ code: "ILLUM", name: "Lampione spento", area: "Illuminazione" }"#,
    )
    .await;
    area(&app, "roma", "Territorio", square(12.2, 41.7, 12.8, 42.1)).await;
    area(
        &app,
        "mun-i",
        "Municipio I",
        square(12.4, 41.85, 12.5, 41.95),
    )
    .await;
    area(
        &app,
        "mun-ii",
        "Municipio II",
        square(12.5, 41.85, 12.6, 41.95),
    )
    .await;
    area(
        &app,
        "quartiere",
        "Rione",
        square(12.45, 41.88, 12.48, 41.91),
    )
    .await;
    admin(
        &app,
        "roma",
        "mutation { addRoutingRule(input: { serviceCode: \"ILLUM\", bodySlug: \"areti\" }) { id bodySlug } }",
        json!({}),
    )
    .await;
    let key = admin(
        &app,
        "roma",
        "mutation { issueApiKey(name: \"App Roma\") { secret key { name } } }",
        json!({}),
    )
    .await;
    let secret = key["data"]["issueApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    (app, secret)
}

pub async fn post_report(app: &TestApp, format: &str, form: &[(String, String)]) -> (u16, String) {
    let r = app
        .client
        .post(app.url(&format!("/open311/v2/requests.{format}")))
        .form(form)
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.text().await.expect("body"))
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).send().await.expect("get");
    (r.status().as_u16(), r.text().await.expect("body"))
}

pub fn report(
    key: &str,
    jurisdiction: &str,
    code: &str,
    (lat, long): (f64, f64),
) -> Vec<(String, String)> {
    [
        ("jurisdiction_id", jurisdiction.to_owned()),
        ("api_key", key.to_owned()),
        ("service_code", code.to_owned()),
        ("lat", lat.to_string()),
        ("long", long.to_string()),
        (
            "description",
            "Buca profonda\nvicino alla fermata".to_owned(),
        ),
        ("attribute[profondita]", "15".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn id_of(json_answer: &str) -> String {
    let v: Value = serde_json::from_str(json_answer).expect("json");
    v[0]["service_request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {json_answer}"))
        .to_owned()
}

async fn cases_in_database(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) AS n FROM cases").await
}

#[rstest]
#[tokio::test]
async fn reports_go_to_the_deepest_body_that_covers_the_point_and_offers_the_category(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, key) = city(backend).await;
    let mut taken = vec![];
    for (point, code, expected) in [
        (IN_QUARTIERE, "BUCHE", "Ente quartiere"),
        (IN_MUN_I, "BUCHE", "Ente mun-i"),
        (IN_MUN_II, "BUCHE", "Ente roma"),
        (IN_ROMA_ONLY, "ILLUM", "Ente areti"),
    ] {
        let mut form = report(&key, "roma", code, point);
        if code == "ILLUM" {
            form.retain(|(k, _)| !k.starts_with("attribute"));
        }
        let (status, answer) = post_report(&app, "json", &form).await;
        assert_eq!(status, 201, "{answer}");
        assert!(answer.contains(expected), "{code} at {point:?}: {answer}");
        taken.push(id_of(&answer));
    }

    // The receiving body sees the case, with the routing decision in its history.
    let op = app
        .member("mun-i", "op-mun-i", civitas_tenants::Role::Operator)
        .await;
    let c = app
        .gql(
            &op,
            "query($id: ID!) { case(id: $id) { title published location { latitude longitude } customFields history { kind detail } } }",
            json!({ "id": taken[1] }),
        )
        .await;
    assert_no_errors(&c);
    let case = &c["data"]["case"];
    assert_eq!(case["published"], true);
    assert_eq!(case["location"]["latitude"], IN_MUN_I.0);
    assert_eq!(case["customFields"]["profondita"], 15.0);
    assert_eq!(case["title"], "Buca profonda");
    let routing = &case["history"][0]["detail"]["routing"];
    assert_eq!(routing["jurisdiction"], "roma");
    assert_eq!(routing["reason"], "area");
    assert_eq!(routing["area"], "Municipio I");
    let rule_case = app
        .gql(
            &app.member("areti", "op-areti", civitas_tenants::Role::Operator)
                .await,
            "query($id: ID!) { case(id: $id) { history { detail } } }",
            json!({ "id": taken[3] }),
        )
        .await;
    assert_eq!(
        rule_case["data"]["case"]["history"][0]["detail"]["routing"]["reason"],
        "rule"
    );
    // Municipio I does not see the report Roma kept, nor the one Areti took.
    for other in [&taken[2], &taken[3]] {
        let b = app
            .gql(
                &op,
                "query($id: ID!) { case(id: $id) { id } }",
                json!({ "id": other }),
            )
            .await;
        assert_eq!(error_code(&b), "NOT_FOUND");
    }

    // Roma's feed lists them all; Municipio I's feed its own and its quartiere's only.
    let (_, roma) = get(&app, "/open311/v2/requests.json?jurisdiction_id=roma").await;
    let roma: Value = serde_json::from_str(&roma).expect("json");
    assert_eq!(roma.as_array().expect("list").len(), 4);
    let (_, mun) = get(&app, "/open311/v2/requests.json?jurisdiction_id=mun-i").await;
    let ids: Vec<String> = serde_json::from_str::<Value>(&mun)
        .expect("json")
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["service_request_id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{mun}");
    assert!(ids.contains(&taken[0]) && ids.contains(&taken[1]));

    // Near a point: only what is within the radius.
    let (_, near) = get(
        &app,
        &format!(
            "/open311/v2/requests.json?jurisdiction_id=roma&lat={}&long={}&radius=2000",
            IN_MUN_I.0, IN_MUN_I.1
        ),
    )
    .await;
    let near: Value = serde_json::from_str(&near).expect("json");
    assert_eq!(near.as_array().expect("list").len(), 1, "{near}");
    assert_eq!(near[0]["service_request_id"], taken[1]);

    // Outside every area: refused, nothing written.
    let before = cases_in_database(&app).await;
    let (status, answer) = post_report(&app, "json", &report(&key, "roma", "BUCHE", OUTSIDE)).await;
    assert_eq!(status, 400);
    assert!(answer.contains("outside every area"), "{answer}");
    assert_eq!(cases_in_database(&app).await, before);
}

#[rstest]
#[tokio::test]
async fn the_specs_resources_in_json_and_xml() {
    let (app, key) = city(Sqlite).await;
    let (s, services) = get(&app, "/open311/v2/services.json?jurisdiction_id=roma").await;
    assert_eq!(s, 200);
    let services: Value = serde_json::from_str(&services).expect("json");
    let codes: Vec<&str> = services
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["service_code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        ["BUCHE", "ILLUM"],
        "Roma's own and what it routes to Areti"
    );
    assert_eq!(services[0]["metadata"], true);
    assert_eq!(services[0]["type"], "realtime");
    assert_eq!(services[0]["group"], "Strade");

    let (_, xml) = get(&app, "/open311/v2/services.xml?jurisdiction_id=roma").await;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service><service_code>BUCHE</service_code>"), "{xml}");

    let (_, def) = get(&app, "/open311/v2/services/BUCHE.json?jurisdiction_id=roma").await;
    let def: Value = serde_json::from_str(&def).expect("json");
    assert_eq!(def["service_code"], "BUCHE");
    let attrs = def["attributes"].as_array().expect("attributes");
    assert_eq!(attrs[0]["code"], "profondita");
    assert_eq!(attrs[0]["datatype"], "number");
    assert_eq!(attrs[0]["required"], true);
    assert_eq!(attrs[1]["datatype"], "singlevaluelist");
    assert_eq!(attrs[1]["values"][1]["key"], "marciapiede");
    let (_, def_xml) = get(&app, "/open311/v2/services/BUCHE.xml?jurisdiction_id=roma").await;
    assert!(def_xml.contains("<attributes><attribute><variable>true</variable><code>profondita</code><datatype>number</datatype>"), "{def_xml}");

    // POST in XML, read back in both formats, and by token.
    let mut form = report(&key, "roma", "BUCHE", IN_MUN_I);
    for (k, v) in [
        ("attribute[sede]", "marciapiede"),
        ("address_string", "Via del Corso 1"),
        ("media_url", "https://example.org/buca.jpg"),
    ] {
        form.push((k.to_owned(), v.to_owned()));
    }
    let (status, posted) = post_report(&app, "xml", &form).await;
    assert_eq!(status, 201, "{posted}");
    let id = posted
        .split("<service_request_id>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("id")
        .to_owned();
    let (_, one) = get(
        &app,
        &format!("/open311/v2/requests/{id}.json?jurisdiction_id=roma"),
    )
    .await;
    let one: Value = serde_json::from_str(&one).expect("json");
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["service_code"], "BUCHE");
    assert_eq!(one[0]["address"], "Via del Corso 1");
    assert_eq!(one[0]["lat"], IN_MUN_I.0);
    assert_eq!(one[0]["media_url"], "https://example.org/buca.jpg");
    assert_eq!(one[0]["agency_responsible"], "Ente mun-i");
    let (_, one_xml) = get(
        &app,
        &format!("/open311/v2/requests/{id}.xml?jurisdiction_id=roma"),
    )
    .await;
    assert!(
        one_xml.contains("<service_requests><request><service_request_id>"),
        "{one_xml}"
    );
    assert!(one_xml.contains("<status>open</status>"));
    let (_, token) = get(
        &app,
        &format!("/open311/v2/tokens/{id}.json?jurisdiction_id=roma"),
    )
    .await;
    assert!(token.contains(&id), "{token}");

    // Closed when the body closes it, with its note.
    let op = app
        .member("mun-i", "op", civitas_tenants::Role::Operator)
        .await;
    for (status, note) in [
        ("IN_PROGRESS", None),
        ("RESOLVED", Some("Riparata")),
        ("CLOSED", Some("Riparata")),
    ] {
        let b = app
            .gql(
                &op,
                "mutation($id: ID!, $s: CaseStatus!, $n: String) { changeCaseStatus(id: $id, status: $s, note: $n) { status } }",
                json!({ "id": id, "s": status, "n": note }),
            )
            .await;
        assert_no_errors(&b);
    }
    let (_, closed) = get(
        &app,
        "/open311/v2/requests.json?jurisdiction_id=roma&status=closed",
    )
    .await;
    let closed: Value = serde_json::from_str(&closed).expect("json");
    assert_eq!(closed[0]["status"], "closed", "{closed}");
    assert_eq!(closed[0]["status_notes"], "Riparata");
    let (_, open) = get(
        &app,
        "/open311/v2/requests.json?jurisdiction_id=roma&status=open",
    )
    .await;
    assert_eq!(open, "[]");

    let (_, d) = get(&app, "/open311/discovery.json").await;
    let d: Value = serde_json::from_str(&d).expect("json");
    assert!(
        d["endpoints"][0]["url"]
            .as_str()
            .expect("url")
            .ends_with("/open311/v2")
    );
}

#[rstest]
#[case::missing_location(&["lat", "long"], &[], 400, "lat and long are required")]
#[case::unknown_service(&["service_code"], &[("service_code", "NOPE")], 404, "service_code NOPE not found in jurisdiction roma")]
#[case::attribute_of_the_wrong_type(&["attribute[profondita]"], &[("attribute[profondita]", "deep")], 400, "is not a number")]
#[case::unknown_attribute(&[], &[("attribute[colore]", "rosso")], 400, "attribute[colore] is not an attribute")]
#[case::required_attribute_missing(&["attribute[profondita]"], &[], 400, "custom field profondita is required")]
#[case::bad_api_key(&["api_key"], &[("api_key", "c311_forged")], 403, "api_key is not valid")]
#[case::no_api_key(&["api_key"], &[], 403, "only with an api_key")]
#[case::point_outside_every_area(&["lat", "long"], &[("lat", "45.46"), ("long", "9.19")], 400, "outside every area")]
#[case::latitude_not_a_number(&["lat"], &[("lat", "north")], 400, "lat must be a number")]
#[case::unknown_jurisdiction(&["jurisdiction_id"], &[("jurisdiction_id", "milano")], 404, "jurisdiction_id milano not found")]
#[case::bad_media_url(&[], &[("media_url", "javascript:alert(1)")], 400, "media_url must be an http")]
#[tokio::test]
async fn bad_reports_get_the_specs_error_and_write_nothing(
    #[case] drop: &[&str],
    #[case] add: &[(&str, &str)],
    #[case] status: u16,
    #[case] says: &str,
) {
    let (app, key) = city(Sqlite).await;
    let mut form = report(&key, "roma", "BUCHE", IN_MUN_I);
    form.retain(|(k, _)| !drop.contains(&k.as_str()));
    for (k, v) in add {
        form.retain(|(f, _)| f != k);
        form.push((k.to_string(), v.to_string()));
    }
    let before = cases_in_database(&app).await;
    for format in ["json", "xml"] {
        let (got, answer) = post_report(&app, format, &form).await;
        assert_eq!(got, status, "{answer}");
        assert!(answer.contains(says), "{answer}");
        match format {
            "json" => {
                let v: Value = serde_json::from_str(&answer).expect("json");
                assert_eq!(v[0]["code"], status);
                assert!(v[0]["description"].is_string());
            }
            _ => assert!(
                answer.contains(&format!(
                    "<errors><error><code>{status}</code><description>"
                )),
                "{answer}"
            ),
        }
    }
    assert_eq!(cases_in_database(&app).await, before);
}

#[rstest]
#[tokio::test]
async fn anonymous_reports_only_where_the_body_allows_them(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, key) = city(backend).await;
    let mut form = report(&key, "roma", "BUCHE", IN_MUN_I);
    form.retain(|(k, _)| k != "api_key");
    assert_eq!(post_report(&app, "json", &form).await.0, 403);
    admin(
        &app,
        "roma",
        "mutation { updateTenantSettings(settings: { open311: { anonymous: true } }) { slug } }",
        json!({}),
    )
    .await;
    let (status, answer) = post_report(&app, "json", &form).await;
    assert_eq!(status, 201, "{answer}");
    // A revoked key no longer works, even where the public may report.
    let keys = admin(
        &app,
        "roma",
        "{ apiKeys { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let id = nodes(&keys["data"]["apiKeys"])[0]["id"].clone();
    admin(
        &app,
        "roma",
        "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
        json!({ "id": id }),
    )
    .await;
    let (status, answer) =
        post_report(&app, "json", &report(&key, "roma", "BUCHE", IN_MUN_I)).await;
    assert_eq!(status, 403, "{answer}");
}

#[rstest]
#[tokio::test]
async fn areas_are_checked_kept_apart_and_bound_the_bodys_cases(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, key) = city(backend).await;
    // Roma's key is no key at Municipio I; Roma's rules are Roma's.
    let form = report(&key, "mun-i", "BUCHE", IN_MUN_I);
    assert_eq!(post_report(&app, "json", &form).await.0, 403);
    let rules = admin(
        &app,
        "roma",
        "{ routingRules { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let rule = nodes(&rules["data"]["routingRules"])[0]["id"].clone();
    let b = app
        .gql(
            &app.admin_of("mun-i"),
            "mutation($id: ID!) { removeRoutingRule(id: $id) }",
            json!({ "id": rule }),
        )
        .await;
    assert_eq!(error_code(&b), "NOT_FOUND");
    let mine = admin(
        &app,
        "mun-i",
        "{ routingRules { edges { node { id } } } apiKeys { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(nodes(&mine["data"]["routingRules"]).len(), 0);
    assert_eq!(nodes(&mine["data"]["apiKeys"]).len(), 0);
    let bowtie = r#"{"type":"Polygon","coordinates":[[[12,41],[13,42],[13,41],[12,42],[12,41]]]}"#;
    let b = app
        .gql(
            &app.admin_of("mun-i"),
            "mutation($i: ServiceAreaInput!) { defineServiceArea(input: $i) { id } }",
            json!({ "i": { "name": "Storta", "geojson": bowtie } }),
        )
        .await;
    assert_eq!(error_code(&b), "VALIDATION");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("self-intersection")
    );

    // Operators read areas, only administrators change them; another body sees none of them.
    let op = app
        .member("mun-i", "op", civitas_tenants::Role::Operator)
        .await;
    let b = app
        .gql(
            &op,
            "mutation($i: ServiceAreaInput!) { defineServiceArea(input: $i) { id } }",
            json!({ "i": { "name": "X", "geojson": square(12.0, 41.0, 12.1, 41.1) } }),
        )
        .await;
    assert_eq!(error_code(&b), "FORBIDDEN");
    let mine = app
        .gql(
            &op,
            "{ serviceAreas { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    let mine = nodes(&mine["data"]["serviceAreas"]);
    assert_eq!(mine.len(), 1);
    let theirs = app
        .gql(
            &app.admin_of("mun-ii"),
            "mutation($id: ID!) { removeServiceArea(id: $id) { id } }",
            json!({ "id": mine[0]["id"] }),
        )
        .await;
    assert_eq!(error_code(&theirs), "NOT_FOUND");
    let audit = admin(
        &app,
        "mun-i",
        "{ auditEvents(first: 50) { edges { node { action } } } }",
        json!({}),
    )
    .await;
    assert!(audit.to_string().contains("service_area.defined"));

    // A case with a place outside the body's areas is refused; inside, kept with its place.
    for (point, ok) in [(IN_MUN_II, false), (IN_MUN_I, true)] {
        let b = app
            .gql(&op, "mutation($l: LocationInput!) { createCase(input: { serviceCode: \"BUCHE\", channel: \"web\", title: \"Buca\", customFields: { profondita: 3 }, location: $l }) { location { latitude address } } }",
                json!({ "l": { "latitude": point.0, "longitude": point.1, "address": "Via X" } }))
            .await;
        if ok {
            assert_no_errors(&b);
            assert_eq!(b["data"]["createCase"]["location"]["address"], "Via X");
        } else {
            assert_eq!(error_code(&b), "VALIDATION");
            assert!(b.to_string().contains("outside the areas"), "{b}");
        }
    }
    // Operators find cases on a map: by a box, served by the index on the coordinates.
    let in_box = |b: Value| {
        let app = &app;
        let op = op.clone();
        async move {
            app.gql(&op, "query($b: BoundingBox!) { cases(first: 10, filter: { within: $b }) { edges { node { location { address } } } } }", json!({ "b": b }))
                .await
        }
    };
    let found =
        in_box(json!({ "south": 41.92, "west": 12.41, "north": 41.94, "east": 12.43 })).await;
    assert_eq!(nodes(&found["data"]["cases"]).len(), 1, "{found}");
    let none = in_box(json!({ "south": 41.0, "west": 12.0, "north": 41.1, "east": 12.1 })).await;
    assert_eq!(nodes(&none["data"]["cases"]).len(), 0);
    let upside_down =
        in_box(json!({ "south": 42.0, "west": 12.0, "north": 41.0, "east": 12.1 })).await;
    assert_eq!(error_code(&upside_down), "VALIDATION");
}

#[rstest]
#[case::json("json")]
#[case::xml("xml")]
#[tokio::test]
async fn a_real_open311_client_lists_posts_and_reads_back(#[case] format: &str) {
    let (app, key) = city(Sqlite).await;
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/open311-client/.venv/bin/python");
    assert!(
        python.exists(),
        "scripts/open311-client-up installs the georeport client ({})",
        python.display()
    );
    let script = python
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent())
        .expect("dir")
        .join("client.py");
    let root = app.url("/open311/v2");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .args([&root, "roma", &key, format, "BUCHE"])
        .args([IN_QUARTIERE.0.to_string(), IN_QUARTIERE.1.to_string()])
        .output()
        .await
        .expect("run the client");
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("client output");
    assert_eq!(seen["services"], json!(["BUCHE", "ILLUM"]));
    assert_eq!(seen["attributes"], json!(["profondita", "sede"]));
    let id = seen["posted"].as_str().expect("id");
    assert_eq!(seen["read"]["service_request_id"], id);
    assert_eq!(seen["read"]["status"], "open");
    assert_eq!(seen["read"]["agency_responsible"], "Ente quartiere");
    assert_eq!(seen["listed"], json!([id]));
}

#[rstest]
#[tokio::test]
async fn a_retried_report_with_an_idempotency_key_is_taken_once(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, key) = city(backend).await;
    let form = report(&key, "roma", "BUCHE", IN_MUN_I);
    let send = |form: Vec<(String, String)>| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url("/open311/v2/requests.json"))
                .header("Idempotency-Key", "app-7f3a-0001")
                .form(&form)
                .send()
                .await
                .expect("post");
            let replayed = r.headers().contains_key("idempotent-replayed");
            (r.status().as_u16(), replayed, r.text().await.expect("body"))
        }
    };
    let before = cases_in_database(&app).await;
    let (s1, replayed1, first) = send(form.clone()).await;
    let (s2, replayed2, again) = send(form.clone()).await;
    assert_eq!((s1, s2), (201, 201), "{first} {again}");
    assert!(!replayed1 && replayed2);
    assert_eq!(id_of(&first), id_of(&again));
    assert_eq!(cases_in_database(&app).await, before + 1);
    // The same key for another report is a conflict, and writes nothing.
    let mut other = form;
    other.retain(|(k, _)| k != "description");
    other.push(("description".into(), "Un'altra buca".into()));
    let (s3, _, answer) = send(other).await;
    assert_eq!(s3, 409, "{answer}");
    assert_eq!(cases_in_database(&app).await, before + 1);
}

#[rstest]
#[tokio::test]
async fn a_picture_uploaded_with_a_report_is_its_public_media_and_no_other_file_is(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let (app, key) = city(backend).await;
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in report(&key, "roma", "BUCHE", IN_MUN_I) {
        form = form.text(k, v);
    }
    let png = crate::attachments::PNG;
    form = form.part(
        "media",
        reqwest::multipart::Part::bytes(png.to_vec()).file_name("buca.png"),
    );
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let id = id_of(&r.text().await.expect("body"));
    let (_, one) = get(
        &app,
        &format!("/open311/v2/requests/{id}.json?jurisdiction_id=roma"),
    )
    .await;
    let one: Value = serde_json::from_str(&one).expect("json");
    let url = one[0]["media_url"].as_str().expect("media_url").to_owned();
    assert!(url.starts_with(&app.url("/open311/v2/media/")), "{url}");
    let got = app.client.get(&url).send().await.expect("media");
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), png);

    // The body's staff see it among the case's files; a file they add is not public.
    let op = app
        .member("mun-i", "op", civitas_tenants::Role::Operator)
        .await;
    let (status, added) =
        crate::attachments::upload(&app, Some(&op), &id, "interno.png", png).await;
    assert_eq!(status, 201, "{added}");
    let files = app
        .gql(&op, "query($id: ID!) { case(id: $id) { attachments(first: 10) { edges { node { id fileName } } } } }", json!({ "id": id }))
        .await;
    let files = nodes(&files["data"]["case"]["attachments"]);
    assert_eq!(files.len(), 2, "{files:?}");
    let other = files
        .iter()
        .find(|f| f["fileName"] == "interno.png")
        .expect("the staff's file");
    let other = app
        .client
        .get(app.url(&format!(
            "/open311/v2/media/{}",
            other["id"].as_str().expect("id")
        )))
        .send()
        .await
        .expect("media");
    assert_eq!(other.status().as_u16(), 404);

    // A file of a type the body does not take: refused, nothing written.
    let before = cases_in_database(&app).await;
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in report(&key, "roma", "BUCHE", IN_MUN_I) {
        form = form.text(k, v);
    }
    form = form.part(
        "media",
        reqwest::multipart::Part::bytes(b"MZ\x90\x00".to_vec()).file_name("x.exe"),
    );
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(cases_in_database(&app).await, before);
}
