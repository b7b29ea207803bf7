//! E-mail through a body's own SMTP server, behind the outbound guard: the server's name
//! is resolved here and every address it has checked against the policy (as the guarded
//! HTTP client does), then lettre connects to a checked address; TLS still verifies the
//! certificate against the name. Connections are pooled per server for a few minutes,
//! after which the name is resolved and checked again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use civitas_crm::notify::settings::{EmailServer, Security};
use civitas_crm::notify::templates::Message as Words;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use moka::future::Cache;

use crate::outbound::Policy;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Why a message was not sent, and whether trying again could help.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

fn transient(message: impl Into<String>) -> SendError {
    SendError {
        permanent: false,
        message: message.into(),
    }
}

fn permanent(message: impl Into<String>) -> SendError {
    SendError {
        permanent: true,
        message: message.into(),
    }
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// RFC 8058: the link may be followed with one POST, no confirmation page.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// One e-mail: to whom (name and address), the words, and its unsubscribe link.
pub struct Outgoing<'a> {
    pub to_name: &'a str,
    pub to_address: &'a str,
    pub words: &'a Words,
    pub unsubscribe_url: &'a str,
}

#[derive(Clone)]
pub struct Mailer {
    policy: Arc<Policy>,
    transports: Cache<String, Transport>,
    timeout: Duration,
}

impl Mailer {
    pub fn new(policy: Policy, timeout: Duration) -> Self {
        Mailer {
            policy: Arc::new(policy),
            transports: Cache::builder()
                .max_capacity(1000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            timeout,
        }
    }

    /// The server's checked address: every address of its name must be permitted.
    async fn address(&self, server: &EmailServer) -> Result<SocketAddr, SendError> {
        let host = server.host.trim_matches(|c| c == '[' || c == ']');
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, server.port))
            .await
            .map_err(|_| transient("the e-mail server's name does not resolve"))?
            .collect();
        match found.first() {
            Some(a) if found.iter().all(|a| self.policy.permits(a.ip())) => Ok(*a),
            Some(_) => Err(permanent(
                "the e-mail server's address is refused by the outbound policy",
            )),
            None => Err(transient("the e-mail server's name does not resolve")),
        }
    }

    async fn transport(&self, server: &EmailServer) -> Result<Transport, SendError> {
        let addr = self.address(server).await?;
        let password = match &server.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                transient(format!(
                    "the password variable {var} is not set on the server"
                ))
            })?),
            None => None,
        };
        let key = format!(
            "{addr}|{}|{:?}|{:?}|{:?}",
            server.host, server.security, server.username, password
        );
        if let Some(t) = self.transports.get(&key).await {
            return Ok(t);
        }
        let tls_for = || {
            TlsParameters::new(server.host.clone())
                .map_err(|e| permanent(format!("TLS parameters: {e}")))
        };
        let tls = match server.security {
            Security::Starttls => Tls::Required(tls_for()?),
            Security::Tls => Tls::Wrapper(tls_for()?),
            Security::None => Tls::None,
        };
        let mut b = Transport::builder_dangerous(addr.ip().to_string())
            .port(addr.port())
            .tls(tls)
            .timeout(Some(self.timeout));
        if let (Some(user), Some(pass)) = (&server.username, password) {
            b = b.credentials(Credentials::new(user.clone(), pass));
        }
        let t = b.build();
        self.transports.insert(key, t.clone()).await;
        Ok(t)
    }

    /// Sends one message through `server`.
    pub async fn send(&self, server: &EmailServer, m: Outgoing<'_>) -> Result<(), SendError> {
        let from = Mailbox::new(
            server.from_name.clone(),
            server
                .from_address
                .parse()
                .map_err(|_| permanent("the body's sender address does not parse"))?,
        );
        let to_name = Some(m.to_name.to_owned()).filter(|n| !n.trim().is_empty());
        let to = Mailbox::new(
            to_name,
            m.to_address
                .parse()
                .map_err(|_| permanent("the citizen's address does not parse"))?,
        );
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(m.words.subject.clone())
            .header(ListUnsubscribe(format!("<{}>", m.unsubscribe_url)))
            .header(ListUnsubscribePost)
            .multipart(MultiPart::alternative_plain_html(
                m.words.text.clone(),
                m.words.html.clone(),
            ))
            .map_err(|e| permanent(format!("building the message: {e}")))?;
        let transport = self.transport(server).await?;
        transport.send(message).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                permanent(format!("the e-mail server refused the message: {e}"))
            } else {
                transient(format!("the e-mail server did not take the message: {e}"))
            }
        })
    }
}
