//! The sandbox's outgoing webhook (docs/graph-api.md §10): the subscription handshake with a
//! callback, and the signed `migration_expire_time` deliveries with their retries.
//!
//! Deliveries are queued under the world's lock (`queue`: the body, its signature and a
//! `pending` record) and sent outside it by a spawned task (`spawn`), which takes the lock only
//! for the instant of recording each attempt.
//!
//! Meta retries a failed delivery for up to 36 hours with decreasing frequency [doc]; the
//! sandbox makes at most [`MAX_ATTEMPTS`] attempts, the n-th retry waiting `retry_base_ms`
//! times 2^(n-1) (100 ms, 200 ms, 400 ms, 800 ms by default), so that tests see retries in
//! seconds [guess: an accelerated schedule].

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Sandbox;
use crate::migration::Migration;
use crate::world::World;

/// Attempts per delivery, the first included.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// The default wait before the first retry, doubled for each next one.
pub(crate) const DEFAULT_RETRY_BASE_MS: u64 = 100;

/// The longest `retry_base_ms` accepted.
pub(crate) const MAX_RETRY_BASE_MS: u64 = 60_000;

/// How long one attempt (or the handshake) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// [doc] The user agent Meta's webhook requests carry.
const USER_AGENT: &str = "facebookexternalua";

/// A callback that passed the handshake.
#[derive(Debug, Clone)]
pub(crate) struct WebhookConfig {
    pub callback_url: String,
    pub verify_token: String,
    /// The key of `X-Hub-Signature-256`.
    pub app_secret: String,
    pub retry_base_ms: u64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliveryState {
    /// Not answered 200 yet, attempts left.
    Pending,
    /// Answered 200.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

/// One attempt: the callback's HTTP status, or why there was none.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// One webhook delivery and its attempts.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub id: u64,
    pub callback_url: String,
    /// The raw body, exactly as sent and signed.
    pub body: String,
    /// The `X-Hub-Signature-256` header value.
    pub signature: String,
    pub attempts: Vec<Attempt>,
    pub state: DeliveryState,
}

/// A delivery to send, handed from under the lock to the sending task.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub delivery_id: u64,
    pub url: String,
    pub body: String,
    pub signature: String,
    pub retry_base_ms: u64,
}

/// RFC 3339 in UTC with `Z`, as the webhook writes `migration_expire_time`.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `sha256=<lowercase hex HMAC-SHA256 of the raw body, keyed with the app secret>`.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `migration_expire_time` webhook body of a migration's current expiry (§9): the entry's
/// id is the managed account's [guess], `time` the sandbox clock.
fn body(migration: &Migration, now: DateTime<Utc>) -> String {
    json!({
        "object": "managed_meta_account",
        "entry": [{
            "id": migration.managed_account_id.to_string(),
            "time": now.timestamp(),
            "changes": [{
                "field": "migration_expire_time",
                "value": {
                    "user_id": migration.user_id.to_string(),
                    "migration_expire_time": rfc3339(migration.expire_time),
                },
            }],
        }],
    })
    .to_string()
}

/// Queues the webhook for a migration's new expiry when a callback is configured: records a
/// pending delivery and answers the job that sends it (after the lock is released).
pub(crate) fn queue(world: &mut World, migration: &Migration) -> Option<Job> {
    let config = world.migration.webhook.clone()?;
    let body = body(migration, world.now());
    let signature = signature(&config.app_secret, body.as_bytes());
    world.migration.next_delivery_id += 1;
    let id = world.migration.next_delivery_id;
    world.migration.deliveries.push(Delivery {
        id,
        callback_url: config.callback_url.clone(),
        body: body.clone(),
        signature: signature.clone(),
        attempts: Vec::new(),
        state: DeliveryState::Pending,
    });
    Some(Job {
        delivery_id: id,
        url: config.callback_url,
        body,
        signature,
        retry_base_ms: config.retry_base_ms,
    })
}

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// Meta's subscription handshake: `GET <callback>?hub.mode=subscribe&hub.verify_token=..&
/// hub.challenge=<n>`; the callback must answer 200 with the challenge as its body.
pub(crate) async fn handshake(callback_url: &str, verify_token: &str) -> Result<(), String> {
    let challenge = rand::rng()
        .random_range(1_000_000_000_u64..10_000_000_000)
        .to_string();
    let response = client()?
        .get(callback_url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", verify_token),
            ("hub.challenge", challenge.as_str()),
        ])
        .send()
        .await
        .map_err(|e| format!("the callback did not answer the handshake: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| format!("the callback's handshake answer could not be read: {e}"))?;
    if status != 200 {
        return Err(format!(
            "the callback answered the handshake with HTTP {status}, not 200"
        ));
    }
    if text.trim() != challenge {
        return Err("the callback did not echo hub.challenge in its answer".to_owned());
    }
    Ok(())
}

/// Sends a queued delivery in a background task, with its retries.
pub(crate) fn spawn(sandbox: Sandbox, job: Job) {
    tokio::spawn(deliver(sandbox, job));
}

async fn deliver(sandbox: Sandbox, job: Job) {
    let client = match client() {
        Ok(client) => client,
        Err(error) => {
            record(
                &sandbox,
                &job,
                Attempt {
                    status: None,
                    error: Some(error),
                },
                true,
            );
            return;
        }
    };
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            let wait = job.retry_base_ms.saturating_mul(1 << (attempt - 1));
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let sent = client
            .post(&job.url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &job.signature)
            .body(job.body.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(response) => Attempt {
                status: Some(response.status().as_u16()),
                error: None,
            },
            Err(error) => Attempt {
                status: None,
                error: Some(error.to_string()),
            },
        };
        let delivered = outcome.status == Some(200);
        let last = attempt + 1 == MAX_ATTEMPTS;
        record(&sandbox, &job, outcome, last);
        if delivered {
            return;
        }
    }
}

/// Records one attempt on its delivery. The body is compared too, so that a task still
/// running from before a reset never writes on a new delivery that reused its id.
fn record(sandbox: &Sandbox, job: &Job, attempt: Attempt, last: bool) {
    sandbox.with_world(|world| {
        let Some(delivery) = world
            .migration
            .deliveries
            .iter_mut()
            .find(|d| d.id == job.delivery_id && d.body == job.body)
        else {
            return;
        };
        delivery.state = if attempt.status == Some(200) {
            DeliveryState::Delivered
        } else if last {
            DeliveryState::Failed
        } else {
            DeliveryState::Pending
        };
        delivery.attempts.push(attempt);
    });
}

/// A delivery as the control plane shows it.
pub(crate) fn delivery_json(delivery: &Delivery) -> Value {
    let attempts: Vec<Value> = delivery
        .attempts
        .iter()
        .map(|a| match (&a.status, &a.error) {
            (Some(status), _) => json!({ "status": status }),
            (None, error) => json!({ "error": error }),
        })
        .collect();
    json!({
        "id": delivery.id.to_string(),
        "callback_url": delivery.callback_url,
        "body": serde_json::from_str::<Value>(&delivery.body).unwrap_or(Value::Null),
        "signature": delivery.signature,
        "attempts": attempts,
        "state": delivery.state.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_lowercase_hex_hmac_of_the_raw_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
