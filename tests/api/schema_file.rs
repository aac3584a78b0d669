//! `schema.graphql` is the public contract: it must equal what the code serves.

#[test]
fn schema_graphql_equals_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists at the repository root");
    let served = bizgraph::schema::sdl();
    assert!(
        committed == served,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}
