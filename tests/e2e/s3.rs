//! A real S3-compatible server for the attachment tests: moto's server mode (tests/s3),
//! started per test on a free port, with one bucket.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::smtp::closed_port;

pub const BUCKET: &str = "civitas-files";

fn s3_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/s3")
}

pub struct S3Server {
    pub port: u16,
    child: Child,
}

impl S3Server {
    pub async fn start() -> Self {
        let server = s3_dir().join(".venv/bin/moto_server");
        if !server.exists() {
            let status = Command::new(s3_dir().join("../../scripts/s3-up"))
                .status()
                .expect("scripts/s3-up installs moto for the attachment tests");
            assert!(status.success(), "scripts/s3-up failed");
        }
        let client = reqwest::Client::new();
        for _ in 0..5 {
            let port = closed_port();
            let mut child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let base = format!("http://127.0.0.1:{port}");
            for _ in 0..100 {
                if client.get(&base).send().await.is_ok() {
                    let made = client
                        .put(format!("{base}/{BUCKET}"))
                        .send()
                        .await
                        .expect("create the bucket");
                    assert!(made.status().is_success(), "{made:?}");
                    return S3Server { port, child };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The object under `key`, read straight from the server with `credentials` (the store
    /// keeps its objects private).
    pub async fn object(&self, key: &str, credentials: (&str, &str)) -> Option<Vec<u8>> {
        use rusty_s3::S3Action;
        let bucket = rusty_s3::Bucket::new(
            self.endpoint().parse().expect("url"),
            rusty_s3::UrlStyle::Path,
            BUCKET,
            "eu-south-1",
        )
        .expect("bucket");
        let credentials = rusty_s3::Credentials::new(credentials.0, credentials.1);
        let url = bucket
            .get_object(Some(&credentials), key)
            .sign(Duration::from_secs(60));
        let r = reqwest::get(url).await.expect("get object");
        if !r.status().is_success() {
            return None;
        }
        Some(r.bytes().await.expect("bytes").to_vec())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
