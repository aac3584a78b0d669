//! Logging a repeated condition at most once per window, with a count of what was left out, so
//! that a condition hit on every call (a throttled token under load, a wrong app secret) cannot
//! fill a disk with identical lines.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long the process-wide window ([`log_window`]) keeps a condition quiet after logging it.
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

/// The most conditions remembered at once. Keys are fixed condition names, so this is never
/// reached in practice; it bounds memory should a caller ever key by something unbounded.
const MAX_KEYS: usize = 1024;

/// Per condition: when it was last logged and how often it was left out since.
struct Entry {
    logged_at: Instant,
    suppressed: u64,
}

/// Decides, per condition name, whether a log line should be written now. Thread-safe.
pub(crate) struct LogWindow {
    window: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LogWindow {
    /// A window of `window`: a condition is logged at most once per this long.
    pub(crate) fn new(window: Duration) -> LogWindow {
        LogWindow {
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether to log condition `key` now: `Some(n)` when it should be logged, `n` being how
    /// many times it was left out since it was last logged; `None` when it was logged less
    /// than a window ago (this occurrence is then counted as left out).
    pub(crate) fn should_log(&self, key: &str) -> Option<u64> {
        self.should_log_at(key, Instant::now())
    }

    fn should_log_at(&self, key: &str, now: Instant) -> Option<u64> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get_mut(key) {
            if now.saturating_duration_since(entry.logged_at) < self.window {
                entry.suppressed += 1;
                return None;
            }
            let suppressed = entry.suppressed;
            *entry = Entry {
                logged_at: now,
                suppressed: 0,
            };
            return Some(suppressed);
        }
        if entries.len() >= MAX_KEYS {
            let window = self.window;
            entries.retain(|_, entry| now.saturating_duration_since(entry.logged_at) < window);
            if entries.len() >= MAX_KEYS {
                // Still full of live conditions: stay quiet rather than grow without bound.
                return None;
            }
        }
        entries.insert(
            key.to_owned(),
            Entry {
                logged_at: now,
                suppressed: 0,
            },
        );
        Some(0)
    }
}

/// The process-wide window the gateway's repeated warnings and errors go through: the log is
/// per process, so its window is too.
pub(crate) fn log_window() -> &'static LogWindow {
    static WINDOW: LazyLock<LogWindow> = LazyLock::new(|| LogWindow::new(DEFAULT_WINDOW));
    &WINDOW
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_is_logged_once_per_window_with_the_count_left_out() {
        let logs = LogWindow::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(logs.should_log_at("throttled", start), Some(0));
        assert_eq!(logs.should_log_at("throttled", start), None);
        assert_eq!(
            logs.should_log_at("throttled", start + Duration::from_secs(3)),
            None
        );
        assert_eq!(
            logs.should_log_at("throttled", start + Duration::from_secs(9)),
            None
        );
        assert_eq!(
            logs.should_log_at("throttled", start + Duration::from_secs(10)),
            Some(3)
        );
        assert_eq!(
            logs.should_log_at("throttled", start + Duration::from_secs(11)),
            None
        );
        assert_eq!(
            logs.should_log_at("throttled", start + Duration::from_secs(25)),
            Some(1)
        );
    }

    #[test]
    fn conditions_are_counted_apart() {
        let logs = LogWindow::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(logs.should_log_at("a", start), Some(0));
        assert_eq!(logs.should_log_at("b", start), Some(0));
        assert_eq!(logs.should_log_at("a", start), None);
        assert_eq!(
            logs.should_log_at("b", start + Duration::from_secs(10)),
            Some(0)
        );
        assert_eq!(
            logs.should_log_at("a", start + Duration::from_secs(10)),
            Some(1)
        );
    }

    #[test]
    fn concurrent_callers_log_a_condition_once() {
        let logs = std::sync::Arc::new(LogWindow::new(Duration::from_secs(3600)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let logs = logs.clone();
                std::thread::spawn(move || {
                    (0..1000)
                        .filter(|_| logs.should_log("busy").is_some())
                        .count()
                })
            })
            .collect();
        let logged: usize = threads
            .into_iter()
            .map(|t| t.join().unwrap_or(usize::MAX))
            .sum();
        assert_eq!(logged, 1);
    }

    #[test]
    fn a_full_table_forgets_quiet_conditions_first() {
        let logs = LogWindow::new(Duration::from_secs(10));
        let start = Instant::now();
        for i in 0..MAX_KEYS {
            assert_eq!(logs.should_log_at(&format!("k{i}"), start), Some(0));
        }
        // Full of conditions logged within the window: a new one waits.
        assert_eq!(logs.should_log_at("new", start), None);
        // Once they are older than the window, they make room.
        assert_eq!(
            logs.should_log_at("new", start + Duration::from_secs(10)),
            Some(0)
        );
    }
}
