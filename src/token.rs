//! Access tokens and everything that keeps them secret: the redacted `AccessToken`, the keyed
//! fingerprint that cache keys and rate-limit state are stored under instead of the token, and
//! the scrub that takes a token out of a text Graph echoed it in.
//!
//! This is the one file that holds the token invariant (ARCHITECTURE.md): a token never
//! appears in a log line, an error, a metric or a cache key.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A caller's Meta access token. Its `Debug` never shows the token itself, and it has no
/// `Display`, so it cannot be formatted into a message by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// Wraps a token as received from a caller.
    pub fn new(token: impl Into<Arc<str>>) -> AccessToken {
        AccessToken(token.into())
    }

    /// The raw token, for the `Authorization` header and the appsecret_proof only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of this token replaced (see [`scrub`]).
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, self.expose())
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// What a scrubbed secret is replaced with.
pub(crate) const SCRUBBED: &str = "[access token]";

/// `text` with every occurrence of `secret` replaced by [`SCRUBBED`]. Graph echoes a malformed
/// access token in its messages ("Malformed access token EAAB..."), and no text that leaves
/// bizgraph may carry a token. An empty secret changes nothing (it "occurs" everywhere).
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, SCRUBBED)
    }
}

/// A keyed fingerprint of an access token: the same for every process that shares the
/// fingerprint key, useless to anyone without it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenFingerprint([u8; 16]);

impl fmt::Debug for TokenFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenFingerprint({self})")
    }
}

impl fmt::Display for TokenFingerprint {
    /// Lower-case hex, the form a shared store's keys and tags hold.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The shortest cache key secret accepted: 32 characters, as many as `openssl rand -hex 16`
/// prints, so that the key cannot be guessed and the fingerprints of known tokens computed.
pub(crate) const MIN_SECRET_LEN: usize = 32;

/// Why a configured cache key secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the cache key secret has {len} characters; give at least {MIN_SECRET_LEN}, the same on every \
     replica (e.g. from `openssl rand -hex 32`)"
)]
pub struct WeakSecret {
    /// How long the refused secret was.
    pub len: usize,
}

/// Computes [`TokenFingerprint`]s under one key: HMAC-SHA256 of the token, cut to 16 bytes.
/// Cheap to clone; every clone uses the same key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Arc<[u8; 32]>,
}

impl fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprinter(<key redacted>)")
    }
}

impl Fingerprinter {
    /// A fingerprinter with a key drawn at random: right for a gateway that shares no store,
    /// since no other process ever needs to compute the same fingerprints.
    pub fn random() -> Fingerprinter {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Fingerprinter { key: Arc::new(key) }
    }

    /// A fingerprinter whose key is derived from a secret shared by the replicas of one
    /// deployment, so that they store and find one token's answers under the same keys.
    pub fn from_secret(secret: &str) -> Result<Fingerprinter, WeakSecret> {
        let len = secret.chars().count();
        if len < MIN_SECRET_LEN {
            return Err(WeakSecret { len });
        }
        // The key is derived rather than the secret used as is: should an operator reuse the
        // secret for something else that is HMAC-SHA256 keyed, the two never give the same MAC.
        let mut key = [0u8; 32];
        key.copy_from_slice(&hmac_sha256(
            secret.as_bytes(),
            b"bizgraph token fingerprint key v1",
        ));
        Ok(Fingerprinter { key: Arc::new(key) })
    }

    /// The fingerprinter a gateway uses: from `secret` when one is configured, else random.
    pub fn from_settings(secret: Option<&str>) -> Result<Fingerprinter, WeakSecret> {
        secret.map_or_else(|| Ok(Fingerprinter::random()), Fingerprinter::from_secret)
    }

    /// The keyed fingerprint of `token`.
    pub fn fingerprint(&self, token: &AccessToken) -> TokenFingerprint {
        let mut out = [0u8; 16];
        out.copy_from_slice(&hmac_sha256(self.key.as_slice(), token.expose().as_bytes())[..16]);
        TokenFingerprint(out)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // HMAC takes keys of any length, so this never fails; the zeroes are never used.
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        mac.update(message);
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = AccessToken::new("secret-token");
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
    }

    #[test]
    fn random_fingerprints_are_stable_per_process_and_differ_between_tokens_and_processes() {
        let fingerprinter = Fingerprinter::random();
        let a = AccessToken::new("token-a");
        let b = AccessToken::new("token-b");
        assert_eq!(fingerprinter.fingerprint(&a), fingerprinter.fingerprint(&a));
        assert_ne!(fingerprinter.fingerprint(&a), fingerprinter.fingerprint(&b));
        // Another process (another key) gives another fingerprint for the same token.
        assert_ne!(
            Fingerprinter::random().fingerprint(&a),
            fingerprinter.fingerprint(&a)
        );
    }

    #[test]
    fn replicas_with_the_same_secret_compute_the_same_fingerprint_and_others_do_not() {
        let token = AccessToken::new("token-a");
        let one = Fingerprinter::from_secret(SECRET).unwrap_or_else(|e| panic!("{e}"));
        let two = Fingerprinter::from_settings(Some(SECRET)).unwrap_or_else(|e| panic!("{e}"));
        let other = Fingerprinter::from_secret("fedcba9876543210fedcba9876543210")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.fingerprint(&token), two.fingerprint(&token));
        assert_ne!(one.fingerprint(&token), other.fingerprint(&token));
        assert_eq!(one.fingerprint(&token).to_string().len(), 32);
        assert!(!one.fingerprint(&token).to_string().contains("token-a"));
    }

    #[test]
    fn a_short_cache_key_secret_is_refused() {
        assert_eq!(
            Fingerprinter::from_secret("short").map(drop),
            Err(WeakSecret { len: 5 })
        );
        assert!(Fingerprinter::from_settings(None).is_ok());
    }

    #[test]
    fn a_scrubbed_text_holds_no_token() {
        let token = AccessToken::new("EAABsecret123");
        assert_eq!(
            token.scrub("Malformed access token EAABsecret123, EAABsecret123"),
            "Malformed access token [access token], [access token]"
        );
        assert_eq!(scrub("nothing to hide", ""), "nothing to hide");
    }
}
