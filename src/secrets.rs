//! Secrets at rest: the webhook signing secrets (which must be read back to
//! sign every delivery, so they cannot be hashed like tokens and client
//! secrets) are stored sealed with a server key.
//!
//! - Sealing is XChaCha20-Poly1305 (the `chacha20poly1305` crate): a random
//!   192-bit nonce per value, so no nonce bookkeeping, and the row's id as
//!   associated data, so a sealed value copied onto another row does not open.
//! - A stored value reads `enc1:<key id>:<base64url(nonce ‖ ciphertext)>`;
//!   the key id (the first 8 hex digits of the key's SHA-256) says which key
//!   opens it, so the server can hold the current key and previous ones.
//! - Rotation: start every replica with the new key in
//!   `PARTNERGRAPH_SECRET_KEY` and the old one(s) in
//!   `PARTNERGRAPH_SECRET_KEY_PREVIOUS`; values sealed with an old key still
//!   open, and `serve` reseals them with the current key at start
//!   ([`crate::webhooks::secrets::reseal_all`]), after which the old key may go.
//! - A value not sealed at all (written before this version) is read as it
//!   is and sealed at the next start.
//!
//! Keys never reach a log: [`SecretKeys`]' `Debug` shows key ids only.

use std::{fmt, sync::Arc, sync::LazyLock};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of a sealed value, with its format version.
const SEALED: &str = "enc1:";
const NONCE_LEN: usize = 24;

/// Why a key or a sealed value was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("a server key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
    BadKey,
    #[error("the value was sealed with server key {0}, which is not configured (set it in PARTNERGRAPH_SECRET_KEY_PREVIOUS)")]
    UnknownKey(String),
    #[error("the sealed value is damaged or belongs to another row")]
    Damaged,
}

struct ServerKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl ServerKey {
    fn new(material: &[u8; 32]) -> Self {
        let digest = Sha256::digest(material);
        Self {
            id: hex::encode(&digest[..4]),
            cipher: XChaCha20Poly1305::new(material.into()),
        }
    }

    fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| SecretError::BadKey)?;
        let material: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::new(&material))
    }
}

/// The current server key and the previous ones; cheap to clone.
#[derive(Clone)]
pub struct SecretKeys(Arc<Keys>);

struct Keys {
    current: ServerKey,
    previous: Vec<ServerKey>,
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKeys")
            .field("current", &self.0.current.id)
            .field(
                "previous",
                &self.0.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A key made for this process, for servers built in-process (tests,
/// benchmarks): what it seals is unreadable after a restart. The binary
/// never uses it; it reads its key from the environment or a key file.
static EPHEMERAL: LazyLock<SecretKeys> = LazyLock::new(|| {
    let mut material = [0u8; 32];
    rand::rng().fill_bytes(&mut material);
    SecretKeys(Arc::new(Keys {
        current: ServerKey::new(&material),
        previous: Vec::new(),
    }))
});

impl SecretKeys {
    /// The current key and, comma-separated, previous keys, each 32 bytes in
    /// base64.
    pub fn parse(current: &str, previous: Option<&str>) -> Result<Self, SecretError> {
        let current = ServerKey::parse(current)?;
        let previous = previous
            .unwrap_or_default()
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(ServerKey::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(Arc::new(Keys { current, previous })))
    }

    /// This process's own key (see [`EPHEMERAL`]).
    pub fn ephemeral() -> Self {
        EPHEMERAL.clone()
    }

    /// A new random key, base64, as `PARTNERGRAPH_SECRET_KEY` takes it.
    pub fn generate() -> String {
        let mut material = [0u8; 32];
        rand::rng().fill_bytes(&mut material);
        STANDARD.encode(material)
    }

    /// The id of the current key, as sealed values name it.
    pub fn current_id(&self) -> &str {
        &self.0.current.id
    }

    /// `secret` sealed with the current key for the row `row`.
    pub fn seal(&self, secret: &str, row: &str) -> String {
        let key = &self.0.current;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: row.as_bytes(),
        };
        // Encryption fails only for messages beyond 256 GiB.
        let sealed = key
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED}{}:{}", key.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret in the stored value `stored` of the row `row`.
    pub fn open(&self, stored: &str, row: &str) -> Result<String, SecretError> {
        let Some(rest) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_owned());
        };
        let (id, data) = rest.split_once(':').ok_or(SecretError::Damaged)?;
        let key = std::iter::once(&self.0.current)
            .chain(&self.0.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| SecretError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Damaged);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: row.as_bytes(),
        };
        let plain = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SecretError::Damaged)?;
        String::from_utf8(plain).map_err(|_| SecretError::Damaged)
    }

    /// Whether `stored` is sealed with the current key (else it needs resealing).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(SEALED)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.0.current.id)
    }
}

/// Where the key of the SQLite database at `database_url` is kept when
/// `PARTNERGRAPH_SECRET_KEY` is not set: beside it, as `FILE.key`. `None`
/// for an in-memory database.
pub fn key_file_for(database_url: &str) -> Option<std::path::PathBuf> {
    let file = crate::db::sqlite_file(database_url)?;
    let mut name = file.into_os_string();
    name.push(".key");
    Some(name.into())
}

/// Writes a new key file readable by its owner only; never overwrites one.
pub fn write_key_file(path: &std::path::Path, key: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(key.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_row_only() {
        let keys = SecretKeys::parse(&SecretKeys::generate(), None).unwrap();
        let sealed = keys.seal("whsec_abc", "row-1");
        assert!(sealed.starts_with("enc1:"));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(keys.open(&sealed, "row-1").unwrap(), "whsec_abc");
        assert!(matches!(
            keys.open(&sealed, "row-2"),
            Err(SecretError::Damaged)
        ));
        assert_ne!(
            keys.seal("whsec_abc", "row-1"),
            sealed,
            "a fresh nonce each time"
        );
        assert!(keys.is_current(&sealed));
        assert!(!keys.is_current("whsec_abc"));
        assert_eq!(keys.open("whsec_plain", "row-1").unwrap(), "whsec_plain");
    }

    #[test]
    fn after_rotation_old_values_open_with_the_previous_key() {
        let (old, new) = (SecretKeys::generate(), SecretKeys::generate());
        let before = SecretKeys::parse(&old, None).unwrap();
        let sealed = before.seal("whsec_x", "r");
        let after = SecretKeys::parse(&new, Some(&format!(" {old} ,"))).unwrap();
        assert!(!after.is_current(&sealed));
        assert_eq!(after.open(&sealed, "r").unwrap(), "whsec_x");
        let without = SecretKeys::parse(&new, None).unwrap();
        assert!(matches!(
            without.open(&sealed, "r"),
            Err(SecretError::UnknownKey(id)) if id == before.current_id()
        ));
    }

    #[test]
    fn the_key_file_sits_beside_the_sqlite_file() {
        let path = |url| key_file_for(url).map(|p| p.display().to_string());
        assert_eq!(
            path("sqlite://partnergraph.db?mode=rwc").as_deref(),
            Some("partnergraph.db.key")
        );
        assert_eq!(
            path("sqlite:///var/lib/pg/app.db").as_deref(),
            Some("/var/lib/pg/app.db.key")
        );
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("postgres://localhost/db"), None);
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SecretKeys::parse("short", None).is_err());
        assert!(SecretKeys::parse(&STANDARD.encode([1u8; 31]), None).is_err());
        assert!(SecretKeys::parse(&URL_SAFE_NO_PAD.encode([1u8; 32]), None).is_ok());
        let debug = format!(
            "{:?}",
            SecretKeys::parse(&STANDARD.encode([7u8; 32]), None).unwrap()
        );
        assert!(!debug.contains(&STANDARD.encode([7u8; 32])), "{debug}");
    }
}
