//! Rate-limit accounting: calls per token and per business id (Graph's Business Use Case
//! limits) in a rolling hour, the figures of the `x-app-usage` and
//! `x-business-use-case-usage` headers, and when to throttle.

use std::collections::{HashMap, VecDeque};

use serde_json::json;

/// The rolling window, in seconds.
const WINDOW_SECONDS: i64 = 3600;

/// One usage figure: how full a window is and when it frees up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Figure {
    /// Calls in the window, as a percentage of the limit (capped at 100).
    pub percent: u64,
    /// Whether the window is full: the next call is throttled.
    pub exhausted: bool,
    /// Minutes until the window has room again (0 when it has room now).
    pub regain_minutes: i64,
}

/// Call timestamps (sandbox clock, unix seconds) per token and per business.
#[derive(Debug, Clone, Default)]
pub(crate) struct Usage {
    app: HashMap<String, VecDeque<i64>>,
    business: HashMap<u64, VecDeque<i64>>,
}

impl Usage {
    /// The figure for a token's calls.
    pub(crate) fn app_figure(&mut self, token: &str, limit: u32, now: i64) -> Figure {
        let window = self.app.entry(token.to_owned()).or_default();
        figure(window, limit, now)
    }

    /// The figure for a business's calls.
    pub(crate) fn business_figure(&mut self, business: u64, limit: u32, now: i64) -> Figure {
        let window = self.business.entry(business).or_default();
        figure(window, limit, now)
    }

    /// Counts `calls` calls made with a token, unless there is no `limit` (0) to count for.
    pub(crate) fn record_app(&mut self, token: &str, calls: usize, limit: u32, now: i64) {
        if limit != NO_LIMIT {
            let window = self.app.entry(token.to_owned()).or_default();
            window.extend(std::iter::repeat_n(now, calls));
        }
    }

    /// Counts `calls` calls about a business, unless there is no `limit` (0) to count for.
    pub(crate) fn record_business(&mut self, business: u64, calls: usize, limit: u32, now: i64) {
        if limit != NO_LIMIT {
            let window = self.business.entry(business).or_default();
            window.extend(std::iter::repeat_n(now, calls));
        }
    }
}

/// The limit that means none: such a window is never full and its calls are not kept, so a
/// load test at thousands of calls a second does not fill the sandbox's memory.
const NO_LIMIT: u32 = 0;

/// Drops calls older than the window, then measures it against the limit.
fn figure(window: &mut VecDeque<i64>, limit: u32, now: i64) -> Figure {
    if limit == NO_LIMIT {
        return Figure {
            percent: 0,
            exhausted: false,
            regain_minutes: 0,
        };
    }
    while window.front().is_some_and(|&t| t <= now - WINDOW_SECONDS) {
        window.pop_front();
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let count = window.len();
    let percent = u64::try_from((count.saturating_mul(100) / limit).min(100)).unwrap_or(100);
    let exhausted = count >= limit;
    // The window has room again once enough of its oldest calls age out.
    let regain_minutes = if exhausted {
        window
            .get(count - limit)
            .map(|&t| ((t + WINDOW_SECONDS - now) + 59) / 60)
            .unwrap_or(0)
    } else {
        0
    };
    Figure {
        percent,
        exhausted,
        regain_minutes,
    }
}

/// The `x-app-usage` header value.
pub(crate) fn app_usage_header(figure: Figure) -> String {
    json!({
        "call_count": figure.percent,
        "total_time": figure.percent,
        "total_cputime": figure.percent,
    })
    .to_string()
}

/// The `x-business-use-case-usage` header value: the business's figure for one use case
/// (`type`).
pub(crate) fn business_usage_header(business: u64, use_case: &str, figure: Figure) -> String {
    let mut map = serde_json::Map::new();
    map.insert(
        business.to_string(),
        json!([{
            "type": use_case,
            "call_count": figure.percent,
            "total_cputime": figure.percent,
            "total_time": figure.percent,
            "estimated_time_to_regain_access": figure.regain_minutes,
        }]),
    );
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reaches_one_hundred_percent_at_its_limit_and_frees_up_after_an_hour() {
        let mut usage = Usage::default();
        usage.record_app("t", 3, 3, 1000);
        let full = usage.app_figure("t", 3, 1000);
        assert_eq!(
            full,
            Figure {
                percent: 100,
                exhausted: true,
                regain_minutes: 60
            }
        );
        let later = usage.app_figure("t", 3, 1000 + WINDOW_SECONDS);
        assert_eq!(later.percent, 0);
        assert!(!later.exhausted);
    }

    #[test]
    fn with_no_limit_a_window_is_never_full_and_keeps_no_calls() {
        let mut usage = Usage::default();
        usage.record_app("t", 50_000, NO_LIMIT, 1000);
        usage.record_business(7, 50_000, NO_LIMIT, 1000);
        let unlimited = Figure {
            percent: 0,
            exhausted: false,
            regain_minutes: 0,
        };
        assert_eq!(usage.app_figure("t", NO_LIMIT, 1000), unlimited);
        assert_eq!(usage.business_figure(7, NO_LIMIT, 1000), unlimited);
        assert!(
            usage
                .app
                .values()
                .chain(usage.business.values())
                .all(VecDeque::is_empty)
        );
    }
}
