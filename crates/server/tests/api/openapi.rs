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

/// Two types that derive `ToSchema` under one name make one schema in the document: the second
/// silently replaces the first, and every route that names either then describes the wrong body
/// (a service item was once documented as a campaign's item). A type whose name is taken elsewhere
/// gives its schema a name of its own with `#[schema(as = …)]`.
#[test]
fn no_two_schemas_share_a_name() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    let mut clashes = Vec::new();
    let mut dirs = vec![crates.join("core/src"), crates.join("server/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                    continue;
                }
                // The attributes up to the item, then its name (or the name `as` gives it).
                let mut renamed = None;
                for next in &lines[i + 1..] {
                    let next = next.trim_start();
                    if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                        renamed = rest.split(')').next().map(str::to_owned);
                    }
                    if next.starts_with("#[") || next.starts_with("//") {
                        continue;
                    }
                    let name =
                        next.split_whitespace().skip_while(|w| !matches!(*w, "struct" | "enum")).nth(1).map(|n| {
                            n.trim_end_matches(['{', '(', ';', '<']).split('<').next().unwrap_or(n).to_owned()
                        });
                    // Types a macro makes (`labelled_enum!`) are named where it is called: not seen here.
                    if let Some(name) = renamed.clone().or(name).filter(|n| !n.starts_with('$')) {
                        let at = format!("{}:{}", path.display(), i + 1);
                        if let Some(first) = seen.insert(name.clone(), at.clone()) {
                            clashes.push(format!("{name}: {first} and {at}"));
                        }
                    }
                    break;
                }
            }
        }
    }
    assert!(seen.len() > 100, "the scan found the schemas ({})", seen.len());
    assert!(clashes.is_empty(), "schemas sharing a name: {clashes:#?}");
}
