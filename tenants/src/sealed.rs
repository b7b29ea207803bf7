//! Secrets at rest: what the platform must give back to a third party (an identity
//! provider's client secret, a webhook's signing secret) is stored sealed with AES-256-GCM
//! under a key from the configuration, bound to the row it belongs to, never in plain text.
//!
//! A sealed value reads `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`; the key
//! id is the first eight hex digits of the key's SHA-256, so that after a rotation the old
//! key (still in the keyring) opens what it sealed until `civitas secrets rewrap` has sealed
//! everything again under the new one. A value without the prefix was stored before
//! sealing existed: it is read as is and sealed by the next rewrap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

const PREFIX: &str = "sealed:v1:";

/// Why a stored secret could not be read. Internal: logged, never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed with key {0}, which is not in the keyring (secrets_key, secrets_old_keys)")]
    UnknownKey(String),
    #[error("a sealed secret is damaged or was moved from another row")]
    Damaged,
    #[error("a secrets key must be 32 bytes, base64: {0}")]
    BadKey(String),
}

struct Key {
    id: String,
    key: LessSafeKey,
}

impl Key {
    fn new(bytes: &[u8]) -> Result<Self, SealError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| SealError::BadKey(format!("{} bytes", bytes.len())))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        let id = digest.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            id,
            key: LessSafeKey::new(unbound),
        })
    }
}

/// The current key, which seals, and the older ones, which only open.
pub struct Keyring {
    current: Key,
    older: Vec<Key>,
    random: SystemRandom,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "older",
                &self.older.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Decodes a key as the configuration gives it: 32 bytes in base64 (standard or URL-safe,
/// padded or not), as `openssl rand -base64 32` prints it.
pub fn decode_key(text: &str) -> Result<Vec<u8>, SealError> {
    let t = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
        .map_err(|e| SealError::BadKey(e.to_string()))?;
    if bytes.len() != 32 {
        return Err(SealError::BadKey(format!("{} bytes", bytes.len())));
    }
    Ok(bytes)
}

impl Keyring {
    /// A keyring sealing with `current` and opening also with `older` (raw 32-byte keys).
    pub fn new(current: &[u8], older: &[Vec<u8>]) -> Result<Self, SealError> {
        let current = Key::new(current)?;
        let older = older
            .iter()
            .map(|k| Key::new(k))
            .filter(|k| k.as_ref().map_or(true, |k| k.id != current.id))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            current,
            older,
            random: SystemRandom::new(),
        })
    }

    /// A keyring with a fresh random key that no one else holds: what it seals is lost with
    /// the process. For tools and tests that store no secret for later.
    pub fn ephemeral() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random source");
        Self::new(&bytes, &[]).expect("a 32-byte key")
    }

    /// A fresh key, base64, for the operator to keep.
    pub fn generate_key() -> String {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random source");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// The current key's id.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `secret` for the row `context` names (e.g. `webhooks.secret:<id>`): the sealed
    /// value opens only with that same context.
    pub fn seal(&self, context: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .expect("the system's random source");
        let mut data = secret.as_bytes().to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM seals any input under 64 GiB");
        let mut out = nonce.to_vec();
        out.extend(data);
        format!(
            "{PREFIX}{}:{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// The secret `stored` holds for the row `context` names.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (id, body) = rest.split_once(':').ok_or(SealError::Damaged)?;
        let key = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let mut data = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Damaged)?;
        if data.len() < NONCE_LEN {
            return Err(SealError::Damaged);
        }
        let nonce: [u8; NONCE_LEN] = data[..NONCE_LEN]
            .try_into()
            .map_err(|_| SealError::Damaged)?;
        let plain = key
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data[NONCE_LEN..],
            )
            .map_err(|_| SealError::Damaged)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Damaged)
    }

    /// Whether `stored` is sealed under the current key (else a rewrap seals it again).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(id, _)| id == self.current.id)
    }

    /// `stored` opened and sealed again under the current key, if it was not already.
    pub fn rewrap(&self, context: &str, stored: &str) -> Result<Option<String>, SealError> {
        if self.is_current(stored) {
            return Ok(None);
        }
        Ok(Some(self.seal(context, &self.open(context, stored)?)))
    }
}

impl Default for Keyring {
    fn default() -> Self {
        Self::ephemeral()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_its_keys() {
        let old = Keyring::ephemeral();
        let sealed = old.seal("webhooks.secret:1", "whsec_abc");
        assert!(sealed.starts_with("sealed:v1:"));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(
            old.open("webhooks.secret:1", &sealed).expect("ok"),
            "whsec_abc"
        );
        // Moved to another row: refused.
        assert!(matches!(
            old.open("webhooks.secret:2", &sealed),
            Err(SealError::Damaged)
        ));
        // Twice sealed, two different values (fresh nonce).
        assert_ne!(sealed, old.seal("webhooks.secret:1", "whsec_abc"));

        let (a, b) = (
            decode_key(&Keyring::generate_key()).expect("ok"),
            vec![7u8; 32],
        );
        let before = Keyring::new(&a, &[]).expect("ok");
        let sealed = before.seal("x", "s");
        // Rotated: the new key seals, the old one still opens; a rewrap moves it over.
        let rotated = Keyring::new(&b, std::slice::from_ref(&a)).expect("ok");
        assert_eq!(rotated.open("x", &sealed).expect("ok"), "s");
        let again = rotated
            .rewrap("x", &sealed)
            .expect("ok")
            .expect("rewrapped");
        assert!(rotated.is_current(&again));
        assert_eq!(rotated.rewrap("x", &again).expect("ok"), None);
        // The old key dropped: what it sealed is unreadable, with its id named.
        let only_new = Keyring::new(&b, &[]).expect("ok");
        assert!(matches!(
            only_new.open("x", &sealed),
            Err(SealError::UnknownKey(id)) if id == before.current_id()
        ));
        assert_eq!(only_new.open("x", &again).expect("ok"), "s");
        // Stored before sealing existed: read as is, sealed by a rewrap.
        assert_eq!(only_new.open("x", "plain").expect("ok"), "plain");
        assert!(only_new.rewrap("x", "plain").expect("ok").is_some());
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        assert!(decode_key("c2hvcnQ=").is_err());
        assert!(decode_key("not base64!").is_err());
        let k = Keyring::generate_key();
        assert_eq!(decode_key(&k).expect("ok").len(), 32);
        assert_eq!(decode_key(&format!(" {k}\n")).expect("ok").len(), 32);
    }
}
