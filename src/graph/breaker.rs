//! A circuit breaker for the upstream host: after repeated connection failures, timeouts or 5xx
//! answers within a short window, calls fail fast for a cool-down instead of each waiting for
//! its own timeout; then one probe call is let through, and its outcome closes the breaker or
//! opens it again.
//!
//! Written here rather than taken from a crate: `failsafe` (the usual choice) lets every call
//! through while half-open and runs its own futures wrapper, where bizgraph wants exactly one
//! probe and a state it can report in its errors and metrics. The whole machine is the
//! [`Breaker`] below, with its time passed in so that its tests need no clock.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures within [`BreakerSettings::window`] that open the breaker; 0 turns it off.
    pub failures: u32,
    /// How far back failures are counted.
    pub window: Duration,
    /// How long the breaker stays open before it lets a probe through.
    pub cool_down: Duration,
}

impl BreakerSettings {
    /// Default of `--breaker-failures`.
    pub const DEFAULT_FAILURES: u32 = 5;
    /// Default of `--breaker-window-secs`.
    pub const DEFAULT_WINDOW_SECS: u64 = 10;
    /// Default of `--breaker-cool-down-secs`.
    pub const DEFAULT_COOL_DOWN_SECS: u64 = 15;
}

impl Default for BreakerSettings {
    /// 5 failures within 10 seconds open the breaker for 15 seconds.
    fn default() -> Self {
        BreakerSettings {
            failures: Self::DEFAULT_FAILURES,
            window: Duration::from_secs(Self::DEFAULT_WINDOW_SECS),
            cool_down: Duration::from_secs(Self::DEFAULT_COOL_DOWN_SECS),
        }
    }
}

/// The state of a breaker, as reported in logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakerState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls fail fast until the cool-down ends.
    Open,
    /// One probe call is out; the others fail fast until it ends.
    HalfOpen,
}

impl BreakerState {
    /// The state's name in logs and metric labels.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// What the breaker says about a call that is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permit {
    /// Send it. `probe` is true for the one call let through after a cool-down; its outcome
    /// must be reported with `probe: true`.
    Proceed {
        /// Whether this call is the half-open probe.
        probe: bool,
    },
    /// Do not send it: the breaker is open, and lets a probe through in this long.
    Refuse(Duration),
}

/// How a call that was sent ended, as far as the breaker cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The host answered (any answer but a 5xx: a Graph error envelope on a 4xx is Graph
    /// working, and says nothing about its health).
    Answered,
    /// No connection, a timeout, a broken answer stream, or a 5xx answer.
    Failed,
}

#[derive(Debug)]
enum State {
    Closed { failures: VecDeque<Instant> },
    Open { until: Instant },
    HalfOpen { probe_sent: Instant },
}

/// A breaker for one upstream host. Thread-safe; its critical sections are a few comparisons.
#[derive(Debug)]
pub(crate) struct Breaker {
    settings: BreakerSettings,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker.
    pub(crate) fn new(settings: BreakerSettings) -> Breaker {
        Breaker {
            settings,
            state: Mutex::new(State::Closed {
                failures: VecDeque::new(),
            }),
        }
    }

    /// Whether a call may be sent now.
    pub(crate) fn admit(&self) -> (Permit, Option<BreakerState>) {
        self.admit_at(Instant::now())
    }

    /// Reports how a call let through by [`Breaker::admit`] ended. Answers the new state when
    /// this outcome changed it (for a log line and a metric, once per transition).
    pub(crate) fn record(&self, probe: bool, outcome: Outcome) -> Option<BreakerState> {
        self.record_at(probe, outcome, Instant::now())
    }

    /// Gives back a probe permit whose call was never sent (the request's budget refused it),
    /// so that the next call becomes the probe instead of waiting for this one.
    pub(crate) fn abandon(&self, probe: bool) {
        if !probe {
            return;
        }
        let mut state = self.lock();
        if matches!(*state, State::HalfOpen { .. }) {
            *state = State::Open {
                until: Instant::now(),
            };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn admit_at(&self, now: Instant) -> (Permit, Option<BreakerState>) {
        if self.settings.failures == 0 {
            return (Permit::Proceed { probe: false }, None);
        }
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => (Permit::Proceed { probe: false }, None),
            State::Open { until } if now < until => (Permit::Refuse(until - now), None),
            State::Open { .. } => {
                *state = State::HalfOpen { probe_sent: now };
                (
                    Permit::Proceed { probe: true },
                    Some(BreakerState::HalfOpen),
                )
            }
            // A probe whose outcome never came (its request was abandoned) must not keep the
            // breaker half-open for ever: after a cool-down another call probes.
            State::HalfOpen { probe_sent }
                if now.saturating_duration_since(probe_sent) >= self.settings.cool_down =>
            {
                *state = State::HalfOpen { probe_sent: now };
                (Permit::Proceed { probe: true }, None)
            }
            State::HalfOpen { probe_sent } => (
                Permit::Refuse(
                    self.settings
                        .cool_down
                        .saturating_sub(now.saturating_duration_since(probe_sent)),
                ),
                None,
            ),
        }
    }

    fn record_at(&self, probe: bool, outcome: Outcome, now: Instant) -> Option<BreakerState> {
        if self.settings.failures == 0 {
            return None;
        }
        let mut state = self.lock();
        match (&mut *state, outcome) {
            (State::HalfOpen { .. }, Outcome::Answered) if probe => {
                *state = State::Closed {
                    failures: VecDeque::new(),
                };
                Some(BreakerState::Closed)
            }
            (State::HalfOpen { .. }, Outcome::Failed) if probe => {
                *state = State::Open {
                    until: now + self.settings.cool_down,
                };
                Some(BreakerState::Open)
            }
            (State::Closed { failures }, Outcome::Failed) => {
                while failures
                    .front()
                    .is_some_and(|at| now.saturating_duration_since(*at) >= self.settings.window)
                {
                    failures.pop_front();
                }
                failures.push_back(now);
                if failures.len() >= self.settings.failures as usize {
                    *state = State::Open {
                        until: now + self.settings.cool_down,
                    };
                    Some(BreakerState::Open)
                } else {
                    None
                }
            }
            // Successes while closed, and calls that were already in flight when the breaker
            // opened, change nothing.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerSettings {
            failures: 3,
            window: Duration::from_secs(10),
            cool_down: Duration::from_secs(15),
        })
    }

    const GO: Permit = Permit::Proceed { probe: false };
    const PROBE: Permit = Permit::Proceed { probe: true };

    #[test]
    fn failures_within_the_window_open_the_breaker() {
        let b = breaker();
        let t = Instant::now();
        assert_eq!(b.admit_at(t), (GO, None));
        assert_eq!(b.record_at(false, Outcome::Failed, t), None);
        assert_eq!(
            b.record_at(false, Outcome::Failed, t + Duration::from_secs(1)),
            None
        );
        assert_eq!(
            b.record_at(false, Outcome::Failed, t + Duration::from_secs(2)),
            Some(BreakerState::Open)
        );
        assert_eq!(
            b.admit_at(t + Duration::from_secs(7)),
            (Permit::Refuse(Duration::from_secs(10)), None)
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_open_it() {
        let b = breaker();
        let t = Instant::now();
        for second in [0, 6, 12, 18, 24] {
            assert_eq!(
                b.record_at(false, Outcome::Failed, t + Duration::from_secs(second)),
                None
            );
        }
        assert_eq!(b.admit_at(t + Duration::from_secs(25)), (GO, None));
    }

    #[test]
    fn answers_never_open_it() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..100 {
            assert_eq!(b.record_at(false, Outcome::Answered, t), None);
        }
        assert_eq!(b.admit_at(t), (GO, None));
    }

    fn opened_at(b: &Breaker, t: Instant) {
        for _ in 0..3 {
            b.record_at(false, Outcome::Failed, t);
        }
    }

    #[test]
    fn after_the_cool_down_one_probe_goes_and_its_success_closes_the_breaker() {
        let b = breaker();
        let t = Instant::now();
        opened_at(&b, t);
        let after = t + Duration::from_secs(15);
        assert_eq!(b.admit_at(after), (PROBE, Some(BreakerState::HalfOpen)));
        // Only one probe at a time.
        assert!(matches!(b.admit_at(after).0, Permit::Refuse(_)));
        assert_eq!(
            b.record_at(true, Outcome::Answered, after),
            Some(BreakerState::Closed)
        );
        assert_eq!(b.admit_at(after), (GO, None));
        // Closed afresh: the failures that opened it are forgotten.
        assert_eq!(b.record_at(false, Outcome::Failed, after), None);
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_for_another_cool_down() {
        let b = breaker();
        let t = Instant::now();
        opened_at(&b, t);
        let probe_at = t + Duration::from_secs(20);
        assert_eq!(b.admit_at(probe_at).0, PROBE);
        assert_eq!(
            b.record_at(true, Outcome::Failed, probe_at),
            Some(BreakerState::Open)
        );
        assert_eq!(
            b.admit_at(probe_at + Duration::from_secs(5)).0,
            Permit::Refuse(Duration::from_secs(10))
        );
        assert_eq!(b.admit_at(probe_at + Duration::from_secs(15)).0, PROBE);
    }

    #[test]
    fn a_late_answer_from_before_the_breaker_opened_does_not_close_it() {
        let b = breaker();
        let t = Instant::now();
        opened_at(&b, t);
        assert_eq!(b.record_at(false, Outcome::Answered, t), None);
        assert!(matches!(b.admit_at(t).0, Permit::Refuse(_)));
    }

    #[test]
    fn a_lost_probe_is_replaced_after_a_cool_down() {
        let b = breaker();
        let t = Instant::now();
        opened_at(&b, t);
        let probe_at = t + Duration::from_secs(15);
        assert_eq!(b.admit_at(probe_at).0, PROBE);
        assert!(matches!(
            b.admit_at(probe_at + Duration::from_secs(14)).0,
            Permit::Refuse(_)
        ));
        assert_eq!(b.admit_at(probe_at + Duration::from_secs(15)).0, PROBE);
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let b = breaker();
        let t = Instant::now();
        opened_at(&b, t);
        assert_eq!(b.admit_at(t + Duration::from_secs(15)).0, PROBE);
        b.abandon(true);
        assert_eq!(b.admit().0, PROBE);
    }

    #[test]
    fn a_threshold_of_zero_turns_the_breaker_off() {
        let b = Breaker::new(BreakerSettings {
            failures: 0,
            ..BreakerSettings::default()
        });
        let t = Instant::now();
        for _ in 0..100 {
            assert_eq!(b.record_at(false, Outcome::Failed, t), None);
        }
        assert_eq!(b.admit_at(t), (GO, None));
    }
}
