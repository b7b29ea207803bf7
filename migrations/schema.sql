-- PostgreSQL's schema after every migration (pg_dump --schema-only --no-owner),
-- normalised. Generated: see tests/e2e/schema_snapshot.rs. Do not edit.
CREATE SCHEMA public;
COMMENT ON SCHEMA public IS 'standard public schema';
CREATE FUNCTION public.civitas_citizen_sign_in(p_issuer text, p_subject text, p_code text, p_new uuid) RETURNS TABLE(id uuid, is_root boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
  linked uuid;
  root uuid;
BEGIN
  SELECT i.person_id INTO linked FROM person_identities i
    WHERE i.issuer = p_issuer AND i.subject = p_subject;
  IF linked IS NULL THEN
    IF p_code IS NULL OR p_code = '' THEN
      RETURN;
    END IF;
    linked := civitas_register_person(p_code, p_new);
    INSERT INTO person_identities (issuer, subject, person_id, created_at)
      VALUES (p_issuer, p_subject, linked, civitas_now())
      ON CONFLICT (issuer, subject) DO NOTHING;
    SELECT i.person_id INTO linked FROM person_identities i
      WHERE i.issuer = p_issuer AND i.subject = p_subject;
  END IF;
  SELECT COALESCE(p.merged_into, p.id) INTO root FROM persons p WHERE p.id = linked;
  RETURN QUERY
    SELECT root, true
    UNION ALL
    SELECT x.id, false FROM persons x WHERE x.merged_into = root;
END
$$;
CREATE FUNCTION public.civitas_citizen_view(p_tenant uuid, p_now text, p_person uuid, p_cases boolean, p_interactions boolean, p_entry uuid, p_reader text, p_purpose text, p_case uuid) RETURNS TABLE(family text, consents text, profile_rows text, contact_rows text, case_rows text, interaction_rows text, purpose text)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
#variable_conflict use_column
DECLARE
  entered boolean;
  v_family text;
  v_ids uuid[];
  v_root boolean;
  v_label text;
  v_basis text;
  ignored text;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  -- The entry is the call's only write: its commit does not wait for the WAL to reach the
  -- disk. Waiting made the view 36% slower (pgbench too); a crash of the database server
  -- can lose the entries of its last moments (at most 3 x wal_writer_delay), never leave a
  -- partial one. Cross-body reads (civitas_log_access) are still committed durably.
  ignored := set_config('synchronous_commit', 'off', true);
  -- The person and the records merged into it, read once: each read of persons checks its
  -- policy per row.
  SELECT json_agg(f)::text, array_agg(f.id),
         COALESCE(bool_or(f.id = p_person AND f.merged_into IS NULL), false)
    INTO v_family, v_ids, v_root
    FROM (SELECT id, fiscal_code, oidc_subject, merged_into, created_at FROM persons
           WHERE id = p_person OR merged_into = p_person) f;
  -- The declared purpose must be one of the body's; a case gives its own, and must be one
  -- of this person's at the body, in use. Without one, nothing is read.
  IF p_case IS NOT NULL THEN
    SELECT COALESCE(ap.label, 'Istruttoria di una pratica') || ' (' || c.number || ')',
           COALESCE(ap.legal_basis, 'Art. 6(1)(e) GDPR')
      INTO v_label, v_basis
      FROM cases c
      LEFT JOIN access_purposes ap ON ap.tenant_id = p_tenant AND ap.code = 'case_handling'
     WHERE c.tenant_id = p_tenant AND c.id = p_case AND c.erase_after IS NULL
       AND c.person_id = ANY (v_ids);
  ELSE
    SELECT ap.label, ap.legal_basis INTO v_label, v_basis
      FROM access_purposes ap
     WHERE ap.tenant_id = p_tenant AND ap.code = p_purpose AND ap.retired_at IS NULL;
  END IF;
  IF v_label IS NULL THEN
    RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                        NULL::text, NULL::text;
    RETURN;
  END IF;
  -- The body's own records: logged when the view will show them, that is when the person
  -- (not a record merged into another) has a profile here and none of them is restricted.
  IF v_root AND (SELECT bool_and(p.restricted_at IS NULL) FROM profiles p
                  WHERE p.tenant_id = p_tenant AND p.merged_into IS NULL
                    AND p.person_id = ANY (v_ids)) THEN
    INSERT INTO access_log (tenant_id, id, occurred_at, person_id, reader, source_tenant_id,
                            scopes, consent_id, purpose, basis, action, case_id, legal_basis)
    VALUES (p_tenant, p_entry, COALESCE(NULLIF(p_now, '')::timestamptz, now()), p_person,
            p_reader, p_tenant,
            concat_ws(',', 'profile', CASE WHEN p_cases THEN 'cases' END,
                      CASE WHEN p_interactions THEN 'interactions' END),
            NULL, v_label, 'legal_basis', 'citizen_view', p_case, v_basis);
  END IF;
  RETURN QUERY
    WITH con AS MATERIALIZED (
      SELECT sc.* FROM sharing_consents sc
      WHERE sc.person_id = ANY (v_ids)
        AND sc.grantee_tenant_id = p_tenant AND sc.revoked_at IS NULL),
    bodies AS (
      SELECT p_tenant || array_agg(source_tenant_id) FILTER (WHERE source_tenant_id IS NOT NULL) AS v,
             COALESCE(bool_or(source_tenant_id IS NULL), false) AS every
      FROM con)
    SELECT
      v_family AS family,
      (SELECT json_agg(con)::text FROM con) AS consents,
      (SELECT json_agg(p ORDER BY p.tenant_id, p.id)::text FROM profiles p
       WHERE p.person_id = ANY (v_ids)
         AND (p.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))
         AND p.merged_into IS NULL) AS profile_rows,
      (SELECT json_agg(c ORDER BY c.id)::text FROM contacts c
       WHERE c.person_id = ANY (v_ids)
         AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies))) AS contact_rows,
      CASE WHEN p_cases THEN
        (SELECT json_agg(c)::text FROM cases c
         WHERE c.person_id = ANY (v_ids)
           AND (c.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies)))
      END AS case_rows,
      CASE WHEN p_interactions THEN
        (SELECT json_agg(i)::text FROM interactions i
         WHERE i.person_id = ANY (v_ids)
           AND (i.tenant_id = ANY ((SELECT v FROM bodies)::uuid[]) OR (SELECT every FROM bodies)))
      END AS interaction_rows,
      json_build_object('label', v_label, 'legal_basis', v_basis)::text AS purpose;
END
$$;
CREATE FUNCTION public.civitas_current_person() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.person_id', true), '')::uuid $$;
CREATE FUNCTION public.civitas_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION public.civitas_enter_tenant(p_tenant uuid, p_now text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
  ignored text;
BEGIN
  IF p_tenant IS NULL THEN
    RAISE EXCEPTION 'civitas_enter_tenant: no tenant given';
  END IF;
  -- Inside a transaction already bound elsewhere (a scope of another tenant, a citizen's
  -- own scope), switching would change what the rest of it sees: refuse.
  IF civitas_current_person() IS NOT NULL
     OR COALESCE(civitas_current_tenant() <> p_tenant, false) THEN
    RAISE EXCEPTION 'civitas_enter_tenant: this transaction is bound to another tenant or person';
  END IF;
  ignored := set_config('app.tenant_id', p_tenant::text, true);
  ignored := set_config('app.person_id', '', true);
  ignored := set_config('app.now', COALESCE(p_now, ''), true);
  RETURN true;
END
$$;
CREATE FUNCTION public.civitas_forget_person(p uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
BEGIN
  IF civitas_current_tenant() IS NOT NULL OR civitas_current_person() IS DISTINCT FROM p THEN
    RAISE EXCEPTION 'not allowed' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM erasure_requests r WHERE r.person_id = p
                 AND r.forgotten_at IS NULL) THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM profiles f WHERE civitas_is_current_person(f.person_id))
     OR EXISTS (SELECT 1 FROM cases c WHERE civitas_is_current_person(c.person_id)) THEN
    RETURN false;
  END IF;
  UPDATE persons SET fiscal_code = NULL WHERE id = p OR merged_into = p;
  DELETE FROM sharing_consents s WHERE civitas_is_current_person(s.person_id);
  DELETE FROM consent_requests s WHERE civitas_is_current_person(s.person_id);
  UPDATE erasure_requests SET forgotten_at = civitas_now()
    WHERE person_id = p AND forgotten_at IS NULL;
  RETURN true;
END
$$;
CREATE FUNCTION public.civitas_is_current_person(p uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
  me uuid := civitas_current_person();
BEGIN
  IF me IS NULL OR p IS NULL THEN
    RETURN false;
  END IF;
  IF p = me THEN
    RETURN true;
  END IF;
  RETURN EXISTS (SELECT 1 FROM persons WHERE id = p AND merged_into = me);
END
$$;
CREATE FUNCTION public.civitas_log_access(p_tenant uuid, p_now text, p_rows jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
  entered boolean;
BEGIN
  entered := civitas_enter_tenant(p_tenant, p_now);
  INSERT INTO access_log (tenant_id, id, occurred_at, person_id, reader, source_tenant_id,
                          scopes, consent_id, purpose, basis, action, case_id, legal_basis)
  SELECT p_tenant, r.id, r.occurred_at, r.person_id, r.reader, r.source_tenant_id, r.scopes,
         r.consent_id, r.purpose, r.basis, r.action, r.case_id, r.legal_basis
  FROM jsonb_to_recordset(p_rows) AS r(id uuid, occurred_at timestamptz, person_id uuid,
       reader text, source_tenant_id uuid, scopes text, consent_id uuid, purpose text,
       basis text, action text, case_id uuid, legal_basis text);
END
$$;
CREATE FUNCTION public.civitas_merge_person(p_source uuid, p_target uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
BEGIN
  IF civitas_current_tenant() IS NULL
     OR NOT EXISTS (SELECT 1 FROM persons WHERE id = p_source AND merged_into IS NULL
                    AND civitas_person_known(id, merged_into))
     OR NOT EXISTS (SELECT 1 FROM persons WHERE id = p_target AND merged_into IS NULL
                    AND civitas_person_known(id, merged_into)) THEN
    RAISE EXCEPTION 'person not found' USING ERRCODE = 'P0002';
  END IF;
  UPDATE persons SET merged_into = p_target WHERE merged_into = p_source OR id = p_source;
END
$$;
CREATE FUNCTION public.civitas_now() RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE(NULLIF(current_setting('app.now', true), '')::timestamptz, now()) $$;
CREATE FUNCTION public.civitas_open_erasures() RETURNS TABLE(id uuid, person_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
  SELECT r.id, r.person_id FROM erasure_requests r WHERE r.forgotten_at IS NULL
$$;
CREATE FUNCTION public.civitas_person_id(p_code text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
  SELECT id FROM persons WHERE fiscal_code = p_code
$$;
CREATE FUNCTION public.civitas_person_known(p_id uuid, p_merged uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
  me uuid := civitas_current_person();
  t uuid := civitas_current_tenant();
  r uuid := COALESCE(p_merged, p_id);
BEGIN
  IF me IS NOT NULL AND (p_id = me OR p_merged = me) THEN
    RETURN true;
  END IF;
  IF t IS NULL OR r IS NULL THEN
    RETURN false;
  END IF;
  RETURN EXISTS (SELECT 1 FROM profiles f WHERE f.tenant_id = t AND f.person_id = r)
      OR EXISTS (SELECT 1 FROM persons x JOIN profiles f ON f.person_id = x.id
                 WHERE x.merged_into = r AND f.tenant_id = t)
      OR EXISTS (SELECT 1 FROM sharing_consents c
                 WHERE c.grantee_tenant_id = t AND c.revoked_at IS NULL
                   AND (c.expires_at IS NULL OR c.expires_at > civitas_now())
                   AND (c.person_id = r
                        OR c.person_id IN (SELECT x.id FROM persons x WHERE x.merged_into = r)));
END
$$;
CREATE FUNCTION public.civitas_register_person(p_code text, p_new uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
  found uuid;
BEGIN
  IF p_code IS NULL OR p_code = '' THEN
    RAISE EXCEPTION 'a codice fiscale is required' USING ERRCODE = '22023';
  END IF;
  INSERT INTO persons (id, fiscal_code, oidc_subject, merged_into, created_at)
    VALUES (p_new, p_code, NULL, NULL, civitas_now())
    ON CONFLICT (fiscal_code) DO NOTHING;
  SELECT COALESCE(merged_into, id) INTO found FROM persons WHERE fiscal_code = p_code;
  RETURN found;
END
$$;
CREATE FUNCTION public.civitas_shared(p uuid, source uuid, scope text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
  grantee uuid := civitas_current_tenant();
BEGIN
  IF grantee IS NULL THEN
    RETURN false;
  END IF;
  RETURN EXISTS (
    SELECT 1 FROM sharing_consents c
    WHERE c.person_id IN (
            SELECT COALESCE(x.merged_into, x.id) FROM persons x WHERE x.id = p
            UNION SELECT y.id FROM persons y
                  WHERE y.merged_into = (SELECT COALESCE(z.merged_into, z.id) FROM persons z WHERE z.id = p))
      AND c.grantee_tenant_id = grantee
      AND (c.source_tenant_id IS NULL OR c.source_tenant_id = source)
      AND c.source_tenant_id IS DISTINCT FROM c.grantee_tenant_id
      AND c.revoked_at IS NULL
      AND (c.expires_at IS NULL OR c.expires_at > civitas_now())
      AND position(',' || scope || ',' in ',' || c.scopes || ',') > 0);
END
$$;
CREATE TABLE public.access_log (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    person_id uuid NOT NULL,
    reader text NOT NULL,
    source_tenant_id uuid NOT NULL,
    scopes text NOT NULL,
    consent_id uuid,
    purpose text NOT NULL,
    basis text DEFAULT 'consent'::text NOT NULL,
    action text DEFAULT 'citizen_view'::text NOT NULL,
    case_id uuid,
    legal_basis text
);
ALTER TABLE ONLY public.access_log FORCE ROW LEVEL SECURITY;
CREATE TABLE public.access_purposes (
    tenant_id uuid NOT NULL,
    code text NOT NULL,
    label text NOT NULL,
    legal_basis text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    retired_at timestamp with time zone
);
ALTER TABLE ONLY public.access_purposes FORCE ROW LEVEL SECURITY;
CREATE TABLE public.api_keys (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL,
    secret_hash text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);
ALTER TABLE ONLY public.api_keys FORCE ROW LEVEL SECURITY;
CREATE TABLE public.attachments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    person_id uuid,
    file_name text NOT NULL,
    media_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 text NOT NULL,
    uploaded_by text NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.attachments FORCE ROW LEVEL SECURITY;
CREATE TABLE public.audit_events (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text,
    detail jsonb NOT NULL,
    actor_issuer text
);
ALTER TABLE ONLY public.audit_events FORCE ROW LEVEL SECURITY;
CREATE TABLE public.auth_flows (
    state text NOT NULL,
    payload jsonb NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE TABLE public.casbin_rule (
    id integer NOT NULL,
    ptype text NOT NULL,
    v0 text DEFAULT ''::text NOT NULL,
    v1 text DEFAULT ''::text NOT NULL,
    v2 text DEFAULT ''::text NOT NULL,
    v3 text DEFAULT ''::text NOT NULL,
    v4 text DEFAULT ''::text NOT NULL,
    v5 text DEFAULT ''::text NOT NULL
);
ALTER TABLE public.casbin_rule ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.casbin_rule_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.case_events (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    person_id uuid,
    occurred_at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    on_behalf_of text,
    channel text NOT NULL,
    kind text NOT NULL,
    from_status text,
    to_status text,
    detail jsonb NOT NULL
);
ALTER TABLE ONLY public.case_events FORCE ROW LEVEL SECURITY;
CREATE TABLE public.cases (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    number text NOT NULL,
    person_id uuid,
    service_id uuid NOT NULL,
    title text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    status text NOT NULL,
    priority text NOT NULL,
    channel text NOT NULL,
    assigned_team text,
    assigned_to text,
    escalation_level integer DEFAULT 0 NOT NULL,
    custom_fields jsonb NOT NULL,
    resolution_note text,
    source text,
    external_ref text,
    due_at timestamp with time zone NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    resolved_at timestamp with time zone,
    closed_at timestamp with time zone,
    erase_after timestamp with time zone,
    latitude double precision,
    longitude double precision,
    address text,
    location_note text,
    media_url text,
    published boolean DEFAULT false NOT NULL,
    reported_to uuid,
    media_attachment_id uuid
);
ALTER TABLE ONLY public.cases FORCE ROW LEVEL SECURITY;
CREATE TABLE public.channel_choices (
    tenant_id uuid NOT NULL,
    person_id uuid NOT NULL,
    channel text NOT NULL,
    allowed boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.channel_choices FORCE ROW LEVEL SECURITY;
CREATE TABLE public.consent_requests (
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    source_tenant_id uuid,
    grantee_tenant_id uuid NOT NULL,
    scopes text NOT NULL,
    purpose text NOT NULL,
    expires_at timestamp with time zone,
    channel text NOT NULL,
    collected_by text NOT NULL,
    collected_by_issuer text NOT NULL,
    collected_in_tenant_id uuid NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    status text NOT NULL,
    decided_at timestamp with time zone,
    consent_id uuid
);
ALTER TABLE ONLY public.consent_requests FORCE ROW LEVEL SECURITY;
CREATE TABLE public.contacts (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    profile_id uuid NOT NULL,
    person_id uuid NOT NULL,
    kind text NOT NULL,
    value text NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.contacts FORCE ROW LEVEL SECURITY;
CREATE TABLE public.counters (
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    value bigint NOT NULL
);
ALTER TABLE ONLY public.counters FORCE ROW LEVEL SECURITY;
CREATE TABLE public.delegations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    tutor_subject text NOT NULL,
    scopes text NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    tutor_issuer text DEFAULT 'civitas-dev'::text NOT NULL
);
ALTER TABLE ONLY public.delegations FORCE ROW LEVEL SECURITY;
CREATE TABLE public.erasure_requests (
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    requested_by text NOT NULL,
    channel text NOT NULL,
    recorded_in_tenant_id uuid,
    forgotten_at timestamp with time zone
);
ALTER TABLE ONLY public.erasure_requests FORCE ROW LEVEL SECURITY;
CREATE TABLE public.erasure_steps (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    request_id uuid NOT NULL,
    person_id uuid NOT NULL,
    done_at timestamp with time zone NOT NULL,
    erased jsonb NOT NULL,
    kept jsonb NOT NULL
);
ALTER TABLE ONLY public.erasure_steps FORCE ROW LEVEL SECURITY;
CREATE TABLE public.idempotency_keys (
    tenant_id uuid NOT NULL,
    issuer text NOT NULL,
    subject text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    response jsonb NOT NULL,
    checks jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE TABLE public.identity_providers (
    id uuid NOT NULL,
    owner_tenant_id uuid NOT NULL,
    issuer text NOT NULL,
    audiences text NOT NULL,
    client_id text,
    client_secret text,
    fiscal_number_claim text NOT NULL,
    roles_claim text NOT NULL,
    service_clients text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    citizen_identities boolean DEFAULT false NOT NULL
);
CREATE TABLE public.initiatives (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    area text NOT NULL,
    address text,
    latitude double precision,
    longitude double precision,
    online_url text,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    capacity integer,
    waiting_list boolean DEFAULT true NOT NULL,
    registration_opens_at timestamp with time zone,
    registration_closes_at timestamp with time zone,
    status text NOT NULL,
    visibility text NOT NULL,
    confirmed integer DEFAULT 0 NOT NULL,
    waiting integer DEFAULT 0 NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    survey_sent_at timestamp with time zone
);
ALTER TABLE ONLY public.initiatives FORCE ROW LEVEL SECURITY;
CREATE TABLE public.interactions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid,
    case_id uuid,
    channel text NOT NULL,
    direction text NOT NULL,
    operator text NOT NULL,
    on_behalf_of text,
    summary text NOT NULL,
    occurred_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.interactions FORCE ROW LEVEL SECURITY;
CREATE TABLE public.members (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    subject text NOT NULL,
    display_name text NOT NULL,
    email text,
    created_at timestamp with time zone NOT NULL,
    issuer text DEFAULT 'civitas-dev'::text NOT NULL
);
ALTER TABLE ONLY public.members FORCE ROW LEVEL SECURITY;
CREATE TABLE public.notification_attempts (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    delivery_id uuid NOT NULL,
    attempted_at timestamp with time zone NOT NULL,
    ok boolean NOT NULL,
    error text
);
ALTER TABLE ONLY public.notification_attempts FORCE ROW LEVEL SECURITY;
CREATE TABLE public.notification_deliveries (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    notification_id uuid NOT NULL,
    person_id uuid NOT NULL,
    channel text NOT NULL,
    address text NOT NULL,
    status text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    last_error text,
    sent_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.notification_deliveries FORCE ROW LEVEL SECURITY;
CREATE TABLE public.notifications (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    kind text NOT NULL,
    case_id uuid,
    case_number text,
    status text,
    created_at timestamp with time zone NOT NULL,
    read_at timestamp with time zone,
    message text,
    archived_at timestamp with time zone,
    invitation_id uuid
);
ALTER TABLE ONLY public.notifications FORCE ROW LEVEL SECURITY;
CREATE TABLE public.outbox (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.outbox FORCE ROW LEVEL SECURITY;
CREATE TABLE public.participations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    initiative_id uuid NOT NULL,
    person_id uuid NOT NULL,
    status text NOT NULL,
    queue_position bigint,
    registered_by text NOT NULL,
    channel text NOT NULL,
    registered_at timestamp with time zone NOT NULL,
    confirmed_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    checked_in_at timestamp with time zone
);
ALTER TABLE ONLY public.participations FORCE ROW LEVEL SECURITY;
CREATE TABLE public.person_identities (
    issuer text NOT NULL,
    subject text NOT NULL,
    person_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL
);
CREATE TABLE public.person_sources (
    tenant_id uuid NOT NULL,
    source text NOT NULL,
    external_ref text NOT NULL,
    profile_id uuid NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.person_sources FORCE ROW LEVEL SECURITY;
CREATE TABLE public.persons (
    id uuid NOT NULL,
    fiscal_code text,
    oidc_subject text,
    merged_into uuid,
    created_at timestamp with time zone NOT NULL
);
CREATE TABLE public.preferences (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    area text NOT NULL,
    category text NOT NULL,
    source text NOT NULL,
    interested boolean NOT NULL,
    origin_id uuid,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.preferences FORCE ROW LEVEL SECURITY;
CREATE TABLE public.privacy_consents (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    purpose text NOT NULL,
    text_version text NOT NULL,
    channel text NOT NULL,
    collected_by text NOT NULL,
    collector_kind text NOT NULL,
    given_at timestamp with time zone NOT NULL,
    withdrawn_at timestamp with time zone,
    withdrawn_by text
);
ALTER TABLE ONLY public.privacy_consents FORCE ROW LEVEL SECURITY;
CREATE TABLE public.profiles (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    given_name text NOT NULL,
    family_name text NOT NULL,
    search_name text NOT NULL,
    preferred_channel text,
    language text,
    notes text DEFAULT ''::text NOT NULL,
    merged_into uuid,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    restricted_at timestamp with time zone
);
ALTER TABLE ONLY public.profiles FORCE ROW LEVEL SECURITY;
CREATE TABLE public.questionnaire_versions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    questionnaire_id uuid NOT NULL,
    version integer NOT NULL,
    status text NOT NULL,
    questions jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    published_at timestamp with time zone
);
ALTER TABLE ONLY public.questionnaire_versions FORCE ROW LEVEL SECURITY;
CREATE TABLE public.questionnaires (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    title text NOT NULL,
    anonymous boolean NOT NULL,
    service_id uuid,
    initiative_id uuid,
    current_version integer DEFAULT 0 NOT NULL,
    retired_at timestamp with time zone,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.questionnaires FORCE ROW LEVEL SECURITY;
CREATE TABLE public.quiet_hours (
    tenant_id uuid NOT NULL,
    person_id uuid NOT NULL,
    start_minute integer NOT NULL,
    end_minute integer NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.quiet_hours FORCE ROW LEVEL SECURITY;
CREATE TABLE public.restrictions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    purpose text NOT NULL,
    kind text NOT NULL,
    reason text NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    requested_by text NOT NULL,
    lifted_at timestamp with time zone,
    lifted_by text
);
ALTER TABLE ONLY public.restrictions FORCE ROW LEVEL SECURITY;
CREATE TABLE public.retention_rules (
    tenant_id uuid NOT NULL,
    service_code text NOT NULL,
    keep_years integer NOT NULL,
    minimum_years integer NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.retention_rules FORCE ROW LEVEL SECURITY;
CREATE TABLE public.role_assignments (
    tenant_id uuid NOT NULL,
    member_id uuid NOT NULL,
    role text NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.role_assignments FORCE ROW LEVEL SECURITY;
CREATE TABLE public.routing_rules (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    service_code text NOT NULL,
    target_tenant_id uuid NOT NULL,
    "position" integer NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.routing_rules FORCE ROW LEVEL SECURITY;
CREATE TABLE public.seaql_migrations (
    version character varying NOT NULL,
    applied_at bigint NOT NULL
);
CREATE TABLE public.service_areas (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL,
    geojson text NOT NULL,
    min_lat double precision NOT NULL,
    min_lon double precision NOT NULL,
    max_lat double precision NOT NULL,
    max_lon double precision NOT NULL,
    vertices integer NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.service_areas FORCE ROW LEVEL SECURITY;
CREATE TABLE public.service_sheets (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    service_code text NOT NULL,
    language text NOT NULL,
    state text NOT NULL,
    sections jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.service_sheets FORCE ROW LEVEL SECURITY;
CREATE TABLE public.services (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    area text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    channels text DEFAULT ''::text NOT NULL,
    sla_hours integer DEFAULT 72 NOT NULL,
    custom_fields jsonb DEFAULT '[]'::jsonb NOT NULL,
    search tsvector GENERATED ALWAYS AS (((setweight(to_tsvector('italian'::regconfig, name), 'A'::"char") || setweight(to_tsvector('italian'::regconfig, area), 'B'::"char")) || setweight(to_tsvector('italian'::regconfig, description), 'C'::"char"))) STORED
);
ALTER TABLE ONLY public.services FORCE ROW LEVEL SECURITY;
CREATE TABLE public.sessions (
    id_hash text NOT NULL,
    principal jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE TABLE public.sharing_consents (
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    source_tenant_id uuid,
    grantee_tenant_id uuid NOT NULL,
    scopes text NOT NULL,
    purpose text NOT NULL,
    expires_at timestamp with time zone,
    channel text NOT NULL,
    collected_by text NOT NULL,
    collector_kind text NOT NULL,
    collected_in_tenant_id uuid,
    granted_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    revoked_by text
);
ALTER TABLE ONLY public.sharing_consents FORCE ROW LEVEL SECURITY;
CREATE TABLE public.survey_answers (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    questionnaire_id uuid NOT NULL,
    version_id uuid NOT NULL,
    version integer NOT NULL,
    person_id uuid,
    case_id uuid,
    initiative_id uuid,
    service_id uuid,
    channel text NOT NULL,
    answers jsonb NOT NULL,
    submitted_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.survey_answers FORCE ROW LEVEL SECURITY;
CREATE TABLE public.survey_invitations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    questionnaire_id uuid NOT NULL,
    person_id uuid NOT NULL,
    occasion text NOT NULL,
    case_id uuid,
    initiative_id uuid,
    service_id uuid,
    channel text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    answered_at timestamp with time zone
);
ALTER TABLE ONLY public.survey_invitations FORCE ROW LEVEL SECURITY;
CREATE TABLE public.tenants (
    id uuid NOT NULL,
    slug text NOT NULL,
    display_name text NOT NULL,
    kind text NOT NULL,
    parent_id uuid,
    status text NOT NULL,
    settings jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE TABLE public.webhook_deliveries (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    webhook_id uuid NOT NULL,
    event_id uuid NOT NULL,
    status text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    last_status integer,
    last_error text,
    delivered_at timestamp with time zone
);
ALTER TABLE ONLY public.webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE TABLE public.webhooks (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    event_types text NOT NULL,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.webhooks FORCE ROW LEVEL SECURITY;
ALTER TABLE ONLY public.access_log
    ADD CONSTRAINT access_log_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.access_purposes
    ADD CONSTRAINT access_purposes_pkey PRIMARY KEY (tenant_id, code);
ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT attachments_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.auth_flows
    ADD CONSTRAINT auth_flows_pkey PRIMARY KEY (state);
ALTER TABLE ONLY public.casbin_rule
    ADD CONSTRAINT casbin_rule_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.case_events
    ADD CONSTRAINT case_events_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.cases
    ADD CONSTRAINT cases_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.channel_choices
    ADD CONSTRAINT channel_choices_pkey PRIMARY KEY (tenant_id, person_id, channel);
ALTER TABLE ONLY public.consent_requests
    ADD CONSTRAINT consent_requests_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.counters
    ADD CONSTRAINT counters_pkey PRIMARY KEY (tenant_id, name);
ALTER TABLE ONLY public.delegations
    ADD CONSTRAINT delegations_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.erasure_requests
    ADD CONSTRAINT erasure_requests_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.erasure_steps
    ADD CONSTRAINT erasure_steps_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, issuer, subject, key);
ALTER TABLE ONLY public.identity_providers
    ADD CONSTRAINT identity_providers_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.initiatives
    ADD CONSTRAINT initiatives_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT interactions_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.notification_attempts
    ADD CONSTRAINT notification_attempts_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.participations
    ADD CONSTRAINT participations_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.person_identities
    ADD CONSTRAINT person_identities_pkey PRIMARY KEY (issuer, subject);
ALTER TABLE ONLY public.person_sources
    ADD CONSTRAINT person_sources_pkey PRIMARY KEY (tenant_id, source, external_ref);
ALTER TABLE ONLY public.persons
    ADD CONSTRAINT persons_fiscal_code_key UNIQUE (fiscal_code);
ALTER TABLE ONLY public.persons
    ADD CONSTRAINT persons_oidc_subject_key UNIQUE (oidc_subject);
ALTER TABLE ONLY public.persons
    ADD CONSTRAINT persons_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.preferences
    ADD CONSTRAINT preferences_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.privacy_consents
    ADD CONSTRAINT privacy_consents_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.questionnaire_versions
    ADD CONSTRAINT questionnaire_versions_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.questionnaires
    ADD CONSTRAINT questionnaires_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.quiet_hours
    ADD CONSTRAINT quiet_hours_pkey PRIMARY KEY (tenant_id, person_id);
ALTER TABLE ONLY public.restrictions
    ADD CONSTRAINT restrictions_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.retention_rules
    ADD CONSTRAINT retention_rules_pkey PRIMARY KEY (tenant_id, service_code);
ALTER TABLE ONLY public.role_assignments
    ADD CONSTRAINT role_assignments_pkey PRIMARY KEY (tenant_id, member_id, role);
ALTER TABLE ONLY public.routing_rules
    ADD CONSTRAINT routing_rules_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.seaql_migrations
    ADD CONSTRAINT seaql_migrations_pkey PRIMARY KEY (version);
ALTER TABLE ONLY public.service_areas
    ADD CONSTRAINT service_areas_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.service_sheets
    ADD CONSTRAINT service_sheets_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.services
    ADD CONSTRAINT services_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id_hash);
ALTER TABLE ONLY public.sharing_consents
    ADD CONSTRAINT sharing_consents_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.survey_answers
    ADD CONSTRAINT survey_answers_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.survey_invitations
    ADD CONSTRAINT survey_invitations_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_slug_key UNIQUE (slug);
ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE ONLY public.webhooks
    ADD CONSTRAINT webhooks_pkey PRIMARY KEY (tenant_id, id);
CREATE INDEX ix_access_log_person_any_tenant ON public.access_log USING btree (person_id);
CREATE INDEX ix_access_log_time ON public.access_log USING btree (tenant_id, occurred_at);
CREATE INDEX ix_attachments_case ON public.attachments USING btree (tenant_id, case_id, id);
CREATE INDEX ix_attachments_person ON public.attachments USING btree (person_id, id);
CREATE INDEX ix_audit_events_time ON public.audit_events USING btree (tenant_id, occurred_at);
CREATE INDEX ix_case_events_case ON public.case_events USING btree (tenant_id, case_id, occurred_at);
CREATE INDEX ix_cases_person_any_tenant ON public.cases USING btree (person_id);
CREATE INDEX ix_cases_place ON public.cases USING btree (tenant_id, latitude, longitude);
CREATE INDEX ix_cases_published ON public.cases USING btree (published, created_at);
CREATE INDEX ix_cases_status_due ON public.cases USING btree (tenant_id, status, due_at);
CREATE INDEX ix_consent_requests_collected_in ON public.consent_requests USING btree (collected_in_tenant_id, requested_at);
CREATE INDEX ix_consent_requests_person ON public.consent_requests USING btree (person_id);
CREATE INDEX ix_contacts_lookup ON public.contacts USING btree (tenant_id, kind, value);
CREATE INDEX ix_contacts_person_any_tenant ON public.contacts USING btree (person_id);
CREATE INDEX ix_delegations_tutor ON public.delegations USING btree (tenant_id, tutor_subject, person_id);
CREATE INDEX ix_erasure_requests_person ON public.erasure_requests USING btree (person_id);
CREATE INDEX ix_initiatives_start ON public.initiatives USING btree (tenant_id, status, starts_at);
CREATE INDEX ix_interactions_person ON public.interactions USING btree (tenant_id, person_id, occurred_at);
CREATE INDEX ix_interactions_person_any_tenant ON public.interactions USING btree (person_id);
CREATE INDEX ix_notification_attempts_delivery ON public.notification_attempts USING btree (tenant_id, delivery_id);
CREATE INDEX ix_notification_deliveries_due ON public.notification_deliveries USING btree (tenant_id, status, next_attempt_at);
CREATE INDEX ix_notification_deliveries_notification ON public.notification_deliveries USING btree (tenant_id, notification_id);
CREATE INDEX ix_notifications_person ON public.notifications USING btree (person_id, id);
CREATE INDEX ix_participations_person_any_tenant ON public.participations USING btree (person_id);
CREATE INDEX ix_participations_queue ON public.participations USING btree (tenant_id, initiative_id, status, queue_position);
CREATE INDEX ix_person_identities_person ON public.person_identities USING btree (person_id);
CREATE INDEX ix_person_sources_profile ON public.person_sources USING btree (tenant_id, profile_id);
CREATE INDEX ix_persons_merged_into ON public.persons USING btree (merged_into);
CREATE INDEX ix_preferences_person_any_tenant ON public.preferences USING btree (person_id);
CREATE INDEX ix_privacy_consents_person ON public.privacy_consents USING btree (tenant_id, person_id, purpose);
CREATE INDEX ix_profiles_person_any_tenant ON public.profiles USING btree (person_id);
CREATE INDEX ix_profiles_search_name ON public.profiles USING btree (tenant_id, search_name);
CREATE INDEX ix_questionnaires_service ON public.questionnaires USING btree (tenant_id, service_id);
CREATE INDEX ix_restrictions_person ON public.restrictions USING btree (tenant_id, person_id, purpose);
CREATE INDEX ix_services_search ON public.services USING gin (search);
CREATE INDEX ix_sharing_consents_grantee ON public.sharing_consents USING btree (grantee_tenant_id);
CREATE INDEX ix_sharing_consents_person ON public.sharing_consents USING btree (person_id, grantee_tenant_id);
CREATE INDEX ix_survey_answers_person_any_tenant ON public.survey_answers USING btree (person_id);
CREATE INDEX ix_survey_answers_questionnaire ON public.survey_answers USING btree (tenant_id, questionnaire_id, submitted_at);
CREATE INDEX ix_survey_answers_service ON public.survey_answers USING btree (tenant_id, service_id, submitted_at);
CREATE INDEX ix_survey_invitations_person_any_tenant ON public.survey_invitations USING btree (person_id);
CREATE INDEX ix_webhook_deliveries_due ON public.webhook_deliveries USING btree (tenant_id, status, next_attempt_at);
CREATE UNIQUE INDEX ux_api_keys_name ON public.api_keys USING btree (tenant_id, name);
CREATE UNIQUE INDEX ux_api_keys_secret ON public.api_keys USING btree (secret_hash);
CREATE UNIQUE INDEX ux_casbin_rule ON public.casbin_rule USING btree (ptype, v0, v1, v2, v3, v4, v5);
CREATE UNIQUE INDEX ux_cases_external_ref ON public.cases USING btree (tenant_id, source, external_ref);
CREATE UNIQUE INDEX ux_cases_number ON public.cases USING btree (tenant_id, number);
CREATE UNIQUE INDEX ux_contacts_value ON public.contacts USING btree (tenant_id, profile_id, kind, value);
CREATE UNIQUE INDEX ux_erasure_steps_request ON public.erasure_steps USING btree (tenant_id, request_id);
CREATE UNIQUE INDEX ux_identity_providers_issuer ON public.identity_providers USING btree (issuer, owner_tenant_id);
CREATE UNIQUE INDEX ux_members_identity ON public.members USING btree (tenant_id, issuer, subject);
CREATE UNIQUE INDEX ux_participations_person ON public.participations USING btree (tenant_id, initiative_id, person_id);
CREATE UNIQUE INDEX ux_preferences_once ON public.preferences USING btree (tenant_id, person_id, area, category, source);
CREATE UNIQUE INDEX ux_profiles_person ON public.profiles USING btree (tenant_id, person_id);
CREATE UNIQUE INDEX ux_questionnaire_versions ON public.questionnaire_versions USING btree (tenant_id, questionnaire_id, version);
CREATE UNIQUE INDEX ux_routing_rules_target ON public.routing_rules USING btree (tenant_id, service_code, target_tenant_id);
CREATE UNIQUE INDEX ux_service_areas_name ON public.service_areas USING btree (tenant_id, name);
CREATE UNIQUE INDEX ux_service_sheets_code ON public.service_sheets USING btree (tenant_id, service_code, language, state);
CREATE UNIQUE INDEX ux_services_code ON public.services USING btree (tenant_id, code);
CREATE UNIQUE INDEX ux_survey_invitations_once ON public.survey_invitations USING btree (tenant_id, questionnaire_id, person_id, occasion);
ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT fk_api_keys_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT fk_audit_events_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.consent_requests
    ADD CONSTRAINT fk_consent_requests_person FOREIGN KEY (person_id) REFERENCES public.persons(id);
ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT fk_contacts_profile FOREIGN KEY (tenant_id, profile_id) REFERENCES public.profiles(tenant_id, id) ON DELETE CASCADE;
ALTER TABLE ONLY public.identity_providers
    ADD CONSTRAINT fk_identity_providers_tenant FOREIGN KEY (owner_tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.members
    ADD CONSTRAINT fk_members_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.person_identities
    ADD CONSTRAINT fk_person_identities_person FOREIGN KEY (person_id) REFERENCES public.persons(id);
ALTER TABLE ONLY public.persons
    ADD CONSTRAINT fk_persons_merged_into FOREIGN KEY (merged_into) REFERENCES public.persons(id);
ALTER TABLE ONLY public.privacy_consents
    ADD CONSTRAINT fk_privacy_consents_person FOREIGN KEY (person_id) REFERENCES public.persons(id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT fk_profiles_person FOREIGN KEY (person_id) REFERENCES public.persons(id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT fk_profiles_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.role_assignments
    ADD CONSTRAINT fk_role_assignments_member FOREIGN KEY (tenant_id, member_id) REFERENCES public.members(tenant_id, id) ON DELETE CASCADE;
ALTER TABLE ONLY public.routing_rules
    ADD CONSTRAINT fk_routing_rules_target FOREIGN KEY (target_tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.routing_rules
    ADD CONSTRAINT fk_routing_rules_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.service_areas
    ADD CONSTRAINT fk_service_areas_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.services
    ADD CONSTRAINT fk_services_tenant FOREIGN KEY (tenant_id) REFERENCES public.tenants(id);
ALTER TABLE ONLY public.sharing_consents
    ADD CONSTRAINT fk_sharing_consents_person FOREIGN KEY (person_id) REFERENCES public.persons(id);
ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT fk_tenants_parent FOREIGN KEY (parent_id) REFERENCES public.tenants(id);
ALTER TABLE public.access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.access_purposes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.case_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.channel_choices ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.consent_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY consented_read ON public.case_events FOR SELECT USING (public.civitas_shared(person_id, tenant_id, 'cases'::text));
CREATE POLICY consented_read ON public.cases FOR SELECT USING (public.civitas_shared(person_id, tenant_id, 'cases'::text));
CREATE POLICY consented_read ON public.contacts FOR SELECT USING (public.civitas_shared(person_id, tenant_id, 'profile'::text));
CREATE POLICY consented_read ON public.interactions FOR SELECT USING (public.civitas_shared(person_id, tenant_id, 'interactions'::text));
CREATE POLICY consented_read ON public.profiles FOR SELECT USING (public.civitas_shared(person_id, tenant_id, 'profile'::text));
ALTER TABLE public.contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.delegations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.erasure_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.erasure_steps ENABLE ROW LEVEL SECURITY;
CREATE POLICY filed ON public.erasure_requests FOR INSERT WITH CHECK (((forgotten_at IS NULL) AND (public.civitas_is_current_person(person_id) OR public.civitas_person_known(person_id, NULL::uuid))));
ALTER TABLE public.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.initiatives ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.interactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY known ON public.persons FOR SELECT USING (public.civitas_person_known(id, merged_into));
ALTER TABLE public.members ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notification_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notification_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON public.person_identities FOR SELECT USING (public.civitas_is_current_person(person_id));
ALTER TABLE public.participations ENABLE ROW LEVEL SECURITY;
CREATE POLICY parties ON public.consent_requests USING ((public.civitas_is_current_person(person_id) OR (grantee_tenant_id = public.civitas_current_tenant()) OR (source_tenant_id = public.civitas_current_tenant()) OR (collected_in_tenant_id = public.civitas_current_tenant()))) WITH CHECK ((public.civitas_is_current_person(person_id) OR (grantee_tenant_id = public.civitas_current_tenant()) OR (source_tenant_id = public.civitas_current_tenant()) OR (collected_in_tenant_id = public.civitas_current_tenant())));
CREATE POLICY parties ON public.erasure_requests FOR SELECT USING ((public.civitas_is_current_person(person_id) OR public.civitas_person_known(person_id, NULL::uuid)));
CREATE POLICY parties ON public.sharing_consents USING (((grantee_tenant_id = public.civitas_current_tenant()) OR (source_tenant_id = public.civitas_current_tenant()) OR (collected_in_tenant_id = public.civitas_current_tenant()) OR public.civitas_is_current_person(person_id))) WITH CHECK (((grantee_tenant_id = public.civitas_current_tenant()) OR (source_tenant_id = public.civitas_current_tenant()) OR (collected_in_tenant_id = public.civitas_current_tenant()) OR public.civitas_is_current_person(person_id)));
ALTER TABLE public.person_identities ENABLE ROW LEVEL SECURITY;
CREATE POLICY person_read ON public.access_log FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.attachments FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.case_events FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.cases FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.channel_choices FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.contacts FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.delegations FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.erasure_steps FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.interactions FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.notification_deliveries FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.notifications FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.participations FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.preferences FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.privacy_consents FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.profiles FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.quiet_hours FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.restrictions FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.survey_answers FOR SELECT USING (public.civitas_is_current_person(person_id));
CREATE POLICY person_read ON public.survey_invitations FOR SELECT USING (public.civitas_is_current_person(person_id));
ALTER TABLE public.person_sources ENABLE ROW LEVEL SECURITY;
CREATE POLICY person_update ON public.notifications FOR UPDATE USING (public.civitas_is_current_person(person_id)) WITH CHECK (public.civitas_is_current_person(person_id));
ALTER TABLE public.persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.privacy_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_read ON public.attachments FOR SELECT USING (((current_setting('app.public'::text, true) = 'on'::text) AND (EXISTS ( SELECT 1
   FROM public.cases c
  WHERE ((c.tenant_id = attachments.tenant_id) AND (c.media_attachment_id = attachments.id) AND c.published)))));
CREATE POLICY public_read ON public.cases FOR SELECT USING (((current_setting('app.public'::text, true) = 'on'::text) AND published));
CREATE POLICY public_read ON public.service_areas FOR SELECT USING ((current_setting('app.public'::text, true) = 'on'::text));
CREATE POLICY public_read ON public.service_sheets FOR SELECT USING (((current_setting('app.public'::text, true) = 'on'::text) AND (state = 'published'::text)));
CREATE POLICY public_read ON public.services FOR SELECT USING ((current_setting('app.public'::text, true) = 'on'::text));
ALTER TABLE public.questionnaire_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.questionnaires ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.quiet_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.restrictions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.retention_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.role_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.routing_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.service_areas ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.service_sheets ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.services ENABLE ROW LEVEL SECURITY;
CREATE POLICY settled ON public.erasure_requests FOR UPDATE USING (public.civitas_is_current_person(person_id));
ALTER TABLE public.sharing_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.survey_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.survey_invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.access_log USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.access_purposes USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.api_keys USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.attachments USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.audit_events USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.case_events USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.cases USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.channel_choices USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.contacts USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.counters USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.delegations USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.erasure_steps USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.idempotency_keys USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.initiatives USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.interactions USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.members USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.notification_attempts USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.notification_deliveries USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.notifications USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.outbox USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.participations USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.person_sources USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.preferences USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.privacy_consents USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.profiles USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.questionnaire_versions USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.questionnaires USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.quiet_hours USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.restrictions USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.retention_rules USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.role_assignments USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.routing_rules USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.service_areas USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.service_sheets USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.services USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.survey_answers USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.survey_invitations USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.webhook_deliveries USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY tenant_isolation ON public.webhooks USING ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)) WITH CHECK ((tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid));
CREATE POLICY unidentified ON public.persons FOR INSERT WITH CHECK (((fiscal_code IS NULL) AND (merged_into IS NULL) AND (public.civitas_current_tenant() IS NOT NULL)));
ALTER TABLE public.webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.webhooks ENABLE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA public TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_citizen_sign_in(p_issuer text, p_subject text, p_code text, p_new uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_citizen_sign_in(p_issuer text, p_subject text, p_code text, p_new uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_citizen_view(p_tenant uuid, p_now text, p_person uuid, p_cases boolean, p_interactions boolean, p_entry uuid, p_reader text, p_purpose text, p_case uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_citizen_view(p_tenant uuid, p_now text, p_person uuid, p_cases boolean, p_interactions boolean, p_entry uuid, p_reader text, p_purpose text, p_case uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_enter_tenant(p_tenant uuid, p_now text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_enter_tenant(p_tenant uuid, p_now text) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_forget_person(p uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_forget_person(p uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_is_current_person(p uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_is_current_person(p uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_log_access(p_tenant uuid, p_now text, p_rows jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_log_access(p_tenant uuid, p_now text, p_rows jsonb) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_merge_person(p_source uuid, p_target uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_merge_person(p_source uuid, p_target uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_open_erasures() FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_open_erasures() TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_person_id(p_code text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_person_id(p_code text) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_person_known(p_id uuid, p_merged uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_person_known(p_id uuid, p_merged uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_register_person(p_code text, p_new uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_register_person(p_code text, p_new uuid) TO civitas_app;
REVOKE ALL ON FUNCTION public.civitas_shared(p uuid, source uuid, scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.civitas_shared(p uuid, source uuid, scope text) TO civitas_app;
GRANT SELECT,INSERT ON TABLE public.access_log TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.access_purposes TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.api_keys TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.attachments TO civitas_app;
GRANT SELECT,INSERT ON TABLE public.audit_events TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.auth_flows TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.casbin_rule TO civitas_app;
GRANT USAGE ON SEQUENCE public.casbin_rule_id_seq TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.case_events TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.cases TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.channel_choices TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.consent_requests TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.contacts TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.counters TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.delegations TO civitas_app;
GRANT SELECT,INSERT ON TABLE public.erasure_requests TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.erasure_steps TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.idempotency_keys TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.identity_providers TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.initiatives TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.interactions TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.members TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.notification_attempts TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.notification_deliveries TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.notifications TO civitas_app;
GRANT SELECT,INSERT ON TABLE public.outbox TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.participations TO civitas_app;
GRANT SELECT ON TABLE public.person_identities TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.person_sources TO civitas_app;
GRANT SELECT,INSERT ON TABLE public.persons TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.preferences TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.privacy_consents TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.profiles TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.questionnaire_versions TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.questionnaires TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.quiet_hours TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.restrictions TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.retention_rules TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.role_assignments TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.routing_rules TO civitas_app;
GRANT SELECT ON TABLE public.seaql_migrations TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.service_areas TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.service_sheets TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.services TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.sessions TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.sharing_consents TO civitas_app;
GRANT SELECT,INSERT,DELETE ON TABLE public.survey_answers TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.survey_invitations TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.tenants TO civitas_app;
GRANT SELECT,INSERT,UPDATE ON TABLE public.webhook_deliveries TO civitas_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.webhooks TO civitas_app;
