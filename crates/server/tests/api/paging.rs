//! Paging: whatever a query string says about `page` and `page_size`, a list answers with a page
//! or with a 422 naming the parameter, never with a server error.

use serde_json::Value;

use crate::{both, support::TestApp};

/// The GET routes of the OpenAPI document that take `page`.
fn paged_routes() -> Vec<String> {
    let doc = serde_json::to_value(xiaoneng_server::openapi()).unwrap();
    let mut out: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, ops)| ops["get"]["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == "page")))
        .map(|(path, _)| path.clone())
        .collect();
    out.sort();
    out
}

/// The page a list answered: its own `items`, or the inbox's notifications.
fn items(v: &Value) -> &Value {
    if v["items"].is_array() { &v["items"] } else { &v["notifications"]["items"] }
}

both!(no_page_or_page_size_makes_a_list_fail, |app: TestApp| async move {
    let routes = paged_routes();
    assert!(routes.len() >= 14, "{routes:?}");
    // Each list as someone who may read it: the office, or the IT admin whose list it is.
    let mut readers = Vec::new();
    for who in ["office", "auditor", "sysadmin", "secadmin"] {
        readers.push(app.login(who).await);
    }
    let bad: &[(&str, &str)] = &[
        ("page=9223372036854775808", "page"),
        ("page=9223372036854775807&page_size=200", "page"),
        ("page=18446744073709551615", "page"),
        ("page=18446744073709551616", "page"),
        ("page=-1", "page"),
        ("page=0", "page"),
        ("page=1e3", "page"),
        ("page_size=0", "page_size"),
        ("page_size=-5", "page_size"),
        ("page_size=201", "page_size"),
        ("page_size=9223372036854775808", "page_size"),
        ("page_size=99999999999999999999999", "page_size"),
    ];
    for path in &routes {
        let mut reader = None;
        for s in &readers {
            if app.get(path, s).await.status == 200 {
                reader = Some(s);
                break;
            }
        }
        let s = reader.unwrap_or_else(|| panic!("nobody reads {path}"));
        // An export takes the list's filters but writes every row: paging means nothing to it.
        let export = path.ends_with("/export");
        for (query, field) in bad {
            let r = app.get(&format!("{path}?{query}"), s).await;
            assert!(!r.status.is_server_error(), "{path}?{query}: {} {}", r.status, r.json);
            if !export {
                assert_eq!(r.status, 422, "{path}?{query}: {}", r.json);
                assert_eq!(r.code(), "validation_failed", "{path}?{query}");
                assert_eq!(r.json["details"][0]["field"], *field, "{path}?{query}: {}", r.json);
            }
        }
        // Past the end is an empty page, not an error.
        let r = app.get(&format!("{path}?page=1000000&page_size=200"), s).await;
        assert_eq!(r.status, 200, "{path}: {}", r.json);
        if !export {
            assert_eq!(items(&r.json), &Value::Array(vec![]), "{path}");
            assert_eq!(r.json.get("page").or(r.json["notifications"].get("page")).unwrap(), 1_000_000, "{path}");
        }
    }
});
