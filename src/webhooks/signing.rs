//! Standard Webhooks signing: `whsec_` secrets and the `webhook-signature`
//! header, `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one
//! signature per live secret, separated by spaces.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Every signing secret starts with it, as Standard Webhooks libraries expect
/// (and so secret scanners can find leaked ones).
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// A secret that is not `whsec_<base64>`: only stored data can hold one.
#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is not `whsec_<base64>`")]
pub struct MalformedSecret;

/// One `v1,<signature>` of `{id}.{timestamp}.{body}` with `secret`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, MalformedSecret> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .ok_or(MalformedSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| MalformedSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: a signature per secret, space-separated,
/// so receivers holding either secret accept it during a rotation.
pub fn signature_header(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, MalformedSecret> {
    let signatures = secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_prefixed_and_random() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX));
        assert_ne!(a, b);
        assert_eq!(
            STANDARD.decode(&a[SECRET_PREFIX.len()..]).unwrap().len(),
            32
        );
    }

    #[test]
    fn both_secrets_sign_during_a_rotation() {
        let header = signature_header(&[&new_secret(), &new_secret()], "msg_1", 1, "{}").unwrap();
        assert_eq!(header.split(' ').count(), 2);
        assert!(sign("nope", "msg_1", 1, "{}").is_err());
    }
}
