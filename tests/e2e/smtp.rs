//! A real SMTP server for the e-mail tests: aiosmtpd (tests/smtp-sink), started per test on
//! a free port, writing each message it accepts to a directory. Recipients whose address
//! starts with "reject" are refused with 550.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) fn sink_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/smtp-sink")
}

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// A message as the server received it.
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub raw: String,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.raw.as_bytes()).expect("a parsable message")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name)
    }

    /// The decoded body of the part of `mime` type.
    pub fn part(&self, mime: &str) -> String {
        let m = self.parsed();
        m.subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().expect("decoded part"))
            .unwrap_or_else(|| panic!("no {mime} part"))
    }
}

/// The Python environment of tests/smtp-sink (aiosmtpd, jsonschema), installed once per
/// run by scripts/smtp-sink-up (which does nothing when it is complete).
pub(crate) fn ensure_sink_venv() {
    static READY: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    READY.get_or_init(|| {
        let status = Command::new(sink_dir().join("../../scripts/smtp-sink-up"))
            .status()
            .expect("scripts/smtp-sink-up installs aiosmtpd and jsonschema for the tests");
        assert!(status.success(), "scripts/smtp-sink-up failed");
    });
}

/// A port nobody listens on (bound, then let go).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl SmtpSink {
    pub fn start() -> Self {
        ensure_sink_venv();
        let python = sink_dir().join(".venv/bin/python");
        let dir = tempfile::tempdir().expect("tempdir");
        for _ in 0..5 {
            let port = closed_port();
            let mut child = Command::new(&python)
                .arg(sink_dir().join("sink.py"))
                .args(["--port", &port.to_string(), "--dir"])
                .arg(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start aiosmtpd");
            let mut line = String::new();
            let stdout = child.stdout.take().expect("stdout");
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            if line.trim() == "ready" {
                return SmtpSink { port, dir, child };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("aiosmtpd did not start");
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).expect("message"))
                    .expect("json");
                Received {
                    mail_from: v["mail_from"].as_str().unwrap_or_default().to_owned(),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect(),
                    raw: v["content"].as_str().unwrap_or_default().to_owned(),
                }
            })
            .collect()
    }

    /// Waits (at most 15 s) until `n` messages have arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{} of {n} messages arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
