//! Files attached to cases. The bytes live outside the database, in a content-addressed
//! store (a directory under the data directory, or S3-compatible object storage) under a key
//! that begins with the tenant; a row here says which case holds which file, its name, the
//! type its content showed, its size and digest, and who attached it. The row names the
//! case's citizen so that they can read it as they read their cases.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Attachments {
    Table,
    TenantId,
    Id,
    CaseId,
    PersonId,
    FileName,
    MediaType,
    SizeBytes,
    Sha256,
    UploadedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Attachments as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::TenantId))
                .col(uuid(A::Id))
                .col(uuid(A::CaseId))
                .col(uuid_null(A::PersonId))
                .col(text(A::FileName))
                .col(text(A::MediaType))
                .col(big_integer(A::SizeBytes))
                .col(text(A::Sha256))
                .col(text(A::UploadedBy))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .primary_key(Index::create().col(A::TenantId).col(A::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_attachments_case",
            A::Table,
            &["tenant_id", "case_id", "id"],
            false,
        )
        .await?;
        // A citizen reads a file by its id in their own scope, which names no tenant.
        rls::index(
            m,
            "ix_attachments_person",
            A::Table,
            &["person_id", "id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "attachments", "SELECT, INSERT").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Attachments::Table).to_owned())
            .await
    }
}
