//! The pgbench scripts: for one request of each scenario, the statements the server sends
//! (captured with `log_statement = all`), with the same columns, filters and transaction
//! boundaries. The tenant's id, which the server has from its cache, comes back from the
//! `set_config` statement (`\gset`) and is passed as a value, as the server passes it: with
//! `current_setting()` in its place PostgreSQL planned the consent read on the grantee's
//! index, thirteen times slower at 1x, and the baseline measured that plan instead of the
//! server's. Where the server has other values in hand (the profile ids it just read), the
//! script looks them up in a subquery: a little more work for PostgreSQL, never less. A
//! citizen's codice fiscale and subject, which the server has from the token, come from the
//! generator's `bench_citizens` table (the application role may not read `persons`).
//! `UPSERT_PUSH` is one push of the ten a bulk request carries; it updates cases that the
//! server run created (it does not create them itself). The citizen view calls the server's
//! own database function; keep the others in step with the code by hand: the smoke test runs
//! each one against a generated data set.

/// The citizen view: one call of the server's database function (which checks the declared
/// purpose and writes the entry for the body's own records) and, under consent, a call of
/// the one that writes the entry for the other body's, as the server makes them.
pub fn citizen_view() -> String {
    CITIZEN_VIEW.replace("{function}", civitas_crm::citizen_view::VIEW_FUNCTION)
}

const CITIZEN_VIEW: &str = r#"\set p random(0, :persons - 1)
\set k random(0, :kk - 1)
\set t (:p + :k * :stride) % :tenants
\set shared (:k = 0) and (:p % :every = 0) and (:p / :every < :consents)
\set src (:p + :stride) % :tenants
SELECT * FROM {function}((SELECT id FROM tenants WHERE slug = 'bench-' || lpad(:t::int::text, 4, '0')), now()::text, ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid, true, true, gen_random_uuid(), 'civitas-dev|bench-operator', 'citizen_contact', NULL);
\if :shared
SELECT * FROM civitas_log_access((SELECT id FROM tenants WHERE slug = 'bench-' || lpad(:t::int::text, 4, '0')), now()::text, jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'occurred_at', now(), 'person_id', ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid, 'reader', 'bench-operator', 'source_tenant_id', (SELECT id FROM tenants WHERE slug = 'bench-' || lpad(:src::int::text, 4, '0')), 'scopes', 'profile,cases,interactions', 'consent_id', gen_random_uuid(), 'purpose', 'Risposta al cittadino', 'basis', 'consent', 'action', 'citizen_view')));
\endif
"#;

pub const OWN_CASES: &str = r#"\set p random(0, :persons - 1)
SELECT s.id, s.is_root FROM bench_citizens b, civitas_citizen_sign_in('civitas-dev', b.subject, b.fiscal_code, gen_random_uuid()) s WHERE b.p = :p;
BEGIN;
SELECT set_config('app.tenant_id', '', true), set_config('app.person_id', ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid::text, true), set_config('app.now', now()::text, true);
SELECT "cases"."tenant_id", "cases"."id", "cases"."number", "cases"."person_id", "cases"."service_id", "cases"."title", "cases"."description", "cases"."status", "cases"."priority", "cases"."channel", "cases"."assigned_team", "cases"."assigned_to", "cases"."escalation_level", "cases"."custom_fields", "cases"."resolution_note", "cases"."source", "cases"."external_ref", "cases"."due_at", "cases"."created_by", "cases"."created_at", "cases"."updated_at", "cases"."resolved_at", "cases"."closed_at" FROM "cases" WHERE "cases"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) ORDER BY "cases"."created_at" DESC;
COMMIT;
"#;

/// The caller's person look-up every citizen request makes, then the public read
/// (`crm::public_catalogue::page`) for one of `scenarios::CATALOGUE_WORDS`.
pub const CATALOGUE_SEARCH: &str = r#"\set p random(0, :persons - 1)
\set w random(1, 4)
SELECT s.id, s.is_root FROM bench_citizens b, civitas_citizen_sign_in('civitas-dev', b.subject, b.fiscal_code, gen_random_uuid()) s WHERE b.p = :p;
BEGIN;
SELECT set_config('app.tenant_id', '', true), set_config('app.person_id', '', true), set_config('app.public', 'on', true), set_config('app.now', now()::text, true);
SELECT (ARRAY['certificati', 'ingombrante', 'strada', 'residenze'])[:w] AS word \gset
SELECT s.tenant_id, s.id, s.code, s.name, s.area, s.description, s.created_at, s.channels, s.sla_hours, s.custom_fields, t.slug AS body_slug, t.display_name AS body_name FROM services s JOIN tenants t ON t.id = s.tenant_id WHERE t.status = 'active' AND s.search @@ plainto_tsquery('italian', :word) ORDER BY ts_rank(s.search, plainto_tsquery('italian', :word)) DESC, t.slug, s.area, s.name, s.id LIMIT 21 OFFSET 0;
COMMIT;
"#;

/// The caller's person look-up every citizen request makes, then the read of the file's
/// row in the citizen's own scope (`crm::attachments::find_mine`). The bytes come from the
/// store, which pgbench cannot read: the ratio shows what serving them costs.
pub const ATTACHMENT_DOWNLOAD: &str = r#"\set p random(0, :persons - 1)
SELECT s.id, s.is_root FROM bench_citizens b, civitas_citizen_sign_in('civitas-dev', b.subject, b.fiscal_code, gen_random_uuid()) s WHERE b.p = :p;
BEGIN;
SELECT set_config('app.tenant_id', '', true), set_config('app.person_id', ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid::text, true), set_config('app.now', now()::text, true);
SELECT "attachments"."tenant_id", "attachments"."id", "attachments"."case_id", "attachments"."person_id", "attachments"."file_name", "attachments"."media_type", "attachments"."size_bytes", "attachments"."sha256", "attachments"."uploaded_by", "attachments"."created_at" FROM "attachments" WHERE "attachments"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) AND "attachments"."id" = ('00000000-0000-4000-a000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid LIMIT 1;
COMMIT;
"#;

pub const CREATE_CASE: &str = r#"\set p random(0, :persons - 1)
\set k random(0, :kk - 1)
\set t (:p + :k * :stride) % :tenants
BEGIN;
SELECT t.id AS tid, set_config('app.tenant_id', t.id::text, true), set_config('app.person_id', '', true), set_config('app.now', now()::text, true) FROM tenants t WHERE t.slug = 'bench-' || lpad(:t::int::text, 4, '0') \gset
SELECT "services"."tenant_id", "services"."id", "services"."code", "services"."name", "services"."area", "services"."description", "services"."created_at", "services"."channels", "services"."sla_hours", "services"."custom_fields" FROM "services" WHERE "services"."tenant_id" = :tid::uuid AND "services"."code" = 'RITIRO-INGOMBRANTI';
SELECT "persons"."id", "persons"."fiscal_code", "persons"."oidc_subject", "persons"."merged_into", "persons"."created_at" FROM "persons" WHERE "persons"."id" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid OR "persons"."merged_into" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid;
SELECT "profiles"."tenant_id", "profiles"."id", "profiles"."person_id", "profiles"."given_name", "profiles"."family_name", "profiles"."search_name", "profiles"."preferred_channel", "profiles"."language", "profiles"."notes", "profiles"."merged_into", "profiles"."created_at", "profiles"."updated_at" FROM "profiles" WHERE "profiles"."tenant_id" = :tid::uuid AND "profiles"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) LIMIT 1;
INSERT INTO counters (tenant_id, name, value) VALUES (:tid::uuid, 'case:' || to_char(now(), 'YYYY'), 1) ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value \gset n_
INSERT INTO "cases" ("tenant_id", "id", "number", "person_id", "service_id", "title", "description", "status", "priority", "channel", "assigned_team", "assigned_to", "escalation_level", "custom_fields", "resolution_note", "source", "external_ref", "due_at", "created_by", "created_at", "updated_at", "resolved_at", "closed_at") VALUES (:tid::uuid, gen_random_uuid(), to_char(now(), 'YYYY') || '-' || lpad(:n_value::bigint::text, 6, '0'), ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid, (SELECT id FROM services WHERE tenant_id = :tid::uuid AND code = 'RITIRO-INGOMBRANTI'), 'Ritiro di un divano', 'Richiesta al telefono', 'new', 'normal', 'phone', NULL, NULL, 0, '{"pezzi": 2, "piano": "terra", "indirizzo": "Via Tuscolana 90"}'::jsonb, NULL, NULL, NULL, now() + interval '72 hours', 'bench-operator', now(), now(), NULL, NULL) RETURNING "tenant_id", "id", "number", "person_id", "service_id", "title", "description", "status", "priority", "channel", "assigned_team", "assigned_to", "escalation_level", "custom_fields", "resolution_note", "source", "external_ref", "due_at", "created_by", "created_at", "updated_at", "resolved_at", "closed_at" \gset c_
INSERT INTO "case_events" ("tenant_id", "id", "case_id", "person_id", "occurred_at", "actor", "on_behalf_of", "channel", "kind", "from_status", "to_status", "detail") VALUES (:tid::uuid, gen_random_uuid(), :c_id::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid, now(), 'bench-operator', NULL, 'phone', 'created', NULL, 'new', '{"service": "RITIRO-INGOMBRANTI"}'::jsonb) RETURNING "tenant_id", "id", "case_id", "person_id", "occurred_at", "actor", "on_behalf_of", "channel", "kind", "from_status", "to_status", "detail";
SELECT "webhooks"."tenant_id", "webhooks"."id", "webhooks"."url", "webhooks"."secret", "webhooks"."event_types", "webhooks"."active", "webhooks"."created_at" FROM "webhooks" WHERE "webhooks"."tenant_id" = :tid::uuid AND "webhooks"."active" = true;
COMMIT;
SELECT pg_notify('civitas_cases', '{"kind": "created"}');
"#;

pub const UPSERT_PUSH: &str = r#"\set ref random(0, 49999)
BEGIN;
SELECT t.id AS tid, set_config('app.tenant_id', t.id::text, true), set_config('app.person_id', '', true), set_config('app.now', now()::text, true) FROM tenants t WHERE t.slug = 'bench-' || lpad(:t::int::text, 4, '0') \gset
SELECT "cases"."tenant_id", "cases"."id", "cases"."number", "cases"."person_id", "cases"."service_id", "cases"."title", "cases"."description", "cases"."status", "cases"."priority", "cases"."channel", "cases"."assigned_team", "cases"."assigned_to", "cases"."escalation_level", "cases"."custom_fields", "cases"."resolution_note", "cases"."source", "cases"."external_ref", "cases"."due_at", "cases"."created_by", "cases"."created_at", "cases"."updated_at", "cases"."resolved_at", "cases"."closed_at" FROM "cases" WHERE "cases"."tenant_id" = :tid::uuid AND "cases"."source" = :source AND "cases"."external_ref" = 'P' || :ref LIMIT 1;
SELECT "services"."tenant_id", "services"."id", "services"."code", "services"."name", "services"."area", "services"."description", "services"."created_at", "services"."channels", "services"."sla_hours", "services"."custom_fields" FROM "services" WHERE "services"."tenant_id" = :tid::uuid AND "services"."code" = 'CERTIFICATO-RESIDENZA';
UPDATE "cases" SET "status" = (ARRAY['new','in_progress','waiting_citizen','resolved'])[1 + :ref::int % 4], "updated_at" = now() WHERE "cases"."tenant_id" = :tid::uuid AND "cases"."source" = :source AND "cases"."external_ref" = 'P' || :ref RETURNING "tenant_id", "id", "number", "person_id", "service_id", "title", "description", "status", "priority", "channel", "assigned_team", "assigned_to", "escalation_level", "custom_fields", "resolution_note", "source", "external_ref", "due_at", "created_by", "created_at", "updated_at", "resolved_at", "closed_at";
INSERT INTO "case_events" ("tenant_id", "id", "case_id", "person_id", "occurred_at", "actor", "on_behalf_of", "channel", "kind", "from_status", "to_status", "detail") SELECT :tid::uuid, gen_random_uuid(), id, person_id, now(), 'bench-legacy', NULL, 'web', 'synced', 'new', status, '{}'::jsonb FROM cases WHERE tenant_id = :tid::uuid AND source = :source AND external_ref = 'P' || :ref;
SELECT "webhooks"."tenant_id", "webhooks"."id", "webhooks"."url", "webhooks"."secret", "webhooks"."event_types", "webhooks"."active", "webhooks"."created_at" FROM "webhooks" WHERE "webhooks"."tenant_id" = :tid::uuid AND "webhooks"."active" = true;
COMMIT;
"#;

pub const SEARCH: &str = r#"\set p random(0, :persons - 1)
\set k random(0, :kk - 1)
\set t (:p + :k * :stride) % :tenants
BEGIN;
SELECT t.id AS tid, set_config('app.tenant_id', t.id::text, true), set_config('app.person_id', '', true), set_config('app.now', now()::text, true) FROM tenants t WHERE t.slug = 'bench-' || lpad(:t::int::text, 4, '0') \gset
SELECT civitas_person_id((SELECT fiscal_code FROM bench_citizens WHERE p = :p)) AS id;
SELECT "persons"."id", "persons"."fiscal_code", "persons"."oidc_subject", "persons"."merged_into", "persons"."created_at" FROM "persons" WHERE "persons"."id" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid OR "persons"."merged_into" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid;
SELECT "profiles"."tenant_id", "profiles"."id", "profiles"."person_id", "profiles"."given_name", "profiles"."family_name", "profiles"."search_name", "profiles"."preferred_channel", "profiles"."language", "profiles"."notes", "profiles"."merged_into", "profiles"."created_at", "profiles"."updated_at" FROM "profiles" WHERE "profiles"."tenant_id" = :tid::uuid AND "profiles"."merged_into" IS NULL AND "profiles"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) ORDER BY "profiles"."id" ASC LIMIT 21;
SELECT "contacts"."tenant_id", "contacts"."id", "contacts"."profile_id", "contacts"."person_id", "contacts"."kind", "contacts"."value", "contacts"."created_at" FROM "contacts" WHERE "contacts"."tenant_id" IN (:tid::uuid) AND "contacts"."profile_id" IN (SELECT id FROM profiles WHERE person_id = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid AND tenant_id = :tid::uuid) ORDER BY "contacts"."id" ASC;
SELECT "persons"."id", "persons"."fiscal_code", "persons"."oidc_subject", "persons"."merged_into", "persons"."created_at" FROM "persons" WHERE "persons"."id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid);
COMMIT;
"#;

pub const RECORD: &str = r#"\set p random(0, :persons - 1)
\set k random(0, :kk - 1)
\set t (:p + :k * :stride) % :tenants
BEGIN;
SELECT t.id AS tid, set_config('app.tenant_id', t.id::text, true), set_config('app.person_id', '', true), set_config('app.now', now()::text, true) FROM tenants t WHERE t.slug = 'bench-' || lpad(:t::int::text, 4, '0') \gset
SELECT "persons"."id", "persons"."fiscal_code", "persons"."oidc_subject", "persons"."merged_into", "persons"."created_at" FROM "persons" WHERE "persons"."id" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid OR "persons"."merged_into" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid;
SELECT "profiles"."tenant_id", "profiles"."id", "profiles"."person_id", "profiles"."given_name", "profiles"."family_name", "profiles"."search_name", "profiles"."preferred_channel", "profiles"."language", "profiles"."notes", "profiles"."merged_into", "profiles"."created_at", "profiles"."updated_at" FROM "profiles" WHERE "profiles"."tenant_id" = :tid::uuid AND "profiles"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) LIMIT 1;
INSERT INTO "interactions" ("tenant_id", "id", "person_id", "case_id", "channel", "direction", "operator", "on_behalf_of", "summary", "occurred_at") VALUES (:tid::uuid, gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid, NULL, 'phone', 'inbound', 'bench-operator', NULL, 'Chiede lo stato della pratica', now()) RETURNING "tenant_id", "id", "person_id", "case_id", "channel", "direction", "operator", "on_behalf_of", "summary", "occurred_at";
COMMIT;
"#;

pub const CASE_LIST: &str = r#"\set p random(0, :persons - 1)
\set k random(0, :kk - 1)
\set t (:p + :k * :stride) % :tenants
BEGIN;
SELECT t.id AS tid, set_config('app.tenant_id', t.id::text, true), set_config('app.person_id', '', true), set_config('app.now', now()::text, true) FROM tenants t WHERE t.slug = 'bench-' || lpad(:t::int::text, 4, '0') \gset
SELECT "cases"."tenant_id", "cases"."id", "cases"."number", "cases"."person_id", "cases"."service_id", "cases"."title", "cases"."description", "cases"."status", "cases"."priority", "cases"."channel", "cases"."assigned_team", "cases"."assigned_to", "cases"."escalation_level", "cases"."custom_fields", "cases"."resolution_note", "cases"."source", "cases"."external_ref", "cases"."due_at", "cases"."created_by", "cases"."created_at", "cases"."updated_at", "cases"."resolved_at", "cases"."closed_at" FROM "cases" WHERE "cases"."tenant_id" = :tid::uuid AND "cases"."person_id" = ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid ORDER BY "cases"."created_at" DESC, "cases"."id" DESC LIMIT 11;
COMMIT;
"#;

/// The portal's home page (`web::pages::account::home`): the session, the citizen's person,
/// the latest 50 cases across bodies (the page keeps the open ones) and the 10 newest unread
/// notifications, each read in the citizen's scope. The session is looked up by a digest
/// that no session has: the same index probe as the driver's, without a table of the
/// driver's session tokens.
pub const PORTAL_HOME: &str = r#"\set p random(0, :persons - 1)
SELECT "sessions"."id_hash", "sessions"."principal", "sessions"."created_at", "sessions"."expires_at" FROM "sessions" WHERE "sessions"."id_hash" = md5(:p::text) LIMIT 1;
SELECT s.id, s.is_root FROM bench_citizens b, civitas_citizen_sign_in('civitas-dev', b.subject, b.fiscal_code, gen_random_uuid()) s WHERE b.p = :p;
BEGIN;
SELECT set_config('app.tenant_id', '', true), set_config('app.person_id', ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid::text, true), set_config('app.now', now()::text, true);
SELECT "cases"."tenant_id", "cases"."id", "cases"."number", "cases"."person_id", "cases"."service_id", "cases"."title", "cases"."description", "cases"."status", "cases"."priority", "cases"."channel", "cases"."assigned_team", "cases"."assigned_to", "cases"."escalation_level", "cases"."custom_fields", "cases"."resolution_note", "cases"."source", "cases"."external_ref", "cases"."due_at", "cases"."created_by", "cases"."created_at", "cases"."updated_at", "cases"."resolved_at", "cases"."closed_at" FROM "cases" WHERE "cases"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) ORDER BY "cases"."id" DESC LIMIT 51;
COMMIT;
BEGIN;
SELECT set_config('app.tenant_id', '', true), set_config('app.person_id', ('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid::text, true), set_config('app.now', now()::text, true);
SELECT "notifications"."tenant_id", "notifications"."id", "notifications"."person_id", "notifications"."kind", "notifications"."case_id", "notifications"."case_number", "notifications"."status", "notifications"."created_at", "notifications"."read_at", "notifications"."message", "notifications"."archived_at" FROM "notifications" WHERE "notifications"."person_id" IN (('00000000-0000-4000-8000-' || lpad(to_hex(:p::bigint), 12, '0'))::uuid) AND "notifications"."archived_at" IS NULL AND "notifications"."read_at" IS NULL ORDER BY "notifications"."id" DESC LIMIT 11;
COMMIT;
"#;
