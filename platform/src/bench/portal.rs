//! Browser sessions for the portal scenario: each signed in as a browser would in `--dev`,
//! through the development sign-in form (its seed cookie and form token), before the clock
//! starts.

use std::sync::Arc;

use anyhow::{Context, bail};
use civitas_crm::identity::FiscalCode;
use reqwest::header::{COOKIE, SET_COOKIE};

use super::driver::Rng;
use super::layout::Layout;

/// How many citizens the portal scenario signs in.
pub const SESSIONS: u64 = 200;

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        let (k, value) = pair.split_once('=')?;
        (k == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The value of the first hidden `csrf` input of a page.
fn form_token(html: &str) -> Option<&str> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next()
}

/// Signs in one citizen by fiscal code; returns the session cookie's value.
async fn sign_in(http: &reqwest::Client, url: &str, fiscal_code: &str) -> anyhow::Result<String> {
    let page = http.get(format!("{url}/sign-in")).send().await?;
    let seed = set_cookie(&page, "civitas_form").context("no form seed cookie")?;
    let html = page.text().await?;
    let csrf = form_token(&html).context("no form token: is the server run with --dev?")?;
    let form = [
        ("csrf", csrf),
        ("fiscal_code", fiscal_code),
        ("name", ""),
        ("return_to", "/"),
    ];
    let resp = http
        .post(format!("{url}/sign-in/dev"))
        .header(COOKIE, format!("civitas_form={seed}"))
        .form(&form)
        .send()
        .await?;
    match set_cookie(&resp, civitas_web::SESSION_COOKIE) {
        Some(s) => Ok(s),
        None => bail!("the development sign-in answered {}", resp.status()),
    }
}

/// Session cookies of `SESSIONS` random citizens of the data set.
pub async fn sessions(url: &str, layout: &Layout, seed: u64) -> anyhow::Result<Vec<Arc<str>>> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut rng = Rng::new(seed ^ 0x5e55);
    let mut out = Vec::new();
    for _ in 0..SESSIONS.min(layout.persons) {
        let code = FiscalCode::synthetic(rng.below(layout.persons));
        let session = sign_in(&http, url, code.as_str())
            .await
            .with_context(|| format!("signing in {code} at {url}"))?;
        out.push(Arc::from(session));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_form_token_is_read_from_the_page() {
        let html = r#"<form><input type="hidden" name="csrf" value="abc-123"><input name="x">"#;
        assert_eq!(super::form_token(html), Some("abc-123"));
        assert_eq!(super::form_token("<p>no form</p>"), None);
    }
}
