//! The bench process's own CPU time and peak resident memory, read from Linux's `/proc`. The
//! gateway, the sandbox and the bench client share the process, so these are whole-process
//! figures; the report apportions them.

use std::time::Duration;

/// Clock ticks per second in `/proc/PID/stat`. Linux fixes USER_HZ at 100 for user space on
/// every architecture bizgraph builds for; asking `sysconf` would need unsafe code, which the
/// crate forbids. One tick is 10 ms, so a figure per operation needs a few hundred of them.
const USER_HZ: u64 = 100;

/// CPU time (user + system) the process has used in all its threads, exited ones included;
/// `None` where `/proc` does not tell it.
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces and parentheses, so fields are counted after
    // its closing parenthesis: the state (field 3) is the first there, utime (14) the 12th and
    // stime (15) the 13th.
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime).saturating_mul(1000) / USER_HZ,
    ))
}

/// Starts a new peak of resident memory: Linux resets VmHWM to the current resident size when
/// `5` is written to `clear_refs`. Returns whether it could, so a report can say whether its
/// peak is the scenario's own or the process's since it started.
pub(crate) fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The peak resident memory (VmHWM) in KiB since the start or the last reset.
pub(crate) fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_reports_cpu_time_and_a_peak_of_resident_memory_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(cpu_time().is_some());
            assert!(peak_memory_kib().is_some_and(|kib| kib > 0));
        }
    }
}
