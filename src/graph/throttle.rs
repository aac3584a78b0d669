//! Slowing down before Graph's rate limits: remembers the usage Graph reports per token
//! (`x-app-usage`) and per business (`x-business-use-case-usage`), spaces calls out as usage
//! nears 100 %, and holds them back while Graph throttles, instead of hammering it (which
//! only prolongs a throttle).

use std::time::{Duration, Instant};

use super::error::ApiError;
use super::usage::UsageReport;
use crate::cache::TokenFingerprint;
use crate::log_window::log_window;
use moka::sync::Cache;

/// Usage from which operators are warned in the log.
const WARN_FROM: u32 = 80;
/// Usage from which calls are spaced out.
const SLOW_DOWN_FROM: u32 = 90;
/// The longest pause put before one call.
const MAX_PAUSE: Duration = Duration::from_millis(500);
/// How long calls are held back after a throttle when Graph gives no figure (its docs speak of
/// minutes; one is the shortest sensible wait).
const DEFAULT_HOLD: Duration = Duration::from_secs(60);

/// Graph counts usage over a rolling hour, so a figure older than that says nothing.
const WINDOW: Duration = Duration::from_secs(3600);
/// Tokens and businesses remembered at most.
const MAX_REMEMBERED: u64 = 100_000;

/// What the governor says about a call that is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send it, after this pause.
    Proceed(Duration),
    /// Do not send it: Graph throttles this token or business for this much longer.
    HoldBack(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    peak: u32,
    held_until: Option<Instant>,
}

/// Usage last seen per token and per business, for one gateway process.
pub struct UsageGovernor {
    tokens: Cache<TokenFingerprint, Seen>,
    businesses: Cache<String, Seen>,
}

impl Default for UsageGovernor {
    fn default() -> Self {
        UsageGovernor::new()
    }
}

impl UsageGovernor {
    /// A governor that remembers usage for Graph's window, an hour.
    pub fn new() -> UsageGovernor {
        UsageGovernor {
            tokens: Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .time_to_live(WINDOW)
                .build(),
            businesses: Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .time_to_live(WINDOW)
                .build(),
        }
    }

    /// Whether and when a call of `token` on `node` may go.
    pub fn admit(&self, token: TokenFingerprint, node: Option<&str>) -> Admission {
        let now = Instant::now();
        let seen = [
            self.tokens.get(&token),
            node.and_then(|id| self.businesses.get(id)),
        ];
        let mut pause = Duration::ZERO;
        for seen in seen.into_iter().flatten() {
            if let Some(until) = seen.held_until
                && until > now
            {
                return Admission::HoldBack(until - now);
            }
            if seen.peak >= SLOW_DOWN_FROM {
                let step = Duration::from_millis(50) * (seen.peak - SLOW_DOWN_FROM + 1);
                pause = pause.max(step.min(MAX_PAUSE));
            }
        }
        Admission::Proceed(pause)
    }

    /// Notes the usage an answer reports, and a throttle if the answer is one.
    pub fn observe(&self, token: TokenFingerprint, usage: &UsageReport, error: Option<&ApiError>) {
        let now = Instant::now();
        let throttled = error.is_some_and(|e| is_throttle(e.code));
        let hold = error.and_then(|e| e.retry_after).unwrap_or(DEFAULT_HOLD);
        if let Some(app) = usage.app
            && app.peak() >= WARN_FROM
            && let Some(suppressed) = log_window().should_log("graph_app_usage_high")
        {
            // Every answer near the limit says so: one line per window, not one per call.
            tracing::warn!(
                call_count = app.call_count,
                total_time = app.total_time,
                total_cputime = app.total_cputime,
                suppressed,
                "Graph app usage is near its limit"
            );
        }
        if usage.app.is_some() || throttled {
            let peak = usage.app.map_or(100, |app| app.peak());
            let held_until = (peak >= 100 || throttled).then(|| now + hold);
            self.tokens.insert(token, Seen { peak, held_until });
        }
        for (business, usages) in &usage.businesses {
            let peak = usages.iter().map(|u| u.peak()).max().unwrap_or(0);
            let regain = usages
                .iter()
                .map(|u| u.estimated_time_to_regain_access)
                .max()
                .unwrap_or(0);
            let held_until = (peak >= 100 || regain > 0)
                .then(|| now + Duration::from_secs(regain * 60).max(Duration::from_secs(1)));
            self.businesses
                .insert(business.clone(), Seen { peak, held_until });
        }
    }
}

/// Graph's rate-limit codes (docs/graph-api.md §5).
fn is_throttle(code: i64) -> bool {
    matches!(code, 4 | 17 | 32 | 341 | 613 | 80000..=80014)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::UpstreamCache;
    use crate::graph::AccessToken;

    fn headers(app: &str, business: Option<&str>) -> UsageReport {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-app-usage", app.parse().expect("header"));
        if let Some(business) = business {
            headers.insert(
                "x-business-use-case-usage",
                business.parse().expect("header"),
            );
        }
        UsageReport::from_headers(&headers)
    }

    #[test]
    fn calls_are_spaced_out_near_the_limit_and_held_back_at_it() {
        let governor = UsageGovernor::new();
        let token = UpstreamCache::disabled().fingerprint(&AccessToken::new("t"));
        assert_eq!(
            governor.admit(token, None),
            Admission::Proceed(Duration::ZERO)
        );

        governor.observe(token, &headers(r#"{"call_count":50}"#, None), None);
        assert_eq!(
            governor.admit(token, None),
            Admission::Proceed(Duration::ZERO)
        );

        governor.observe(token, &headers(r#"{"call_count":95}"#, None), None);
        assert_eq!(
            governor.admit(token, None),
            Admission::Proceed(Duration::from_millis(300))
        );

        governor.observe(token, &headers(r#"{"total_cputime":100}"#, None), None);
        assert!(matches!(
            governor.admit(token, None),
            Admission::HoldBack(_)
        ));
    }

    #[test]
    fn a_throttled_business_holds_back_calls_on_it_only() {
        let governor = UsageGovernor::new();
        let token = UpstreamCache::disabled().fingerprint(&AccessToken::new("t"));
        governor.observe(
            token,
            &headers(
                r#"{"call_count":1}"#,
                Some(r#"{"200001":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":5}]}"#),
            ),
            None,
        );
        match governor.admit(token, Some("200001")) {
            Admission::HoldBack(wait) => assert!(wait > Duration::from_secs(240), "{wait:?}"),
            other => panic!("expected a hold, got {other:?}"),
        }
        assert_eq!(
            governor.admit(token, Some("200002")),
            Admission::Proceed(Duration::ZERO)
        );
    }
}
