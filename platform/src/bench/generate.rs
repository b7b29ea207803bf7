//! The data generator: a city's worth of bodies, citizens, profiles, cases with history and
//! sharing consents, written into PostgreSQL through the project's own schema. Bodies and
//! their catalogues go through the domain code (onboarding, catalogue); the bulk rows go in
//! as COPY (persons, whose codes are computed here) and set-based INSERT … SELECT, in
//! batches so that progress shows and no statement grows without bound.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use civitas_crm::catalogue::{self, FieldDef, FieldType, NewService};
use civitas_crm::identity::FiscalCode;
use civitas_crm::onboarding::{self, FirstAdmin};
use civitas_policies::Authorizer;
use civitas_tenants::members::MemberProfile;
use civitas_tenants::registry::NewTenant;
use civitas_tenants::{Db, TenantContext, TenantId, TenantKind, TenantSlug};
use sea_orm::sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, raw_sql};

use super::layout::{
    Layout, SERVICES, attachment_bytes, attachment_id_sql, citizen_subject, person_id,
    person_id_sql, tenant_slug,
};

const BATCH: u64 = 250_000;

/// Loads `layout` into the empty database at `owner_url` (a role that bypasses row-level
/// security: the schema owner as superuser, as `civitas migrate` runs).
pub async fn generate(owner_url: &str, layout: &Layout, data_dir: &Path) -> anyhow::Result<()> {
    if !owner_url.starts_with("postgres") {
        bail!("the generator loads PostgreSQL; give a postgres:// migration database URL");
    }
    let started = Instant::now();
    crate::app::migrate(owner_url).await?;
    let mut conn = PgConnection::connect(owner_url).await?;
    let (bypass,): (bool,) = sea_orm::sqlx::query_as(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await?;
    if !bypass {
        bail!("the generator must connect as a role that bypasses row-level security");
    }
    let (persons,): (i64,) = sea_orm::sqlx::query_as("SELECT count(*) FROM persons")
        .fetch_one(&mut conn)
        .await?;
    if persons > 0 {
        bail!("the database already holds persons: generate into an empty database");
    }

    step("bodies and catalogues", || bodies(owner_url, layout)).await?;
    step("the city's geography", || {
        super::places::set_up(owner_url, layout.tenants)
    })
    .await?;
    conn.execute(
        "CREATE TEMP TABLE bench_tenants AS \
         SELECT substr(slug, 7)::int AS idx, id FROM tenants WHERE slug LIKE 'bench-%'; \
         CREATE TEMP TABLE bench_services AS \
         SELECT t.idx AS tenant_idx, s.id, s.code FROM services s JOIN bench_tenants t ON t.id = s.tenant_id; \
         ANALYZE bench_tenants; ANALYZE bench_services",
    )
    .await?;
    let mut sql = String::new();
    for (n, (code, _, _)) in SERVICES.iter().enumerate() {
        sql.push_str(&format!(
            "UPDATE bench_services SET code = '{n}' WHERE code = '{code}';"
        ));
    }
    exec(&mut conn, sql).await?;

    let t0 = Instant::now();
    persons_copy(&mut conn, layout).await?;
    report("persons", layout.persons, t0);
    batched(
        &mut conn,
        "profiles and contacts",
        layout.persons,
        |lo, hi| profiles_sql(layout, lo, hi),
    )
    .await?;
    batched(
        &mut conn,
        "cases and their history",
        layout.cases,
        |lo, hi| cases_sql(layout, lo, hi),
    )
    .await?;
    // The attachments' insert looks cases up by person: with no statistics yet PostgreSQL
    // plans it as a scan per person (80 s for 100,000 at scale 0.1).
    conn.execute("ANALYZE cases").await?;
    batched(&mut conn, "attachments", layout.persons, |lo, hi| {
        attachments_sql(layout, lo, hi)
    })
    .await?;
    let t0 = Instant::now();
    attachment_blobs(&mut conn, data_dir).await?;
    report(
        "attachment files (one per body)",
        u64::from(layout.tenants),
        t0,
    );
    let t0 = Instant::now();
    exec(&mut conn, consents_sql(layout)).await?;
    report("sharing consents", layout.consents, t0);
    let t0 = Instant::now();
    exec(&mut conn, interactions_sql(layout)).await?;
    report("interactions", layout.persons, t0);
    // New cases must not reuse the numbers the generator gave.
    conn.execute(
        "INSERT INTO counters (tenant_id, name, value) \
         SELECT id, 'case:' || to_char(now(), 'YYYY'), 0 FROM bench_tenants \
         ON CONFLICT (tenant_id, name) DO NOTHING",
    )
    .await?;
    let t0 = Instant::now();
    conn.execute("ANALYZE").await?;
    eprintln!("analyze: {:.1} s", t0.elapsed().as_secs_f64());
    eprintln!(
        "generated {layout:?} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs generated SQL (built here from numbers only, never from input).
async fn exec(conn: &mut PgConnection, sql: String) -> anyhow::Result<()> {
    raw_sql(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    Ok(())
}

async fn step<F, Fut>(what: &str, f: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let t0 = Instant::now();
    f().await.with_context(|| what.to_owned())?;
    eprintln!("{what}: {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn report(what: &str, rows: u64, t0: Instant) {
    let s = t0.elapsed().as_secs_f64();
    eprintln!(
        "{what}: {rows} in {s:.1} s ({:.0}/s)",
        rows as f64 / s.max(1e-9)
    );
}

async fn batched<F>(conn: &mut PgConnection, what: &str, total: u64, sql: F) -> anyhow::Result<()>
where
    F: Fn(u64, u64) -> String,
{
    let t0 = Instant::now();
    let mut lo = 0;
    while lo < total {
        let hi = (lo + BATCH).min(total) - 1;
        exec(conn, sql(lo, hi))
            .await
            .with_context(|| format!("{what} {lo}..={hi}"))?;
        lo = hi + 1;
    }
    report(what, total, t0);
    Ok(())
}

/// The bodies, through onboarding (default roles and policies, a first administrator) and
/// the catalogue (three services, one with custom fields).
async fn bodies(owner_url: &str, layout: &Layout) -> anyhow::Result<()> {
    let db = Db::connect(owner_url, 2, std::time::Duration::ZERO).await?;
    let authorizer = Authorizer::load(db.global().clone()).await?;
    for i in 0..layout.tenants {
        let slug = tenant_slug(i);
        let new = NewTenant {
            slug: TenantSlug::parse(&slug)?,
            display_name: format!("Ente di prova {i}"),
            kind: if i == 0 {
                TenantKind::Capitale
            } else {
                TenantKind::Municipio
            },
            parent: None,
            settings: serde_json::json!({}),
        };
        let admin = FirstAdmin {
            identity: civitas_tenants::Identity::new(
                crate::dev_issuer::ISSUER,
                format!("{slug}-admin"),
            ),
            profile: MemberProfile::default(),
        };
        let done = onboarding::onboard(
            &db,
            &authorizer,
            &civitas_tenants::Identity::new("civitas", "system:bench"),
            new,
            admin,
        )
        .await?;
        let scope = db
            .scope(&TenantContext::system(done.tenant, "bench"))
            .await?;
        for (n, (code, name, sla)) in SERVICES.iter().enumerate() {
            let fields = if n == 0 { bulky_waste_fields() } else { vec![] };
            catalogue::create(
                &scope,
                NewService {
                    code: (*code).into(),
                    name: (*name).into(),
                    area: "servizi".into(),
                    sla_hours: Some(*sla),
                    custom_fields: fields,
                    ..Default::default()
                },
            )
            .await?;
        }
        scope.commit().await?;
    }
    Ok(())
}

/// The custom fields of the first service; the load driver fills them in.
pub fn bulky_waste_fields() -> Vec<FieldDef> {
    let field = |key: &str, kind, required, options: &[&str]| FieldDef {
        key: key.into(),
        label: key.into(),
        kind,
        required,
        options: options.iter().map(|o| (*o).to_owned()).collect(),
    };
    vec![
        field("indirizzo", FieldType::String, true, &[]),
        field("pezzi", FieldType::Number, true, &[]),
        field(
            "piano",
            FieldType::Select,
            false,
            &["terra", "primo", "altro"],
        ),
    ]
}

async fn persons_copy(conn: &mut PgConnection, layout: &Layout) -> anyhow::Result<()> {
    copy_rows(
        conn,
        "COPY persons (id, fiscal_code, merged_into, created_at) FROM STDIN",
        (0..layout.persons).map(|p| {
            let code = FiscalCode::synthetic(p);
            format!("{}\t{code}\t\\N\t2024-01-01 00:00:00+00\n", person_id(p))
        }),
    )
    .await?;
    // pgbench cannot compute a codice fiscale and the application role may not read them
    // from `persons` (migration 22): the scripts read each citizen's code and subject here,
    // where the server has them from the token.
    conn.execute(
        "CREATE TABLE bench_citizens (p bigint PRIMARY KEY, fiscal_code text NOT NULL, \
         subject text NOT NULL)",
    )
    .await?;
    copy_rows(
        conn,
        "COPY bench_citizens (p, fiscal_code, subject) FROM STDIN",
        (0..layout.persons).map(|p| {
            let code = FiscalCode::synthetic(p);
            format!("{p}\t{code}\t{}\n", citizen_subject(code.as_str()))
        }),
    )
    .await?;
    conn.execute(AssertSqlSafe(format!(
        "GRANT SELECT ON bench_citizens TO {}",
        civitas_migrations::APP_ROLE
    )))
    .await?;
    // Each citizen signs in with the development issuer's identity (the scenarios' tokens).
    copy_rows(
        conn,
        "COPY person_identities (issuer, subject, person_id, created_at) FROM STDIN",
        (0..layout.persons).map(|p| {
            let code = FiscalCode::synthetic(p);
            format!(
                "{}\t{}\t{}\t2024-01-01 00:00:00+00\n",
                crate::dev_issuer::ISSUER,
                citizen_subject(code.as_str()),
                person_id(p)
            )
        }),
    )
    .await
}

/// Streams `rows` (COPY text lines) to `sql`, a few megabytes at a time.
async fn copy_rows(
    conn: &mut PgConnection,
    sql: &str,
    rows: impl Iterator<Item = String>,
) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(sql).await?;
    let mut buf = String::with_capacity(8 << 20);
    for row in rows {
        buf.push_str(&row);
        if buf.len() > 4 << 20 {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

const GIVEN: &str = "ARRAY['Mario','Giulia','Luca','Francesca','Marco','Chiara','Andrea','Sara','Paolo','Elena','Giuseppe','Anna','Roberto','Laura','Stefano','Valentina']";
const FAMILY: &str = "ARRAY['Rossi','Russo','Ferrari','Esposito','Bianchi','Romano','Colombo','Ricci','Marino','Greco','Bruno','Gallo','Conti','Costa','Giordano','Mancini']";

fn profiles_sql(l: &Layout, lo: u64, hi: u64) -> String {
    let person = person_id_sql("g.p");
    format!(
        "WITH g AS ( \
           SELECT p, k, ({GIVEN})[1 + p % 16] AS given, ({FAMILY})[1 + (p / 16) % 16] AS family \
           FROM generate_series({lo}::bigint, {hi}) p CROSS JOIN generate_series(0, {k} - 1) k), \
         ins AS ( \
           INSERT INTO profiles (tenant_id, id, person_id, given_name, family_name, search_name, \
             preferred_channel, language, notes, merged_into, created_at, updated_at) \
           SELECT t.id, gen_random_uuid(), {person}, g.given, g.family, lower(g.family || ' ' || g.given), \
             'phone', 'it', '', NULL, now() - interval '400 days', now() - interval '400 days' \
           FROM g JOIN bench_tenants t ON t.idx = (g.p + g.k * {s}) % {n} \
           RETURNING tenant_id, id, person_id) \
         INSERT INTO contacts (tenant_id, id, profile_id, person_id, kind, value, created_at) \
         SELECT tenant_id, gen_random_uuid(), id, person_id, 'phone', \
           '+39333' || lpad((('x' || substr(person_id::text, 25, 12))::bit(48)::bigint % 10000000)::text, 7, '0'), \
           now() - interval '400 days' FROM ins",
        k = l.profiles_per_person(),
        s = l.stride(),
        n = l.tenants,
    )
}

/// Cases spread evenly over profiles, most of them closed long ago, with their history: a
/// `created` event and, for those that moved, the status change.
fn cases_sql(l: &Layout, lo: u64, hi: u64) -> String {
    let kk = u64::from(l.profiles_per_person());
    let slots = l.persons * kk;
    let person = person_id_sql("g.p");
    format!(
        "WITH g AS ( \
           SELECT j, (j % {slots}) / {kk} AS p, (j % {slots}) % {kk} AS k, \
             now() - make_interval(days => (j % 700)::int, secs => (j % 86400)::int) AS at, \
             (ARRAY['closed','closed','closed','closed','closed','closed','closed','closed','closed','closed', \
                    'closed','closed','resolved','resolved','in_progress','in_progress','new','new','assigned','waiting_citizen'])[1 + (j * 7) % 20] AS status \
           FROM generate_series({lo}::bigint, {hi}) j), \
         c AS ( \
           INSERT INTO cases (tenant_id, id, number, person_id, service_id, title, description, status, \
             priority, channel, assigned_team, assigned_to, escalation_level, custom_fields, resolution_note, \
             source, external_ref, due_at, created_by, created_at, updated_at, resolved_at, closed_at) \
           SELECT t.id, gen_random_uuid(), to_char(g.at, 'YYYY') || '-' || lpad(g.j::text, 8, '0'), {person}, s.id, \
             'Richiesta ' || g.j, '', g.status, (ARRAY['low','normal','normal','high'])[1 + g.j % 4], \
             (ARRAY['counter','phone','web','app','whatsapp','chatbot'])[1 + g.j % 6], \
             CASE WHEN g.status = 'new' THEN NULL ELSE 'sportello' END, NULL, 0, \
             CASE WHEN s.code = '0' THEN jsonb_build_object('indirizzo', 'Via Appia ' || (g.j % 300), 'pezzi', 1 + g.j % 5) ELSE '{{}}'::jsonb END, \
             CASE WHEN g.status = 'closed' THEN 'Completata' ELSE NULL END, \
             CASE WHEN g.j % 10 = 0 THEN 'legacy' ELSE NULL END, \
             CASE WHEN g.j % 10 = 0 THEN 'L' || g.j ELSE NULL END, \
             g.at + interval '72 hours', 'bench-operator', g.at, g.at + interval '1 day', \
             CASE WHEN g.status IN ('resolved','closed') THEN g.at + interval '1 day' END, \
             CASE WHEN g.status = 'closed' THEN g.at + interval '1 day' END \
           FROM g JOIN bench_tenants t ON t.idx = (g.p + g.k * {st}) % {n} \
           JOIN bench_services s ON s.tenant_idx = t.idx AND s.code = (g.j % 3)::text \
           RETURNING tenant_id, id, person_id, status, channel, created_at, updated_at) \
         INSERT INTO case_events (tenant_id, id, case_id, person_id, occurred_at, actor, on_behalf_of, \
           channel, kind, from_status, to_status, detail) \
         SELECT tenant_id, gen_random_uuid(), id, person_id, created_at, 'bench-operator', NULL, channel, \
           'created', NULL, 'new', '{{}}'::jsonb FROM c \
         UNION ALL \
         SELECT tenant_id, gen_random_uuid(), id, person_id, updated_at, 'bench-operator', NULL, 'web', \
           'status_changed', 'new', status, '{{\"note\": null}}'::jsonb FROM c WHERE status <> 'new'",
        st = l.stride(),
        n = l.tenants,
    )
}

/// One file per person, on a case of theirs at the body of their first profile, all with
/// the content of [`attachment_bytes`].
fn attachments_sql(l: &Layout, lo: u64, hi: u64) -> String {
    let bytes = attachment_bytes();
    let sha = sha256_hex(&bytes);
    let person = person_id_sql("g.p");
    let id = attachment_id_sql("g.p");
    format!(
        "INSERT INTO attachments (tenant_id, id, case_id, person_id, file_name, media_type, \
           size_bytes, sha256, uploaded_by, created_at) \
         SELECT c.tenant_id, {id}, c.id, c.person_id, 'documento.pdf', 'application/pdf', {len}, \
           '{sha}', 'civitas-dev bench-operator', now() \
         FROM generate_series({lo}::bigint, {hi}) AS g(p) \
         JOIN bench_tenants t ON t.idx = g.p % {n} \
         CROSS JOIN LATERAL (SELECT id, tenant_id, person_id FROM cases \
           WHERE tenant_id = t.id AND person_id = {person} LIMIT 1) c",
        len = bytes.len(),
        n = l.tenants,
    )
}

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The generated file in each body's part of the attachment store on disk, where the
/// server reads it (`<data dir>/attachments`).
async fn attachment_blobs(conn: &mut PgConnection, data_dir: &Path) -> anyhow::Result<()> {
    let bytes = attachment_bytes();
    let key_of =
        |tenant: uuid::Uuid| civitas_crm::attachments::key(TenantId(tenant), &sha256_hex(&bytes));
    let tenants: Vec<(uuid::Uuid,)> = sea_orm::sqlx::query_as("SELECT id FROM bench_tenants")
        .fetch_all(&mut *conn)
        .await?;
    let store = crate::blobs::DiskStore::new(data_dir.join("attachments"));
    for (t,) in tenants {
        use civitas_crm::attachments::BlobStore;
        store
            .put(&key_of(t), bytes.clone())
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}

/// One consent every `consent_every` persons: the body of their first profile may read
/// what the body of their second holds (one in ten: what every body holds).
fn consents_sql(l: &Layout) -> String {
    let person = person_id_sql("g.p");
    format!(
        "INSERT INTO sharing_consents (id, person_id, source_tenant_id, grantee_tenant_id, scopes, purpose, \
           expires_at, channel, collected_by, collector_kind, collected_in_tenant_id, granted_at, revoked_at, revoked_by) \
         SELECT gen_random_uuid(), {person}, CASE WHEN g.i % 10 = 0 THEN NULL ELSE src.id END, gr.id, \
           'profile,cases,interactions', 'Assistenza allo sportello', NULL, 'counter', 'bench-operator', 'operator', \
           gr.id, now() - interval '30 days', NULL, NULL \
         FROM (SELECT i, i * {every} AS p FROM generate_series(0::bigint, {last}) i) g \
         JOIN bench_tenants gr ON gr.idx = g.p % {n} \
         JOIN bench_tenants src ON src.idx = (g.p + {s}) % {n}",
        every = l.consent_every(),
        last = l.consents.min(l.persons) - 1,
        s = if l.profiles_per_person() > 1 {
            l.stride()
        } else {
            0
        },
        n = l.tenants,
    )
}

fn interactions_sql(l: &Layout) -> String {
    let person = person_id_sql("p");
    format!(
        "INSERT INTO interactions (tenant_id, id, person_id, case_id, channel, direction, operator, on_behalf_of, \
           summary, occurred_at) \
         SELECT t.id, gen_random_uuid(), {person}, NULL, 'phone', 'inbound', 'bench-operator', NULL, \
           'Informazioni sullo stato della pratica', now() - make_interval(days => (p % 300)::int) \
         FROM generate_series(0::bigint, {last}) p JOIN bench_tenants t ON t.idx = p % {n}",
        last = l.persons - 1,
        n = l.tenants,
    )
}
