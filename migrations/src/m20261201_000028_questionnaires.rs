//! Engagement, second part: questionnaires and satisfaction surveys.
//!
//! - `questionnaires`: a body's questionnaire, anonymous or identified, optionally attached
//!   to a service (a satisfaction survey sent when a case of it is resolved) or to an
//!   initiative (sent to its participants once it ends); retired when no longer asked.
//! - `questionnaire_versions`: the questions, as versions: a draft is edited, a published
//!   one never changes, and answers name the version they answered.
//! - `survey_invitations`: who was asked, on which occasion (a case, an initiative, or
//!   none) and whether they answered: one per citizen, questionnaire and occasion, which is
//!   what makes a second answer a conflict. The citizen reads their own in every body.
//! - `survey_answers`: the answers. Anonymous ones carry no person, no case and only the
//!   day (random ids, no timestamp to join on the invitation); a citizen reads their
//!   identified ones (their export).
//! - `notifications.invitation_id`: the invitation a `survey.invitation` notification
//!   links to; `initiatives.survey_sent_at`: when its participants were asked.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000003_citizens::add_rules_to_existing_tenants;
use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Questionnaires {
    Table,
    TenantId,
    Id,
    Title,
    Anonymous,
    ServiceId,
    InitiativeId,
    CurrentVersion,
    RetiredAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum QuestionnaireVersions {
    Table,
    TenantId,
    Id,
    QuestionnaireId,
    Version,
    Status,
    Questions,
    CreatedAt,
    PublishedAt,
}

#[derive(DeriveIden, Clone)]
enum SurveyInvitations {
    Table,
    TenantId,
    Id,
    QuestionnaireId,
    PersonId,
    Occasion,
    CaseId,
    InitiativeId,
    ServiceId,
    Channel,
    CreatedAt,
    AnsweredAt,
}

#[derive(DeriveIden, Clone)]
enum SurveyAnswers {
    Table,
    TenantId,
    Id,
    QuestionnaireId,
    VersionId,
    Version,
    PersonId,
    CaseId,
    InitiativeId,
    ServiceId,
    Channel,
    Answers,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    InvitationId,
}

#[derive(DeriveIden)]
enum Initiatives {
    Table,
    SurveySentAt,
}

const NEW_GRANTS: &[(&str, &str, &str)] = &[
    ("supervisor", "questionnaire", "*"),
    ("operator", "questionnaire", "read"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Questionnaires as Q;
        m.create_table(
            Table::create()
                .table(Q::Table)
                .col(uuid(Q::TenantId))
                .col(uuid(Q::Id))
                .col(text(Q::Title))
                .col(boolean(Q::Anonymous))
                .col(uuid_null(Q::ServiceId))
                .col(uuid_null(Q::InitiativeId))
                .col(integer(Q::CurrentVersion).default(0))
                .col(timestamp_with_time_zone_null(Q::RetiredAt))
                .col(text(Q::CreatedBy))
                .col(timestamp_with_time_zone(Q::CreatedAt))
                .col(timestamp_with_time_zone(Q::UpdatedAt))
                .primary_key(Index::create().col(Q::TenantId).col(Q::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_questionnaires_service",
            Q::Table,
            &["tenant_id", "service_id"],
            false,
        )
        .await?;
        rls::protect_tenant_table(m, "questionnaires", "SELECT, INSERT, UPDATE").await?;

        use QuestionnaireVersions as V;
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(uuid(V::TenantId))
                .col(uuid(V::Id))
                .col(uuid(V::QuestionnaireId))
                .col(integer(V::Version))
                .col(text(V::Status))
                .col(json_binary(V::Questions))
                .col(timestamp_with_time_zone(V::CreatedAt))
                .col(timestamp_with_time_zone_null(V::PublishedAt))
                .primary_key(Index::create().col(V::TenantId).col(V::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_questionnaire_versions",
            V::Table,
            &["tenant_id", "questionnaire_id", "version"],
            true,
        )
        .await?;
        rls::protect_tenant_table(m, "questionnaire_versions", "SELECT, INSERT, UPDATE").await?;

        use SurveyInvitations as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(uuid(I::TenantId))
                .col(uuid(I::Id))
                .col(uuid(I::QuestionnaireId))
                .col(uuid(I::PersonId))
                .col(text(I::Occasion))
                .col(uuid_null(I::CaseId))
                .col(uuid_null(I::InitiativeId))
                .col(uuid_null(I::ServiceId))
                .col(text(I::Channel))
                .col(timestamp_with_time_zone(I::CreatedAt))
                .col(timestamp_with_time_zone_null(I::AnsweredAt))
                .primary_key(Index::create().col(I::TenantId).col(I::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ux_survey_invitations_once",
            I::Table,
            &["tenant_id", "questionnaire_id", "person_id", "occasion"],
            true,
        )
        .await?;
        rls::index(
            m,
            "ix_survey_invitations_person_any_tenant",
            I::Table,
            &["person_id"],
            false,
        )
        .await?;
        rls::protect_person_table(m, "survey_invitations", "SELECT, INSERT, UPDATE, DELETE")
            .await?;

        use SurveyAnswers as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::TenantId))
                .col(uuid(A::Id))
                .col(uuid(A::QuestionnaireId))
                .col(uuid(A::VersionId))
                .col(integer(A::Version))
                .col(uuid_null(A::PersonId))
                .col(uuid_null(A::CaseId))
                .col(uuid_null(A::InitiativeId))
                .col(uuid_null(A::ServiceId))
                .col(text(A::Channel))
                .col(json_binary(A::Answers))
                .col(timestamp_with_time_zone(A::SubmittedAt))
                .primary_key(Index::create().col(A::TenantId).col(A::Id))
                .to_owned(),
        )
        .await?;
        rls::index(
            m,
            "ix_survey_answers_questionnaire",
            A::Table,
            &["tenant_id", "questionnaire_id", "submitted_at"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_survey_answers_service",
            A::Table,
            &["tenant_id", "service_id", "submitted_at"],
            false,
        )
        .await?;
        rls::index(
            m,
            "ix_survey_answers_person_any_tenant",
            A::Table,
            &["person_id"],
            false,
        )
        .await?;
        // A citizen reads their identified answers in their export (anonymous ones name
        // no one); DELETE: an erasure request removes them.
        rls::protect_person_table(m, "survey_answers", "SELECT, INSERT, DELETE").await?;

        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .add_column(uuid_null(Notifications::InvitationId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Initiatives::Table)
                .add_column(timestamp_with_time_zone_null(Initiatives::SurveySentAt))
                .to_owned(),
        )
        .await?;
        add_rules_to_existing_tenants(m, NEW_GRANTS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM casbin_rule WHERE ptype = 'p' AND v2 = 'questionnaire'",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table(Initiatives::Table)
                .drop_column(Initiatives::SurveySentAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .drop_column(Notifications::InvitationId)
                .to_owned(),
        )
        .await?;
        for t in [
            "survey_answers",
            "survey_invitations",
            "questionnaire_versions",
            "questionnaires",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
