//! The bench process's own CPU time and peak resident memory, read from Linux's `/proc`. The
//! gateway, the sandbox and the bench client share the process, so these are whole-process
//! figures; the report apportions them.

use std::time::Duration;

/// Clock ticks per second in `/proc/PID/stat`. Linux fixes USER_HZ at 100 for user space on
/// every architecture bizgraph builds for; asking `sysconf` would need unsafe code, which the
/// crate forbids.
const USER_HZ: u64 = 100;

/// CPU time (user + system) the process has used; `None` where `/proc` does not tell it.
///
/// It is the sum of each live thread's `sum_exec_runtime` (nanoseconds, the first field of
/// `/proc/self/task/TID/schedstat`) where the kernel keeps it: `/proc/self/stat` counts in
/// 10 ms ticks, too coarse for a few hundred milliseconds of work. A thread that exits takes
/// its time with it, which the bench's runtime threads do not do while it measures; without
/// schedstat the ticks are the fallback.
pub(crate) fn cpu_time() -> Option<Duration> {
    threads_cpu_time(None).or_else(process_ticks)
}

/// CPU time the live threads called `name` have used (a tokio runtime names all its threads
/// alike); `None` where the kernel keeps no schedstat.
pub(crate) fn named_threads_cpu_time(name: &str) -> Option<Duration> {
    threads_cpu_time(Some(name))
}

/// The sum of the live threads' run times from their `schedstat`, of every thread or of those
/// with a name. `None` when not one thread's schedstat could be read.
fn threads_cpu_time(name: Option<&str>) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut threads_read = 0;
    // This thread's schedstat is read even when it is not counted, to tell a kernel without
    // schedstat (None) from threads that used no time.
    let readable = std::fs::read_to_string("/proc/thread-self/schedstat").is_ok();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        if let Some(name) = name {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim_end() != name {
                continue;
            }
        }
        // A thread that exits between the listing and the read is skipped: its time is gone
        // from every later reading too, and failing here would mix the two sources.
        let nanos = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|schedstat| schedstat.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(nanos) = nanos {
            total += Duration::from_nanos(nanos);
            threads_read += 1;
        }
    }
    (readable && (threads_read > 0 || name.is_some())).then_some(total)
}

/// The process's utime + stime from `/proc/self/stat`, exited threads included, in 10 ms ticks.
fn process_ticks() -> Option<Duration> {
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
            assert!(process_ticks().is_some());
            assert!(peak_memory_kib().is_some_and(|kib| kib > 0));
        }
    }
}
