//! Meta's webhooks, without any HTTP framework: the subscription handshake, the
//! `X-Hub-Signature-256` check over the raw body (in constant time), and the parsing of a
//! delivery into typed migration events (docs/graph-api.md §9 and §10).

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::graph::model::parse_graph_time;

/// The most changes one delivery may carry (Meta batches at most 1000).
pub(crate) const MAX_CHANGES: usize = 1000;

/// The webhook field that reports a migration's expiry.
pub(crate) const MIGRATION_FIELD: &str = "migration_expire_time";

/// Why a handshake was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// `hub.mode` was not `subscribe`.
    #[error("hub.mode must be subscribe")]
    Mode,
    /// `hub.verify_token` did not match the configured one.
    #[error("hub.verify_token does not match")]
    Token,
    /// No `hub.challenge` to echo.
    #[error("hub.challenge is missing")]
    Challenge,
}

/// Answers Meta's subscription handshake: the challenge to echo when `mode` is `subscribe`
/// and `token` is the verify token (compared in constant time).
pub(crate) fn handshake<'a>(
    verify_token: &str,
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
) -> Result<&'a str, HandshakeError> {
    if mode != Some("subscribe") {
        return Err(HandshakeError::Mode);
    }
    let given = token.unwrap_or("");
    if !constant_time_eq(given.as_bytes(), verify_token.as_bytes()) {
        return Err(HandshakeError::Token);
    }
    challenge
        .filter(|c| !c.is_empty())
        .ok_or(HandshakeError::Challenge)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Hashing first makes the comparison independent of the lengths too.
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    subtle::ConstantTimeEq::ct_eq(a.as_slice(), b.as_slice()).into()
}

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    /// The header is not `sha256=` and 64 hex digits.
    #[error("the X-Hub-Signature-256 header is not sha256=<64 hex digits>")]
    Malformed,
    /// The signature is not the body's HMAC with the app secret.
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    Mismatch,
}

/// Checks `header` (`sha256=<hex>`) against the HMAC-SHA256 of the raw `body` keyed with the
/// app secret, in constant time.
pub(crate) fn verify_signature(
    app_secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digits = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digits).map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The signature header value Meta would send for `body`.
#[cfg(test)]
pub(crate) fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a verified delivery could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ParseError {
    /// Not the JSON shape Meta sends.
    #[error("not a webhook delivery: {0}")]
    Shape(String),
    /// More changes than Meta ever batches.
    #[error("{0} changes in one delivery; at most {MAX_CHANGES} are taken")]
    TooManyChanges(usize),
}

#[derive(Deserialize)]
struct Delivery {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: Value,
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Value,
}

/// A migration's expiry, as a `migration_expire_time` change reports it. Serialized as JSON
/// when replicas pass it to each other through Redis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct MigrationEvent {
    /// The Facebook user whose business permissions move to a managed account.
    pub(crate) user_id: String,
    /// When access through that user's token ends.
    pub(crate) migration_expire_time: DateTime<Utc>,
    /// The entry's object id (the managed account).
    pub(crate) entry_id: String,
    /// When Meta sent the change.
    pub(crate) sent_at: Option<DateTime<Utc>>,
    /// A digest of the change, the same for every retry of the delivery: the de-duplication
    /// key.
    pub(crate) digest: String,
}

/// What a verified delivery holds: its migration events, and how many changes of other
/// fields it carried (taken and ignored).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Parsed {
    /// The `migration_expire_time` changes, in order.
    pub(crate) events: Vec<MigrationEvent>,
    /// Changes of other fields or objects, or malformed ones.
    pub(crate) ignored: usize,
}

/// Reads a verified delivery's body.
pub(crate) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let delivery: Delivery =
        serde_json::from_slice(body).map_err(|e| ParseError::Shape(e.to_string()))?;
    let changes: usize = delivery.entry.iter().map(|e| e.changes.len()).sum();
    if changes > MAX_CHANGES {
        return Err(ParseError::TooManyChanges(changes));
    }
    let mut parsed = Parsed::default();
    for entry in &delivery.entry {
        let entry_id = match &entry.id {
            Value::String(id) => id.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                parsed.ignored += entry.changes.len();
                continue;
            }
        };
        for change in &entry.changes {
            match migration_event(&delivery.object, &entry_id, entry.time, change) {
                Some(event) => parsed.events.push(event),
                None => parsed.ignored += 1,
            }
        }
    }
    Ok(parsed)
}

fn migration_event(
    object: &str,
    entry_id: &str,
    time: Option<i64>,
    change: &Change,
) -> Option<MigrationEvent> {
    if change.field != MIGRATION_FIELD {
        return None;
    }
    let user_id = match change.value.get("user_id")? {
        Value::String(id) => id.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if user_id.is_empty() || !user_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let expiry = match change.value.get(MIGRATION_FIELD)? {
        Value::String(text) => parse_graph_time(text)?,
        Value::Number(n) => Utc.timestamp_opt(n.as_i64()?, 0).single()?,
        _ => return None,
    };
    let sent_at = time.and_then(|t| Utc.timestamp_opt(t, 0).single());
    let mut digest = Sha256::new();
    for part in [
        object,
        entry_id,
        &time.unwrap_or_default().to_string(),
        &change.field,
        &user_id,
        &expiry.to_rfc3339(),
    ] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    Some(MigrationEvent {
        user_id,
        migration_expire_time: expiry,
        entry_id: entry_id.to_owned(),
        sent_at,
        digest: hex::encode(digest.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";

    fn body(user: &str, expiry: &str) -> Vec<u8> {
        serde_json::json!({
            "object": "managed_meta_account",
            "entry": [{"id": "910001", "time": 1_780_000_000, "changes": [
                {"field": "migration_expire_time",
                 "value": {"user_id": user, "migration_expire_time": expiry}},
                {"field": "something_else", "value": {}}
            ]}]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
        assert_eq!(
            handshake("tok", Some("subscribe"), Some("tok"), Some("1158201444")),
            Ok("1158201444")
        );
        assert_eq!(
            handshake("tok", Some("subscribe"), Some("tok2"), Some("1")),
            Err(HandshakeError::Token)
        );
        assert_eq!(
            handshake("tok", Some("unsubscribe"), Some("tok"), Some("1")),
            Err(HandshakeError::Mode)
        );
        assert_eq!(
            handshake("tok", Some("subscribe"), Some("tok"), None),
            Err(HandshakeError::Challenge)
        );
    }

    #[test]
    fn signatures_are_checked_over_the_raw_bytes() {
        // Unicode escaped or not is a different body, hence a different signature.
        let raw = "{\"object\":\"x\",\"entry\":[],\"note\":\"Café 🎉\"}".as_bytes();
        let signed = sign(SECRET, raw);
        assert_eq!(verify_signature(SECRET, raw, Some(&signed)), Ok(()));
        let escaped = r#"{"object":"x","entry":[],"note":"Caf\u00e9 \ud83c\udf89"}"#.as_bytes();
        assert_eq!(
            verify_signature(SECRET, escaped, Some(&signed)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"other", raw, Some(&signed)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, raw, None),
            Err(SignatureError::Missing)
        );
        for bad in ["sha1=abcd", "sha256=xyz", "sha256=abcd", ""] {
            assert_eq!(
                verify_signature(SECRET, raw, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_delivery_becomes_migration_events_with_stable_digests() {
        let parsed = parse(&body("100002", "2026-12-25T10:00:00Z")).expect("a delivery");
        assert_eq!(parsed.ignored, 1);
        let event = &parsed.events[0];
        assert_eq!(event.user_id, "100002");
        assert_eq!(event.entry_id, "910001");
        assert_eq!(
            event.migration_expire_time.to_rfc3339(),
            "2026-12-25T10:00:00+00:00"
        );
        let again = parse(&body("100002", "2026-12-25T10:00:00+00:00")).expect("a delivery");
        assert_eq!(
            again.events[0].digest, event.digest,
            "the same change, retried"
        );
        let moved = parse(&body("100002", "2027-01-25T10:00:00Z")).expect("a delivery");
        assert_ne!(moved.events[0].digest, event.digest, "an extension is news");
    }

    #[test]
    fn bad_deliveries_are_refused_whole() {
        assert!(matches!(parse(b"not json"), Err(ParseError::Shape(_))));
        assert!(matches!(
            parse(b"{\"entry\":[]}"),
            Err(ParseError::Shape(_))
        ));
        let changes: Vec<Value> = (0..=MAX_CHANGES)
            .map(|_| serde_json::json!({"field": "migration_expire_time", "value": {}}))
            .collect();
        let big = serde_json::json!({"object": "managed_meta_account",
                                     "entry": [{"id": "1", "changes": changes}]});
        assert_eq!(
            parse(big.to_string().as_bytes()),
            Err(ParseError::TooManyChanges(MAX_CHANGES + 1))
        );
        let odd = serde_json::json!({"object": "managed_meta_account", "entry": [{"id": "1",
            "changes": [{"field": "migration_expire_time", "value": {"user_id": "me"}}]}]});
        assert_eq!(parse(odd.to_string().as_bytes()).map(|p| p.ignored), Ok(1));
    }
}
