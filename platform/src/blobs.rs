//! The attachment stores: a directory under the data directory (the default), or an
//! S3-compatible bucket reached through the outbound guard (requests signed with `rusty-s3`,
//! sent by the guarded client like every other request the server makes).

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use civitas_crm::attachments::BlobStore;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::outbound::Outbound;

/// Files under `<root>/<tenant id>/<first two hex digits>/<sha256>`, written to a temporary
/// name and renamed, so that a reader never sees half a file.
pub struct DiskStore {
    root: PathBuf,
}

impl DiskStore {
    pub fn new(root: PathBuf) -> Self {
        DiskStore { root }
    }

    /// The path of `key` (`<tenant>/<sha256>`); a key of any other shape is refused, so
    /// that no key reaches outside the root.
    fn path(&self, key: &str) -> Result<PathBuf, String> {
        let (tenant, sha) = key.split_once('/').ok_or("bad key")?;
        let hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        };
        if !hex(tenant, 36) || !hex(sha, 64) || sha.contains('-') {
            return Err("bad key".into());
        }
        Ok(self.root.join(tenant).join(&sha[..2]).join(sha))
    }
}

#[async_trait]
impl BlobStore for DiskStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        let path = self.path(key)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(());
        }
        let dir = path.parent().ok_or("bad key")?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
        tokio::fs::write(&tmp, &bytes)
            .await
            .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| format!("renaming to {}: {e}", path.display()))
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, String> {
        let path = self.path(key)?;
        tokio::fs::read(&path)
            .await
            .map_err(|e| format!("reading {}: {e}", path.display()))
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("deleting {}: {e}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// Objects under `<prefix><tenant id>/<sha256>` in one bucket.
pub struct S3Store {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    out: Outbound,
    max: usize,
}

/// How long a signed request stays valid: it is sent at once.
const SIGNED_FOR: Duration = Duration::from_secs(60);

impl S3Store {
    pub fn new(s: &crate::config::S3Store, out: Outbound, max: u64) -> anyhow::Result<Self> {
        let style = if s.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            s.endpoint.parse()?,
            style,
            s.bucket.clone(),
            s.region.clone(),
        )?;
        Ok(S3Store {
            bucket,
            credentials: Credentials::new(s.access_key_id.clone(), s.secret_access_key.clone()),
            prefix: s.prefix.clone(),
            out,
            max: max as usize,
        })
    }
}

#[async_trait]
impl BlobStore for S3Store {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        let object = format!("{}{key}", self.prefix);
        let url = self
            .bucket
            .put_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        self.out
            .put(url.as_str(), bytes)
            .await
            .map_err(|e| format!("storing {object}: {e}"))
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, String> {
        let object = format!("{}{key}", self.prefix);
        let url = self
            .bucket
            .get_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        self.out
            .get(url.as_str(), self.max)
            .await
            .map_err(|e| format!("reading {object}: {e}"))
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        let object = format!("{}{key}", self.prefix);
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        self.out
            .delete(url.as_str())
            .await
            .map_err(|e| format!("deleting {object}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_never_leaves_the_root() {
        let s = DiskStore::new(PathBuf::from("/data/attachments"));
        let sha = "ab".repeat(32);
        let tenant = "0191f0a4-7c1e-7a3b-9a8e-0123456789ab";
        assert_eq!(
            s.path(&format!("{tenant}/{sha}")).expect("a key"),
            PathBuf::from(format!("/data/attachments/{tenant}/ab/{sha}"))
        );
        for bad in [
            format!("../{sha}"),
            format!("{tenant}/../../etc/passwd"),
            format!("{tenant}/{sha}/x"),
            sha.clone(),
        ] {
            assert!(s.path(&bad).is_err(), "{bad}");
        }
    }
}
