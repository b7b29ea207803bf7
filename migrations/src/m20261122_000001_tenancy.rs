//! Tenants (global), Casbin rules (global), and the first tenant-owned tables: members,
//! their role assignments and the append-only audit log.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    DisplayName,
    Kind,
    ParentId,
    Status,
    Settings,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CasbinRule {
    Table,
    Id,
    Ptype,
    V0,
    V1,
    V2,
    V3,
    V4,
    V5,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    TenantId,
    Id,
    Subject,
    DisplayName,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoleAssignments {
    Table,
    TenantId,
    MemberId,
    Role,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    TenantId,
    Id,
    OccurredAt,
    Actor,
    Action,
    Target,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::create_app_role(m).await?;
        // So that the server, connected as the application role, can tell that the schema
        // is behind and refuse to start.
        rls::grant_global(m, "seaql_migrations", "SELECT").await?;

        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(uuid(Tenants::Id).primary_key())
                .col(text(Tenants::Slug).unique_key())
                .col(text(Tenants::DisplayName))
                .col(text(Tenants::Kind))
                .col(uuid_null(Tenants::ParentId))
                .col(text(Tenants::Status))
                .col(json_binary(Tenants::Settings))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tenants_parent")
                        .from(Tenants::Table, Tenants::ParentId)
                        .to(Tenants::Table, Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        rls::grant_global(m, "tenants", "SELECT, INSERT, UPDATE").await?;

        m.create_table(
            Table::create()
                .table(CasbinRule::Table)
                .col(pk_auto(CasbinRule::Id))
                .col(text(CasbinRule::Ptype))
                .col(text(CasbinRule::V0).default(""))
                .col(text(CasbinRule::V1).default(""))
                .col(text(CasbinRule::V2).default(""))
                .col(text(CasbinRule::V3).default(""))
                .col(text(CasbinRule::V4).default(""))
                .col(text(CasbinRule::V5).default(""))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_casbin_rule")
                .table(CasbinRule::Table)
                .col(CasbinRule::Ptype)
                .col(CasbinRule::V0)
                .col(CasbinRule::V1)
                .col(CasbinRule::V2)
                .col(CasbinRule::V3)
                .col(CasbinRule::V4)
                .col(CasbinRule::V5)
                .unique()
                .to_owned(),
        )
        .await?;
        rls::grant_global(m, "casbin_rule", "SELECT, INSERT, DELETE").await?;
        if m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            rls::grant_global(m, "casbin_rule_id_seq", "USAGE").await?;
        }

        m.create_table(
            Table::create()
                .table(Members::Table)
                .col(uuid(Members::TenantId))
                .col(uuid(Members::Id))
                .col(text(Members::Subject))
                .col(text(Members::DisplayName))
                .col(text_null(Members::Email))
                .col(timestamp_with_time_zone(Members::CreatedAt))
                .primary_key(Index::create().col(Members::TenantId).col(Members::Id))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_members_tenant")
                        .from(Members::Table, Members::TenantId)
                        .to(Tenants::Table, Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_members_subject")
                .table(Members::Table)
                .col(Members::TenantId)
                .col(Members::Subject)
                .unique()
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "members", "SELECT, INSERT, UPDATE, DELETE").await?;

        m.create_table(
            Table::create()
                .table(RoleAssignments::Table)
                .col(uuid(RoleAssignments::TenantId))
                .col(uuid(RoleAssignments::MemberId))
                .col(text(RoleAssignments::Role))
                .col(text(RoleAssignments::GrantedBy))
                .col(timestamp_with_time_zone(RoleAssignments::GrantedAt))
                .primary_key(
                    Index::create()
                        .col(RoleAssignments::TenantId)
                        .col(RoleAssignments::MemberId)
                        .col(RoleAssignments::Role),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_role_assignments_member")
                        .from(
                            RoleAssignments::Table,
                            (RoleAssignments::TenantId, RoleAssignments::MemberId),
                        )
                        .to(Members::Table, (Members::TenantId, Members::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        rls::protect_tenant_table(m, "role_assignments", "SELECT, INSERT, UPDATE, DELETE").await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(uuid(AuditEvents::TenantId))
                .col(uuid(AuditEvents::Id))
                .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                .col(text(AuditEvents::Actor))
                .col(text(AuditEvents::Action))
                .col(text_null(AuditEvents::Target))
                .col(json_binary(AuditEvents::Detail))
                .primary_key(
                    Index::create()
                        .col(AuditEvents::TenantId)
                        .col(AuditEvents::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_audit_events_tenant")
                        .from(AuditEvents::Table, AuditEvents::TenantId)
                        .to(Tenants::Table, Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_events_time")
                .table(AuditEvents::Table)
                .col(AuditEvents::TenantId)
                .col(AuditEvents::OccurredAt)
                .to_owned(),
        )
        .await?;
        // Append-only: the application may write and read the log, never rewrite it.
        rls::protect_tenant_table(m, "audit_events", "SELECT, INSERT").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_events",
            "role_assignments",
            "members",
            "casbin_rule",
            "tenants",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
