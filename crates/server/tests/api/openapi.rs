//! The OpenAPI document is generated from the code; this snapshot makes a change to the API a
//! reviewed change. After an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p xiaoneng-server openapi`.

#[test]
fn openapi_document_matches_the_snapshot() {
    let doc = serde_json::to_string_pretty(&xiaoneng_server::openapi()).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi.json");
    // CI compares what was committed: there UPDATE_SNAPSHOTS changes nothing.
    let ci = matches!(std::env::var("CI").as_deref(), Ok("true" | "1"));
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() && !ci {
        std::fs::write(&path, &doc).unwrap();
    }
    let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        snapshot == doc,
        "the API changed: review the difference, then run UPDATE_SNAPSHOTS=1 cargo test -p xiaoneng-server openapi"
    );
}
