//! The permission matrix: every route in the OpenAPI document × every role, each call aimed at a
//! real record the role could be scoped to see. A route missing from the rule table, or from the
//! table of targets below it, fails the test, so a new route cannot ship without a stated rule.
//!
//! Each role gets a city of its own (a fresh [`TestApp`] with the same records, made through the
//! API), so that one role's writes never change what another role meets.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use base64::Engine;
use serde_json::{Value, json};
use xiaoneng_core::rbac::{Grants, Permission};

use crate::{
    auth::events_in,
    both,
    rectification::{bulletin_body, confirmed_findings},
    support::{ACCOUNTS, PASSWORD, Resp, Session, TestApp},
};

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Public,
    LoggedIn,
    Needs(Permission),
    /// Without the permission the route does not exist for the caller: 404, never 403.
    Hidden(Permission),
    /// Any one of these will do.
    AnyOf(&'static [Permission]),
}

fn rule(method: &str, path: &str) -> Option<Rule> {
    use Permission::*;
    use Rule::*;
    Some(match (method, path) {
        ("post", "/api/v1/auth/login" | "/api/v1/auth/password-reset" | "/api/v1/auth/login/second-factor") => Public,
        ("get", "/api/v1/auth/second-factor") => LoggedIn,
        ("post", p) if p.starts_with("/api/v1/auth/second-factor/") => LoggedIn,
        ("post", "/api/v1/users/{id}/second-factor/reset") => Needs(SecondFactorReset),
        ("get", "/api/v1/password-resets")
        | ("post", "/api/v1/password-resets/{id}/approve" | "/api/v1/password-resets/{id}/cancel") => {
            AnyOf(&[UserWrite, RoleGrant])
        }
        ("post", "/api/v1/auth/logout") | ("post", "/api/v1/auth/password") | ("get", "/api/v1/me") => LoggedIn,
        ("get", "/api/v1/departments" | "/api/v1/departments/tree" | "/api/v1/departments/{id}") => Needs(OrgRead),
        ("get", "/api/v1/windows" | "/api/v1/windows/{id}" | "/api/v1/posts" | "/api/v1/posts/{id}") => Needs(OrgRead),
        ("get", "/api/v1/stats/organisation") => Needs(OrgRead),
        ("post" | "put", p)
            if p.starts_with("/api/v1/departments")
                || p.starts_with("/api/v1/windows")
                || p.starts_with("/api/v1/posts") =>
        {
            Needs(OrgWrite)
        }
        ("get", "/api/v1/people" | "/api/v1/people/{id}") => Needs(PeopleRead),
        ("get", "/api/v1/people/export") => Needs(PeopleExport),
        ("get", "/api/v1/people/import-template") | ("post", "/api/v1/people/import") => Needs(PeopleImport),
        ("post" | "put", p) if p.starts_with("/api/v1/people") => Needs(PeopleWrite),
        ("get", "/api/v1/supervisors" | "/api/v1/supervisors/{id}") => Needs(SupervisorRead),
        ("post" | "put", p) if p.starts_with("/api/v1/supervisors") => Needs(SupervisorWrite),
        ("get", "/api/v1/users" | "/api/v1/users/{id}") => Needs(UserRead),
        ("get", "/api/v1/account-links") => Needs(UserWrite),
        ("put", "/api/v1/users/{id}/roles") => Needs(RoleGrant),
        ("post" | "put", p) if p.starts_with("/api/v1/users") => Needs(UserWrite),
        ("get", "/api/v1/settings/security-policy") => Needs(PolicyRead),
        ("put", "/api/v1/settings/security-policy") => Needs(PolicyWrite),
        ("get", "/api/v1/audit" | "/api/v1/audit/verify") => Needs(AuditRead),
        ("get", "/api/v1/events") => Needs(EventRead),
        ("get", "/api/v1/finding-categories") => LoggedIn,
        ("post" | "put", p) if p.starts_with("/api/v1/finding-categories") => Needs(InspectionManage),
        ("get", "/api/v1/plans" | "/api/v1/plans/{id}") => Hidden(InspectionRecord),
        ("get", "/api/v1/inspectors") => Needs(InspectionManage),
        ("get", "/api/v1/calendar") => LoggedIn,
        ("put", "/api/v1/calendar/days") | ("post", "/api/v1/calendar/import") => Needs(InspectionManage),
        ("put", "/api/v1/visits/{id}") => Hidden(InspectionRecord),
        ("post" | "put", p) if p.starts_with("/api/v1/plans") => Needs(InspectionManage),
        ("get", "/api/v1/findings" | "/api/v1/findings/{id}") | ("post", "/api/v1/findings/{id}/steps") => {
            AnyOf(&[InspectionManage, InspectionRecord, FindingRead])
        }
        ("post", "/api/v1/findings") => Needs(InspectionRecord),
        ("get", "/api/v1/settings/inspection-policy") => AnyOf(&[InspectionManage, InspectionRecord, FindingRead]),
        ("put", "/api/v1/settings/inspection-policy") => Needs(InspectionManage),
        ("get", "/api/v1/metrics") => Needs(InspectionManage),
        ("post" | "options", "/api/v1/findings/{id}/uploads")
        | ("head" | "patch" | "delete" | "options", "/api/v1/uploads/{id}")
        | ("get", "/api/v1/evidence/{id}/content") => AnyOf(&[InspectionManage, InspectionRecord, FindingRead]),
        ("get", "/api/v1/public/bulletins" | "/public/bulletins/{year}/{number}") => Public,
        // A connected system's key, not a session, is what the intake checks.
        ("put", "/api/v1/intake/cases/{number}") => Public,
        // The public rates without logging in; a counter device holds a key, not a session.
        ("get", "/api/v1/public/rating-pages/{code}")
        | (
            "post",
            "/api/v1/public/rating-pages/{code}/ratings" | "/api/v1/device/heartbeat" | "/api/v1/device/ratings",
        )
        | ("get", "/api/v1/device/case") => Public,
        ("get", "/api/v1/ratings" | "/api/v1/rating-reasons" | "/api/v1/settings/rating-policy") => Needs(ServiceRead),
        ("put", "/api/v1/rating-reasons" | "/api/v1/settings/rating-policy") | ("get", "/api/v1/rating-codes") => {
            Needs(ServiceManage)
        }
        ("post", "/api/v1/ratings/{id}/reveal-phone") => Needs(RatingReveal),
        ("post", "/api/v1/ratings/review") => Needs(ServiceManage),
        ("post", "/api/v1/public/rating-pages/{code}/complaints") => Public,
        ("get", "/api/v1/tickets" | "/api/v1/tickets/{id}" | "/api/v1/settings/ticket-policy") => Needs(ServiceRead),
        ("get", "/api/v1/tickets/{id}/photo") => Needs(TicketHandle),
        ("get", "/api/v1/rating-measures" | "/api/v1/rating-rankings") => Needs(ServiceRead),
        ("post", "/api/v1/rating-rankings") => Needs(ServiceManage),
        ("get", "/api/v1/public/rankings/{month}") => Public,
        ("put", "/api/v1/settings/ticket-policy") => Needs(ServiceManage),
        ("post", "/api/v1/tickets/{id}/steps") => Needs(TicketHandle),
        ("post", "/api/v1/tickets/{id}/reveal-phone") => Needs(RatingReveal),
        ("get" | "post", "/api/v1/inquiries")
        | ("get", "/api/v1/inquiries/{id}" | "/api/v1/inquiry-receivers" | "/api/v1/settings/inquiry-policy")
        | ("post", "/api/v1/inquiries/{id}/steps" | "/api/v1/inquiries/{id}/reveal-phone") => Needs(InquiryHandle),
        ("get", "/api/v1/inquiry-lapses")
        | ("post", "/api/v1/inquiry-lapses/{id}/review")
        | ("put", "/api/v1/settings/inquiry-policy") => Needs(InquiryReview),
        ("get", "/api/v1/service-items" | "/api/v1/service-cases" | "/api/v1/service-cases/summary")
        | ("get", "/api/v1/service-cases/{id}" | "/api/v1/settings/service-policy") => Needs(ServiceRead),
        ("post", "/api/v1/service-items" | "/api/v1/api-clients" | "/api/v1/api-clients/{id}/revoke")
        | ("post", "/api/v1/service-cases/import")
        | ("put", "/api/v1/service-items/{id}" | "/api/v1/settings/service-policy")
        | ("get", "/api/v1/api-clients") => Needs(ServiceManage),
        ("get", "/api/v1/bulletins" | "/api/v1/bulletins/{id}" | "/api/v1/bulletins/{id}/document") => {
            AnyOf(&[BulletinRead, RectificationManage])
        }
        ("post" | "put", p) if p.starts_with("/api/v1/bulletins") => Needs(RectificationManage),
        ("get", "/api/v1/orders" | "/api/v1/orders/{id}" | "/api/v1/attachments/{id}/content")
        | ("get", "/api/v1/settings/rectification-policy") => Needs(RectificationRead),
        // Submitting is the head's, reviewing the office's: each step checks its own permission.
        ("post", "/api/v1/reports/{id}/steps") => AnyOf(&[ReportSubmit, RectificationManage]),
        ("put", "/api/v1/orders/{id}/report") | ("post", "/api/v1/reports/{id}/attachments") => Needs(ReportDraft),
        ("put", "/api/v1/settings/rectification-policy") | (_, "/api/v1/settings/notify-channels") => {
            Needs(RectificationManage)
        }
        ("post", "/api/v1/instructions") => Needs(InstructionWrite),
        // The handler lets only the follow-up's assignee complete it (see its targets below).
        ("post", "/api/v1/instructions/{id}/follow-up") => LoggedIn,
        ("get", "/api/v1/inbox") | ("post", "/api/v1/notifications/read") => LoggedIn,
        ("get", "/api/v1/campaigns" | "/api/v1/campaigns/{id}" | "/api/v1/campaign-participations/{id}") => {
            AnyOf(&[CampaignManage, CampaignAnswer])
        }
        ("put", "/api/v1/campaign-participations/{id}/answers")
        | ("post", "/api/v1/campaign-participations/{id}/submit") => Needs(CampaignAnswer),
        (_, p) if p.starts_with("/api/v1/campaigns") => Needs(CampaignManage),
        _ => return None,
    })
}

// ------------------------------------------------------------------ the city the matrix walks

/// The records the matrix aims its ids at, made through the API by the people who would make
/// them: a plan with `inspector` on its team, findings, evidence, bulletins, orders with reports,
/// an instruction, campaigns and the organisation's units.
struct Fixture {
    plan: i64,
    /// The plan's visit to bureau A: done (a finding was recorded on it).
    visit_a: i64,
    /// Another visit to bureau A, still scheduled.
    visit_spare: i64,
    /// A finding category in use.
    category_in_use: i64,
    /// Bureau A's finding naming 张伟 (person_a): notified by the published bulletin.
    finding_a: i64,
    /// Commission B's finding: notified by the published bulletin.
    finding_b: i64,
    /// A draft finding on bureau A, recorded by `inspector`.
    finding_draft: i64,
    /// A photo filed on `finding_a` through tus.
    evidence_a: i64,
    /// Published, public: 效能通报〔year〕number号.
    bulletin: i64,
    bulletin_year: i64,
    bulletin_number: i64,
    /// Drafts: one to edit and publish, one to withdraw.
    bulletin_draft: i64,
    bulletin_spare: i64,
    /// The published bulletin's orders, to bureau A and to commission B.
    order_a: i64,
    order_b: i64,
    /// Bureau A's report: a draft by liaison_a, with an attachment.
    report_a: i64,
    attachment_a: i64,
    /// Commission B's report: drafted, with an attachment, and submitted by head_b.
    report_b: i64,
    attachment_b: i64,
    /// The city leader's instruction on the published bulletin, with a follow-up for bureau A.
    instruction: i64,
    /// Open, with bureau A (a department) and 张伟 (a person) taking part.
    campaign: i64,
    campaign_items: Vec<i64>,
    participation_dept: i64,
    participation_person: i64,
    /// A campaign still in draft, and the body that made it.
    campaign_draft: i64,
    campaign_body: Value,
    supervisor: i64,
    window_a: i64,
    window_b: i64,
    post_a: i64,
    post_b: i64,
    /// A finding category nobody uses.
    category: i64,
    /// A department with nothing in it, under the city.
    department: i64,
    inspection_policy: Value,
    rectification_policy: Value,
    security_policy: Value,
    /// Bureau A's service item (330100-XK-001), a system key and a case it pushed, accepted by 张伟;
    /// another system's key, to revoke.
    service_item: i64,
    system_key: String,
    system_client: i64,
    case_a: i64,
    /// A window of bureau A that stays open, its counter device's key, a rating given at it with
    /// a phone, and the reasons in force.
    rating_window: i64,
    device_key: String,
    rating_a: i64,
    reasons: Value,
    /// A complaint about that window, with a phone: a ticket of bureau A, verifying.
    ticket_a: i64,
    /// An inquiry 张伟 (staff_a) was asked first, with a phone, handed to division A1.
    inquiry_a: i64,
    /// An upload the office started on the draft finding and never finished.
    office_upload: String,
    /// Password resets of the city leader's account asked for by the system admin: one to
    /// approve, one to call off.
    reset_to_approve: i64,
    reset_to_cancel: i64,
}

/// What each role changes its password to, last but one.
const NEW_PASSWORD: &str = "Renewed#Pass2027";

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

fn png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    v.extend((0..6000).map(|i| (i % 251) as u8));
    v
}

fn tus_metadata(filename: &str, purpose: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!("filename {},purpose {}", b64(filename), b64(purpose))
}

/// Starts a tus upload of `png()` on a finding; its address.
async fn start_upload(app: &TestApp, s: &Session, finding: i64, purpose: &str) -> String {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/findings/{finding}/uploads"))
        .header(header::COOKIE, &s.cookie)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", png().len().to_string())
        .header("upload-metadata", tus_metadata("现场.png", purpose))
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// Sends `png()` whole to an upload; the evidence it was filed as.
async fn finish_upload(app: &TestApp, s: &Session, at: &str) -> i64 {
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(at)
        .header(header::COOKIE, &s.cookie)
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from(png()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 204, "{}", r.json);
    r.headers["upload-evidence-id"].to_str().unwrap().parse().unwrap()
}

async fn attach_pdf(app: &TestApp, s: &Session, report: i64) -> i64 {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/reports/{report}/attachments?filename=%E6%95%B4%E6%94%B9.pdf"))
        .header(header::COOKIE, &s.cookie)
        .body(Body::from(PDF.to_vec()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

fn report_body() -> Value {
    json!({"cause": "窗口人员纪律观念淡薄", "measures": "实行AB岗，离岗须登记", "results": "已对当事人批评教育",
           "responsible": "张伟，诫勉谈话"})
}

fn id_of(r: &Resp) -> i64 {
    r.ok()["id"].as_i64().unwrap_or_else(|| panic!("no id in {}", r.json))
}

fn plan_body(app: &TestApp, title: &str) -> Value {
    json!({"title": title, "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "active",
           "targets": [{"department_id": app.ids["dept_a"]}, {"department_id": app.ids["dept_b"]}],
           "team": [app.ids["inspector"]]})
}

fn window_body(code: &str, department: i64) -> Value {
    json!({"code": code, "name": "企业登记窗口", "department_id": department, "hall": "市民中心", "number": "3"})
}

fn service_item_body(code: &str, department: i64) -> Value {
    json!({"department_id": department, "code": code, "name": "食品经营许可", "promised_days": 5, "legal_days": 20})
}

fn post_body(code: &str, department: i64) -> Value {
    json!({"code": code, "name": "窗口受理岗", "department_id": department, "post_type": "window_staff",
           "duties": "受理企业登记"})
}

fn supervisor_body(code: &str) -> Value {
    json!({"code": code, "name": "陈监督", "kind": "npc_deputy", "organisation": "市人大", "mobile": "13700000001",
           "term_start": "2026-01-01", "term_end": "2027-12-31"})
}

fn category_body(code: &str) -> Value {
    json!({"code": code, "name": "服务态度生硬", "default_severity": "minor"})
}

fn department_body(app: &TestApp, code: &str) -> Value {
    json!({"code": code, "name": "临时机构", "category": "general", "parent_id": app.ids["city"]})
}

impl Fixture {
    async fn build(app: &TestApp) -> Fixture {
        let (a, b) = (app.ids["dept_a"], app.ids["dept_b"]);
        let office = app.login("office").await;
        let (finding_a, finding_b) = confirmed_findings(app, &office).await;
        let plans = app.get("/api/v1/plans", &office).await;
        let plan = plans.ok()["items"][0]["id"].as_i64().unwrap();
        let detail = app.get(&format!("/api/v1/plans/{plan}"), &office).await;
        let visit_a = detail.ok()["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["department_id"] == a)
            .and_then(|v| v["id"].as_i64())
            .unwrap();
        let cats = app.get("/api/v1/finding-categories", &office).await;
        let category_in_use = cats.ok()[0]["id"].as_i64().unwrap();
        // A photo of bureau A's finding, filed by the office while it is confirmed.
        let at = start_upload(app, &office, finding_a, "evidence").await;
        let evidence_a = finish_upload(app, &office, &at).await;
        // A draft the inspector records; a visit still to come.
        let inspector = app.login("inspector").await;
        let f = app
            .post(
                "/api/v1/findings",
                &inspector,
                json!({"visit_id": visit_a, "department_id": a, "category_id": category_in_use,
                       "occurred_at": "2026-11-02T00:40:00Z", "description": "叫号后无人应答，群众等候约十分钟"}),
            )
            .await;
        let finding_draft = id_of(&f);
        let v = app
            .post(
                &format!("/api/v1/plans/{plan}/visits"),
                &office,
                json!({"department_id": a, "scheduled_on": "2026-11-04"}),
            )
            .await;
        let visit_spare = id_of(&v);

        // The bulletin, published: both findings notified, one order per department.
        let deadline = json!({"kind": "working_days", "days": 5});
        let d =
            app.post("/api/v1/bulletins", &office, bulletin_body(&[finding_a, finding_b], "public", deadline)).await;
        let bulletin = id_of(&d);
        let p = app.post(&format!("/api/v1/bulletins/{bulletin}/publish"), &office, json!({})).await;
        let orders = p.ok()["orders"].as_array().unwrap().clone();
        let order_of = |dept: i64| orders.iter().find(|o| o["department_id"] == dept).unwrap()["id"].as_i64().unwrap();
        let (order_a, order_b) = (order_of(a), order_of(b));
        let (bulletin_year, bulletin_number) = (p.json["year"].as_i64().unwrap(), p.json["number"].as_i64().unwrap());
        let draft = |n: &str| {
            let mut body = bulletin_body(&[finding_a], "internal", Value::Null);
            body["title"] = json!(format!("关于{n}的通报"));
            body
        };
        let bulletin_draft = id_of(&app.post("/api/v1/bulletins", &office, draft("窗口纪律")).await);
        let bulletin_spare = id_of(&app.post("/api/v1/bulletins", &office, draft("作风建设")).await);

        // Bureau A's liaison drafts and attaches; commission B's head answers in full.
        let liaison = app.login("liaison_a").await;
        let r = app.put(&format!("/api/v1/orders/{order_a}/report"), &liaison, report_body()).await;
        let report_a = r.ok()["reports"][0]["id"].as_i64().unwrap();
        let attachment_a = attach_pdf(app, &liaison, report_a).await;
        let head_b = app.login("head_b").await;
        let r = app.put(&format!("/api/v1/orders/{order_b}/report"), &head_b, report_body()).await;
        let report_b = r.ok()["reports"][0]["id"].as_i64().unwrap();
        let attachment_b = attach_pdf(app, &head_b, report_b).await;
        let s =
            app.post(&format!("/api/v1/reports/{report_b}/steps"), &head_b, json!({"action": "submit_report"})).await;
        assert_eq!(s.ok()["status"], "submitted");

        let leader = app.login("leader").await;
        let i = app
            .post(
                "/api/v1/instructions",
                &leader,
                json!({"target_kind": "bulletin", "target_id": bulletin, "text": "请市场监管局一周内拿出整改方案",
                       "follow_up": {"department_id": a, "due": "2026-11-09"}}),
            )
            .await;
        let instruction = id_of(&i);

        // A campaign open to bureau A and to 张伟; another still a draft.
        let mut campaign_body = app.get("/api/v1/campaigns/template", &office).await.ok().clone();
        campaign_body["participants"] = json!([
            {"kind": "department", "department_id": a},
            {"kind": "person", "person_id": app.ids["person_a"]}
        ]);
        let c = app.post("/api/v1/campaigns", &office, campaign_body.clone()).await;
        let campaign = id_of(&c);
        let campaign_items = c.json["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
        let part = |kind: &str| {
            c.json["participants"].as_array().unwrap().iter().find(|p| p["kind"] == kind).unwrap()["id"]
                .as_i64()
                .unwrap()
        };
        let (participation_dept, participation_person) = (part("department"), part("person"));
        app.post(&format!("/api/v1/campaigns/{campaign}/open"), &office, json!({})).await.ok();
        let campaign_draft = id_of(&app.post("/api/v1/campaigns", &office, campaign_body.clone()).await);

        let supervisor = id_of(&app.post("/api/v1/supervisors", &office, supervisor_body("JD1")).await);
        let window_a = id_of(&app.post("/api/v1/windows", &office, window_body("CK-A", a)).await);
        let window_b = id_of(&app.post("/api/v1/windows", &office, window_body("CK-B", b)).await);
        let post_a = id_of(&app.post("/api/v1/posts", &office, post_body("GW-A", a)).await);
        let post_b = id_of(&app.post("/api/v1/posts", &office, post_body("GW-B", b)).await);
        let category = id_of(&app.post("/api/v1/finding-categories", &office, category_body("TMPCAT")).await);
        let department = id_of(&app.post("/api/v1/departments", &office, department_body(app, "TMP")).await);
        let mut inspection_policy = app.get("/api/v1/settings/inspection-policy", &office).await.ok().clone();
        // The matrix leaves many uploads unfinished: more than one person may have going at once.
        inspection_policy["max_open_uploads"] = json!(32);
        app.put("/api/v1/settings/inspection-policy", &office, inspection_policy.clone()).await.ok();
        let rectification_policy = app.get("/api/v1/settings/rectification-policy", &office).await.ok().clone();
        let secadmin = app.login("secadmin").await;
        let security_policy = app.get("/api/v1/settings/security-policy", &secadmin).await.ok().clone();
        let office_upload = start_upload(app, &office, finding_draft, "evidence").await;
        let system_key = crate::service::item_and_key(app).await;
        let service_item = app.get("/api/v1/service-items", &office).await.ok()["items"][0]["id"].as_i64().unwrap();
        // A second key, to revoke: the first must still push when the matrix reaches the intake.
        let spare = app.post("/api/v1/api-clients", &office, json!({"kind": "system", "name": "备用系统"})).await;
        let system_client = id_of(&spare);
        let case_a =
            id_of(&crate::service::push(app, Some(&system_key), "SP-A", crate::service::case_body(None)).await);
        let rating_window = id_of(&app.post("/api/v1/windows", &office, window_body("CK-R", a)).await);
        let device = app
            .post(
                "/api/v1/api-clients",
                &office,
                json!({"kind": "device", "name": "评价器", "window_id": rating_window}),
            )
            .await;
        let device_key = device.ok()["key"].as_str().unwrap().to_owned();
        let rated = app
            .call(
                Method::POST,
                &format!("/api/v1/public/rating-pages/w{rating_window}/ratings"),
                None,
                Some(json!({"level": "dissatisfied", "reasons": ["long_wait"], "phone": "13912340001"})),
            )
            .await;
        let rating_a = id_of(&rated);
        let reasons = app.get("/api/v1/rating-reasons", &office).await.ok()["reasons"].clone();
        app.call(
            Method::POST,
            &format!("/api/v1/public/rating-pages/w{rating_window}/complaints"),
            None,
            Some(json!({"content": "窗口无人", "phone": "13912340002",
                "photo": base64::engine::general_purpose::STANDARD.encode(png())})),
        )
        .await;
        // October's ranking, published.
        app.post("/api/v1/rating-rankings", &office, json!({"month": "2026-10"})).await.ok();
        let ticket_a = app.get("/api/v1/tickets?source=complaint", &office).await.ok()["items"][0]["id"]
            .as_i64()
            .expect("the complaint's ticket");
        let staff_a = app.login("staff_a").await;
        let asked = json!({"channel": "counter", "content": "食品经营许可延续", "phone": "13912340003",
            "then": "hand_over", "text": "请答复", "to": {"department_id": app.ids["dept_a1"]}});
        let inquiry_a = id_of(&app.post("/api/v1/inquiries", &staff_a, asked).await);
        let sysadmin = app.login("sysadmin").await;
        let mut resets = Vec::new();
        for who in ["leader", "head_b"] {
            let r = app
                .post(
                    &format!("/api/v1/users/{}/reset-password", app.ids[who]),
                    &sysadmin,
                    json!({"reason": "本人来电"}),
                )
                .await;
            resets.push(r.ok()["reset"]["id"].as_i64().unwrap());
        }
        Fixture {
            reset_to_approve: resets[0],
            reset_to_cancel: resets[1],
            plan,
            visit_a,
            visit_spare,
            category_in_use,
            finding_a,
            finding_b,
            finding_draft,
            evidence_a,
            bulletin,
            bulletin_year,
            bulletin_number,
            bulletin_draft,
            bulletin_spare,
            order_a,
            order_b,
            report_a,
            attachment_a,
            report_b,
            attachment_b,
            instruction,
            campaign,
            campaign_items,
            participation_dept,
            participation_person,
            campaign_draft,
            campaign_body,
            supervisor,
            window_a,
            window_b,
            post_a,
            post_b,
            category,
            department,
            inspection_policy,
            rectification_policy,
            security_policy,
            office_upload,
            service_item,
            system_key,
            system_client,
            case_a,
            rating_window,
            device_key,
            rating_a,
            reasons,
            ticket_a,
            inquiry_a,
        }
    }
}

/// Uploads of the role's own (for HEAD, PATCH and DELETE), on a finding they may add files to:
/// the office and the team on the draft, the department's head and the person named appeal
/// files on bureau A's notified finding. Nobody else can start one.
async fn own_uploads(app: &TestApp, s: &Session, user: &str, fx: &Fixture) -> Option<[String; 3]> {
    let (finding, purpose) = match user {
        "office" | "inspector" => (fx.finding_draft, "evidence"),
        "head_a" | "staff_a" => (fx.finding_a, "appeal"),
        _ => return None,
    };
    Some([
        start_upload(app, s, finding, purpose).await,
        start_upload(app, s, finding, purpose).await,
        start_upload(app, s, finding, purpose).await,
    ])
}

// ------------------------------------------------------------------ what each call expects

/// What a call expects once the route's rule has let the role in. (A role the rule keeps out
/// gets 403 `forbidden`, or 404 on a hidden route, whatever the call.)
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A 2xx.
    Ok,
    /// A named business error: this status and code (and `details.reason`). Never 401, 403, 404
    /// or 5xx, nor the codes `not_found`, `forbidden`, `unauthenticated`, `internal_error`.
    Business(u16, &'static str, Option<&'static str>),
    /// head_b and bureau A's records: outside the role's data scope, 404 `not_found`.
    OutOfScope,
    /// The handler's own refusal of the role's part in the route: this status, code and
    /// `details.reason`.
    Refused(u16, &'static str, Option<&'static str>),
}

enum Payload {
    Empty,
    Json(Value),
    Bytes(Vec<u8>, &'static str),
}

/// One call: where, with what, and what the role should meet.
struct Check {
    uri: String,
    payload: Payload,
    headers: Vec<(&'static str, String)>,
    expect: Expect,
    /// Why the expectation is what it is, for failure messages.
    why: &'static str,
}

impl Check {
    fn new(uri: impl Into<String>, payload: Payload, expect: Expect) -> Self {
        Check { uri: uri.into(), payload, headers: Vec::new(), expect, why: "" }
    }

    fn json(uri: impl Into<String>, body: Value, expect: Expect) -> Self {
        Check::new(uri, Payload::Json(body), expect)
    }

    fn empty(uri: impl Into<String>, expect: Expect) -> Self {
        Check::new(uri, Payload::Empty, expect)
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn because(mut self, why: &'static str) -> Self {
        self.why = why;
        self
    }
}

/// A record of bureau A: head_b, of commission B, is outside its scope.
fn in_a(user: &str) -> Expect {
    if user == "head_b" { Expect::OutOfScope } else { Expect::Ok }
}

/// The refusal contract for a step that is not the caller's (error.rs, `From<Refusal>`).
fn actor_refusal() -> Expect {
    Expect::Refused(409, "invalid_transition", Some("actor"))
}

fn xlsx(headers: &[&str], row: &[&str]) -> Payload {
    let row: Vec<String> = row.iter().map(|c| (*c).to_owned()).collect();
    let bytes = xiaoneng_server::excel::write_sheet("Sheet1", headers, &[row]).unwrap();
    Payload::Bytes(bytes, xiaoneng_server::excel::XLSX_MIME)
}

fn tus_create(uri: String, purpose: &str, expect: Expect) -> Check {
    Check::empty(uri, expect)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", png().len().to_string())
        .header("upload-metadata", tus_metadata("申诉材料.png", purpose))
}

/// The calls made on one route for one role: the ids of records the role could be scoped to see
/// (bureau A's, for the department roles), real bodies, and what each call should meet. Several
/// calls where the handler decides part of the permission itself.
fn checks(app: &TestApp, fx: &Fixture, own: Option<&[String; 3]>, user: &str, method: &str, path: &str) -> Vec<Check> {
    use Expect::{Ok, OutOfScope, Refused};
    let ids = &app.ids;
    let (a, b) = (ids["dept_a"], ids["dept_b"]);
    let head_b = user == "head_b";
    // head_b's own department's records: never 404 for it.
    let own_dept = |c: Check| if head_b { vec![c] } else { vec![] };
    let one = |c: Check| vec![c];
    let target_user = ids["leader"];
    match (method, path) {
        ("get", "/api/v1/account-links") => one(Check::empty("/api/v1/account-links?kind=person", Ok)),
        ("get", "/api/v1/attachments/{id}/content") => {
            let mut v = one(Check::empty(format!("/api/v1/attachments/{}/content", fx.attachment_a), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/attachments/{}/content", fx.attachment_b), Ok)));
            v
        }
        ("get", "/api/v1/audit") => one(Check::empty("/api/v1/audit?page_size=5", Ok)),
        ("get", "/api/v1/audit/verify") => one(Check::empty("/api/v1/audit/verify", Ok)),
        ("post", "/api/v1/auth/login") => {
            one(Check::json("/api/v1/auth/login", json!({"username": user, "password": PASSWORD}), Ok))
        }
        ("post", "/api/v1/auth/logout") => one(Check::empty("/api/v1/auth/logout", Ok)),
        // No login of this browser awaits a code.
        ("post", "/api/v1/auth/login/second-factor") => one(Check::json(
            "/api/v1/auth/login/second-factor",
            json!({"code": "123456"}),
            Refused(401, "login_challenge_expired", None),
        )),
        ("get", "/api/v1/auth/second-factor") => one(Check::empty("/api/v1/auth/second-factor", Ok)),
        ("post", "/api/v1/auth/second-factor/enrolment") => {
            one(Check::json("/api/v1/auth/second-factor/enrolment", json!({}), Ok))
        }
        // Started just before (routes run in order); a code that cannot be the app's.
        ("post", "/api/v1/auth/second-factor/enrolment/confirm") => one(Check::json(
            "/api/v1/auth/second-factor/enrolment/confirm",
            json!({"code": "abcdef"}),
            Expect::Business(422, "validation_failed", None),
        )),
        ("post", "/api/v1/auth/second-factor/recovery-codes" | "/api/v1/auth/second-factor/disable") => {
            one(Check::json(path, json!({"password": PASSWORD}), Expect::Business(409, "no_second_factor", None)))
        }
        ("post", "/api/v1/users/{id}/second-factor/reset") => one(Check::json(
            format!("/api/v1/users/{target_user}/second-factor/reset"),
            json!({"reason": "手机遗失"}),
            Expect::Business(409, "no_second_factor", None),
        )),
        // No code was handed out for this account: refused, whoever asks.
        ("post", "/api/v1/auth/password-reset") => one(Check::json(
            "/api/v1/auth/password-reset",
            json!({"username": "office", "code": "ABCDE-FGHJK-LMNPQ-RSTUV", "new_password": NEW_PASSWORD}),
            Refused(401, "invalid_reset_code", None),
        )),
        ("get", "/api/v1/password-resets") => one(Check::empty("/api/v1/password-resets", Ok)),
        // Approving is the security admin's; calling off either admin's (core::reset).
        ("post", "/api/v1/password-resets/{id}/approve") => one(Check::json(
            format!("/api/v1/password-resets/{}/approve", fx.reset_to_approve),
            json!({}),
            if user == "secadmin" { Ok } else { actor_refusal() },
        )),
        ("post", "/api/v1/password-resets/{id}/cancel") => one(Check::json(
            format!("/api/v1/password-resets/{}/cancel", fx.reset_to_cancel),
            json!({"reason": "用户已想起密码"}),
            Ok,
        )),
        ("post", "/api/v1/auth/password") => one(Check::json(
            "/api/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            Ok,
        )),
        ("get", "/api/v1/bulletins") => one(Check::empty("/api/v1/bulletins", Ok)),
        ("post", "/api/v1/bulletins") => {
            one(Check::json("/api/v1/bulletins", bulletin_body(&[fx.finding_a], "internal", Value::Null), Ok))
        }
        ("get", "/api/v1/bulletins/{id}") => vec![
            Check::empty(format!("/api/v1/bulletins/{}", fx.bulletin), Ok),
            Check::empty(
                format!("/api/v1/bulletins/{}", fx.bulletin_draft),
                if user == "office" { Ok } else { Refused(404, "not_found", None) },
            )
            .because("a draft bulletin is the office's alone"),
        ],
        ("put", "/api/v1/bulletins/{id}") => one(Check::json(
            format!("/api/v1/bulletins/{}", fx.bulletin_draft),
            bulletin_body(&[fx.finding_a], "internal", Value::Null),
            Ok,
        )),
        ("get", "/api/v1/bulletins/{id}/document") => {
            one(Check::empty(format!("/api/v1/bulletins/{}/document?format=docx", fx.bulletin), Ok))
        }
        ("post", "/api/v1/bulletins/{id}/publish") => {
            one(Check::json(format!("/api/v1/bulletins/{}/publish", fx.bulletin_draft), json!({}), Ok))
        }
        ("post", "/api/v1/bulletins/{id}/withdraw") => one(Check::json(
            format!("/api/v1/bulletins/{}/withdraw", fx.bulletin_spare),
            json!({"reason": "与前期通报内容重复"}),
            Ok,
        )),
        ("get", "/api/v1/calendar") => one(Check::empty("/api/v1/calendar?year=2026", Ok)),
        ("put", "/api/v1/calendar/days") => one(Check::json(
            "/api/v1/calendar/days",
            json!({"day": "2027-01-04", "working": false, "note": "调休"}),
            Ok,
        )),
        ("post", "/api/v1/calendar/import") => one(Check::new(
            "/api/v1/calendar/import",
            xlsx(&["日期", "类型", "说明"], &["2027-01-05", "放假", "调休"]),
            Ok,
        )),
        ("get", "/api/v1/campaign-participations/{id}") => {
            let p = if user == "staff_a" { fx.participation_person } else { fx.participation_dept };
            one(Check::empty(format!("/api/v1/campaign-participations/{p}"), in_a(user)))
        }
        ("put", "/api/v1/campaign-participations/{id}/answers") => {
            let p = if user == "staff_a" { fx.participation_person } else { fx.participation_dept };
            let answers: Vec<Value> = fx
                .campaign_items
                .iter()
                .map(|i| json!({"item_id": i, "found": "个别窗口人员服务意识不强", "measures": "开展服务礼仪培训", "due": "2026-11-30"}))
                .collect();
            one(Check::json(
                format!("/api/v1/campaign-participations/{p}/answers"),
                json!({"answers": answers}),
                in_a(user),
            ))
        }
        ("post", "/api/v1/campaign-participations/{id}/submit") => {
            let p = if user == "staff_a" { fx.participation_person } else { fx.participation_dept };
            // The liaison answers for the department; only its head submits.
            let expect = if user == "liaison_a" { actor_refusal() } else { in_a(user) };
            one(Check::json(format!("/api/v1/campaign-participations/{p}/submit"), json!({}), expect)
                .because("the department's head submits its self-check, not the liaison"))
        }
        ("get", "/api/v1/campaigns") => one(Check::empty("/api/v1/campaigns", Ok)),
        ("post", "/api/v1/campaigns") => one(Check::json("/api/v1/campaigns", fx.campaign_body.clone(), Ok)),
        ("get", "/api/v1/campaigns/template") => one(Check::empty("/api/v1/campaigns/template", Ok)),
        // Shown to its participants only: head_b's department is not one.
        ("get", "/api/v1/campaigns/{id}") => {
            one(Check::empty(format!("/api/v1/campaigns/{}", fx.campaign), in_a(user)))
        }
        ("put", "/api/v1/campaigns/{id}") => {
            one(Check::json(format!("/api/v1/campaigns/{}", fx.campaign_draft), fx.campaign_body.clone(), Ok))
        }
        ("post", "/api/v1/campaigns/{id}/close") => {
            one(Check::json(format!("/api/v1/campaigns/{}/close", fx.campaign), json!({}), Ok))
        }
        ("get", "/api/v1/campaigns/{id}/export") => {
            one(Check::empty(format!("/api/v1/campaigns/{}/export", fx.campaign), Ok))
        }
        ("post", "/api/v1/campaigns/{id}/open") => {
            one(Check::json(format!("/api/v1/campaigns/{}/open", fx.campaign_draft), json!({}), Ok))
        }
        ("get", "/api/v1/departments") => one(Check::empty("/api/v1/departments", Ok)),
        ("post", "/api/v1/departments") => one(Check::json("/api/v1/departments", department_body(app, "NEW2"), Ok)),
        ("get", "/api/v1/departments/tree") => one(Check::empty("/api/v1/departments/tree", Ok)),
        ("get", "/api/v1/departments/{id}") => {
            let mut v = one(Check::empty(format!("/api/v1/departments/{a}"), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/departments/{b}"), Ok)));
            v
        }
        ("put", "/api/v1/departments/{id}") => {
            one(Check::json(format!("/api/v1/departments/{}", fx.department), department_body(app, "TMP"), Ok))
        }
        ("post", "/api/v1/departments/{id}/retire") => {
            one(Check::json(format!("/api/v1/departments/{}/retire", fx.department), json!({"reason": "机构调整"}), Ok))
        }
        ("get", "/api/v1/events") => one(Check::empty("/api/v1/events", Ok)),
        ("get", "/api/v1/evidence/{id}/content") => {
            one(Check::empty(format!("/api/v1/evidence/{}/content", fx.evidence_a), in_a(user)))
        }
        ("get", "/api/v1/finding-categories") => one(Check::empty("/api/v1/finding-categories", Ok)),
        ("post", "/api/v1/finding-categories") => {
            one(Check::json("/api/v1/finding-categories", category_body("NEWCAT"), Ok))
        }
        ("put", "/api/v1/finding-categories/{id}") => {
            one(Check::json(format!("/api/v1/finding-categories/{}", fx.category), category_body("TMPCAT"), Ok))
        }
        ("post", "/api/v1/finding-categories/{id}/retire") => one(Check::json(
            format!("/api/v1/finding-categories/{}/retire", fx.category),
            json!({"reason": "并入其他类别"}),
            Ok,
        )),
        ("get", "/api/v1/findings") => one(Check::empty("/api/v1/findings", Ok)),
        ("post", "/api/v1/findings") => one(Check::json(
            "/api/v1/findings",
            json!({"visit_id": fx.visit_a, "department_id": a, "category_id": fx.category_in_use,
                   "occurred_at": "2026-11-02T00:50:00Z", "description": "窗口工作人员未佩戴工作牌"}),
            Ok,
        )),
        ("get", "/api/v1/findings/{id}") => {
            let mut v = one(Check::empty(format!("/api/v1/findings/{}", fx.finding_a), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/findings/{}", fx.finding_b), Ok)));
            v
        }
        // Confirming is the office's, appealing the department head's or the person named's:
        // FindingFacts::permits, from the caller's FindingAccess.
        ("post", "/api/v1/findings/{id}/steps") => {
            let confirm = match user {
                "office" => Check::json(
                    format!("/api/v1/findings/{}/steps", fx.finding_draft),
                    json!({"action": "confirm"}),
                    Ok,
                ),
                "inspector" => Check::json(
                    format!("/api/v1/findings/{}/steps", fx.finding_draft),
                    json!({"action": "confirm"}),
                    actor_refusal(),
                )
                .because("the team records; only the office confirms"),
                // A department never sees a draft; a notified finding is past confirming.
                _ => Check::json(
                    format!("/api/v1/findings/{}/steps", fx.finding_a),
                    json!({"action": "confirm", "expected_state": "notified"}),
                    if head_b { OutOfScope } else { Refused(409, "invalid_transition", Some("state")) },
                )
                .because("outside the office a finding is seen only once notified, past confirming"),
            };
            let appeal = Check::json(
                format!("/api/v1/findings/{}/steps", fx.finding_a),
                json!({"action": "appeal", "reason": "当时窗口人员在后台调取档案，并未离岗"}),
                match user {
                    "head_a" | "staff_a" => Ok,
                    "head_b" => OutOfScope,
                    _ => actor_refusal(),
                },
            )
            .because("the department's head or the person named appeals, nobody else");
            vec![confirm, appeal]
        }
        // Capabilities only: the id is not read.
        ("options", "/api/v1/findings/{id}/uploads") => {
            one(Check::empty(format!("/api/v1/findings/{}/uploads", fx.finding_a), Ok))
        }
        // FindingFacts::attachable: the office and the team add evidence to a draft, the head or
        // the person named add appeal files to a notified finding.
        ("post", "/api/v1/findings/{id}/uploads") => one(match user {
            "office" | "inspector" => {
                tus_create(format!("/api/v1/findings/{}/uploads", fx.finding_draft), "evidence", Ok)
            }
            _ => tus_create(
                format!("/api/v1/findings/{}/uploads", fx.finding_a),
                "appeal",
                match user {
                    "head_a" | "staff_a" => Ok,
                    "head_b" => OutOfScope,
                    // The finding takes appeal files now, only not from them.
                    _ => actor_refusal(),
                },
            )
            .because("appeal files are the department head's or the person named's"),
        }),
        ("get", "/api/v1/inbox") => one(Check::empty("/api/v1/inbox", Ok)),
        ("get", "/api/v1/inspectors") => one(Check::empty("/api/v1/inspectors", Ok)),
        ("post", "/api/v1/instructions") => one(Check::json(
            "/api/v1/instructions",
            json!({"target_kind": "bulletin", "target_id": fx.bulletin, "text": "请各部门举一反三，立行立改"}),
            Ok,
        )),
        // The follow-up is bureau A's: its head reports it done.
        ("post", "/api/v1/instructions/{id}/follow-up") => one(Check::json(
            format!("/api/v1/instructions/{}/follow-up", fx.instruction),
            json!({"note": "整改方案已报市领导"}),
            match user {
                "head_a" => Ok,
                // Who cannot read the bulletin cannot see its instructions at all.
                "inspector" | "sysadmin" | "secadmin" | "auditor" => Refused(404, "not_found", None),
                // Whoever reads the bulletin sees the instruction and its follow-up, and is told
                // it is not theirs to complete.
                _ => actor_refusal(),
            },
        )
        .because("a follow-up is its assignee's (the head of bureau A) to complete")),
        ("get", "/api/v1/me") => one(Check::empty("/api/v1/me", Ok)),
        ("post", "/api/v1/notifications/read") => one(Check::json("/api/v1/notifications/read", json!({}), Ok)),
        ("get", "/api/v1/orders") => one(Check::empty("/api/v1/orders", Ok)),
        ("get", "/api/v1/orders/{id}") => {
            let mut v = one(Check::empty(format!("/api/v1/orders/{}", fx.order_a), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/orders/{}", fx.order_b), Ok)));
            v
        }
        ("put", "/api/v1/orders/{id}/report") => {
            let mut v = one(Check::json(format!("/api/v1/orders/{}/report", fx.order_a), report_body(), in_a(user)));
            // Its own report is submitted: past drafting.
            v.extend(own_dept(Check::json(
                format!("/api/v1/orders/{}/report", fx.order_b),
                report_body(),
                Expect::Business(409, "invalid_transition", Some("state")),
            )));
            v
        }
        ("get", "/api/v1/people") => one(Check::empty("/api/v1/people", Ok)),
        ("post", "/api/v1/people") => one(Check::json(
            "/api/v1/people",
            json!({"employee_no": "P-NEW", "name": "赵六", "gender": "male", "department_id": a, "mobile": "13900000001"}),
            Ok,
        )),
        ("get", "/api/v1/people/export") => one(Check::empty("/api/v1/people/export", Ok)),
        ("post", "/api/v1/people/import") => one(Check::new(
            "/api/v1/people/import",
            xlsx(
                &["工号", "姓名", "性别", "部门编码", "岗位编码", "窗口编码", "手机号", "一把手", "分管领导"],
                &["P-IMP", "钱七", "男", "A", "", "", "13900000002", "否", "否"],
            ),
            Ok,
        )),
        ("get", "/api/v1/people/import-template") => one(Check::empty("/api/v1/people/import-template", Ok)),
        ("get", "/api/v1/people/{id}") => {
            let mut v = one(Check::empty(format!("/api/v1/people/{}", ids["person_a"]), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/people/{}", ids["person_b"]), Ok)));
            v
        }
        ("put", "/api/v1/people/{id}") => one(Check::json(
            format!("/api/v1/people/{}", ids["person_a1"]),
            json!({"employee_no": "P-A1", "name": "王芳", "gender": "female", "department_id": ids["dept_a1"],
                   "mobile": "13812345678"}),
            Ok,
        )),
        ("post", "/api/v1/people/{id}/retire") => {
            one(Check::json(format!("/api/v1/people/{}/retire", ids["person_a1"]), json!({"reason": "调离"}), Ok))
        }
        ("get", "/api/v1/plans") => one(Check::empty("/api/v1/plans", Ok)),
        ("post", "/api/v1/plans") => one(Check::json("/api/v1/plans", plan_body(app, "12月暗访"), Ok)),
        ("get", "/api/v1/plans/{id}") => one(Check::empty(format!("/api/v1/plans/{}", fx.plan), Ok)),
        ("put", "/api/v1/plans/{id}") => {
            one(Check::json(format!("/api/v1/plans/{}", fx.plan), plan_body(app, "11月暗访"), Ok))
        }
        ("post", "/api/v1/plans/{id}/visits") => one(Check::json(
            format!("/api/v1/plans/{}/visits", fx.plan),
            json!({"department_id": b, "scheduled_on": "2026-11-05"}),
            Ok,
        )),
        ("get", "/api/v1/posts") => one(Check::empty("/api/v1/posts", Ok)),
        ("post", "/api/v1/posts") => one(Check::json("/api/v1/posts", post_body("GW-NEW", a), Ok)),
        ("get", "/api/v1/posts/{id}") => {
            let mut v = one(Check::empty(format!("/api/v1/posts/{}", fx.post_a), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/posts/{}", fx.post_b), Ok)));
            v
        }
        ("put", "/api/v1/posts/{id}") => {
            one(Check::json(format!("/api/v1/posts/{}", fx.post_a), post_body("GW-A", a), Ok))
        }
        ("post", "/api/v1/posts/{id}/retire") => {
            one(Check::json(format!("/api/v1/posts/{}/retire", fx.post_a), json!({"reason": "岗位合并"}), Ok))
        }
        ("get", "/api/v1/public/bulletins") => one(Check::empty("/api/v1/public/bulletins", Ok)),
        ("post", "/api/v1/reports/{id}/attachments") => {
            let attach = |report: i64, expect: Expect| {
                Check::new(
                    format!("/api/v1/reports/{report}/attachments?filename=%E6%95%B4%E6%94%B9.pdf"),
                    Payload::Bytes(PDF.to_vec(), "application/pdf"),
                    expect,
                )
            };
            let mut v = one(attach(fx.report_a, in_a(user)));
            // Its own report is submitted: past attaching.
            v.extend(own_dept(attach(fx.report_b, Expect::Business(409, "invalid_transition", Some("state")))));
            v
        }
        // Submitting is the head's, accepting the office's: a caller the route lets in through the
        // other permission is told the step is not theirs (core's `OrderFacts::permits`).
        ("post", "/api/v1/reports/{id}/steps") => {
            let not_theirs = actor_refusal();
            let submit = Check::json(
                format!("/api/v1/reports/{}/steps", fx.report_a),
                json!({"action": "submit_report"}),
                match user {
                    "head_a" => Ok,
                    "head_b" => OutOfScope,
                    _ => not_theirs,
                },
            )
            .because("submitting is for report:submit (the department's head)");
            // The office reviews commission B's submitted report; the heads try their own
            // department's, submitted (bureau A's just now, by head_a).
            let report = if head_b || user == "office" { fx.report_b } else { fx.report_a };
            let accept = Check::json(
                format!("/api/v1/reports/{report}/steps"),
                json!({"action": "accept", "comment": "同意"}),
                if user == "office" { Ok } else { not_theirs },
            )
            .because("reviewing is for rectification:manage (the office)");
            let mut v = vec![submit, accept];
            // Its own report is submitted already.
            v.extend(own_dept(Check::json(
                format!("/api/v1/reports/{}/steps", fx.report_b),
                json!({"action": "submit_report"}),
                Expect::Business(409, "invalid_transition", Some("state")),
            )));
            v
        }
        ("get", "/api/v1/settings/inspection-policy") => one(Check::empty("/api/v1/settings/inspection-policy", Ok)),
        ("get", "/api/v1/metrics") => one(Check::empty("/api/v1/metrics", Ok)),
        ("put", "/api/v1/settings/inspection-policy") => {
            one(Check::json("/api/v1/settings/inspection-policy", fx.inspection_policy.clone(), Ok))
        }
        ("get", "/api/v1/settings/notify-channels") => one(Check::empty("/api/v1/settings/notify-channels", Ok)),
        ("put", "/api/v1/settings/notify-channels") => {
            one(Check::json("/api/v1/settings/notify-channels", json!({"mail_to": ["duban@example.gov.cn"]}), Ok))
        }
        ("get", "/api/v1/settings/rectification-policy") => {
            one(Check::empty("/api/v1/settings/rectification-policy", Ok))
        }
        ("put", "/api/v1/settings/rectification-policy") => {
            one(Check::json("/api/v1/settings/rectification-policy", fx.rectification_policy.clone(), Ok))
        }
        ("get", "/api/v1/settings/security-policy") => one(Check::empty("/api/v1/settings/security-policy", Ok)),
        ("put", "/api/v1/settings/security-policy") => {
            one(Check::json("/api/v1/settings/security-policy", fx.security_policy.clone(), Ok))
        }
        ("get", "/api/v1/stats/organisation") => one(Check::empty("/api/v1/stats/organisation", Ok)),
        ("get", "/api/v1/supervisors") => one(Check::empty("/api/v1/supervisors", Ok)),
        ("post", "/api/v1/supervisors") => one(Check::json("/api/v1/supervisors", supervisor_body("JD9"), Ok)),
        ("get", "/api/v1/supervisors/{id}") => one(Check::empty(format!("/api/v1/supervisors/{}", fx.supervisor), Ok)),
        ("put", "/api/v1/supervisors/{id}") => {
            one(Check::json(format!("/api/v1/supervisors/{}", fx.supervisor), supervisor_body("JD1"), Ok))
        }
        ("post", "/api/v1/supervisors/{id}/retire") => {
            one(Check::json(format!("/api/v1/supervisors/{}/retire", fx.supervisor), json!({"reason": "任期届满"}), Ok))
        }
        // Capabilities only: the token is not read.
        ("options", "/api/v1/uploads/{id}") => one(Check::empty(fx.office_upload.clone(), Ok)),
        ("head" | "patch" | "delete", "/api/v1/uploads/{id}") => {
            let slot = match method {
                "head" => 0,
                "patch" => 1,
                _ => 2,
            };
            let (uri, expect) = match own {
                Some(tokens) => (tokens[slot].clone(), Ok),
                // An upload is its creator's alone; these roles cannot start one on these findings.
                None => (fx.office_upload.clone(), if head_b { OutOfScope } else { Refused(404, "not_found", None) }),
            };
            let mut c = Check::new(
                uri,
                if method == "patch" {
                    Payload::Bytes(png(), "application/offset+octet-stream")
                } else {
                    Payload::Empty
                },
                expect,
            )
            .header("tus-resumable", "1.0.0")
            .because("an upload is its creator's alone");
            if method == "patch" {
                c = c.header("upload-offset", "0");
            }
            one(c)
        }
        ("get", "/api/v1/users") => one(Check::empty("/api/v1/users", Ok)),
        ("post", "/api/v1/users") => one(Check::json(
            "/api/v1/users",
            json!({"username": "new_clerk", "display_name": "新来的干部", "password": "Welcome#2026x"}),
            Ok,
        )),
        ("get", "/api/v1/users/{id}") => one(Check::empty(format!("/api/v1/users/{target_user}"), Ok)),
        ("put", "/api/v1/users/{id}") => {
            one(Check::json(format!("/api/v1/users/{target_user}"), json!({"display_name": "市领导"}), Ok))
        }
        ("post", "/api/v1/users/{id}/disable") => {
            one(Check::json(format!("/api/v1/users/{target_user}/disable"), json!({"reason": "休假"}), Ok))
        }
        ("post", "/api/v1/users/{id}/enable") => {
            one(Check::json(format!("/api/v1/users/{target_user}/enable"), json!({"reason": "返岗"}), Ok))
        }
        ("post", "/api/v1/users/{id}/reset-password") => one(Check::json(
            format!("/api/v1/users/{target_user}/reset-password"),
            json!({"reason": "本人来电，已核实身份"}),
            Ok,
        )),
        ("put", "/api/v1/users/{id}/roles") => {
            one(Check::json(format!("/api/v1/users/{target_user}/roles"), json!({"roles": ["city_leader"]}), Ok))
        }
        ("post", "/api/v1/users/{id}/unlock") => one(Check::empty(format!("/api/v1/users/{target_user}/unlock"), Ok)),
        // Writing notes is the team's; calling a visit off is the office's (VisitFacts::decide).
        ("put", "/api/v1/visits/{id}") => vec![
            Check::json(
                format!("/api/v1/visits/{}", fx.visit_a),
                json!({"status": "done", "notes": "补记暗访情况"}),
                Ok,
            ),
            Check::json(
                format!("/api/v1/visits/{}", fx.visit_spare),
                json!({"status": "cancelled", "notes": "改期"}),
                if user == "office" { Ok } else { actor_refusal() },
            )
            .because("only the office calls a visit off"),
        ],
        ("get", "/api/v1/service-items") => one(Check::empty("/api/v1/service-items", Ok)),
        ("post", "/api/v1/service-items") => {
            one(Check::json("/api/v1/service-items", service_item_body("SX-NEW", a), Ok))
        }
        ("put", "/api/v1/service-items/{id}") => one(Check::json(
            format!("/api/v1/service-items/{}", fx.service_item),
            service_item_body("330100-XK-001", a),
            Ok,
        )),
        ("get", "/api/v1/service-cases") => one(Check::empty("/api/v1/service-cases", Ok)),
        ("get", "/api/v1/service-cases/summary") => one(Check::empty("/api/v1/service-cases/summary", Ok)),
        ("get", "/api/v1/service-cases/{id}") => {
            one(Check::empty(format!("/api/v1/service-cases/{}", fx.case_a), in_a(user)))
        }
        ("put", "/api/v1/intake/cases/{number}") => {
            one(Check::json("/api/v1/intake/cases/SP-A", crate::service::case_body(None), Ok)
                .header("authorization", format!("Bearer {}", fx.system_key)))
        }
        ("post", "/api/v1/service-cases/import") => one(Check::new(
            "/api/v1/service-cases/import",
            xlsx(
                &["办件编号", "事项编码", "申请人类型", "受理时间"],
                &["SP-IMPORT", "330100-XK-001", "企业", "2026-11-02 08:30"],
            ),
            Ok,
        )),
        ("get", "/api/v1/api-clients") => one(Check::empty("/api/v1/api-clients", Ok)),
        ("post", "/api/v1/api-clients") => {
            one(Check::json("/api/v1/api-clients", json!({"kind": "system", "name": "不动产登记系统"}), Ok))
        }
        ("post", "/api/v1/api-clients/{id}/revoke") => {
            one(Check::json(format!("/api/v1/api-clients/{}/revoke", fx.system_client), json!({}), Ok))
        }
        ("get", "/api/v1/settings/service-policy") => one(Check::empty("/api/v1/settings/service-policy", Ok)),
        ("put", "/api/v1/settings/service-policy") => {
            one(Check::json("/api/v1/settings/service-policy", json!({"yellow_percent": 80}), Ok))
        }
        ("get", "/api/v1/windows") => one(Check::empty("/api/v1/windows", Ok)),
        ("post", "/api/v1/windows") => one(Check::json("/api/v1/windows", window_body("CK-NEW", a), Ok)),
        ("get", "/api/v1/windows/{id}") => {
            let mut v = one(Check::empty(format!("/api/v1/windows/{}", fx.window_a), in_a(user)));
            v.extend(own_dept(Check::empty(format!("/api/v1/windows/{}", fx.window_b), Ok)));
            v
        }
        ("put", "/api/v1/windows/{id}") => {
            one(Check::json(format!("/api/v1/windows/{}", fx.window_a), window_body("CK-A", a), Ok))
        }
        ("post", "/api/v1/windows/{id}/retire") => {
            one(Check::json(format!("/api/v1/windows/{}/retire", fx.window_a), json!({"reason": "窗口合并"}), Ok))
        }
        ("get", "/public/bulletins/{year}/{number}") => {
            one(Check::empty(format!("/public/bulletins/{}/{}", fx.bulletin_year, fx.bulletin_number), Ok))
        }
        ("get", "/api/v1/public/rating-pages/{code}") => {
            one(Check::empty(format!("/api/v1/public/rating-pages/w{}", fx.rating_window), Ok))
        }
        ("post", "/api/v1/public/rating-pages/{code}/ratings") => one(Check::json(
            format!("/api/v1/public/rating-pages/w{}/ratings", fx.rating_window),
            json!({"level": "satisfied"}),
            Ok,
        )),
        ("post", "/api/v1/device/heartbeat") => {
            one(Check::json("/api/v1/device/heartbeat", json!({"status": "ok"}), Ok)
                .header("authorization", format!("Bearer {}", fx.device_key)))
        }
        ("get", "/api/v1/device/case") => {
            one(Check::empty("/api/v1/device/case", Ok).header("authorization", format!("Bearer {}", fx.device_key)))
        }
        ("post", "/api/v1/device/ratings") => {
            one(Check::json("/api/v1/device/ratings", json!({"level": "very_satisfied"}), Ok)
                .header("authorization", format!("Bearer {}", fx.device_key)))
        }
        ("get", "/api/v1/ratings") => one(Check::empty("/api/v1/ratings", Ok)),
        ("post", "/api/v1/ratings/{id}/reveal-phone") => {
            one(Check::json(format!("/api/v1/ratings/{}/reveal-phone", fx.rating_a), json!({}), in_a(user)))
        }
        ("post", "/api/v1/ratings/review") => one(Check::json(
            "/api/v1/ratings/review",
            json!({"ids": [fx.rating_a], "decision": "release", "reason": ""}),
            Expect::Business(422, "validation_failed", None),
        )
        .because("a held rating is reviewed with a reason; the call leaves it held")),
        ("post", "/api/v1/public/rating-pages/{code}/complaints") => one(Check::json(
            format!("/api/v1/public/rating-pages/w{}/complaints", fx.rating_window),
            json!({"content": ""}),
            Expect::Business(422, "validation_failed", None),
        )),
        ("get", "/api/v1/tickets") => one(Check::empty("/api/v1/tickets", Ok)),
        ("get", "/api/v1/rating-measures") => one(Check::empty("/api/v1/rating-measures?group=window", Ok)),
        ("get", "/api/v1/rating-rankings") => one(Check::empty("/api/v1/rating-rankings", Ok)),
        ("post", "/api/v1/rating-rankings") => one(Check::json(
            "/api/v1/rating-rankings",
            json!({"month": "2099-01"}),
            Expect::Business(422, "validation_failed", None),
        )
        .because("a month not over is not published")),
        ("get", "/api/v1/public/rankings/{month}") => one(Check::empty("/api/v1/public/rankings/2026-10", Ok)),
        ("get", "/api/v1/tickets/{id}") => one(Check::empty(
            format!("/api/v1/tickets/{}", fx.ticket_a),
            if user == "staff_a" { Expect::OutOfScope } else { in_a(user) },
        )
        .because("a staff member reads only the tickets about them")),
        ("get", "/api/v1/tickets/{id}/photo") => {
            one(Check::empty(format!("/api/v1/tickets/{}/photo", fx.ticket_a), in_a(user))
                .because("a complaint's photo is shown to those who handle its ticket"))
        }
        ("get", "/api/v1/settings/ticket-policy") => one(Check::empty("/api/v1/settings/ticket-policy", Ok)),
        ("put", "/api/v1/settings/ticket-policy") => one(Check::json(
            "/api/v1/settings/ticket-policy",
            json!({"verify_days": 5, "rectify_days": 15, "callback_days": 15, "remind_days_before": 1}),
            Ok,
        )),
        ("post", "/api/v1/tickets/{id}/steps") => one(Check::json(
            format!("/api/v1/tickets/{}/steps", fx.ticket_a),
            json!({"action": "verify", "text": ""}),
            match user {
                "head_b" => Expect::OutOfScope,
                "office" => Expect::Business(409, "invalid_transition", Some("actor")),
                _ => Expect::Business(422, "validation_failed", None),
            },
        )
        .because("the department verifies with a note; the office does not verify for it; the ticket stays as it was")),
        ("post", "/api/v1/tickets/{id}/reveal-phone") => {
            one(Check::json(format!("/api/v1/tickets/{}/reveal-phone", fx.ticket_a), json!({}), in_a(user)))
        }
        ("get", "/api/v1/inquiries") => one(Check::empty("/api/v1/inquiries", Ok)),
        ("post", "/api/v1/inquiries") => one(Check::json(
            "/api/v1/inquiries",
            json!({"channel": "counter", "content": "", "then": "keep"}),
            Expect::Business(422, "validation_failed", None),
        )
        .because("an inquiry says what was asked; nothing is recorded")),
        ("get", "/api/v1/inquiries/{id}") => {
            one(Check::empty(format!("/api/v1/inquiries/{}", fx.inquiry_a), in_a(user)))
        }
        ("post", "/api/v1/inquiries/{id}/steps") => one(Check::json(
            format!("/api/v1/inquiries/{}/steps", fx.inquiry_a),
            json!({"action": "close"}),
            Expect::Business(422, "validation_failed", None),
        )
        .because("an unknown step is refused before anything is read")),
        ("post", "/api/v1/inquiries/{id}/reveal-phone") => {
            one(Check::json(format!("/api/v1/inquiries/{}/reveal-phone", fx.inquiry_a), json!({}), in_a(user)))
        }
        ("get", "/api/v1/inquiry-receivers") => one(Check::empty("/api/v1/inquiry-receivers?q=%E7%8E%8B", Ok)),
        ("get", "/api/v1/inquiry-lapses") => one(Check::empty("/api/v1/inquiry-lapses?state=pending", Ok)),
        ("post", "/api/v1/inquiry-lapses/{id}/review") => one(Check::json(
            "/api/v1/inquiry-lapses/1/review",
            json!({"decision": "maybe", "reason": "x"}),
            Expect::Business(422, "validation_failed", None),
        )
        .because("a review is a finding or a dismissal")),
        ("get", "/api/v1/settings/inquiry-policy") => one(Check::empty("/api/v1/settings/inquiry-policy", Ok)),
        ("put", "/api/v1/settings/inquiry-policy") => {
            one(Check::json("/api/v1/settings/inquiry-policy", json!({"accept_days": 1, "answer_days": 3}), Ok))
        }
        ("get", "/api/v1/rating-reasons") => one(Check::empty("/api/v1/rating-reasons", Ok)),
        ("put", "/api/v1/rating-reasons") => {
            one(Check::json("/api/v1/rating-reasons", json!({"version": 1, "reasons": fx.reasons.clone()}), Ok))
        }
        ("get", "/api/v1/settings/rating-policy") => one(Check::empty("/api/v1/settings/rating-policy", Ok)),
        ("put", "/api/v1/settings/rating-policy") => {
            one(Check::json("/api/v1/settings/rating-policy", json!({"public_url": "https://pj.example.gov.cn"}), Ok))
        }
        ("get", "/api/v1/rating-codes") => {
            one(Check::empty(format!("/api/v1/rating-codes?window_id={}", fx.rating_window), Ok))
        }
        _ => panic!("no target for {method} {path}: say what the matrix should call"),
    }
}

async fn send(app: &TestApp, s: &Session, method: &Method, c: &Check) -> Resp {
    let mut req = Request::builder().method(method.clone()).uri(&c.uri).header(header::COOKIE, &s.cookie);
    for (name, value) in &c.headers {
        req = req.header(*name, value);
    }
    let body = match &c.payload {
        Payload::Empty => Body::empty(),
        Payload::Json(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        Payload::Bytes(bytes, content_type) => {
            req = req.header(header::CONTENT_TYPE, *content_type);
            Body::from(bytes.clone())
        }
    };
    app.send(req.body(body).unwrap()).await
}

/// What the rule makes of the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    In,
    Forbidden,
    Hidden,
}

fn gate(rule: Rule, grants: &Grants) -> Gate {
    let has = |p: Permission| grants.has(p);
    match rule {
        Rule::Public | Rule::LoggedIn => Gate::In,
        Rule::Needs(p) if has(p) => Gate::In,
        Rule::Needs(_) => Gate::Forbidden,
        Rule::Hidden(p) if has(p) => Gate::In,
        Rule::Hidden(_) => Gate::Hidden,
        Rule::AnyOf(ps) if ps.iter().any(|p| has(*p)) => Gate::In,
        Rule::AnyOf(_) => Gate::Forbidden,
    }
}

/// What one role met.
#[derive(Debug, Default)]
struct Tally {
    checks: usize,
    /// Refused by the route's own permission extractor (403, or 404 on a hidden route): each
    /// audited as `permission.denied`.
    extractor_refusals: u64,
    /// Refused 403 `forbidden` by a check inside the handler.
    handler_refusals: u64,
}

const UNNAMED: [&str; 4] = ["not_found", "forbidden", "unauthenticated", "internal_error"];

#[track_caller]
fn judge(user: &str, method: &Method, path: &str, c: &Check, gate: Gate, r: &Resp, tally: &mut Tally) {
    let at = format!("{user} {method} {} ({path})", c.uri);
    let head = *method == Method::HEAD;
    let status = r.status.as_u16();
    let is = |st: u16, code: &str| status == st && (head || r.code() == code);
    assert!(status < 500, "{at}: {status} {}", r.json);
    tally.checks += 1;
    match gate {
        Gate::Forbidden => {
            assert!(is(403, "forbidden"), "{at} was not refused: {status} {}", r.json);
            tally.extractor_refusals += 1;
            return;
        }
        Gate::Hidden => {
            assert!(is(404, "not_found"), "{at} saw a hidden route: {status} {}", r.json);
            tally.extractor_refusals += 1;
            return;
        }
        Gate::In => {}
    }
    let why = if c.why.is_empty() { String::new() } else { format!(" [{}]", c.why) };
    let reason = r.json["details"]["reason"].as_str();
    match c.expect {
        Expect::Ok => assert!(r.status.is_success(), "{at} was let in but got {status} {}", r.json),
        Expect::Business(st, code, want) => {
            assert!(
                (400..500).contains(&st) && ![401, 403, 404].contains(&st) && !UNNAMED.contains(&code),
                "{at}: {st} {code} is not a named business error"
            );
            assert!(is(st, code), "{at}: expected {st} {code}, got {status} {}", r.json);
            if want.is_some() {
                assert_eq!(reason, want, "{at}: {}", r.json);
            }
        }
        Expect::OutOfScope => {
            assert!(is(404, "not_found"), "{at}: bureau A's record is outside the scope: got {status} {}", r.json)
        }
        Expect::Refused(st, code, want) => {
            assert!(is(st, code), "{at}{why}: expected {st} {code}, got {status} {}", r.json);
            if want.is_some() {
                assert_eq!(reason, want, "{at}{why}: {}", r.json);
            }
            if (st, code) == (403, "forbidden") {
                tally.handler_refusals += 1;
            }
        }
    }
}

both!(every_route_for_every_role, |app: TestApp| async move {
    let doc = serde_json::to_value(xiaoneng_server::openapi()).unwrap();
    let mut routes: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    for (method, path) in &routes {
        assert!(rule(method, path).is_some(), "no permission rule for {method} {path}");
    }
    // Changing the password and logging out end sessions: last, in that order.
    routes.sort_by_key(|(m, p)| (p.ends_with("/auth/logout"), p.ends_with("/auth/password"), p.clone(), m.clone()));
    assert!(routes.len() > 100, "only {} routes in the document", routes.len());

    let backend = app.db.backend();
    let mut first = Some(app);
    let mut checked = 0;
    for (user, role, _) in ACCOUNTS {
        // A city of the role's own: its writes change nothing another role meets.
        let app = match first.take() {
            Some(app) => app,
            None => TestApp::spawn(backend).await.expect("a fresh app"),
        };
        let fx = Fixture::build(&app).await;
        let session = app.login(user).await;
        let own = own_uploads(&app, &session, user, &fx).await;
        let grants = Grants::of(&[*role]);
        let mut tally = Tally::default();
        for (method, path) in &routes {
            let gate = gate(rule(method, path).unwrap(), &grants);
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let calls = checks(&app, &fx, own.as_ref(), user, method, path);
            assert!(!calls.is_empty(), "no call for {user} on {method} {path}");
            for c in &calls {
                let r = send(&app, &session, &m, c).await;
                judge(user, &m, path, c, gate, &r, &mut tally);
            }
        }
        // Every refusal by a route's permission is in the audit log, once: recorded at once or
        // rolled up into the first of its window (decision 0023), never lost and never twice.
        let auditor = app.login_with("auditor", if *user == "auditor" { NEW_PASSWORD } else { PASSWORD }).await;
        let auditor = auditor.expect("the auditor logs in");
        let log =
            app.get(&format!("/api/v1/audit?action=permission.denied&actor={user}&page_size=200"), &auditor).await;
        assert!(log.ok()["total"].as_u64().unwrap() <= 200, "{user}: more entries than one page");
        let audited = events_in(&log.json);
        assert_eq!(
            audited,
            tally.extractor_refusals + tally.handler_refusals,
            "{user}: every permission refusal is audited ({} by extractors, {} in handlers)",
            tally.extractor_refusals,
            tally.handler_refusals
        );
        checked += tally.checks;
    }
    assert!(checked >= routes.len() * ACCOUNTS.len(), "only {checked} route × role checks");
    eprintln!("{checked} route × role checks");
});

both!(three_admins_cannot_do_each_others_work, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let sec = app.login("secadmin").await;
    let audit = app.login("auditor").await;
    let target = app.ids["head_b"];
    // The system admin manages accounts but cannot grant roles or read the audit log.
    app.put(&format!("/api/v1/users/{target}/roles"), &sys, json!({"roles": ["office_admin"]}))
        .await
        .expect(403, "forbidden");
    app.get("/api/v1/audit", &sys).await.expect(403, "forbidden");
    // The security admin grants roles but manages no business data and reads no audit log.
    app.post("/api/v1/people", &sec, json!({})).await.expect(403, "forbidden");
    app.post("/api/v1/departments", &sec, json!({})).await.expect(403, "forbidden");
    app.get("/api/v1/audit", &sec).await.expect(403, "forbidden");
    app.post("/api/v1/users", &sec, json!({})).await.expect(403, "forbidden");
    // Nor can they give themselves what they lack.
    let me = app.ids["secadmin"];
    app.put(&format!("/api/v1/users/{me}/roles"), &sec, json!({"roles": ["sec_admin", "audit_admin"]}))
        .await
        .expect(400, "own_account");
    // The audit admin can only read the audit log.
    app.get("/api/v1/audit", &audit).await.ok();
    app.get("/api/v1/users", &audit).await.expect(403, "forbidden");
    app.get("/api/v1/people", &audit).await.expect(403, "forbidden");
    app.get("/api/v1/departments", &audit).await.expect(403, "forbidden");
});

both!(it_admin_accounts_cannot_be_taken_over, |app: TestApp| async move {
    let sys = app.login("sysadmin").await;
    let sec = app.login("secadmin").await;
    for target in ["secadmin", "auditor"] {
        let id = app.ids[target];
        let r = app.post(&format!("/api/v1/users/{id}/reset-password"), &sys, json!({"reason": "x"})).await;
        r.expect(400, "it_admin_account");
        app.post(&format!("/api/v1/users/{id}/disable"), &sys, json!({"reason": "x"}))
            .await
            .expect(400, "it_admin_account");
    }
    // The security admin cannot pile the three powers onto one account.
    let target = app.ids["leader"];
    let r =
        app.put(&format!("/api/v1/users/{target}/roles"), &sec, json!({"roles": ["sec_admin", "audit_admin"]})).await;
    r.expect(422, "validation_failed");
    assert_eq!(r.json["details"][0]["code"], "it_admin_role_alone");
    let r =
        app.put(&format!("/api/v1/users/{target}/roles"), &sec, json!({"roles": ["city_leader", "sys_admin"]})).await;
    assert_eq!(r.json["details"][0]["code"], "it_admin_role_alone");
    // Nor hand out an IT admin role at all, nor take one away from its holder.
    app.put(&format!("/api/v1/users/{target}/roles"), &sec, json!({"roles": ["audit_admin"]}))
        .await
        .expect(400, "it_admin_account");
    let auditor = app.ids["auditor"];
    app.put(&format!("/api/v1/users/{auditor}/roles"), &sec, json!({"roles": ["inspector"]}))
        .await
        .expect(400, "it_admin_account");
    let still = app.get("/api/v1/audit/verify", &app.login("auditor").await).await;
    assert_eq!(still.status, 200, "the auditor kept the role");
    app.login_with("secadmin", "Taken#Over2026").await.unwrap_err().expect(401, "invalid_credentials");
});

both!(reading_the_audit_log_is_audited, |app: TestApp| async move {
    let auditor = app.login("auditor").await;
    app.get("/api/v1/audit?actor=office", &auditor).await.ok();
    app.get("/api/v1/audit/verify", &auditor).await.ok();
    let r = app.get("/api/v1/audit?action=audit.", &auditor).await;
    let items = r.ok()["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["audit.verify", "audit.search"]);
    assert_eq!(items[1]["detail"]["actor"], "office");
    assert_eq!(items[1]["actor"], "auditor");
});

/// A concrete address for a route of the document: each `{param}` given a plausible value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{year}" => "2026",
            "{number}" => "1",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

both!(a_forced_password_change_is_forced_on_every_route, |app: TestApp| async move {
    // Two accounts given a password by an administrator: each must choose their own first.
    let temporary = "Temporary#2026";
    let mut sessions = Vec::new();
    for user in ["office", "staff_a"] {
        let hash = xiaoneng_core::auth::hash_password(temporary).unwrap();
        let tx = app.store.write().await.unwrap();
        xiaoneng_store::accounts::set_password(&tx, app.ids[user], hash, true, app.clock_now()).await.unwrap();
        tx.commit().await.unwrap();
        let s = app.login_with(user, temporary).await.expect("login with the temporary password");
        let me = app.get("/api/v1/me", &s).await;
        assert_eq!(me.ok()["must_change_password"], true);
        sessions.push((user, s));
    }
    let doc = serde_json::to_value(xiaoneng_server::openapi()).unwrap();
    let mut walked = 0;
    for (user, s) in &sessions {
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let exempt = matches!(
                    (method.as_str(), path.as_str()),
                    ("get", "/api/v1/me") | ("post", "/api/v1/auth/password" | "/api/v1/auth/logout")
                );
                // Routes open to anyone read no session (logging in again is how one gets a new one).
                if exempt || matches!(rule(method, path), Some(Rule::Public)) {
                    continue;
                }
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut req =
                    Request::builder().method(m.clone()).uri(concrete(path)).header(header::COOKIE, &s.cookie);
                let body = if matches!(m, Method::POST | Method::PUT) {
                    req = req.header(header::CONTENT_TYPE, "application/json");
                    Body::from("{}")
                } else {
                    Body::empty()
                };
                let r = app.send(req.body(body).unwrap()).await;
                assert_eq!(r.status, 403, "{user} {method} {path}: {}", r.json);
                if m != Method::HEAD {
                    assert_eq!(r.code(), "password_change_required", "{user} {method} {path}: {}", r.json);
                }
                walked += 1;
            }
        }
    }
    assert!(walked > 200, "only {walked} calls");
    // What they may do: see who they are, change the password, and then everything else.
    let (_, office) = &sessions[0];
    let r = app
        .post("/api/v1/auth/password", office, json!({"current_password": temporary, "new_password": NEW_PASSWORD}))
        .await;
    assert_eq!(r.status, 204, "{}", r.json);
    app.get("/api/v1/departments", office).await.ok();
    let (_, staff) = &sessions[1];
    let r = app.call(Method::POST, "/api/v1/auth/logout", Some(staff), None).await;
    assert_eq!(r.status, 204);
});

both!(a_required_second_factor_is_required_on_every_route, |app: TestApp| async move {
    // The default policy: the IT admins and the office's admins must use a second factor.
    let sec = app.login("secadmin").await;
    let mut policy = app.get("/api/v1/settings/security-policy", &sec).await.ok().clone();
    policy["second_factor_roles"] = json!(["office_admin", "sys_admin", "sec_admin", "audit_admin"]);
    app.put("/api/v1/settings/security-policy", &sec, policy).await.ok();
    // The security admin's own session is held to it from the next request on.
    app.get("/api/v1/users", &sec).await.expect(403, "second_factor_required");
    let mut sessions = Vec::new();
    for user in ["office", "sysadmin"] {
        let s = app.login(user).await;
        let me = app.get("/api/v1/me", &s).await;
        assert_eq!(me.ok()["must_enrol_second_factor"], true, "{user}");
        sessions.push((user, s));
    }
    let doc = serde_json::to_value(xiaoneng_server::openapi()).unwrap();
    let mut walked = 0;
    for (user, s) in &sessions {
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let exempt = matches!(
                    (method.as_str(), path.as_str()),
                    ("get", "/api/v1/me") | ("post", "/api/v1/auth/password" | "/api/v1/auth/logout")
                ) || path.starts_with("/api/v1/auth/second-factor");
                if exempt || matches!(rule(method, path), Some(Rule::Public)) {
                    continue;
                }
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut req =
                    Request::builder().method(m.clone()).uri(concrete(path)).header(header::COOKIE, &s.cookie);
                let body = if matches!(m, Method::POST | Method::PUT) {
                    req = req.header(header::CONTENT_TYPE, "application/json");
                    Body::from("{}")
                } else {
                    Body::empty()
                };
                let r = app.send(req.body(body).unwrap()).await;
                assert_eq!(r.status, 403, "{user} {method} {path}: {}", r.json);
                if m != Method::HEAD {
                    assert_eq!(r.code(), "second_factor_required", "{user} {method} {path}: {}", r.json);
                }
                walked += 1;
            }
        }
    }
    assert!(walked > 200, "only {walked} calls");
    // What they may do: set up the app, and then everything their roles allow.
    let (_, office) = &sessions[0];
    let started = app.post("/api/v1/auth/second-factor/enrolment", office, json!({})).await;
    let secret = xiaoneng_core::second_factor::Secret::from_base32(started.ok()["secret"].as_str().unwrap()).unwrap();
    let code = secret.code_at(app.clock_now()).unwrap();
    app.post("/api/v1/auth/second-factor/enrolment/confirm", office, json!({"code": code})).await.ok();
    app.get("/api/v1/departments", office).await.ok();
    let (_, sys) = &sessions[1];
    app.get("/api/v1/users", sys).await.expect(403, "second_factor_required");
});
