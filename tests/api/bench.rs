//! `bizgraph bench` measures each workload directly and through the gateway, and reports the
//! upstream calls, ratios and CPU figures of each row, as a table and as JSON.

use bizgraph::bench::{Arm, BenchReport, DASHBOARDS, Workload};
use bizgraph::config::BenchArgs;
use serde_json::Value;

use crate::helpers::spawn_app;

fn tiny_run(upstream_latency_ms: u64, json: bool) -> BenchArgs {
    BenchArgs {
        requests: 10,
        concurrency: 3,
        upstream_latency_ms,
        json,
    }
}

/// The rows' names and the upstream calls each operation cost.
fn upstream_calls(report: &BenchReport) -> Vec<(&str, Workload, Arm, usize, usize, f64)> {
    report
        .scenarios
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.workload,
                r.arm,
                r.requests,
                r.errors,
                r.upstream_calls_per_op,
            )
        })
        .collect()
}

#[tokio::test]
async fn the_benchmark_measures_each_workload_directly_and_through_the_gateway() {
    let args = tiny_run(0, false);
    let report = bizgraph::bench::run(&args).await.unwrap();
    let mut rows = upstream_calls(&report);
    let dashboards = rows.split_off(6);
    assert_eq!(
        dashboards
            .iter()
            .map(|r| (r.0, r.1, r.2, r.3, r.4))
            .collect::<Vec<_>>(),
        [
            ("W3 direct", Workload::W3, Arm::Direct, 10, 0),
            (
                "W3 gateway, no cache",
                Workload::W3,
                Arm::GatewayUncached,
                10,
                0
            ),
            (
                "W3 gateway, warm cache",
                Workload::W3,
                Arm::GatewayWarm,
                10,
                0
            ),
        ]
    );
    // Id lists are keyed by their sorted set, so a warm W2 costs no Graph call.
    let w2_warm = rows.pop().unwrap();
    assert_eq!(
        (w2_warm.0, w2_warm.3, w2_warm.4),
        ("W2 gateway, warm cache", 10, 0)
    );
    assert_eq!(w2_warm.5, 0.0, "{w2_warm:?}");
    assert_eq!(
        rows,
        [
            ("W1 direct", Workload::W1, Arm::Direct, 10, 0, 1.0),
            (
                "W1 gateway, no cache",
                Workload::W1,
                Arm::GatewayUncached,
                10,
                0,
                1.0
            ),
            (
                "W1 gateway, warm cache",
                Workload::W1,
                Arm::GatewayWarm,
                10,
                0,
                0.0
            ),
            ("W2 direct", Workload::W2, Arm::Direct, 10, 0, 2.0),
            (
                "W2 gateway, no cache",
                Workload::W2,
                Arm::GatewayUncached,
                10,
                0,
                2.0
            ),
        ]
    );
    assert_eq!((report.requests, report.concurrency), (10, 3));
}

#[tokio::test]
async fn gateway_rows_are_compared_with_the_direct_row_of_their_workload() {
    let report = bizgraph::bench::run(&tiny_run(0, false)).await.unwrap();
    for row in &report.scenarios {
        let direct = report
            .scenarios
            .iter()
            .find(|d| d.workload == row.workload && d.arm == Arm::Direct)
            .unwrap();
        assert!(row.queries_per_second > 0.0, "{row:?}");
        assert!(row.p50_ms <= row.p99_ms, "{row:?}");
        let process_cpu = row.process_cpu_ms_per_op.unwrap();
        assert!(process_cpu >= 0.0, "{row:?}");
        assert!(row.peak_rss_mib.unwrap() > 0.0, "{row:?}");
        // The whole process's figure is not compared with the rig's threads: tests run in
        // parallel, and another test's runtime ending takes its threads' time out of the sum.
        assert!(row.sandbox_cpu_ms_per_op.unwrap() >= 0.0, "{row:?}");
        let gateway_cpu = row.gateway_cpu_ms_per_op.unwrap_or(0.0);
        if row.arm == Arm::Direct {
            assert_eq!(row.throughput_vs_direct, None);
            assert_eq!(row.gateway_cpu_ms_per_op, None);
            assert_eq!(row.process_cpu_minus_direct_ms_per_op, None);
        } else {
            assert!(gateway_cpu > 0.0, "{row:?}");
            assert_eq!(
                row.throughput_vs_direct,
                Some(row.queries_per_second / direct.queries_per_second)
            );
            assert_eq!(
                row.process_cpu_minus_direct_ms_per_op,
                Some(process_cpu - direct.process_cpu_ms_per_op.unwrap())
            );
        }
    }
}

#[tokio::test]
async fn with_an_upstream_latency_every_read_still_answers_and_costs_the_same_calls() {
    let args = tiny_run(5, false);
    let report = bizgraph::bench::run(&args).await.unwrap();
    assert_eq!(report.upstream_latency_ms, 5);
    let figures: Vec<(usize, f64)> = report
        .scenarios
        .iter()
        .take(5)
        .map(|r| (r.errors, r.upstream_calls_per_op))
        .collect();
    assert_eq!(figures, [(0, 1.0), (0, 1.0), (0, 0.0), (0, 2.0), (0, 2.0)]);
}

#[tokio::test]
async fn the_table_names_every_row_and_explains_the_gateway_cpu_column() {
    let args = tiny_run(0, false);
    let report = bizgraph::bench::run(&args).await.unwrap();
    let table = bizgraph::bench::render(&report, &args);
    for row in &report.scenarios {
        assert!(table.contains(&row.name), "{table}");
    }
    for heading in [
        "queries/s",
        "vs direct",
        "upstream/op",
        "gw CPU",
        "sbx CPU",
        "peak MiB",
    ] {
        assert!(table.contains(heading), "{table}");
    }
    assert!(table.contains("read apart by thread name"), "{table}");
    assert!(table.contains("minus the direct row's"), "{table}");
}

#[tokio::test]
async fn json_output_holds_the_same_figures_as_the_report() {
    let args = tiny_run(0, true);
    let report = bizgraph::bench::run(&args).await.unwrap();
    let json: Value = serde_json::from_str(&bizgraph::bench::render(&report, &args)).unwrap();
    assert_eq!(json["requests"], 10);
    assert_eq!(json["concurrency"], 3);
    assert_eq!(json["upstream_latency_ms"], 0);
    let rows = json["scenarios"].as_array().unwrap();
    assert_eq!(rows.len(), report.scenarios.len());
    for (json_row, row) in rows.iter().zip(&report.scenarios) {
        assert_eq!(json_row["name"], row.name.as_str());
        // serde_json reads floats back to within an ulp or so, not always bit for bit.
        for (key, value) in [
            ("upstream_calls_per_op", row.upstream_calls_per_op),
            ("queries_per_second", row.queries_per_second),
            ("p99_ms", row.p99_ms),
        ] {
            let read = json_row[key].as_f64().unwrap();
            assert!(
                (read - value).abs() <= value.abs() * 1e-12,
                "{key}: {read} != {value}"
            );
        }
    }
    assert_eq!(rows[0]["arm"], "direct");
    assert_eq!(rows[0]["workload"], "W1");
    assert_eq!(rows[0]["throughput_vs_direct"], Value::Null);
    assert_eq!(rows[2]["arm"], "gateway_warm");
    assert!(rows[2]["gateway_cpu_ms_per_op"].is_f64());
    assert!(rows[2]["sandbox_cpu_ms_per_op"].is_f64());
    assert!(rows[2]["process_cpu_minus_direct_ms_per_op"].is_f64());
}

#[tokio::test]
async fn every_dashboard_answers_without_errors_and_the_report_counts_its_graph_calls() {
    let report = bizgraph::bench::run(&tiny_run(0, false)).await.unwrap();
    let calls: Vec<(&str, usize, u64, u64, usize)> = report
        .dashboards
        .iter()
        .map(|d| {
            (
                d.name,
                d.direct_reads.len(),
                d.upstream_calls_uncached,
                d.upstream_calls_warm,
                d.errors,
            )
        })
        .collect();
    // Through the gateway the migration dashboard costs three calls where the expert sends two:
    // the business's own expiry is read apart from its readiness, which asks who the token is
    // and then reads the business again with its assets and people. A warm cache answers all.
    assert_eq!(
        calls,
        [
            ("team", 1, 1, 0, 0),
            ("projects", 1, 1, 0, 0),
            ("money", 1, 1, 0, 0),
            ("migration", 2, 2, 0, 0),
        ]
    );
    let table = bizgraph::bench::render(&report, &tiny_run(0, false));
    for dashboard in DASHBOARDS {
        assert!(table.contains(dashboard.reads[0]), "{table}");
    }
}

/// A Graph read as (node, decoded `fields=`): `/v25.0/200001?fields=..` and
/// `/v25.0/?ids=200001&fields=..` read the same node.
fn node_and_fields(path: &str, query: &str) -> (String, String) {
    let url = reqwest::Url::parse(&format!("http://graph{path}?{query}")).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let node = param("ids").unwrap_or_else(|| path.rsplit('/').next().unwrap().to_owned());
    (node, param("fields").unwrap_or_default())
}

#[tokio::test]
async fn the_direct_client_sends_the_reads_the_gateway_sends_for_each_dashboard() {
    let app = spawn_app().await;
    let granted: Value = app
        .http
        .post(format!(
            "{}/v25.0/200001/finance_permissions",
            app.sandbox.url()
        ))
        .bearer_auth("demo-admin")
        .form(&[
            ("user", "100001"),
            ("finance_permission", "FINANCE_ANALYST"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(granted["success"], true, "{granted}");
    for dashboard in DASHBOARDS {
        let before = app.upstream_journal().await.len();
        let answer = app.admin(dashboard.query).await;
        assert!(
            answer.get("errors").is_none(),
            "{}: {answer}",
            dashboard.name
        );
        assert!(answer["data"]["business"].is_object(), "{answer}");
        let sent: Vec<(String, String)> = app.upstream_journal().await[before..]
            .iter()
            .map(|call| {
                node_and_fields(
                    call["path"].as_str().unwrap(),
                    call["query"].as_str().unwrap(),
                )
            })
            .collect();
        for read in dashboard.reads {
            let (path, query) = read.split_once('?').unwrap();
            let direct = node_and_fields(&format!("/v25.0/{path}"), query);
            assert!(
                sent.contains(&direct),
                "{}: {direct:?} not in {sent:?}",
                dashboard.name
            );
        }
    }
}
