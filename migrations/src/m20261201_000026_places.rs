//! Places and Open311 (GeoReport v2).
//!
//! - `cases`: where a report is (WGS84 latitude and longitude, an address, a description
//!   of the spot), the media URL a reporting app sent, and `published`: the case came in
//!   through the public Open311 interface and is listed in its public feed; `reported_to`,
//!   the jurisdiction it was sent to (a parent that routed it elsewhere lists it too);
//!   `media_attachment_id`, the picture the reporting app uploaded with it (one of the
//!   case's attachments: the only one the public feed shows). An index on
//!   the coordinates serves "near a point" and bounding-box reads on both backends.
//! - `service_areas`: a body's areas of competence, GeoJSON (Polygon or MultiPolygon) as
//!   uploaded, with its bounding box so that a read picks candidates before any polygon
//!   is tested.
//! - `routing_rules`: a parent body's table of which body (a partecipata) takes a category
//!   of report that neither a child body nor the parent itself handles.
//! - `api_keys`: a body's Open311 keys; only their SHA-256 is kept.
//!
//! On PostgreSQL a public transaction (`app.public`) reads every body's areas, its
//! published reports and each one's uploaded picture, as it reads the catalogue: a body's
//! territory and the reports it publishes are public by design; nothing else of a case is.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000003_citizens::add_rules_to_existing_tenants;
use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Cases {
    Table,
    Latitude,
    Longitude,
    Address,
    LocationNote,
    MediaUrl,
    Published,
    ReportedTo,
    MediaAttachmentId,
}

#[derive(DeriveIden, Clone)]
enum ServiceAreas {
    Table,
    TenantId,
    Id,
    Name,
    Geojson,
    MinLat,
    MinLon,
    MaxLat,
    MaxLon,
    Vertices,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum RoutingRules {
    Table,
    TenantId,
    Id,
    ServiceCode,
    TargetTenantId,
    Position,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum ApiKeys {
    Table,
    TenantId,
    Id,
    Name,
    SecretHash,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// The default grants of this release (policies::defaults), as rules.
const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("tenant_admin", "service_area", "*"),
    ("operator", "service_area", "read"),
    ("integrator", "service_area", "read"),
    ("tenant_admin", "routing_rule", "*"),
    ("operator", "routing_rule", "read"),
    ("tenant_admin", "api_key", "*"),
];

const PG_POLICIES: &[&str] = &[
    "CREATE POLICY public_read ON service_areas FOR SELECT \
       USING (current_setting('app.public', true) = 'on')",
    "CREATE POLICY public_read ON cases FOR SELECT \
       USING (current_setting('app.public', true) = 'on' AND published)",
    "CREATE POLICY public_read ON attachments FOR SELECT \
       USING (current_setting('app.public', true) = 'on' AND EXISTS ( \
         SELECT 1 FROM cases c WHERE c.tenant_id = attachments.tenant_id \
           AND c.media_attachment_id = attachments.id AND c.published))",
];

fn case_column(c: Cases) -> ColumnDef {
    match c {
        Cases::Latitude | Cases::Longitude => double_null(c),
        Cases::Published => boolean(c).default(false).to_owned(),
        Cases::ReportedTo | Cases::MediaAttachmentId => uuid_null(c),
        _ => text_null(c),
    }
}

const CASE_COLUMNS: [Cases; 8] = [
    Cases::Latitude,
    Cases::Longitude,
    Cases::Address,
    Cases::LocationNote,
    Cases::MediaUrl,
    Cases::Published,
    Cases::ReportedTo,
    Cases::MediaAttachmentId,
];

fn owner_fk(table: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(table)
        .from_col(Alias::new("tenant_id"))
        .to_tbl(Tenants::Table)
        .to_col(Tenants::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER.
        for c in CASE_COLUMNS {
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(case_column(c))
                    .to_owned(),
            )
            .await?;
        }
        rls::index(
            m,
            "ix_cases_place",
            Cases::Table,
            &["tenant_id", "latitude", "longitude"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_cases_published",
            Cases::Table,
            &["published", "created_at"],
            false,
        )
        .await?;

        use ServiceAreas as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::TenantId))
                .col(uuid(A::Id))
                .col(text(A::Name))
                .col(text(A::Geojson))
                .col(double(A::MinLat))
                .col(double(A::MinLon))
                .col(double(A::MaxLat))
                .col(double(A::MaxLon))
                .col(integer(A::Vertices))
                .col(text(A::CreatedBy))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .primary_key(Index::create().col(A::TenantId).col(A::Id))
                .foreign_key(&mut owner_fk(A::Table, "fk_service_areas_tenant"))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_service_areas_name",
            A::Table,
            &["tenant_id", "name"],
            true,
        )
        .await?;
        rls::protect_tenant_table(m, "service_areas", "SELECT, INSERT, DELETE").await?;

        use RoutingRules as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(uuid(R::TenantId))
                .col(uuid(R::Id))
                .col(text(R::ServiceCode))
                .col(uuid(R::TargetTenantId))
                .col(integer(R::Position))
                .col(text(R::CreatedBy))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .primary_key(Index::create().col(R::TenantId).col(R::Id))
                .foreign_key(&mut owner_fk(R::Table, "fk_routing_rules_tenant"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_routing_rules_target")
                        .from_tbl(R::Table)
                        .from_col(R::TargetTenantId)
                        .to_tbl(Tenants::Table)
                        .to_col(Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_routing_rules_target",
            R::Table,
            &["tenant_id", "service_code", "target_tenant_id"],
            true,
        )
        .await?;
        rls::protect_tenant_table(m, "routing_rules", "SELECT, INSERT, DELETE").await?;

        use ApiKeys as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(uuid(K::TenantId))
                .col(uuid(K::Id))
                .col(text(K::Name))
                .col(text(K::SecretHash))
                .col(text(K::CreatedBy))
                .col(timestamp_with_time_zone(K::CreatedAt))
                .col(timestamp_with_time_zone_null(K::RevokedAt))
                .primary_key(Index::create().col(K::TenantId).col(K::Id))
                .foreign_key(&mut owner_fk(K::Table, "fk_api_keys_tenant"))
                .to_owned(),
        )
        .await?;
        rls::index(m, "ux_api_keys_secret", K::Table, &["secret_hash"], true).await?;
        rls::index(
            m,
            "ux_api_keys_name",
            K::Table,
            &["tenant_id", "name"],
            true,
        )
        .await?;
        rls::protect_tenant_table(m, "api_keys", "SELECT, INSERT, UPDATE").await?;

        if rls::is_postgres(m) {
            let sql: Vec<String> = PG_POLICIES.iter().map(|s| (*s).to_owned()).collect();
            rls::exec_all(m, &sql).await?;
        }
        add_rules_to_existing_tenants(m, NEW_GRANTS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM casbin_rule WHERE ptype = 'p' \
                 AND v2 IN ('service_area', 'routing_rule', 'api_key')",
            )
            .await?;
        for t in ["api_keys", "routing_rules", "service_areas"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        if rls::is_postgres(m) {
            let sql = [
                "DROP POLICY public_read ON attachments".to_owned(),
                "DROP POLICY public_read ON cases".to_owned(),
            ];
            rls::exec_all(m, &sql).await?;
        }
        for i in ["ix_cases_published", "ix_cases_place"] {
            m.drop_index(Index::drop().name(i).table(Cases::Table).to_owned())
                .await?;
        }
        for c in CASE_COLUMNS {
            m.alter_table(Table::alter().table(Cases::Table).drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
