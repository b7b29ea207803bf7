//! A real browser for the portal's tests: headless Chromium driven through chromedriver
//! (WebDriver), one of each per test, and axe-core run inside every page checked.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. scripts/test installs both
    /// (scripts/browser-up); a machine without them fails here, saying so.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/browser-up installs chromium and chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                              "--disable-dev-shm-usage", "--window-size=1280,1024",
                              "--lang=it-IT"],
                     "prefs": { "intl.accept_languages": "it-IT,it" } }),
        );
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Browser { client, driver },
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start: {last:?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// Clicks an element after bringing it to the middle of the window (nothing sticky
    /// over it).
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        let arg = serde_json::to_value(&e).expect("element");
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![arg.clone()],
            )
            .await
            .expect("scroll");
        if e.click().await.is_err() {
            // Bootstrap Italia's sticky parts can lie over a button near the bottom: the
            // click then goes to the element itself, as assistive technology would send it.
            let shot = self.client.screenshot().await.expect("screenshot");
            let dir = root().join("target/portal-screenshots");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join("click-intercepted.png"), shot);
            self.client
                .execute("arguments[0].click();", vec![arg])
                .await
                .unwrap_or_else(|err| panic!("{css}: {err}"));
        }
    }

    /// Waits until the text of `css` contains `needle` (a page on its way in: the element
    /// of the page before may be found first, then go stale).
    pub async fn wait_for_text(&self, css: &str, needle: &str) {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "{css} never said {needle:?}: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of `css`; found again if the element went stale in between (a page on its
    /// way in after a form was sent).
    pub async fn text(&self, css: &str) -> String {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match self.find(css).await.text().await {
                Ok(t) => return t,
                Err(e) if std::time::Instant::now() >= until => panic!("{css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Waits until the text of `css` no longer contains `needle` (the page after a form
    /// was sent, rather than the one it was sent from).
    pub async fn wait_without_text(&self, css: &str, needle: &str) {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.ok(),
                Err(_) => None,
            };
            if text.as_ref().is_some_and(|t| !t.contains(needle)) {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "{css} still says {needle:?}: {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page: no serious or critical
    /// violation may be found. Saves a screenshot named `name` for docs/portal.md.
    pub async fn check_page(&self, name: &str) {
        let axe =
            std::fs::read_to_string(root().join("tests/browser/node_modules/axe-core/axe.min.js"))
                .expect("axe-core (scripts/browser-up installs it)");
        self.client.execute(&axe, vec![]).await.expect("load axe");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                       nodes: v.nodes.slice(0, 3).map(n => n.html) }))))
                   .catch(e => done([{ id: 'axe-error', impact: 'critical', nodes: [String(e)] }]));",
                vec![],
            )
            .await
            .expect("axe run");
        let bad: Vec<&Value> = result
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "{name}: accessibility violations {bad:#?}");
        let shot = self.client.screenshot().await.expect("screenshot");
        let dir = root().join("target/portal-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), shot).expect("save screenshot");
    }

    /// Presses Tab until the element `id` has the focus (at most `limit` times).
    pub async fn tab_to(&self, id: &str, limit: usize) {
        for _ in 0..limit {
            let active = self.client.active_element().await.expect("active element");
            if active.attr("id").await.expect("id").as_deref() == Some(id) {
                return;
            }
            self.press('\u{E004}').await;
        }
        panic!("#{id} never got the focus by keyboard");
    }

    /// Presses one key, wherever the focus is (a keyboard, not an element's value).
    pub async fn press(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await.expect("key press");
        self.client.release_actions().await.expect("release keys");
    }

    /// Types into whatever has the focus.
    pub async fn type_here(&self, text: &str) {
        let active = self.client.active_element().await.expect("active element");
        active.send_keys(text).await.expect("type");
    }

    /// Ends the browser session; the driver stops when `self` is dropped.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A test that fails half-way still stops its chromedriver (and with it Chromium).
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
