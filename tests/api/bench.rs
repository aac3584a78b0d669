//! `bizgraph bench` runs and reports the upstream calls each query shape costs.

use bizgraph::config::BenchArgs;

#[tokio::test]
async fn the_benchmark_reports_upstream_calls_per_query_for_each_scenario() {
    let args = BenchArgs {
        requests: 10,
        concurrency: 3,
    };
    let reports = bizgraph::bench::run(&args).await.unwrap();
    let figures: Vec<(&str, usize, usize, f64)> = reports
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.requests,
                r.errors,
                r.upstream_per_request,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("nested viewer query, no cache", 10, 0, 1.0),
            ("nested viewer query, warm cache", 10, 0, 0.0),
            ("businesses(ids:) with 60 ids, no cache", 10, 0, 2.0),
        ]
    );
    let table = bizgraph::bench::render(&reports, &args);
    assert!(table.contains("upstream/query"), "{table}");
}
