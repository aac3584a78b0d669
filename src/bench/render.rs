//! The benchmark's figures as a table with notes on how each column was measured, or as JSON.

use std::fmt::Write as _;

use super::{BenchReport, DASHBOARDS, MAX_IDS_PER_READ, VIEWER_FIELDS};
use crate::config::BenchArgs;

/// The figures as `--json` asks: JSON, or a table for a person.
pub fn render(report: &BenchReport, args: &BenchArgs) -> String {
    if args.json {
        return match serde_json::to_string_pretty(report) {
            Ok(json) => json + "\n",
            // The report holds only numbers and strings, so this is not expected; the JSON
            // still says what went wrong rather than printing nothing.
            Err(error) => format!("{{\"error\": {:?}}}\n", error.to_string()),
        };
    }
    table(report)
}

/// A figure with `decimals` places, or `-` where there is none.
fn figure(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn table(report: &BenchReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail, so the results of `writeln!` are ignored.
    let _ = writeln!(
        out,
        "bizgraph bench: {} operations per row, {} at a time, upstream latency {} ms; gateway, \
         sandbox and client in this process on loopback\n",
        report.requests, report.concurrency, report.upstream_latency_ms
    );
    let _ = writeln!(
        out,
        "{:<28} {:>9} {:>9} {:>8} {:>8} {:>11} {:>8} {:>8} {:>8} {:>10} {:>8} {:>6}",
        "scenario",
        "queries/s",
        "vs direct",
        "p50 ms",
        "p99 ms",
        "upstream/op",
        "CPU/op",
        "gw CPU",
        "sbx CPU",
        "CPU-direct",
        "peak MiB",
        "errors"
    );
    for row in &report.scenarios {
        let _ = writeln!(
            out,
            "{:<28} {:>9.0} {:>9} {:>8.2} {:>8.2} {:>11.2} {:>8} {:>8} {:>8} {:>10} {:>8} {:>6}",
            row.name,
            row.queries_per_second,
            figure(row.throughput_vs_direct, 2),
            row.p50_ms,
            row.p99_ms,
            row.upstream_calls_per_op,
            figure(row.process_cpu_ms_per_op, 3),
            figure(row.gateway_cpu_ms_per_op, 3),
            figure(row.sandbox_cpu_ms_per_op, 3),
            figure(row.process_cpu_minus_direct_ms_per_op, 3),
            figure(row.peak_rss_mib, 0),
            row.errors
        );
    }
    let peak = if report.peak_rss_per_row {
        "the process's peak resident memory (VmHWM) during the row, reset before it"
    } else {
        "the process's peak resident memory since it started (this platform cannot reset it)"
    };
    let _ = write!(
        out,
        "
W1: the README's viewer query; direct: GET /{version}/me?fields={VIEWER_FIELDS}
W2: businesses(ids:) with 60 ids; direct: two ?ids= reads of {MAX_IDS_PER_READ} and 10 ids, sent at once
W3: the {dashboards} domain dashboards' queries in rotation ({names}); direct: each one's Graph
  reads, sent at once (below)
vs direct: the row's queries/s / the direct row's, same workload, run and concurrency
upstream/op: Graph requests the sandbox served per operation
CPU/op: the whole process's CPU time per operation in ms (its threads' run time from
  /proc/self/task/*/schedstat). The gateways, the sandbox and this client share the process,
  each on a tokio runtime of its own.
gw CPU, sbx CPU: the CPU time per operation in ms of the gateways' and of the sandbox's
  runtime threads, read apart by thread name; the rest of CPU/op is this client.
CPU-direct: the row's CPU/op minus the direct row's (the sandbox answering and the client
  asking), the gateway's share as estimated without reading threads apart. Warm rows call the
  sandbox less than the direct row does, so for them it subtracts too much; in W2 the direct
  client sends two requests where the gateway arm's client sends one.
peak MiB: {peak}
",
        version = crate::config::UpstreamSettings::DEFAULT_VERSION,
        dashboards = DASHBOARDS.len(),
        names = DASHBOARDS.map(|dashboard| dashboard.name).join(", "),
    );
    let _ = writeln!(
        out,
        "\nW3's dashboards one by one, each sent once per arm before the rows, without the \
         upstream latency:\n\n{:<10} {:>12} {:>15} {:>13} {:>6}",
        "dashboard", "direct reads", "gw no cache/op", "gw warm/op", "errors"
    );
    for dashboard in &report.dashboards {
        let _ = writeln!(
            out,
            "{:<10} {:>12} {:>15} {:>13} {:>6}",
            dashboard.name,
            dashboard.direct_reads.len(),
            dashboard.upstream_calls_uncached,
            dashboard.upstream_calls_warm,
            dashboard.errors
        );
    }
    for dashboard in &report.dashboards {
        let _ = writeln!(
            out,
            "{}: {}",
            dashboard.name,
            dashboard.direct_reads.join(" + ")
        );
    }
    out
}
