//! Bulletins, rectification orders and reports, reminders, instructions and campaigns: what the
//! office, the departments and the public see and may do, on both databases.

use std::sync::{Arc, Mutex};

use axum::{Router, http::Method, routing::post};
use serde_json::{Value, json};
use xiaoneng_core::clock::Clock;
use xiaoneng_store::Store;

use crate::{
    both,
    support::{Session, TestApp},
};

/// Confirmed findings: one on bureau A naming 张伟 and one on commission B, recorded on
/// 2 November 2026 by `inspector` and confirmed by the office. Returns their ids.
pub async fn confirmed_findings(app: &TestApp, office: &Session) -> (i64, i64) {
    let (a, b) = (app.ids["dept_a"], app.ids["dept_b"]);
    let plan = app
        .post(
            "/api/v1/plans",
            office,
            json!({"title": "11月暗访", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "active",
                   "targets": [{"department_id": a}, {"department_id": b}], "team": [app.ids["inspector"]]}),
        )
        .await;
    let plan = plan.ok()["id"].as_i64().unwrap();
    let cats = app.get("/api/v1/finding-categories", office).await;
    let cat = cats.ok().as_array().unwrap()[0]["id"].as_i64().unwrap();
    let inspector = app.login("inspector").await;
    let mut ids = Vec::new();
    for (dept, person, text) in
        [(a, Some(app.ids["person_a"]), "窗口无人，离岗约二十分钟"), (b, None, "工作人员上班时间玩手机游戏")]
    {
        let v = app
            .post(
                &format!("/api/v1/plans/{plan}/visits"),
                office,
                json!({"department_id": dept, "scheduled_on": "2026-11-02"}),
            )
            .await;
        let visit = v.ok()["id"].as_i64().unwrap();
        let f = app
            .post(
                "/api/v1/findings",
                &inspector,
                json!({"visit_id": visit, "department_id": dept, "person_id": person, "category_id": cat,
                       "occurred_at": "2026-11-02T00:30:00Z", "description": text}),
            )
            .await;
        let id = f.ok()["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/findings/{id}/steps"), office, json!({"action": "confirm"})).await.ok();
        ids.push(id);
    }
    (ids[0], ids[1])
}

pub fn bulletin_body(findings: &[i64], scope: &str, deadline: Value) -> Value {
    json!({"scope": scope, "title": "关于11月机关效能暗访情况的通报", "period_start": "2026-11-01", "period_end": "2026-11-30",
           "body": "各部门：\n近期，市效能办对部分窗口单位进行了暗访，现将发现的问题通报如下。",
           "finding_ids": findings, "requirement": "请认真分析原因，逐项整改，按期书面报送整改情况。", "deadline": deadline})
}

fn order_of(detail: &Value, dept: i64) -> &Value {
    detail["orders"].as_array().unwrap().iter().find(|o| o["department_id"] == dept).unwrap()
}

both!(publish_then_report_return_resubmit_accept, |app: TestApp| async move {
    let office = app.login("office").await;
    let (fa, fb) = confirmed_findings(&app, &office).await;
    let head_a = app.login("head_a").await;
    // Not yet notified: the department does not see its finding.
    app.get(&format!("/api/v1/findings/{fa}"), &head_a).await.expect(404, "not_found");

    let draft = app
        .post(
            "/api/v1/bulletins",
            &office,
            bulletin_body(&[fa, fb], "public", json!({"kind": "working_days", "days": 5})),
        )
        .await;
    assert_eq!(draft.status, 201, "{}", draft.json);
    let id = draft.json["id"].as_i64().unwrap();
    assert_eq!(draft.json["status"], "draft");
    assert_eq!(draft.json["number_text"], Value::Null);
    // A draft is the office's alone.
    app.get(&format!("/api/v1/bulletins/{id}"), &head_a).await.expect(404, "not_found");
    assert_eq!(app.get("/api/v1/bulletins", &head_a).await.ok()["total"], 0);
    // A draft finding cannot be bulletined.
    let bad = app.post("/api/v1/bulletins", &office, bulletin_body(&[999_999], "internal", Value::Null)).await;
    bad.expect(422, "validation_failed");
    assert_eq!(bad.json["details"][0]["code"], "unknown_finding");

    let published = app.post(&format!("/api/v1/bulletins/{id}/publish"), &office, json!({})).await;
    let p = published.ok();
    assert_eq!(p["number_text"], "效能通报〔2026〕1号");
    assert_eq!(p["public_path"], "/public/bulletins/2026/1");
    assert_eq!(p["orders"].as_array().unwrap().len(), 2, "one order per department");
    // Published Monday 2 November; five working days: Monday 9 November.
    let order_a = order_of(p, app.ids["dept_a"]);
    assert_eq!(order_a["deadline"], "2026-11-09");
    assert_eq!(order_a["status"], "open");
    let oa = order_a["id"].as_i64().unwrap();
    let ob = order_of(p, app.ids["dept_b"])["id"].as_i64().unwrap();
    // Publishing is final.
    app.post(&format!("/api/v1/bulletins/{id}/publish"), &office, json!({})).await.expect(409, "invalid_transition");
    app.put(&format!("/api/v1/bulletins/{id}"), &office, bulletin_body(&[fa], "public", Value::Null))
        .await
        .expect(409, "invalid_transition");
    // Now the department sees its finding, notified; and its own order only.
    assert_eq!(app.get(&format!("/api/v1/findings/{fa}"), &head_a).await.ok()["state"], "notified");
    let mine = app.get("/api/v1/orders", &head_a).await;
    assert_eq!(mine.ok()["total"], 1);
    assert_eq!(mine.json["items"][0]["id"], oa);
    let head_b = app.login("head_b").await;
    app.get(&format!("/api/v1/orders/{oa}"), &head_b).await.expect(404, "not_found");
    assert_eq!(app.get(&format!("/api/v1/orders/{ob}"), &head_b).await.ok()["findings"][0]["id"], fb);
    // The head's inbox: the order to answer, due the 9th, and a notification about it.
    let inbox = app.get("/api/v1/inbox", &head_a).await;
    let tasks = inbox.ok()["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{}", inbox.json);
    assert_eq!(tasks[0]["kind"], "answer_order");
    assert_eq!(tasks[0]["due"], "2026-11-09");
    assert_eq!(inbox.json["unread"], 1);
    assert_eq!(inbox.json["notifications"]["items"][0]["kind"], "order.issued");

    // The liaison drafts; only the head may submit.
    let liaison = app.login("liaison_a").await;
    let report = json!({"cause": "窗口人员纪律观念淡薄", "measures": "实行AB岗，离岗须登记", "results": "已对当事人批评教育", "responsible": "张伟，诫勉谈话"});
    let d = app.put(&format!("/api/v1/orders/{oa}/report"), &liaison, report.clone()).await;
    let v1 = d.ok()["reports"][0]["id"].as_i64().unwrap();
    assert_eq!(d.json["reports"][0]["status"], "draft");
    assert_eq!(d.json["allowed_actions"], json!(["draft_report"]));
    app.post(&format!("/api/v1/reports/{v1}/steps"), &liaison, json!({"action": "submit_report"}))
        .await
        .expect(403, "forbidden");
    // The head of another department cannot touch it.
    app.put(&format!("/api/v1/orders/{oa}/report"), &head_b, report.clone()).await.expect(404, "not_found");
    // A file attached to the draft, by content type; an executable is refused.
    let att = app
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/reports/{v1}/attachments?filename=%E6%95%B4%E6%94%B9.pdf"))
                .header("cookie", &liaison.cookie)
                .header("sec-fetch-site", "same-origin")
                .body(axum::body::Body::from(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(att.status, 201, "{}", att.json);
    let exe = app
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/reports/{v1}/attachments?filename=a.pdf"))
                .header("cookie", &liaison.cookie)
                .header("sec-fetch-site", "same-origin")
                .body(axum::body::Body::from(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".repeat(8)))
                .unwrap(),
        )
        .await;
    exe.expect(415, "unsupported_type");
    let s = app.post(&format!("/api/v1/reports/{v1}/steps"), &head_a, json!({"action": "submit_report"})).await;
    assert_eq!(s.ok()["status"], "submitted");
    assert_eq!(s.json["reports"][0]["attachments"][0]["filename"], "整改.pdf");
    assert_eq!(s.json["submitted_late"], false);
    // The office is told, and has a report to review.
    let tasks = app.get("/api/v1/inbox", &office).await;
    assert!(
        tasks.ok()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "review_report" && t["link"] == format!("/rectification/{oa}"))
    );
    // Submitted: the department can no longer change it.
    app.put(&format!("/api/v1/orders/{oa}/report"), &liaison, report.clone()).await.expect(409, "invalid_transition");

    // Returned with comments, and a new deadline.
    app.post(&format!("/api/v1/reports/{v1}/steps"), &office, json!({"action": "return"}))
        .await
        .expect(422, "validation_failed");
    // Reviewing is the office's, not the head's.
    let r = app.post(&format!("/api/v1/reports/{v1}/steps"), &head_a, json!({"action": "accept"})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");
    // A day later (sessions do not last that long: everyone logs in again).
    app.clock.advance(chrono::Duration::days(1));
    let (office, head_a, liaison) =
        (app.login("office").await, app.login("head_a").await, app.login("liaison_a").await);
    let r = app
        .post(
            &format!("/api/v1/reports/{v1}/steps"),
            &office,
            json!({"action": "return", "comment": "原因分析不深入，请补充责任追究情况", "resubmit_by": "2026-11-13"}),
        )
        .await;
    assert_eq!(r.ok()["status"], "returned");
    assert_eq!(r.json["deadline"], "2026-11-13");
    assert_eq!(r.json["reports"][0]["review_comment"], "原因分析不深入，请补充责任追究情况");
    let inbox = app.get("/api/v1/inbox?unread=true", &head_a).await;
    assert_eq!(inbox.ok()["tasks"][0]["kind"], "resubmit_report");
    assert_eq!(inbox.json["notifications"]["items"][0]["kind"], "report.returned");
    // Accepting a returned report is not a step.
    app.post(&format!("/api/v1/reports/{v1}/steps"), &office, json!({"action": "accept"}))
        .await
        .expect(409, "invalid_transition");

    // Version 2, drafted anew, submitted, accepted; version 1 stays with its comments.
    let d2 = app
        .put(
            &format!("/api/v1/orders/{oa}/report"),
            &liaison,
            json!({"cause": "纪律观念淡薄，制度执行不严", "measures": "AB岗", "responsible": "张伟诫勉谈话"}),
        )
        .await;
    let v2 = d2.ok()["reports"][1]["id"].as_i64().unwrap();
    assert_eq!(d2.json["reports"][1]["version"], 2);
    app.post(&format!("/api/v1/reports/{v2}/steps"), &head_a, json!({"action": "submit_report"})).await.ok();
    let done =
        app.post(&format!("/api/v1/reports/{v2}/steps"), &office, json!({"action": "accept", "comment": "同意"})).await;
    assert_eq!(done.ok()["status"], "accepted");
    let versions: Vec<(&str, i64)> = done.json["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["status"].as_str().unwrap(), r["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(versions, [("returned", 1), ("accepted", 2)]);
    assert_eq!(app.get("/api/v1/inbox", &head_a).await.ok()["tasks"], json!([]));

    // Every step is in the audit log.
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=report.&page_size=50", &auditor).await;
    let actions: Vec<&str> =
        log.ok()["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["report.accept", "report.submit", "report.draft", "report.return", "report.submit", "report.draft"]
    );
    let published = app.get("/api/v1/audit?action=bulletin.publish", &auditor).await;
    assert_eq!(published.ok()["total"], 1);

    // A correction is a new bulletin; it issues no second order for the same findings.
    let mut body = bulletin_body(&[fa], "public", Value::Null);
    body["corrects_id"] = json!(id);
    body["title"] = json!("关于更正效能通报〔2026〕1号的通报");
    let c = app.post("/api/v1/bulletins", &office, body).await;
    let cid = c.ok()["id"].as_i64().unwrap();
    let cp = app.post(&format!("/api/v1/bulletins/{cid}/publish"), &office, json!({})).await;
    assert_eq!(cp.ok()["number_text"], "效能通报〔2026〕2号");
    assert_eq!(cp.json["orders"], json!([]));
    assert_eq!(cp.json["corrects"]["number"], "效能通报〔2026〕1号");
    let old = app.get(&format!("/api/v1/bulletins/{id}"), &head_a).await;
    assert_eq!(old.ok()["corrected_by"][0]["number"], "效能通报〔2026〕2号");
});

both!(the_public_reads_public_bulletins_with_names_masked, |app: TestApp| async move {
    let office = app.login("office").await;
    let (fa, fb) = confirmed_findings(&app, &office).await;
    let mut body = bulletin_body(&[fa], "public", Value::Null);
    body["body"] = json!("各部门：\n市场监督管理局张伟工作时间离岗，群众反映强烈。");
    body["requirement"] = json!("请对张伟严肃处理。");
    body["title"] = json!("关于张伟等人工作时间离岗的通报");
    let public = app.post("/api/v1/bulletins", &office, body).await;
    let pid = public.ok()["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/bulletins/{pid}/publish"), &office, json!({})).await.ok();
    let internal = app.post("/api/v1/bulletins", &office, bulletin_body(&[fb], "internal", Value::Null)).await;
    let iid = internal.ok()["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/bulletins/{iid}/publish"), &office, json!({})).await.ok();

    let page = app.call(Method::GET, "/public/bulletins/2026/1", None, None).await;
    assert_eq!(page.status, 200);
    // Every HTML answer carries a policy that lets no script but our own files run.
    for r in [&page, &app.call(Method::GET, "/api/docs/", None, None).await] {
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("object-src 'none'"), "{csp}");
    }
    let html = String::from_utf8(page.bytes.clone()).unwrap();
    assert!(html.contains("效能通报〔2026〕1号"), "{html}");
    assert!(html.contains("张*"), "the name is masked");
    assert!(html.contains("市场监督管理局张*工作时间离岗"), "in the free text too: {html}");
    assert!(!html.contains("张伟"), "the full name never reaches the public");
    assert!(html.contains("市场监督管理局"));
    // An internal bulletin has no public page; nor does a number not yet used.
    assert_eq!(app.call(Method::GET, "/public/bulletins/2026/2", None, None).await.status, 404);
    assert_eq!(app.call(Method::GET, "/public/bulletins/2026/9", None, None).await.status, 404);
    let list = app.call(Method::GET, "/api/v1/public/bulletins", None, None).await;
    assert_eq!(list.ok()["total"], 1);
    assert_eq!(list.json["items"][0]["path"], "/public/bulletins/2026/1");
    assert_eq!(list.json["items"][0]["title"], "关于张*等人工作时间离岗的通报");
    // Inside, the internal bulletin names the person in full for the departments.
    let head_b = app.login("head_b").await;
    let inside = app.get(&format!("/api/v1/bulletins/{pid}"), &head_b).await;
    assert_eq!(inside.ok()["findings"][0]["person_name"], "张伟");
    // A department head sees both published bulletins, but only their own orders.
    assert_eq!(app.get("/api/v1/bulletins", &head_b).await.ok()["total"], 2);
    assert_eq!(inside.json["orders"], json!([]));

    // Word: a .docx that Word's own reader parses, with the number in it.
    let docx = app.get(&format!("/api/v1/bulletins/{pid}/document?format=docx"), &head_b).await;
    assert_eq!(docx.status, 200);
    let parsed = docx_rs::read_docx(&docx.bytes).expect("the .docx parses");
    let text = format!("{:?}", parsed.document);
    assert!(text.contains("效能通报〔2026〕1号"));
    assert!(text.contains("窗口无人"));
    app.get(&format!("/api/v1/bulletins/{pid}/document?format=rtf"), &head_b).await.expect(422, "validation_failed");
    let auditor = app.login("auditor").await;
    app.get(&format!("/api/v1/bulletins/{pid}/document?format=docx"), &auditor).await.expect(403, "forbidden");

    // PDF: its first page, rendered, is not blank.
    let pdf = app.get(&format!("/api/v1/bulletins/{pid}/document?format=pdf"), &head_b).await;
    if pdf.status == 503 && std::env::var("CI").is_err() {
        eprintln!("no CJK fonts here: the PDF check is skipped outside CI");
        return;
    }
    assert_eq!(pdf.status, 200, "{}", pdf.json);
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let dark = dark_share_of_first_page(&pdf.bytes);
    assert!(dark > 0.005, "the first page is blank ({dark})");
});

/// Renders the PDF's first page with poppler's pdftoppm (grey, 40 dpi) and returns the share of
/// pixels that are not near-white.
fn dark_share_of_first_page(pdf: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("b.pdf");
    std::fs::write(&input, pdf).unwrap();
    let out = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-gray", "-r", "40", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&input)
        .arg(&out)
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let pgm = std::fs::read(dir.path().join("page.pgm")).unwrap();
    // Binary PGM: "P5\n<w> <h>\n255\n" then one byte a pixel.
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    let pixels = &pgm[at + 1..];
    pixels.iter().filter(|p| **p < 200).count() as f64 / pixels.len() as f64
}

/// A robot that records what it is sent and answers like WeCom.
async fn robot() -> (String, Arc<Mutex<Vec<String>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let app = Router::new().route(
        "/cgi-bin/webhook/send",
        post(move |body: String| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(body);
                axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/cgi-bin/webhook/send?key=secret-key-123"), got)
}

/// A mail server that accepts everything and keeps each message.
async fn mail_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let got = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            g.lock().unwrap().push(data.take().unwrap());
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("DATA") {
                        data = Some(String::new());
                        b"354 go on\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

both!(reminders_go_out_once_and_overdue_orders_are_flagged, |app: TestApp| async move {
    let office = app.login("office").await;
    let (robot_url, received) = robot().await;
    let (smtp_port, mails) = mail_server().await;
    let email = app
        .put(
            "/api/v1/settings/notify-channels",
            &office,
            json!({"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none", "smtp_password": "mail-pw-42",
                   "mail_from": "效能办 <xnb@example.gov.cn>", "mail_to": ["duban@example.gov.cn"]}),
        )
        .await;
    assert_eq!(email.ok()["email_set"], true);
    assert_eq!(email.json["smtp_password_set"], true);
    assert!(!email.json.to_string().contains("mail-pw-42"), "the mail password is not shown back");
    let bad = app.put("/api/v1/settings/notify-channels", &office, json!({"mail_to": ["not an address"]})).await;
    bad.expect(422, "validation_failed");
    assert_eq!(bad.json["details"][0]["field"], "mail_to");
    let set = app.put("/api/v1/settings/notify-channels", &office, json!({"wecom_webhook": robot_url})).await;
    assert_eq!(set.ok()["wecom_webhook_set"], true);
    assert!(!set.json.to_string().contains("secret-key-123"), "the robot's key is not shown back");
    app.put("/api/v1/settings/notify-channels", &office, json!({"wecom_webhook": "not a url"}))
        .await
        .expect(422, "validation_failed");
    // Nothing on the server's own network but what the operator allows (here 127.0.0.1).
    for (field, url) in [
        ("wecom_webhook", "http://169.254.169.254/latest/meta-data"),
        ("wecom_webhook", "http://localhost:8080/api/v1/users"),
        ("dingtalk_webhook", "https://10.0.0.7/robot/send?access_token=x"),
        ("dingtalk_webhook", "http://[::1]:5432/"),
    ] {
        let r = app.put("/api/v1/settings/notify-channels", &office, json!({ field: url })).await;
        r.expect(422, "validation_failed");
        assert_eq!(r.json["details"][0]["code"], "internal_address", "{url}");
    }
    let r = app.put("/api/v1/settings/notify-channels", &office, json!({"smtp_host": "192.168.1.20"})).await;
    assert_eq!(r.json["details"][0]["code"], "internal_address");
    // Refused, nothing changed.
    assert_eq!(app.get("/api/v1/settings/notify-channels", &office).await.ok()["smtp_host"], "127.0.0.1");

    let (fa, _) = confirmed_findings(&app, &office).await;
    // Report before Friday 6 November; reminders 3, 1 and 0 working days before.
    let b = app
        .post(
            "/api/v1/bulletins",
            &office,
            bulletin_body(&[fa], "internal", json!({"kind": "date", "date": "2026-11-06"})),
        )
        .await;
    let bid = b.ok()["id"].as_i64().unwrap();
    let p = app.post(&format!("/api/v1/bulletins/{bid}/publish"), &office, json!({})).await;
    let oa = p.ok()["orders"][0]["id"].as_i64().unwrap();
    assert_eq!(p.json["orders"][0]["deadline"], "2026-11-06");

    // Two instances, each with its own pool, run the reminder job at the same moments.
    let stores = [Store::open(&app.db.location, 3).await.unwrap(), Store::open(&app.db.location, 3).await.unwrap()];
    let run_both = || async {
        let now = app.clock.now();
        let (a, b) = tokio::join!(
            xiaoneng_server::jobs::remind(&stores[0], now),
            xiaoneng_server::jobs::remind(&stores[1], now)
        );
        a.unwrap();
        b.unwrap();
    };
    let reminders = || async {
        let o = app.get(&format!("/api/v1/orders/{oa}"), &app.login("office").await).await;
        o.ok()["reminders"].as_array().unwrap().iter().map(|r| r["point"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    run_both().await; // Monday: nothing due yet
    assert_eq!(reminders().await, Vec::<i64>::new());
    // Tuesday, three working days before: not at midnight, when offices open.
    app.clock.advance(chrono::Duration::hours(15)); // 00:00 city time
    run_both().await;
    assert_eq!(reminders().await, Vec::<i64>::new());
    app.clock.advance(chrono::Duration::hours(9)); // 09:00
    run_both().await;
    run_both().await;
    assert_eq!(reminders().await, [3]);
    app.clock.advance(chrono::Duration::days(2)); // Thursday: one day before
    run_both().await;
    assert_eq!(reminders().await, [3, 1]);
    app.clock.advance(chrono::Duration::days(1)); // Friday, the deadline
    run_both().await;
    assert_eq!(reminders().await, [3, 1, 0]);
    let head_a = app.login("head_a").await;
    let inbox = app.get("/api/v1/inbox?page_size=50", &head_a).await;
    let kinds: Vec<&str> =
        inbox.ok()["notifications"]["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "order.reminder").count(), 3, "{kinds:?}");
    assert!(!inbox.json["tasks"][0]["overdue"].as_bool().unwrap());

    // Saturday: overdue, flagged once, listed.
    app.clock.advance(chrono::Duration::days(1));
    run_both().await;
    run_both().await;
    let office = app.login("office").await;
    let listed = app.get("/api/v1/orders?overdue=true", &office).await;
    assert_eq!(listed.ok()["total"], 1);
    assert_eq!(listed.json["items"][0]["overdue"], true);
    assert_eq!(listed.json["items"][0]["days_left"], -1);
    let head_a = app.login("head_a").await;
    let inbox = app.get("/api/v1/inbox?page_size=50", &head_a).await;
    let overdue_notes = inbox.ok()["notifications"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "order.overdue")
        .count();
    assert_eq!(overdue_notes, 1);
    assert_eq!(inbox.json["tasks"][0]["overdue"], true);
    let office_tasks = app.get("/api/v1/inbox", &office).await;
    assert!(office_tasks.ok()["tasks"].as_array().unwrap().iter().any(|t| t["kind"] == "overdue_order"));

    // The robot messages: queued once each (publication, three reminders, overdue), and sent by
    // whichever instance claims them — each exactly once.
    let clock: Arc<dyn Clock> = Arc::new(app.clock.clone());
    let mut workers = Vec::new();
    for (i, store) in stores.into_iter().enumerate() {
        let runner = xiaoneng_server::jobs::runner(
            store,
            clock.clone(),
            Arc::new(object_store::memory::InMemory::new()),
            crate::support::local_egress(),
            format!("instance-{i}"),
        );
        workers.push(tokio::spawn(async move { while runner.run_one().await.unwrap() {} }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got.iter().filter(|m| m.contains("提醒")).count() == 3);
    assert!(got.iter().any(|m| m.contains("逾期")));
    // The same five by email, each once.
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 5, "{mails:?}");
    assert!(mails.iter().all(|m| m.contains("duban@example.gov.cn")));
});

both!(leaders_instruct_and_follow_ups_are_tracked, |app: TestApp| async move {
    let office = app.login("office").await;
    let (fa, _) = confirmed_findings(&app, &office).await;
    let b = app.post("/api/v1/bulletins", &office, bulletin_body(&[fa], "internal", Value::Null)).await;
    let bid = b.ok()["id"].as_i64().unwrap();
    let leader = app.login("leader").await;
    // Not on a draft.
    app.post(
        "/api/v1/instructions",
        &leader,
        json!({"target_kind": "bulletin", "target_id": bid, "text": "请严肃处理"}),
    )
    .await
    .expect(404, "not_found");
    app.post(&format!("/api/v1/bulletins/{bid}/publish"), &office, json!({})).await.ok();
    let head_a = app.login("head_a").await;
    app.post("/api/v1/instructions", &head_a, json!({"target_kind": "bulletin", "target_id": bid, "text": "x"}))
        .await
        .expect(403, "forbidden");
    let i = app
        .post(
            "/api/v1/instructions",
            &leader,
            json!({"target_kind": "bulletin", "target_id": bid, "text": "请市场监管局一周内拿出整改方案",
                   "follow_up": {"department_id": app.ids["dept_a"], "due": "2026-11-09"}}),
        )
        .await;
    assert_eq!(i.status, 201, "{}", i.json);
    let iid = i.json["id"].as_i64().unwrap();
    assert_eq!(i.json["follow_up_status"], "open");
    // Shown with the bulletin, to the department too.
    let shown = app.get(&format!("/api/v1/bulletins/{bid}"), &head_a).await;
    assert_eq!(shown.ok()["instructions"][0]["text"], "请市场监管局一周内拿出整改方案");
    assert_eq!(shown.json["instructions"][0]["author_name"], "leader");
    // The follow-up is a task for the head of bureau A, not for B.
    let tasks = app.get("/api/v1/inbox", &head_a).await;
    assert!(
        tasks.ok()["tasks"].as_array().unwrap().iter().any(|t| t["kind"] == "follow_up" && t["due"] == "2026-11-09")
    );
    // B reads the bulletin and its instruction, but the follow-up is not B's.
    let head_b = app.login("head_b").await;
    let r = app.post(&format!("/api/v1/instructions/{iid}/follow-up"), &head_b, json!({"note": "x"})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");
    let done = app
        .post(&format!("/api/v1/instructions/{iid}/follow-up"), &head_a, json!({"note": "整改方案已报市领导"}))
        .await;
    assert_eq!(done.ok()["follow_up_status"], "done");
    app.post(&format!("/api/v1/instructions/{iid}/follow-up"), &head_a, json!({"note": "again"}))
        .await
        .expect(409, "invalid_transition");
    // Past due dates are refused.
    app.post(
        "/api/v1/instructions",
        &leader,
        json!({"target_kind": "bulletin", "target_id": bid, "text": "t", "follow_up": {"due": "2026-10-01"}}),
    )
    .await
    .expect(422, "validation_failed");
});

both!(a_campaign_collects_every_participants_self_check, |app: TestApp| async move {
    let office = app.login("office").await;
    let mut body = app.get("/api/v1/campaigns/template", &office).await.ok().clone();
    assert_eq!(body["items"].as_array().unwrap().len(), 5, "five checks, five looks");
    body["participants"] = json!([
        {"kind": "department", "department_id": app.ids["dept_a"]},
        {"kind": "leadership", "department_id": app.ids["dept_b"]},
        {"kind": "person", "person_id": app.ids["person_a"]}
    ]);
    let c = app.post("/api/v1/campaigns", &office, body).await;
    assert_eq!(c.status, 201, "{}", c.json);
    let cid = c.json["id"].as_i64().unwrap();
    assert_eq!(c.json["participants"].as_array().unwrap().len(), 3);
    let head_a = app.login("head_a").await;
    // A draft is not shown to participants.
    assert_eq!(app.get("/api/v1/campaigns", &head_a).await.ok()["total"], 0);
    app.post(&format!("/api/v1/campaigns/{cid}/open"), &office, json!({})).await.ok();
    app.post(&format!("/api/v1/campaigns/{cid}/open"), &office, json!({})).await.expect(409, "invalid_transition");

    // The head of A sees A's participation only; the task is in the inbox.
    let mine = app.get(&format!("/api/v1/campaigns/{cid}"), &head_a).await;
    let parts = mine.ok()["participants"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    let pa = parts[0]["id"].as_i64().unwrap();
    let task = app.get("/api/v1/inbox", &head_a).await;
    assert!(
        task.ok()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "self_check" && t["link"] == format!("/campaigns/participations/{pa}"))
    );
    let head_b = app.login("head_b").await;
    app.get(&format!("/api/v1/campaign-participations/{pa}"), &head_b).await.expect(404, "not_found");

    // The liaison answers; the head submits once every item is answered.
    let liaison = app.login("liaison_a").await;
    let form = app.get(&format!("/api/v1/campaign-participations/{pa}"), &liaison).await;
    let items: Vec<i64> = form.ok()["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let first = json!({"answers": [{"item_id": items[0], "found": "个别窗口人员服务意识不强", "measures": "开展服务礼仪培训", "due": "2026-11-30"}]});
    app.put(&format!("/api/v1/campaign-participations/{pa}/answers"), &liaison, first).await.ok();
    let r = app.post(&format!("/api/v1/campaign-participations/{pa}/submit"), &liaison, json!({})).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["reason"], "actor");
    let early = app.post(&format!("/api/v1/campaign-participations/{pa}/submit"), &head_a, json!({})).await;
    early.expect(422, "validation_failed");
    assert_eq!(early.json["details"][0]["code"], "incomplete");
    let rest: Vec<Value> = items[1..].iter().map(|i| json!({"item_id": i, "found": "无", "measures": ""})).collect();
    app.put(&format!("/api/v1/campaign-participations/{pa}/answers"), &liaison, json!({"answers": rest})).await.ok();
    let done = app.post(&format!("/api/v1/campaign-participations/{pa}/submit"), &head_a, json!({})).await;
    assert_eq!(done.ok()["participant"]["status"], "submitted");
    assert_eq!(done.json["participant"]["problems"], 1);
    app.put(&format!("/api/v1/campaign-participations/{pa}/answers"), &liaison, json!({"answers": []}))
        .await
        .expect(409, "invalid_transition");

    // The person answers for themself.
    let staff = app.login("staff_a").await;
    let own = app.get(&format!("/api/v1/campaigns/{cid}"), &staff).await;
    assert_eq!(own.ok()["participants"][0]["kind"], "person");

    // The office sees completion and exports every answer.
    let all = app.get(&format!("/api/v1/campaigns/{cid}"), &office).await;
    assert_eq!(all.ok()["submitted_count"], 1);
    assert_eq!(all.json["participant_count"], 3);
    assert_eq!(all.json["participants"].as_array().unwrap().len(), 3);
    let x = app.get(&format!("/api/v1/campaigns/{cid}/export"), &office).await;
    assert_eq!(x.status, 200);
    use xiaoneng_server::excel::{Limits, read_sheet};
    let rows = read_sheet(&x.bytes, Limits { max_rows: 100, max_cols: 26, max_uncompressed: 1 << 20 }).unwrap();
    assert_eq!(rows.len(), 1 + 3 * 5, "a header and a row per participant and item");
    assert!(
        rows.iter().any(|(_, r)| r.contains(&"个别窗口人员服务意识不强".to_owned()) && r.contains(&"是".to_owned()))
    );
    app.get(&format!("/api/v1/campaigns/{cid}/export"), &head_a).await.expect(403, "forbidden");
});

both!(a_draft_campaign_is_the_offices_alone, |app: TestApp| async move {
    let office = app.login("office").await;
    let mut body = app.get("/api/v1/campaigns/template", &office).await.ok().clone();
    body["participants"] = json!([{"kind": "department", "department_id": app.ids["dept_a"]}]);
    let cid = app.post("/api/v1/campaigns", &office, body).await.ok()["id"].as_i64().unwrap();
    let pa =
        app.get(&format!("/api/v1/campaigns/{cid}"), &office).await.ok()["participants"][0]["id"].as_i64().unwrap();
    let head_a = app.login("head_a").await;
    let path = format!("/api/v1/campaign-participations/{pa}");
    app.get(&path, &head_a).await.expect(404, "not_found");
    app.put(&format!("{path}/answers"), &head_a, json!({"answers": []})).await.expect(404, "not_found");
    app.post(&format!("/api/v1/campaigns/{cid}/open"), &office, json!({})).await.ok();
    app.get(&path, &head_a).await.ok();
});

// ------------------------------------------------------------------ attachments

/// Bureau A's order with a draft report by its liaison: (liaison, report id).
async fn a_draft_report(app: &TestApp) -> (Session, i64) {
    let office = app.login("office").await;
    let (fa, fb) = confirmed_findings(app, &office).await;
    let d = app
        .post(
            "/api/v1/bulletins",
            &office,
            bulletin_body(&[fa, fb], "internal", json!({"kind": "working_days", "days": 5})),
        )
        .await;
    let id = d.ok()["id"].as_i64().unwrap();
    let p = app.post(&format!("/api/v1/bulletins/{id}/publish"), &office, json!({})).await;
    let order = order_of(p.ok(), app.ids["dept_a"])["id"].as_i64().unwrap();
    let liaison = app.login("liaison_a").await;
    let d = app.put(&format!("/api/v1/orders/{order}/report"), &liaison, json!({"cause": "纪律松弛"})).await;
    (liaison, d.ok()["reports"][0]["id"].as_i64().unwrap())
}

/// Every byte but the unreserved ones percent-encoded.
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn attach(app: &TestApp, s: &Session, report: i64, filename: &str, bytes: Vec<u8>) -> crate::support::Resp {
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/reports/{report}/attachments?filename={}", query_escape(filename)))
        .header("cookie", &s.cookie)
        .body(axum::body::Body::from(bytes))
        .unwrap();
    app.send(req).await
}

/// `Content-Disposition` as (the ASCII `filename`, the decoded `filename*`), checking on the way
/// that it holds those two parameters and nothing else.
fn download_names(r: &crate::support::Resp) -> (String, String) {
    let cd = r.headers["content-disposition"].to_str().unwrap();
    let parts: Vec<&str> = cd.split(';').map(str::trim).collect();
    assert_eq!(parts.len(), 3, "{cd}");
    assert_eq!(parts[0], "attachment", "{cd}");
    let fallback = parts[1].strip_prefix("filename=\"").and_then(|f| f.strip_suffix('"')).expect(cd);
    assert!(fallback.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{cd}");
    let encoded = parts[2].strip_prefix("filename*=UTF-8''").expect(cd);
    assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"%._-~".contains(&b)), "{cd}");
    let mut raw = Vec::new();
    let mut bytes = encoded.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()].iter().map(|b| *b as char).collect();
            raw.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            raw.push(b);
        }
    }
    (fallback.to_owned(), String::from_utf8(raw).unwrap())
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// A PNG of one pixel.
fn png() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89",
    );
    out.extend_from_slice(
        b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82",
    );
    out
}

both!(a_downloaded_attachment_is_named_by_its_content, |app: TestApp| async move {
    let (liaison, report) = a_draft_report(&app).await;
    // A PDF named as an executable, with quotes and semicolons to smuggle in parameters.
    let a = attach(&app, &liaison, report, "整改\"; filename=evil.exe; x=\".exe", PDF.to_vec()).await;
    assert_eq!(a.status, 201, "{}", a.json);
    assert_eq!(a.json["content_type"], "application/pdf");
    let got = app.get(&format!("/api/v1/attachments/{}/content", a.json["id"]), &liaison).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, PDF);
    assert_eq!(got.headers["content-type"], "application/pdf");
    assert_eq!(got.headers["x-content-type-options"], "nosniff");
    let (fallback, name) = download_names(&got);
    assert!(fallback.ends_with(".pdf"), "{fallback}");
    assert!(name.starts_with("整改") && name.ends_with(".pdf"), "{name}");
    assert!(!name.contains(['"', ';', '\\', '/']), "{name}");
    // A photo named .pdf downloads as .png; a plain Chinese name keeps its words.
    let p = attach(&app, &liaison, report, "现场照片.pdf", png()).await;
    assert_eq!(p.status, 201, "{}", p.json);
    let got = app.get(&format!("/api/v1/attachments/{}/content", p.json["id"]), &liaison).await;
    let (fallback, name) = download_names(&got);
    assert_eq!(name, "现场照片.png");
    assert!(fallback.ends_with(".png"), "{fallback}");
    // A name with no extension gets the content's; a line break is no name.
    let n = attach(&app, &liaison, report, "report", PDF.to_vec()).await;
    let got = app.get(&format!("/api/v1/attachments/{}/content", n.json["id"]), &liaison).await;
    assert_eq!(download_names(&got), ("report.pdf".to_owned(), "report.pdf".to_owned()));
    let r = attach(&app, &liaison, report, "a\r\nContent-Type: text/html\r\n.pdf", PDF.to_vec()).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["field"], "filename");
});

/// An Office Open XML package: `kind` is `word`, `xl` or `ppt`; with `macro_type` its main part
/// has the macro-enabled content type, with `vba` it carries a VBA project.
fn ooxml(kind: &str, macro_type: bool, vba: bool) -> Vec<u8> {
    use std::io::Write;
    let (main, ct) = match (kind, macro_type) {
        ("word", false) => {
            ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
        }
        ("word", true) => ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
        ("xl", false) => {
            ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
        }
        ("xl", true) => ("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
        (_, _) => ("ppt/presentation.xml", "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"),
    };
    let types = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/{main}" ContentType="{ct}"/></Types>"#
    );
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{main}"/></Relationships>"#
    );
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut put = |name: &str, bytes: &[u8]| {
        z.start_file(name, o).unwrap();
        z.write_all(bytes).unwrap();
    };
    put("[Content_Types].xml", types.as_bytes());
    put("_rels/.rels", rels.as_bytes());
    put(main, br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><document/>"#);
    put(
        &format!("{kind}/_rels/main.xml.rels"),
        br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships/>"#,
    );
    put(&format!("{kind}/styles.xml"), br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styles/>"#);
    if vba {
        put(&format!("{kind}/vbaProject.bin"), &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0]);
    }
    z.finish().unwrap().into_inner()
}

/// A compound file (OLE2) as Word 97–2003 or Excel 97–2003 writes them: the class id says which.
fn ole2(clsid: u128) -> Vec<u8> {
    use std::io::Write;
    let mut c = cfb::CompoundFile::create_with_version(cfb::Version::V3, std::io::Cursor::new(Vec::new())).unwrap();
    c.set_storage_clsid("/", uuid::Uuid::from_u128(clsid)).unwrap();
    c.create_stream("/WordDocument").unwrap().write_all(&[0xEC, 0xA5, 0xC1, 0x00]).unwrap();
    c.flush().unwrap();
    c.into_inner().into_inner()
}

both!(macro_enabled_office_files_are_refused, |app: TestApp| async move {
    let (liaison, report) = a_draft_report(&app).await;
    // Macros: by the main part's content type, or by a VBA project inside, whatever the name.
    for (kind, name, macro_type, vba) in [
        ("word", "方案.docm", true, true),
        ("word", "方案.docx", false, true),
        ("word", "方案.docx", true, false),
        ("xl", "台账.xlsm", true, true),
        ("xl", "台账.xlsx", false, true),
        ("ppt", "汇报.pptm", true, true),
    ] {
        let r = attach(&app, &liaison, report, name, ooxml(kind, macro_type, vba)).await;
        r.expect(415, "macro_enabled_document");
        assert!(r.json["message"].as_str().unwrap().contains("宏"), "{}", r.json);
    }
    // A plain Word and Excel package are still welcome, and download under their own extension.
    for (kind, ext) in [("word", "docx"), ("xl", "xlsx")] {
        let r = attach(&app, &liaison, report, "整改方案", ooxml(kind, false, false)).await;
        assert_eq!(r.status, 201, "{kind}: {}", r.json);
        let got = app.get(&format!("/api/v1/attachments/{}/content", r.json["id"]), &liaison).await;
        assert_eq!(download_names(&got).1, format!("整改方案.{ext}"));
    }
    // None of the refused files was kept.
    let auditor = app.login("auditor").await;
    assert_eq!(app.get("/api/v1/audit?action=attachment.add", &auditor).await.ok()["total"], 2);
});

both!(legacy_office_files_are_refused, |app: TestApp| async move {
    let (liaison, report) = a_draft_report(&app).await;
    // Word and Excel 97–2003 (OLE2 compound files).
    for (clsid, name) in
        [(0x00020906_0000_0000_c000_000000000046, "旧方案.doc"), (0x00020820_0000_0000_c000_000000000046, "旧台账.xls")]
    {
        let r = attach(&app, &liaison, report, name, ole2(clsid)).await;
        r.expect(415, "legacy_office_document");
        assert!(r.json["message"].as_str().unwrap().contains(".docx"), "{}", r.json);
    }
    // None of the refused files was kept.
    let auditor = app.login("auditor").await;
    assert_eq!(app.get("/api/v1/audit?action=attachment.add", &auditor).await.ok()["total"], 0);
});
