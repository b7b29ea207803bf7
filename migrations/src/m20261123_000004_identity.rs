//! Sign-in: the identity providers each body registers, the browser sign-in flows under way,
//! and the sessions they end in.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    OwnerTenantId,
    Issuer,
    Audiences,
    ClientId,
    ClientSecret,
    FiscalNumberClaim,
    RolesClaim,
    ServiceClients,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuthFlows {
    Table,
    State,
    Payload,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    Principal,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Global, not tenant-owned: a token must be matched to its issuer before anyone knows
        // which tenant it is for. Only a body's administrators change their body's rows.
        m.create_table(
            Table::create()
                .table(IdentityProviders::Table)
                .col(uuid(IdentityProviders::Id).primary_key())
                .col(uuid(IdentityProviders::OwnerTenantId))
                .col(text(IdentityProviders::Issuer))
                .col(text(IdentityProviders::Audiences))
                .col(text_null(IdentityProviders::ClientId))
                .col(text_null(IdentityProviders::ClientSecret))
                .col(text(IdentityProviders::FiscalNumberClaim))
                .col(text(IdentityProviders::RolesClaim))
                .col(text(IdentityProviders::ServiceClients).default(""))
                .col(timestamp_with_time_zone(IdentityProviders::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_identity_providers_tenant")
                        .from(IdentityProviders::Table, IdentityProviders::OwnerTenantId)
                        .to(Tenants::Table, Tenants::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_identity_providers_issuer")
                .table(IdentityProviders::Table)
                .col(IdentityProviders::Issuer)
                .col(IdentityProviders::OwnerTenantId)
                .unique()
                .to_owned(),
        )
        .await?;
        rls::grant_global(m, "identity_providers", "SELECT, INSERT, DELETE").await?;

        m.create_table(
            Table::create()
                .table(AuthFlows::Table)
                .col(text(AuthFlows::State).primary_key())
                .col(json_binary(AuthFlows::Payload))
                .col(timestamp_with_time_zone(AuthFlows::ExpiresAt))
                .to_owned(),
        )
        .await?;
        rls::grant_global(m, "auth_flows", "SELECT, INSERT, DELETE").await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(text(Sessions::IdHash).primary_key())
                .col(json_binary(Sessions::Principal))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .to_owned(),
        )
        .await?;
        rls::grant_global(m, "sessions", "SELECT, INSERT, DELETE").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["sessions", "auth_flows", "identity_providers"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
