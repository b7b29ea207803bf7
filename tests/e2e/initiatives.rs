//! Initiatives and participation: seats never overbooked under a burst, the waiting list
//! promoted in order with a notification, citizens registering themselves, bad input
//! refused with nothing written, and each body's initiatives its own.

use civitas_crm::identity::FiscalCode;
use civitas_tenants::Role;
use futures::future::join_all;
use rstest::rstest;
use serde_json::{Value, json};

use crate::harness::*;

const CREATE: &str =
    "mutation($i: InitiativeInput!) { createInitiative(input: $i) { id status capacity } }";
const PUBLISH: &str =
    "mutation($id: ID!) { setInitiativeStatus(id: $id, status: PUBLISHED) { status } }";
const REGISTER: &str = "mutation($i: ID!, $p: ID!) { registerParticipant(initiativeId: $i, personId: $p, channel: \"phone\") { id status queuePosition } }";

fn initiative(capacity: Option<i32>, waiting_list: bool, visibility: &str) -> Value {
    json!({
        "kind": "EVENT", "title": "Passeggiata nel parco ducale", "area": "Ambiente",
        "location": { "latitude": 44.8046, "longitude": 10.3219, "address": "Parco Ducale" },
        "startsAt": "2027-03-01T09:00:00Z", "endsAt": "2027-03-01T12:00:00Z",
        "capacity": capacity, "waitingList": waiting_list, "visibility": visibility,
    })
}

/// A published initiative of `slug`; its id.
async fn published(app: &TestApp, slug: &str, input: Value) -> String {
    let sup = app
        .member(slug, &format!("{slug}-sup"), Role::Supervisor)
        .await;
    let c = app.gql(&sup, CREATE, json!({ "i": input })).await;
    assert_no_errors(&c);
    let id = c["data"]["createInitiative"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let p = app.gql(&sup, PUBLISH, json!({ "id": id })).await;
    assert_no_errors(&p);
    id
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_at_once_for_a_hundred_seats_confirm_a_hundred(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    // The burst measures the seats, not the rate limits.
    let app = TestApp::spawn_with(backend, |c| {
        c.default_limits = civitas::limits::Limits {
            tenant_rps: 1e6,
            tenant_burst: 1e6,
            principal_rps: 1e6,
            principal_burst: 1e6,
            max_concurrent: 1024,
        };
        c.in_flight_wait_ms = 60_000;
    })
    .await;
    app.onboard("parma").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    let mut persons = vec![];
    for n in 0..500 {
        let p = app
            .register(&op, None, "Cittadino", &format!("N{n}"), &[])
            .await;
        persons.push(p["personId"].as_str().expect("person").to_owned());
    }
    let id = published(&app, "parma", initiative(Some(100), true, "OWN")).await;
    let answers = join_all(persons.iter().map(|p| {
        let (app, op, id) = (&app, &op, &id);
        async move { app.gql(op, REGISTER, json!({ "i": id, "p": p })).await }
    }))
    .await;
    let mut confirmed = 0;
    let mut positions = vec![];
    for a in &answers {
        assert_no_errors(a);
        match a["data"]["registerParticipant"]["status"].as_str() {
            Some("CONFIRMED") => confirmed += 1,
            Some("WAITING") => positions.push(
                a["data"]["registerParticipant"]["queuePosition"]
                    .as_i64()
                    .expect("position"),
            ),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((confirmed, positions.len()), (100, 400));
    positions.sort();
    assert_eq!(
        positions,
        (1..=400).collect::<Vec<i64>>(),
        "one place each, in order"
    );
    let seats = app
        .gql(
            &op,
            "{ initiatives { edges { node { confirmed seatsLeft } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&seats["data"]["initiatives"])[0]["confirmed"], 100);
    assert_eq!(nodes(&seats["data"]["initiatives"])[0]["seatsLeft"], 0);
}

#[rstest]
#[tokio::test]
async fn a_freed_seat_goes_to_the_first_waiting_who_is_told(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("parma").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    let codes: Vec<String> = (1..=4)
        .map(|n| FiscalCode::synthetic(n).to_string())
        .collect();
    let mut persons = vec![];
    for (n, code) in codes.iter().enumerate() {
        let p = app
            .register(&op, Some(code), "Cittadina", &format!("N{n}"), &[])
            .await;
        persons.push(p["personId"].as_str().expect("person").to_owned());
    }
    let id = published(&app, "parma", initiative(Some(2), true, "OWN")).await;
    let mut ids = vec![];
    for p in &persons {
        let r = app.gql(&op, REGISTER, json!({ "i": id, "p": p })).await;
        assert_no_errors(&r);
        ids.push(
            r["data"]["registerParticipant"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    // The first confirmed cancels: the first waiting (the third) takes the seat.
    let c = app
        .gql(
            &op,
            "mutation($id: ID!) { cancelParticipation(id: $id) { status } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(c["data"]["cancelParticipation"]["status"], "CANCELLED");
    let list = app
        .gql(&op, "query($i: ID!) { participants(initiativeId: $i) { edges { node { personId status queuePosition } } } }", json!({ "i": id }))
        .await;
    let list = nodes(&list["data"]["participants"]);
    let standing: Vec<(&str, &str)> = list
        .iter()
        .map(|p| {
            (
                p["personId"].as_str().expect("p"),
                p["status"].as_str().expect("s"),
            )
        })
        .collect();
    assert_eq!(
        standing,
        [
            (persons[1].as_str(), "CONFIRMED"),
            (persons[2].as_str(), "CONFIRMED"),
            (persons[3].as_str(), "WAITING"),
            (persons[0].as_str(), "CANCELLED"),
        ]
    );
    let inbox = app
        .gql(&app.citizen(&codes[2]), "{ myNotifications(unreadOnly: true) { edges { node { kind title tenant { slug } } } } }", json!({}))
        .await;
    let inbox = nodes(&inbox["data"]["myNotifications"]);
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["kind"], "initiative.seat");
    assert_eq!(inbox[0]["title"], "Posto confermato");
    let fourth = app
        .gql(
            &app.citizen(&codes[3]),
            "{ myNotifications { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&fourth["data"]["myNotifications"]).len(), 0);

    // Check-in: confirmed participants only.
    let late = app
        .gql(
            &op,
            "mutation($id: ID!) { checkInParticipant(id: $id) { status } }",
            json!({ "id": ids[3] }),
        )
        .await;
    assert_eq!(error_code(&late), "VALIDATION");
    let came = app
        .gql(
            &op,
            "mutation($id: ID!) { checkInParticipant(id: $id) { status checkedInAt } }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(came["data"]["checkInParticipant"]["status"], "ATTENDED");
}

#[rstest]
#[tokio::test]
async fn citizens_register_themselves_where_the_initiative_is_open_to_them(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("parma").await;
    app.onboard("reggio").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    let known = FiscalCode::synthetic(11).to_string();
    let stranger = FiscalCode::synthetic(12).to_string();
    app.register(&op, Some(&known), "Anna", "Nota", &[]).await;
    // The stranger is known to another body, so that the platform has a person for them.
    let reggio_op = app.member("reggio", "reggio-op", Role::Operator).await;
    let bruno = app
        .register(&reggio_op, Some(&stranger), "Bruno", "Altrove", &[])
        .await;
    let own = published(&app, "parma", initiative(Some(10), true, "OWN")).await;
    let open = published(&app, "parma", initiative(None, false, "EVERYONE")).await;

    let offered = |code: String| {
        let app = &app;
        async move {
            let b = app
                .gql(
                    &app.citizen(&code),
                    "{ openInitiatives(body: \"parma\") { edges { node { id visibility } } } }",
                    json!({}),
                )
                .await;
            assert_no_errors(&b);
            nodes(&b["data"]["openInitiatives"]).len()
        }
    };
    assert_eq!(offered(known.clone()).await, 2);
    assert_eq!(offered(stranger.clone()).await, 1);
    let join = "mutation($i: ID!) { registerForInitiative(body: \"parma\", initiativeId: $i) { status channel } }";
    let r = app
        .gql(&app.citizen(&stranger), join, json!({ "i": own }))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = app
        .gql(&app.citizen(&stranger), join, json!({ "i": open }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "parma must learn their name");
    let named = "mutation($i: ID!) { registerForInitiative(body: \"parma\", initiativeId: $i, givenName: \"Bruno\", familyName: \"Altrove\") { status } }";
    let r = app
        .gql(&app.citizen(&stranger), named, json!({ "i": open }))
        .await;
    assert_eq!(
        r["data"]["registerForInitiative"]["status"], "CONFIRMED",
        "{r}"
    );
    // Taking part made them known to parma: its own initiatives are open to them now.
    assert_eq!(offered(stranger.clone()).await, 2);
    let r = app
        .gql(&app.citizen(&known), join, json!({ "i": own }))
        .await;
    assert_eq!(r["data"]["registerForInitiative"]["channel"], "web");
    let again = app
        .gql(&app.citizen(&known), join, json!({ "i": own }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT");

    // Their participations, with the initiative, in their own view.
    let mine = app
        .gql(&app.citizen(&known), "{ myParticipations { edges { node { participation { status } initiative { title area } } } } }", json!({}))
        .await;
    let mine = nodes(&mine["data"]["myParticipations"]);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["initiative"]["area"], "Ambiente");
    let cancel =
        "mutation($i: ID!) { cancelMyParticipation(body: \"parma\", initiativeId: $i) { status } }";
    let c = app
        .gql(&app.citizen(&known), cancel, json!({ "i": own }))
        .await;
    assert_eq!(c["data"]["cancelMyParticipation"]["status"], "CANCELLED");
    // Registering again after cancelling takes the same row.
    let r = app
        .gql(&app.citizen(&known), join, json!({ "i": own }))
        .await;
    assert_eq!(r["data"]["registerForInitiative"]["status"], "CONFIRMED");

    // Another body neither sees nor registers for parma's initiatives.
    let theirs = app
        .gql(
            &reggio_op,
            "{ initiatives { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&theirs["data"]["initiatives"]).len(), 0);
    let r = app
        .gql(
            &reggio_op,
            REGISTER,
            json!({ "i": open, "p": bruno["personId"] }),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");
    let r = app
        .gql(
            &reggio_op,
            "query($i: ID!) { participants(initiativeId: $i) { edges { cursor } } }",
            json!({ "i": open }),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");
}

#[rstest]
#[case::end_before_start(json!({ "endsAt": "2027-03-01T08:00:00Z" }), "endsAt")]
#[case::no_seats(json!({ "capacity": 0 }), "capacity")]
#[case::negative_capacity(json!({ "capacity": -5 }), "capacity")]
#[case::registration_after_the_end(json!({ "registrationClosesAt": "2027-03-02T00:00:00Z" }), "registrationClosesAt")]
#[case::empty_title(json!({ "title": "  " }), "title")]
#[case::not_a_url(json!({ "onlineUrl": "javascript:alert(1)" }), "onlineUrl")]
#[tokio::test]
async fn a_bad_initiative_is_refused_naming_the_field(#[case] change: Value, #[case] field: &str) {
    let app = TestApp::spawn(Sqlite).await;
    app.onboard("parma").await;
    let sup = app.member("parma", "parma-sup", Role::Supervisor).await;
    let mut input = initiative(Some(10), true, "OWN");
    for (k, v) in change.as_object().expect("object") {
        input[k] = v.clone();
    }
    let b = app.gql(&sup, CREATE, json!({ "i": input })).await;
    assert_eq!(error_code(&b), "VALIDATION", "{b}");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains(field),
        "{b}"
    );
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM initiatives").await, 0);
}

#[rstest]
#[tokio::test]
async fn closed_drafts_and_full_initiatives_refuse_registrations() {
    let app = TestApp::spawn(Sqlite).await;
    app.onboard("parma").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    let a = app.register(&op, None, "Uno", "A", &[]).await["personId"].clone();
    let b = app.register(&op, None, "Due", "B", &[]).await["personId"].clone();
    let full = published(&app, "parma", initiative(Some(1), false, "OWN")).await;
    let r = app.gql(&op, REGISTER, json!({ "i": full, "p": a })).await;
    assert_no_errors(&r);
    let r = app.gql(&op, REGISTER, json!({ "i": full, "p": b })).await;
    assert_eq!(error_code(&r), "CONFLICT");
    assert!(r.to_string().contains("no waiting list"), "{r}");

    let sup = app.member("parma", "parma-sup", Role::Supervisor).await;
    let c = app
        .gql(
            &sup,
            CREATE,
            json!({ "i": initiative(Some(5), true, "OWN") }),
        )
        .await;
    let draft = c["data"]["createInitiative"]["id"].clone();
    let r = app.gql(&op, REGISTER, json!({ "i": draft, "p": b })).await;
    assert_eq!(error_code(&r), "VALIDATION");
    app.gql(&sup, PUBLISH, json!({ "id": draft })).await;
    let closed = app
        .gql(
            &sup,
            "mutation($id: ID!) { setInitiativeStatus(id: $id, status: CLOSED) { status } }",
            json!({ "id": draft }),
        )
        .await;
    assert_no_errors(&closed);
    let r = app.gql(&op, REGISTER, json!({ "i": draft, "p": b })).await;
    assert_eq!(error_code(&r), "VALIDATION");
    assert!(r.to_string().contains("published"), "{r}");
    let back = app
        .gql(
            &sup,
            "mutation($id: ID!) { setInitiativeStatus(id: $id, status: PUBLISHED) { status } }",
            json!({ "id": draft }),
        )
        .await;
    assert_eq!(error_code(&back), "VALIDATION");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM participations").await,
        1
    );
}

#[rstest]
#[tokio::test]
async fn erasure_takes_a_citizens_participations_with_it(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("parma").await;
    app.onboard("reggio").await;
    let code = FiscalCode::synthetic(21).to_string();
    // Known at reggio only; takes part in an initiative of parma open to everyone.
    let reggio_op = app.member("reggio", "reggio-op", Role::Operator).await;
    app.register(&reggio_op, Some(&code), "Carla", "Via", &[])
        .await;
    let open = published(&app, "parma", initiative(Some(5), true, "EVERYONE")).await;
    let me = app.citizen(&code);
    let r = app
        .gql(&me, "mutation($i: ID!) { registerForInitiative(body: \"parma\", initiativeId: $i, givenName: \"Carla\", familyName: \"Via\") { status } }", json!({ "i": open }))
        .await;
    assert_no_errors(&r);
    // The export carries it.
    let export = app.my_data(&me).await;
    let mine = export["data"]["participations"]
        .as_array()
        .expect("participations");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["status"], "confirmed");
    let asked = app
        .gql(&me, "mutation { requestErasure { id } }", json!({}))
        .await;
    assert_no_errors(&asked);
    civitas_crm::app::erasure::run(&app.app.state)
        .await
        .expect("erasure run");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM participations").await,
        0
    );
}

#[rstest]
#[tokio::test]
async fn a_tutor_registers_only_the_citizens_who_delegated_them(
    #[values(Sqlite, Postgres)] backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.onboard("parma").await;
    let op = app.member("parma", "parma-op", Role::Operator).await;
    let anna = app.register(&op, None, "Anna", "Delegante", &[]).await["personId"].clone();
    let other = app.register(&op, None, "Altro", "Cittadino", &[]).await["personId"].clone();
    let sup = app.member("parma", "parma-sup", Role::Supervisor).await;
    let d = app
        .gql(&sup, "mutation($p: ID!) { grantDelegation(personId: $p, tutor: \"parma-tutor\", scopes: [\"initiatives\"]) { id } }", json!({ "p": anna }))
        .await;
    assert_no_errors(&d);
    let tutor = app.member("parma", "parma-tutor", Role::Tutor).await;
    let id = published(&app, "parma", initiative(Some(5), true, "OWN")).await;
    let theirs = app.gql(&op, REGISTER, json!({ "i": id, "p": other })).await;
    assert_no_errors(&theirs);
    let r = app
        .gql(&tutor, REGISTER, json!({ "i": id, "p": anna }))
        .await;
    assert_eq!(
        r["data"]["registerParticipant"]["status"], "CONFIRMED",
        "{r}"
    );
    let r = app
        .gql(&tutor, REGISTER, json!({ "i": id, "p": other }))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let cancel = "mutation($id: ID!) { cancelParticipation(id: $id) { status } }";
    let other_place = theirs["data"]["registerParticipant"]["id"].clone();
    let r = app.gql(&tutor, cancel, json!({ "id": other_place })).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM participations WHERE status = 'confirmed'")
            .await,
        2
    );
}
