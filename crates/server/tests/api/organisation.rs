//! Departments, windows, posts, people and supervisors: validation, moves, retirement, scope.

use axum::http::Method;
use serde_json::json;

use crate::{both, support::TestApp};

both!(department_create_validates_every_field, |app: TestApp| async move {
    let s = app.login("office").await;
    let r = app.post("/api/v1/departments", &s, json!({"code": "市局", "name": " ", "category": "bogus"})).await;
    r.expect(422, "validation_failed");
    let fields: Vec<&str> =
        r.json["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "name", "category"]);
    let r = app.post("/api/v1/departments", &s, json!({"code": "a", "name": "重复", "category": "general"})).await;
    r.expect(409, "already_exists");
    assert_eq!(r.json["details"]["field"], "code");
    let r = app
        .post(
            "/api/v1/departments",
            &s,
            json!({"code": "N1", "name": "新部门", "category": "general", "parent_id": 999999}),
        )
        .await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "parent_not_found");
    let r = app.call(Method::POST, "/api/v1/departments", Some(&s), None).await;
    r.expect(400, "unsupported_media_type");
});

both!(department_moves_with_its_subtree, |app: TestApp| async move {
    let s = app.login("office").await;
    let (a, a1, b) = (app.ids["dept_a"], app.ids["dept_a1"], app.ids["dept_b"]);
    // A cannot move under its own child.
    let r = app
        .put(
            &format!("/api/v1/departments/{a}"),
            &s,
            json!({"code": "A", "name": "市场监督管理局", "category": "law_enforcement", "parent_id": a1}),
        )
        .await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "move_into_own_subtree");
    // Move A under B: A1 follows, and B's head now sees A1's people.
    let r = app
        .put(
            &format!("/api/v1/departments/{a}"),
            &s,
            json!({"code": "A", "name": "市场监督管理局", "category": "law_enforcement", "parent_id": b}),
        )
        .await;
    assert_eq!(r.ok()["path"], format!("/{}/{b}/{a}/", app.ids["city"]));
    let child = app.get(&format!("/api/v1/departments/{a1}"), &s).await;
    assert_eq!(child.ok()["path"], format!("/{}/{b}/{a}/{a1}/", app.ids["city"]));
    assert_eq!(child.json["depth"], 3);
    let head_b = app.login("head_b").await;
    let people = app.get("/api/v1/people?page_size=100", &head_b).await;
    assert_eq!(people.ok()["total"], 3);
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=department.move", &auditor).await;
    assert_eq!(log.ok()["total"], 1);
});

both!(department_retire_is_refused_while_in_use, |app: TestApp| async move {
    let s = app.login("office").await;
    let a1 = app.ids["dept_a1"];
    let r = app.post(&format!("/api/v1/departments/{a1}/retire"), &s, json!({"reason": "机构改革"})).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "department_in_use");
    let p = app.ids["person_a1"];
    app.post(&format!("/api/v1/people/{p}/retire"), &s, json!({"reason": "调离"})).await.ok();
    let r = app.post(&format!("/api/v1/departments/{a1}/retire"), &s, json!({"reason": "机构改革"})).await;
    assert_eq!(r.ok()["status"], "retired");
    // Still on record, still readable.
    assert_eq!(app.get(&format!("/api/v1/departments/{a1}"), &s).await.ok()["status"], "retired");
    app.post(&format!("/api/v1/departments/{a1}/retire"), &s, json!({"reason": "again"}))
        .await
        .expect(422, "validation_failed");
});

both!(department_head_sees_only_own_tree, |app: TestApp| async move {
    let s = app.login("head_a").await;
    let list = app.get("/api/v1/departments?page_size=100", &s).await;
    let codes: Vec<&str> = list.ok()["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["A", "A1"]);
    assert_eq!(list.json["total"], 2);
    app.get(&format!("/api/v1/departments/{}", app.ids["dept_b"]), &s).await.expect(404, "not_found");
    app.get(&format!("/api/v1/departments/{}", app.ids["city"]), &s).await.expect(404, "not_found");
    let tree = app.get("/api/v1/departments/tree", &s).await;
    assert_eq!(tree.ok().as_array().unwrap().len(), 2);
    // Staff see their own department only.
    let staff = app.login("staff_a").await;
    let list = app.get("/api/v1/departments", &staff).await;
    assert_eq!(list.ok()["total"], 1);
});

/// Reads an exported workbook's first sheet.
fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

pub fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

pub async fn upload(app: &TestApp, s: &crate::support::Session, bytes: Vec<u8>) -> crate::support::Resp {
    use axum::{
        body::Body,
        http::{Request, header},
    };
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/people/import")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(Body::from(bytes))
        .unwrap();
    app.send(req).await
}

both!(another_departments_people_never_leak, |app: TestApp| async move {
    let head_b = app.login("head_b").await;
    let pa = app.ids["person_a"];
    // Not by id, not in a list, not in a count, not in a search, not in an export.
    app.get(&format!("/api/v1/people/{pa}"), &head_b).await.expect(404, "not_found");
    let list = app.get("/api/v1/people?page_size=200", &head_b).await;
    let names: Vec<&str> = list.ok()["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["李娜"]);
    assert_eq!(list.json["total"], 1);
    let search = app.get("/api/v1/people?q=%E5%BC%A0", &head_b).await;
    assert_eq!(search.ok()["total"], 0);
    let filtered = app.get(&format!("/api/v1/people?department_id={}", app.ids["dept_a"]), &head_b).await;
    assert_eq!(filtered.ok()["total"], 0);
    let stats = app.get("/api/v1/stats/organisation", &head_b).await;
    assert_eq!(stats.ok()["people"], 1);
    assert_eq!(stats.json["departments"], 1);
    let export = app.get("/api/v1/people/export", &head_b).await;
    assert_eq!(export.status, 200);
    let rows = sheet(&export.bytes);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][1], "李娜");
    // The head of A sees A and its division, masked.
    let head_a = app.login("head_a").await;
    let list = app.get("/api/v1/people?sort=employee_no", &head_a).await;
    assert_eq!(list.ok()["total"], 2);
    assert_eq!(list.json["items"][0]["mobile"], "138****5678");
    let one = app.get(&format!("/api/v1/people/{pa}"), &head_a).await;
    assert_eq!(one.ok()["mobile"], "138****5678");
    // Staff see only themself.
    let staff = app.login("staff_a").await;
    let list = app.get("/api/v1/people", &staff).await;
    assert_eq!(list.ok()["total"], 1);
    assert_eq!(list.json["items"][0]["id"], pa);
    app.get(&format!("/api/v1/people/{}", app.ids["person_a1"]), &staff).await.expect(404, "not_found");
    // The office sees the full number on one person, never in lists or exports.
    let office = app.login("office").await;
    assert_eq!(app.get(&format!("/api/v1/people/{pa}"), &office).await.ok()["mobile"], "13812345678");
    let export = app.get("/api/v1/people/export", &office).await;
    let rows = sheet(&export.bytes);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().skip(1).all(|r| r[6] == "138****5678"), "{rows:?}");
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=person.export", &auditor).await;
    assert_eq!(log.ok()["total"], 2);
    assert!(!log.json.to_string().contains("13812345678"));
});

both!(import_with_one_bad_row_imports_nothing, |app: TestApp| async move {
    let s = app.login("office").await;
    let header: &[&str] = &["工号", "姓名", "性别", "部门编码", "岗位编码", "窗口编码", "手机号", "一把手", "分管领导"];
    let bad = workbook(&[
        header,
        &["N001", "赵一", "男", "A", "", "", "13900000001", "否", "否"],
        &["N002", "钱二", "女", "A1", "", "", "13900000002", "否", "是"],
        &["N003", "孙三", "未知", "NOPE", "", "", "12345", "也许", "否"],
        &["N001", "李四", "男", "B", "", "", "", "", ""],
    ]);
    let r = upload(&app, &s, bad).await;
    r.expect(422, "import_rejected");
    let details = r.json["details"].as_array().unwrap();
    let at: Vec<(u64, &str)> =
        details.iter().map(|d| (d["row"].as_u64().unwrap(), d["column"].as_str().unwrap())).collect();
    assert_eq!(at, [(4, "性别"), (4, "部门编码"), (4, "手机号"), (4, "一把手"), (5, "工号")], "{details:?}");
    assert_eq!(details[1]["message"], "部门编码“NOPE”不存在或已停用");
    let count = app.get("/api/v1/people?page_size=1", &s).await;
    assert_eq!(count.ok()["total"], 3, "nothing may be imported");

    let good = workbook(&[
        header,
        &["N001", "赵一", "男", "A", "", "", "13900000001", "否", "否"],
        &["N002", "钱二", "女", "a1", "", "", "13900000002", "否", "是"],
        &["P-B", "李娜", "女", "B", "", "", "13900000003", "是", "否"],
    ]);
    let r = upload(&app, &s, good).await;
    assert_eq!(r.ok()["created"], 2);
    assert_eq!(r.json["updated"], 1);
    let pb = app.get(&format!("/api/v1/people/{}", app.ids["person_b"]), &s).await;
    assert_eq!(pb.ok()["is_head"], true);
    assert_eq!(pb.json["gender"], "female");
    let count = app.get("/api/v1/people?page_size=1", &s).await;
    assert_eq!(count.ok()["total"], 5);

    upload(&app, &s, b"not a spreadsheet".to_vec()).await.expect(400, "invalid_file");
    upload(&app, &s, workbook(&[&["姓名", "性别"], &["x", "男"]])).await.expect(400, "missing_columns");
    // The template is a file an import accepts (after its example row is filled in).
    let t = app.get("/api/v1/people/import-template", &s).await;
    assert_eq!(sheet(&t.bytes)[0], header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
});

both!(windows_posts_and_people_keep_to_their_department, |app: TestApp| async move {
    let s = app.login("office").await;
    let (a, b) = (app.ids["dept_a"], app.ids["dept_b"]);
    let w = app
        .post(
            "/api/v1/windows",
            &s,
            json!({"code": "w-a01", "name": "企业登记", "department_id": a, "hall": "市政务服务中心", "number": "A01"}),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.json);
    assert_eq!(w.json["code"], "W-A01");
    let post = app.post("/api/v1/posts", &s, json!({"code": "A-CK", "name": "窗口受理员", "department_id": a, "post_type": "window_staff", "duties": "受理企业登记申请"})).await;
    assert_eq!(post.status, 201, "{}", post.json);
    let bad_type = app
        .post("/api/v1/posts", &s, json!({"code": "A-X", "name": "x", "department_id": a, "post_type": "boss"}))
        .await;
    bad_type.expect(422, "validation_failed");
    let (wid, pid) = (w.json["id"].as_i64().unwrap(), post.json["id"].as_i64().unwrap());
    assert_eq!(w.json["department_name"], "市场监督管理局");
    // A department filter takes in its sub-departments unless asked for that one only.
    let city = app.ids["city"];
    assert_eq!(app.get(&format!("/api/v1/windows?department_id={city}"), &s).await.ok()["total"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/windows?department_id={city}&exact_department=true"), &s).await.ok()["total"],
        0
    );
    assert_eq!(
        app.get(&format!("/api/v1/posts?department_id={city}"), &s).await.ok()["items"][0]["department_name"],
        "市场监督管理局"
    );
    // A person of B cannot sit at A's window or hold A's post.
    let r = app.post("/api/v1/people", &s, json!({"employee_no": "X1", "name": "周七", "gender": "male", "department_id": b, "post_id": pid, "window_id": wid})).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "post_not_in_department");
    let r = app.post("/api/v1/people", &s, json!({"employee_no": "X1", "name": "周七", "gender": "male", "department_id": a, "post_id": pid, "window_id": wid, "mobile": "139 0000 0009"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["window_name"], "企业登记");
    assert_eq!(r.json["post_type"], "window_staff");
    assert_eq!(r.json["mobile"], "13900000009");
    // Filter by post type and department subtree.
    let l = app.get(&format!("/api/v1/people?post_type=window_staff&department_id={a}"), &s).await;
    assert_eq!(l.ok()["total"], 1);
    // A post held by someone cannot be retired.
    app.post(&format!("/api/v1/posts/{pid}/retire"), &s, json!({"reason": "合并"}))
        .await
        .expect(422, "validation_failed");
    app.post(&format!("/api/v1/posts/{pid}/retire"), &s, json!({"reason": " "})).await.expect(422, "validation_failed");
    // The head of B does not see A's window.
    let head_b = app.login("head_b").await;
    app.get(&format!("/api/v1/windows/{wid}"), &head_b).await.expect(404, "not_found");
    assert_eq!(app.get("/api/v1/windows", &head_b).await.ok()["total"], 0);
});

both!(supervisors_are_active_only_within_their_term, |app: TestApp| async move {
    let s = app.login("office").await;
    let mk = |code: &str, start: &str, end: &str| json!({"code": code, "name": "监督员", "kind": "npc_deputy", "organisation": "市人大", "mobile": "13700000001", "term_start": start, "term_end": end});
    assert_eq!(app.post("/api/v1/supervisors", &s, mk("JD1", "2026-01-01", "2026-12-31")).await.status, 201);
    assert_eq!(app.post("/api/v1/supervisors", &s, mk("JD2", "2024-01-01", "2025-12-31")).await.status, 201);
    let r = app.post("/api/v1/supervisors", &s, mk("JD3", "2026-01-01", "2025-12-31")).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "term_ends_before_start");
    let all = app.get("/api/v1/supervisors?sort=code", &s).await;
    assert_eq!(all.ok()["total"], 2);
    assert_eq!(all.json["items"][0]["in_term"], true);
    assert_eq!(all.json["items"][1]["in_term"], false);
    assert_eq!(all.json["items"][0]["mobile"], "137****0001");
    let current = app.get("/api/v1/supervisors?in_term=true", &s).await;
    assert_eq!(current.ok()["total"], 1);
    // Bad query parameters are a clear 400, not a silent default.
    app.get("/api/v1/supervisors?in_term=perhaps", &s).await.expect(400, "invalid_query");
    app.get("/api/v1/supervisors?page_size=1000", &s).await.expect(422, "validation_failed");
    let leader = app.get("/api/v1/supervisors", &app.login("leader").await).await;
    assert_eq!(leader.ok()["total"], 2);
});

both!(search_is_literal_and_case_insensitive_on_both_databases, |app: TestApp| async move {
    let s = app.login("office").await;
    assert_eq!(app.get("/api/v1/people?q=p-a", &s).await.ok()["total"], 2, "P-A and P-A1");
    assert_eq!(app.get("/api/v1/people?q=%25", &s).await.ok()["total"], 0, "% is not a wildcard");
    assert_eq!(app.get("/api/v1/people?q=_", &s).await.ok()["total"], 0, "_ is not a wildcard");
    assert_eq!(app.get("/api/v1/departments?q=a1", &s).await.ok()["total"], 1);
    assert_eq!(app.get("/api/v1/departments?q=%E7%99%BB%E8%AE%B0", &s).await.ok()["total"], 1, "登记");
});

both!(malformed_requests_get_the_error_shape, |app: TestApp| async move {
    let s = app.login("office").await;
    app.get("/api/v1/people/abc", &s).await.expect(400, "invalid_request");
    app.call(Method::DELETE, &format!("/api/v1/people/{}", app.ids["person_a"]), Some(&s), None)
        .await
        .expect(405, "method_not_allowed");
    app.get("/api/v1/nothing-here", &s).await.expect(404, "not_found");
    let huge = json!({"code": "X", "name": "x".repeat(21 * 1024 * 1024), "category": "general"});
    app.post("/api/v1/departments", &s, huge).await.expect(413, "payload_too_large");
    let r = upload(&app, &s, vec![b'P'; 21 * 1024 * 1024]).await;
    r.expect(413, "payload_too_large");
});

both!(a_window_with_staff_cannot_be_retired, |app: TestApp| async move {
    let s = app.login("office").await;
    let a = app.ids["dept_a"];
    let w = app
        .post(
            "/api/v1/windows",
            &s,
            json!({"code": "W1", "name": "综合窗口", "department_id": a, "hall": "大厅", "number": "1"}),
        )
        .await;
    let wid = w.json["id"].as_i64().unwrap();
    let p = app
        .post(
            "/api/v1/people",
            &s,
            json!({"employee_no": "W-1", "name": "吴九", "gender": "male", "department_id": a, "window_id": wid}),
        )
        .await;
    assert_eq!(p.status, 201);
    let r = app.post(&format!("/api/v1/windows/{wid}/retire"), &s, json!({"reason": "撤并"})).await;
    assert_eq!(r.json["details"][0]["code"], "window_in_use");
    let pid = p.json["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/people/{pid}/retire"), &s, json!({"reason": "调离"})).await.ok();
    assert_eq!(
        app.post(&format!("/api/v1/windows/{wid}/retire"), &s, json!({"reason": "撤并"})).await.ok()["status"],
        "retired"
    );
});

both!(an_exported_roster_imports_back_unchanged, |app: TestApp| async move {
    let s = app.login("office").await;
    let export = app.get("/api/v1/people/export", &s).await;
    assert_eq!(export.status, 200);
    let r = upload(&app, &s, export.bytes.clone()).await;
    assert_eq!(r.ok()["updated"], 3, "{}", r.json);
    assert_eq!(r.json["created"], 0);
    let one = app.get(&format!("/api/v1/people/{}", app.ids["person_a"]), &s).await;
    assert_eq!(one.ok()["mobile"], "13812345678", "the masked number kept the stored one");
    // Columns the file lacks keep what is stored.
    let minimal: &[&str] = &["工号", "姓名", "性别", "部门编码"];
    let r = upload(&app, &s, workbook(&[minimal, &["P-A", "张伟", "男", "A"]])).await;
    assert_eq!(r.ok()["updated"], 1);
    let one = app.get(&format!("/api/v1/people/{}", app.ids["person_a"]), &s).await;
    assert_eq!(one.ok()["mobile"], "13812345678");
    // A masked number for someone new cannot be imported.
    let header: &[&str] = &["工号", "姓名", "性别", "部门编码", "手机号"];
    let r = upload(&app, &s, workbook(&[header, &["NEW1", "新人", "男", "A", "138****5678"]])).await;
    r.expect(422, "import_rejected");
    assert_eq!(r.json["details"][0]["code"], "masked_mobile");
});

// ------------------------------------------------------------------ hostile workbooks

/// A workbook with a cell at each of `cells` (row and column from 0).
pub fn workbook_at(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, c, v) in cells {
        ws.write_string(*r, *c, *v).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// Two cells, at A1 and at the sheet's last one, XFD1048576: about 5 KB that claims a sheet of
/// 17 billion cells.
pub fn far_corner_workbook(header: &str) -> Vec<u8> {
    workbook_at(&[(0, 0, header), (1_048_575, 16_383, "x")])
}

/// A real workbook whose first sheet is replaced by what `write` writes, deflated.
pub fn with_sheet(write: impl FnOnce(&mut dyn std::io::Write)) -> Vec<u8> {
    use std::io::Cursor;
    let mut src = zip::ZipArchive::new(Cursor::new(workbook(&[&["工号"]]))).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let f = src.by_index_raw(i).unwrap();
        if f.name().unwrap() != SHEET {
            out.raw_copy_file(f).unwrap();
        }
    }
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file(SHEET, deflated).unwrap();
    write(&mut out);
    out.finish().unwrap().into_inner()
}

pub const SHEET: &str = "xl/worksheets/sheet1.xml";
const SHEET_HEAD: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// A zip bomb: a sheet of 320 MiB (one cell of zeros, then spaces) that deflates to a few
/// hundred KB. Made once per test run.
pub fn zip_bomb() -> Vec<u8> {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        with_sheet(|w| {
            w.write_all(SHEET_HEAD).unwrap();
            w.write_all(br#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>"#).unwrap();
            let zeros = vec![b'0'; 1 << 20];
            for _ in 0..160 {
                w.write_all(&zeros).unwrap();
            }
            w.write_all(b"</t></is></c></row>").unwrap();
            let spaces = vec![b' '; 1 << 20];
            for _ in 0..160 {
                w.write_all(&spaces).unwrap();
            }
            w.write_all(b"</sheetData></worksheet>").unwrap();
        })
    })
    .clone()
}

/// The zip's records (local header and central directory) for `name` made to claim `size`
/// uncompressed bytes; the data and its CRC stay as they are.
pub fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as usize;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let eocd = zip.windows(4).rposition(|w| w == b"PK\x05\x06").expect("end of central directory");
    let (entries, mut at) = (u16_at(zip, eocd + 10), u32_at(zip, eocd + 16));
    let mut found = false;
    for _ in 0..entries {
        assert_eq!(&zip[at..at + 4], b"PK\x01\x02");
        let (name_len, extra, comment) = (u16_at(zip, at + 28), u16_at(zip, at + 30), u16_at(zip, at + 32));
        if &zip[at + 46..at + 46 + name_len] == name.as_bytes() {
            zip[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
            let local = u32_at(zip, at + 42);
            assert_eq!(&zip[local..local + 4], b"PK\x03\x04");
            zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
            found = true;
        }
        at += 46 + name_len + extra + comment;
    }
    assert!(found, "{name} is not in the zip");
}

/// The refusal of a file too big to read: 422 naming `file`, with `code`, its message saying
/// `names`.
#[track_caller]
pub fn refused_as_too_big(r: &crate::support::Resp, code: &str, names: &str) {
    r.expect(422, "validation_failed");
    let d = &r.json["details"][0];
    assert_eq!((d["field"].as_str(), d["code"].as_str()), (Some("file"), Some(code)), "{}", r.json);
    assert!(d["message"].as_str().unwrap().contains(names), "{}", r.json);
}

both!(a_two_cell_workbook_claiming_the_far_corner_is_refused, |app: TestApp| async move {
    let s = app.login("office").await;
    // Read into a grid, this file asks for 549,755,813,888 bytes and the process aborts.
    let r = upload(&app, &s, far_corner_workbook("工号")).await;
    refused_as_too_big(&r, "too_many_columns", "XFD1048576");
    // The server is still there, and still imports.
    assert_eq!(app.get("/api/v1/people?page_size=1", &s).await.ok()["total"], 3);
    let ok = upload(&app, &s, workbook(&[&["工号", "姓名", "性别", "部门编码"], &["N9", "郑九", "男", "A"]])).await;
    assert_eq!(ok.ok()["created"], 1);
});

both!(a_zip_bomb_is_refused_before_it_inflates, |app: TestApp| async move {
    use axum::{
        body::Body,
        http::{Request, header},
    };
    let s = app.login("office").await;
    // Its declared size is refused before a byte is inflated; in English on request.
    let bomb = zip_bomb();
    assert!(bomb.len() < 2 << 20, "the bomb is {} bytes", bomb.len());
    refused_as_too_big(&upload(&app, &s, bomb.clone()).await, "file_too_large", "MB");
    let en = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/people/import")
        .header(header::COOKIE, &s.cookie)
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::from(bomb.clone()))
        .unwrap();
    refused_as_too_big(&app.send(en).await, "file_too_large", "unpacks to more than");
    // The same bomb claiming 4 KB: inflating stops at the 4 KB it declared.
    let mut liar = bomb;
    declare_size(&mut liar, SHEET, 4096);
    refused_as_too_big(&upload(&app, &s, liar).await, "size_mismatch", SHEET);
    // A sheet that declares a range beyond the import's, whatever its cells.
    let claim = with_sheet(|w| {
        w.write_all(SHEET_HEAD).unwrap();
        w.write_all(br#"<dimension ref="A1:D1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#).unwrap();
    });
    refused_as_too_big(&upload(&app, &s, claim).await, "too_many_rows", "A1:D1048576");
    assert_eq!(app.get("/api/v1/people?page_size=1", &s).await.ok()["total"], 3);
});

both!(a_roster_beyond_the_imports_rows_or_columns_is_refused, |app: TestApp| async move {
    let s = app.login("office").await;
    let header = ["工号", "姓名", "性别", "部门编码"];
    let mut cells: Vec<(u32, u16, &str)> = header.iter().enumerate().map(|(c, h)| (0, c as u16, *h)).collect();
    cells.extend([(1, 0, "N1"), (1, 1, "赵一"), (1, 2, "男"), (1, 3, "A")]);
    // Row 20,001 is past the 20,000 a roster may use.
    let far_down = [cells.clone(), vec![(20_000, 0, "N2")]].concat();
    refused_as_too_big(&upload(&app, &s, workbook_at(&far_down)).await, "too_many_rows", "20001");
    // Column AA is past Z.
    let far_right = [cells.clone(), vec![(1, 26, "备注")]].concat();
    refused_as_too_big(&upload(&app, &s, workbook_at(&far_right)).await, "too_many_columns", "AA2");
    // Up to the bounds is fine: a note in column Z, the last row used at 20,000.
    let edge = [cells, vec![(1, 25, "备注"), (19_999, 25, " ")]].concat();
    assert_eq!(upload(&app, &s, workbook_at(&edge)).await.ok()["created"], 1);
});
