//! Files attached to cases: what may be attached (the type the content shows, not the name;
//! the body's size limit), where the bytes go (a content-addressed store, the tenant first in
//! every key), and the rows that say which case holds which file.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use civitas_tenants::{Identity, PersonOwned, PersonScope, Scope, TenantId, TenantOwned};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::entity::attachment;
use crate::ids::{AttachmentId, CaseId};
use crate::{Error, Result};

/// The types a file may have, as its first bytes show them: documents and pictures.
pub const ALLOWED: [&str; 5] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/tiff",
];

/// The limit of a body that set none: 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 20;

/// Where attachments' bytes are kept: a directory, or S3-compatible object storage. Keys are
/// `<tenant id>/<sha256 hex>`: the same file attached twice in a body is stored once, and
/// never shared with another body.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key` (writing the same content twice is harmless).
    async fn put(&self, key: &str, bytes: Vec<u8>) -> std::result::Result<(), String>;
    /// The bytes under `key`.
    async fn get(&self, key: &str) -> std::result::Result<Vec<u8>, String>;
    /// Deletes what is under `key`; nothing there is not an error (erasure runs again
    /// after a failure).
    async fn delete(&self, key: &str) -> std::result::Result<(), String>;
}

/// The key of a file of `tenant` whose digest is `sha256`.
pub fn key(tenant: TenantId, sha256: &str) -> String {
    format!("{}/{sha256}", tenant.0)
}

/// A file attached to a case, as callers see it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub tenant_id: TenantId,
    pub case_id: CaseId,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<attachment::Model> for Attachment {
    fn from(m: attachment::Model) -> Self {
        Attachment {
            id: AttachmentId(m.id),
            tenant_id: TenantId(m.tenant_id),
            case_id: CaseId(m.case_id),
            file_name: m.file_name,
            media_type: m.media_type,
            size: m.size_bytes,
            sha256: m.sha256,
            uploaded_by: m.uploaded_by,
            created_at: m.created_at,
        }
    }
}

/// A body's attachment settings, under `attachments` in its settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachmentSettings {
    pub max_bytes: Option<u64>,
}

impl AttachmentSettings {
    /// The settings under `attachments`, checked against the platform's ceiling.
    pub fn of(settings: &Value, ceiling: u64) -> Result<Self> {
        let Some(v) = settings.get("attachments") else {
            return Ok(Self::default());
        };
        let s: AttachmentSettings = serde_json::from_value(v.clone())
            .map_err(|e| Error::Validation(format!("attachments: {e}")))?;
        if s.max_bytes.is_some_and(|m| m == 0 || m > ceiling) {
            return Err(Error::Validation(format!(
                "attachments.maxBytes: 1 to {ceiling} (the platform's limit)"
            )));
        }
        Ok(s)
    }

    /// The largest file the body takes.
    pub fn limit(&self, ceiling: u64) -> u64 {
        self.max_bytes.unwrap_or(DEFAULT_MAX_BYTES).min(ceiling)
    }
}

/// A file as it arrived: checked whole before anything is stored.
pub struct Upload {
    pub file_name: String,
    pub media_type: &'static str,
    pub sha256: String,
    pub size: i64,
    pub bytes: Vec<u8>,
}

/// What a file name may be once cleaned: its last path component, printable, at most 200
/// characters. It is shown, never trusted for the type.
fn clean_name(raw: &str) -> Result<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(Error::Validation(
            "fileName: a file name is required".into(),
        ));
    }
    if base.chars().count() > 200 || base.chars().any(char::is_control) {
        return Err(Error::Validation(
            "fileName: at most 200 printable characters".into(),
        ));
    }
    Ok(base.to_owned())
}

/// Checks a file: not empty, within `limit`, of an allowed type by its content.
pub fn check(file_name: &str, bytes: Vec<u8>, limit: u64) -> Result<Upload> {
    let file_name = clean_name(file_name)?;
    if bytes.is_empty() {
        return Err(Error::Validation("file: the file is empty".into()));
    }
    if bytes.len() as u64 > limit {
        return Err(Error::Validation(format!(
            "file: at most {limit} bytes at this body"
        )));
    }
    let media_type = infer::get(&bytes)
        .map(|t| t.mime_type())
        .and_then(|m| ALLOWED.iter().find(|a| **a == m).copied())
        .ok_or_else(|| {
            Error::Validation(format!(
                "file: its content is not one of {} (the name does not matter)",
                ALLOWED.join(", ")
            ))
        })?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let sha256 = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Upload {
        file_name,
        media_type,
        sha256,
        size: bytes.len() as i64,
        bytes,
    })
}

/// Records that the case `c` (of the scope's body, about `person`) holds `u`.
pub async fn record(
    scope: &Scope,
    c: CaseId,
    person: Option<Uuid>,
    u: &Upload,
    by: &Identity,
    now: DateTime<Utc>,
) -> Result<Attachment> {
    let row = scope
        .insert(attachment::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(c.0),
            person_id: Set(person),
            file_name: Set(u.file_name.clone()),
            media_type: Set(u.media_type.to_owned()),
            size_bytes: Set(u.size),
            sha256: Set(u.sha256.clone()),
            uploaded_by: Set(format!("{} {}", by.issuer, by.subject)),
            created_at: Set(now),
            ..Default::default()
        })
        .await?;
    civitas_tenants::audit::record(
        scope,
        by,
        "case.attachment_added",
        Some(&c.0.to_string()),
        serde_json::json!({ "attachment": row.id, "sha256": row.sha256, "size": row.size_bytes }),
    )
    .await?;
    Ok(row.into())
}

/// Where attachments are read: staff in their body's scope, a citizen in their own.
pub enum Reader<'a> {
    Body(&'a Scope),
    Person(&'a PersonScope),
}

impl Reader<'_> {
    /// The rows of `E` the reader may see, and the transaction to read them in.
    pub fn find<E: TenantOwned + PersonOwned>(
        &self,
    ) -> (sea_orm::Select<E>, &sea_orm::DatabaseTransaction) {
        match self {
            Reader::Body(s) => (s.find::<E>(), s.conn()),
            Reader::Person(s) => (s.find::<E>(), s.conn()),
        }
    }
}

/// The attachments of `cases` the reader may see, by case, oldest first: one query for
/// every case of a response.
pub async fn of_cases(
    reader: Reader<'_>,
    cases: &[CaseId],
) -> Result<HashMap<CaseId, Vec<Attachment>>> {
    use sea_orm::QueryOrder;
    let (q, conn) = reader.find::<attachment::Entity>();
    let mut by_case: HashMap<CaseId, Vec<Attachment>> = HashMap::new();
    for row in q
        .filter(attachment::Column::CaseId.is_in(cases.iter().map(|c| c.0)))
        .order_by_asc(attachment::Column::Id)
        .all(conn)
        .await?
    {
        by_case
            .entry(CaseId(row.case_id))
            .or_default()
            .push(row.into());
    }
    Ok(by_case)
}

/// The attachment `id`, if the reader may see it.
pub async fn find(reader: Reader<'_>, id: Uuid) -> Result<Attachment> {
    let (q, conn) = reader.find::<attachment::Entity>();
    q.filter(attachment::Column::Id.eq(id))
        .one(conn)
        .await?
        .map(Attachment::from)
        .ok_or(Error::NotFound("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

    #[test]
    fn the_content_decides_the_type_not_the_name() {
        let u = check("../../etc/certificato.pdf", PDF.to_vec(), 1000).expect("a PDF");
        assert_eq!(u.media_type, "application/pdf");
        assert_eq!(u.file_name, "certificato.pdf");
        assert_eq!(u.sha256.len(), 64);
        let png = [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
        ];
        assert_eq!(
            check("foto.pdf", png.to_vec(), 1000)
                .expect("a PNG")
                .media_type,
            "image/png"
        );
        for (name, bytes, limit) in [
            (
                "page.pdf",
                b"<html><script>alert(1)</script>".to_vec(),
                1000,
            ),
            ("prog.pdf", b"MZ\x90\x00\x03\x00\x00\x00".to_vec(), 1000),
            ("empty.pdf", vec![], 1000),
            ("big.pdf", PDF.to_vec(), 10),
            ("", PDF.to_vec(), 1000),
            ("a\u{7}.pdf", PDF.to_vec(), 1000),
        ] {
            assert!(
                matches!(check(name, bytes, limit), Err(Error::Validation(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn a_bodys_limit_stays_under_the_platforms() {
        let s = AttachmentSettings::of(&serde_json::json!({}), 100).expect("none");
        assert_eq!(s.limit(100), 100);
        let s = AttachmentSettings::of(
            &serde_json::json!({ "attachments": { "maxBytes": 50 } }),
            100,
        )
        .expect("under");
        assert_eq!(s.limit(100), 50);
        assert!(
            AttachmentSettings::of(
                &serde_json::json!({ "attachments": { "maxBytes": 500 } }),
                100
            )
            .is_err()
        );
    }
}
