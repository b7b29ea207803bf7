use sea_orm::entity::prelude::*;

/// A citizen's request, report or complaint ("pratica", "segnalazione").
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub person_id: Option<Uuid>,
    pub service_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub channel: String,
    pub assigned_team: Option<String>,
    pub assigned_to: Option<String>,
    pub escalation_level: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub custom_fields: Json,
    pub resolution_note: Option<String>,
    pub source: Option<String>,
    pub external_ref: Option<String>,
    pub due_at: DateTimeUtc,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// Set when the citizen asked for erasure and a retention duty keeps the case: it is
    /// restricted (no one may use it) until then, and erased then.
    pub erase_after: Option<DateTimeUtc>,
    /// Where the report is (WGS84).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub location_note: Option<String>,
    /// A picture or video the reporting app sent, by URL.
    pub media_url: Option<String>,
    /// Came in through Open311 and is listed in its public feed.
    pub published: bool,
    /// The jurisdiction an Open311 report was sent to, when another body took it.
    pub reported_to: Option<Uuid>,
    /// The picture the reporting app uploaded with an Open311 report (an attachment of the
    /// case): the one file of a case the public feed shows.
    pub media_attachment_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::owned_by!(tenant);
super::owned_by!(person);
