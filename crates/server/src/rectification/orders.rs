//! Rectification orders (整改通知) and the departments' written reports: the liaison drafts, the
//! head signs and submits, the office accepts or returns with comments; every version stays on
//! record, and each step is `core::rectification::OrderFacts`' decision. Report attachments too.

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use object_store::ObjectStoreExt;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    org::{parse_name, parse_text},
    rbac::{Permission, Role},
    rectification::{
        InstructionOn, InstructionTarget, OrderAction, OrderActor, OrderFacts, OrderState, RectificationPolicy,
        ReportState,
    },
    scope::Scope,
};
use xiaoneng_store::{
    accounts,
    entity::{attachment, order, report},
    ledger, org,
    rectification::{self as rect, NewAttachment, Note, OrderFilter, ReportInput},
    settings,
};

use super::read::{self, BulletinFinding, Instruction, Order};
use crate::{
    ApiResult, AppState,
    api::{Checks, Page, attachment_disposition, page_req, parse_codes},
    auth::{Act, Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody, expect_state},
    excel,
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(save_report))
        .routes(routes!(step_report_route))
        .routes(routes!(add_attachment))
        .routes(routes!(attachment_content))
}

// ------------------------------------------------------------------ shapes

#[derive(Debug, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<attachment::Model> for Attachment {
    fn from(a: attachment::Model) -> Self {
        Self {
            id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            uploaded_at: a.uploaded_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub id: i64,
    pub version: i32,
    pub status: ReportState,
    /// 原因分析
    pub cause: String,
    /// 整改措施
    pub measures: String,
    /// 整改结果
    pub results: String,
    /// 责任人及处理情况
    pub responsible: String,
    pub drafted_by_name: String,
    pub updated_at: DateTime<Utc>,
    pub submitted_by_name: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The deadline in force when it was submitted.
    pub due: Option<NaiveDate>,
    /// Submitted after that deadline: for good, whatever a later return does to the deadline.
    pub submitted_late: bool,
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The office's comments on a return (or an acceptance).
    pub review_comment: String,
    pub attachments: Vec<Attachment>,
    pub instructions: Vec<Instruction>,
    /// Whether the caller may write a leader's instruction on it now.
    pub can_instruct: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reminder {
    pub deadline: NaiveDate,
    /// Working days before the deadline.
    pub point: i32,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: Order,
    pub findings: Vec<BulletinFinding>,
    /// Every version, oldest first.
    pub reports: Vec<Report>,
    pub reminders: Vec<Reminder>,
    /// The steps the caller may take now.
    pub allowed_actions: Vec<OrderAction>,
}

async fn report_dtos<C: ConnectionTrait>(
    c: &C,
    user: &CurrentUser,
    rows: Vec<report::Model>,
    today: NaiveDate,
) -> ApiResult<Vec<Report>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let people: Vec<i64> =
        rows.iter().flat_map(|r| [Some(r.drafted_by), r.submitted_by, r.reviewed_by]).flatten().collect();
    let names = accounts::display_names(c, people).await?;
    let mut files: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for a in rect::attachments_of(c, "report", ids.clone()).await? {
        files.entry(a.owner_id).or_default().push(a.into());
    }
    let mut notes: HashMap<i64, Vec<Instruction>> = HashMap::new();
    let on = rect::instructions_on(c, InstructionTarget::Report, ids).await?;
    for i in read::instruction_dtos(c, user, on, today).await? {
        notes.entry(i.target_id).or_default().push(i);
    }
    let instructor = user.grants.has(Permission::InstructionWrite);
    let name = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned());
    Ok(rows
        .into_iter()
        .map(|r| Report {
            id: r.id,
            version: r.version,
            drafted_by_name: name(Some(r.drafted_by)).unwrap_or_default(),
            submitted_by_name: name(r.submitted_by),
            reviewed_by_name: name(r.reviewed_by),
            attachments: files.remove(&r.id).unwrap_or_default(),
            instructions: notes.remove(&r.id).unwrap_or_default(),
            can_instruct: InstructionOn::Report(r.status).permits(instructor).is_ok(),
            submitted_late: matches!((r.submitted_at, r.due), (Some(at), Some(due)) if xiaoneng_core::rectification::late(at, due)),
            due: r.due,
            status: r.status,
            cause: r.cause,
            measures: r.measures,
            results: r.results,
            responsible: r.responsible,
            updated_at: r.updated_at,
            submitted_at: r.submitted_at,
            reviewed_at: r.reviewed_at,
            review_comment: r.review_comment,
        })
        .collect())
}

/// How the caller stands to an order: drafting and signing reach as far as those permissions
/// do; reviewing is the office's.
pub async fn actor<C: ConnectionTrait>(c: &C, user: &CurrentUser, o: &order::Model) -> ApiResult<OrderActor> {
    let path = org::department_paths(c, [o.department_id]).await?.remove(&o.department_id).unwrap_or_default();
    let reaches = |p: Permission| user.scope(p).is_some_and(|s| s.covers_department(o.department_id, &path));
    Ok(OrderActor {
        drafter: reaches(Permission::ReportDraft),
        signer: reaches(Permission::ReportSubmit),
        office: reaches(Permission::RectificationManage),
    })
}

/// An order with its latest report, as its machine sees them.
async fn facts<C: ConnectionTrait>(c: &C, o: &order::Model) -> ApiResult<(OrderFacts, Option<report::Model>)> {
    let latest = rect::latest_reports(c, &[o.id]).await?.remove(&o.id);
    Ok((rect::order_facts(o, latest.as_ref()), latest))
}

async fn detail<C: ConnectionTrait>(
    c: &C,
    user: &CurrentUser,
    o: order::Model,
    today: NaiveDate,
) -> ApiResult<OrderDetail> {
    let ids = rect::order_finding_ids(c, o.id).await?;
    let rows = xiaoneng_store::inspections::findings_by_ids(c, &ids).await?;
    let findings = read::finding_lines(c, &rows).await?;
    let reports = rect::reports_of(c, o.id).await?;
    let facts = rect::order_facts(&o, reports.last());
    let allowed_actions = facts.allowed_actions(actor(c, user, &o).await?);
    let reports = report_dtos(c, user, reports, today).await?;
    let reminders = rect::reminders_sent(c, o.id)
        .await?
        .into_iter()
        .map(|r| Reminder { deadline: r.deadline, point: r.point, sent_at: r.sent_at })
        .collect();
    let order = read::order_dtos(c, vec![o], today).await?.pop().ok_or(ApiError::NotFound)?;
    Ok(OrderDetail { order, findings, reports, reminders, allowed_actions })
}

// ------------------------------------------------------------------ commands

/// Writes the department's draft report; after a return this starts the next version.
pub async fn draft_report<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    o: &order::Model,
    input: ReportInput,
) -> ApiResult<report::Model> {
    let (f, latest) = facts(c, o).await?;
    f.permits(OrderAction::DraftReport, actor(c, act.user, o).await?)?;
    let r = rect::save_draft(c, o, latest.as_ref(), input, act.user.id, act.now).await?;
    let rec = act.audit("report.draft", "order", o.id, json!({ "report_id": r.id, "version": r.version }));
    ledger::append(c, act.algo, &rec, &[], None).await?;
    Ok(r)
}

/// Takes the order's latest report one step: the head submits it, the office accepts or returns
/// it (with comments and a date to resubmit by). Tells whoever acts next.
pub async fn step_report<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    o: &order::Model,
    action: OrderAction,
    comment: &str,
    resubmit_by: Option<NaiveDate>,
) -> ApiResult<(order::Model, report::Model)> {
    let (f, latest) = facts(c, o).await?;
    let who = actor(c, act.user, o).await?;
    let d = match action {
        OrderAction::SubmitReport => f.submit(who, act.now)?,
        _ => {
            let policy: RectificationPolicy = settings::get(c, settings::RECTIFICATION_POLICY).await?;
            let calendar = xiaoneng_store::calendar::work_calendar(c).await?;
            f.review(action, who, comment, resubmit_by, act.now, &calendar, &policy)?
        }
    };
    let rep = latest.ok_or(ApiError::NotFound)?;
    let (o, rep) = rect::apply_report_step(c, o, &rep, &d.next, act.user.id, comment, act.now).await?;
    let link = format!("/rectification/{}", o.id);
    let dept_users = || rect::department_users(c, o.department_id, &[Role::DeptHead, Role::DeptLiaison]);
    let (users, note) = match d.next.report {
        ReportState::Submitted => {
            let dept = org::department_names(c, [o.department_id]).await?.remove(&o.department_id).unwrap_or_default();
            let title = format!("{dept}报送了整改报告");
            let body = format!("第 {} 版，请审核。", rep.version);
            let note = Note { kind: "report.submitted", title, body, link, due: None };
            (rect::users_with_roles(c, &[Role::OfficeAdmin]).await?, note)
        }
        ReportState::Returned => {
            let title = "整改报告被退回".into();
            let note =
                Note { kind: "report.returned", title, body: comment.trim().into(), link, due: Some(o.deadline) };
            (dept_users().await?, note)
        }
        _ => {
            let title = "整改报告已采纳".into();
            let note = Note { kind: "report.accepted", title, body: comment.trim().into(), link, due: None };
            (dept_users().await?, note)
        }
    };
    rect::notify(c, &users, &note, None, act.now).await?;
    let detail = json!({ "order_id": o.id, "version": rep.version, "from": f.latest.map(|r| r.state), "to": d.next.report, "comment": comment.trim(), "resubmit_by": d.next.deadline });
    let verb = match action {
        OrderAction::SubmitReport => "submit",
        OrderAction::Accept => "accept",
        _ => "return",
    };
    let rec = act.audit(&format!("report.{verb}"), "report", rep.id, detail);
    ledger::append(c, act.algo, &rec, &d.events, None).await?;
    Ok((o, rep))
}

// ------------------------------------------------------------------ routes

/// Someone who may see orders: the office and city leaders all, a department's head and liaison
/// their department's (and below).
type OrderReader = Authorized<perm::RectificationRead>;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// One status or several separated by commas (`open,returned`).
    pub status: Option<String>,
    /// This department and those below it.
    pub department_id: Option<i64>,
    pub bulletin_id: Option<i64>,
    /// Only orders past their deadline with no report in.
    pub overdue: Option<bool>,
}

/// Orders the caller may see, nearest deadline first.
#[utoipa::path(get, operation_id = "orders_list", path = "/api/v1/orders", tag = "rectification", params(ListParams),
    responses((status = 200, body = Page<Order>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    r: OrderReader,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Order>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let status: Vec<OrderState> = parse_codes("status", p.status.as_deref(), &mut v);
    v.done()?;
    let today = city_day(s.clock.now());
    let f = OrderFilter {
        status,
        department_id: p.department_id,
        bulletin_id: p.bulletin_id,
        overdue_on: p.overdue.unwrap_or(false).then_some(today),
    };
    let db = s.store.db();
    let rows = rect::list_orders(db, &r.scope, &f, page).await?;
    let (total, pg, ps) = (rows.total, rows.page, rows.page_size);
    Ok(Json(Page { items: read::order_dtos(db, rows.items, today).await?, total, page: pg, page_size: ps }))
}

#[utoipa::path(get, operation_id = "orders_get_one", path = "/api/v1/orders/{id}", tag = "rectification",
    responses((status = 200, body = OrderDetail), (status = 404, body = ErrorBody)))]
async fn get_one(State(s): State<AppState>, r: OrderReader, Path(id): Path<i64>) -> ApiResult<Json<OrderDetail>> {
    let db = s.store.db();
    let o = rect::get_order(db, &r.scope, id).await?;
    Ok(Json(detail(db, &r.user, o, city_day(s.clock.now())).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportBody {
    #[serde(default)]
    pub cause: String,
    #[serde(default)]
    pub measures: String,
    #[serde(default)]
    pub results: String,
    #[serde(default)]
    pub responsible: String,
    /// The order's state the caller last saw: if it moved on since, 409 `state_changed`.
    pub expected_state: Option<OrderState>,
}

/// Writes the department's draft report (the liaison or the head); after a return this starts
/// the next version.
#[utoipa::path(put, operation_id = "orders_save_report", path = "/api/v1/orders/{id}/report", tag = "rectification", request_body = ReportBody,
    responses((status = 200, body = OrderDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_report(
    State(s): State<AppState>,
    auth: Authorized<perm::ReportDraft>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReportBody>,
) -> ApiResult<Json<OrderDetail>> {
    let mut v = Checks::default();
    let input = ReportInput {
        cause: v.take(parse_text("cause", &b.cause, 10_000)),
        measures: v.take(parse_text("measures", &b.measures, 10_000)),
        results: v.take(parse_text("results", &b.results, 10_000)),
        responsible: v.take(parse_text("responsible", &b.responsible, 2_000)),
    };
    v.done()?;
    let tx = s.store.write().await?;
    let o = rect::get_order(&tx, &auth.scope, id).await?;
    expect_state(b.expected_state, o.status)?;
    draft_report(&tx, Act::new(&s, &auth.user), &o, input).await?;
    tx.commit().await?;
    let db = s.store.db();
    let o = rect::get_order(db, &Scope::All, id).await?;
    Ok(Json(detail(db, &auth.user, o, city_day(s.clock.now())).await?))
}

/// Someone who takes report steps: a head who signs (`report:submit`) or the office.
pub struct Stepper(pub CurrentUser);

impl axum::extract::FromRequestParts<AppState> for Stepper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        let perms = [Permission::ReportSubmit, Permission::RectificationManage];
        Ok(Stepper(crate::auth::any_of(parts, s, &perms).await?))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportStepBody {
    /// `submit_report` (the department's head), `accept` or `return` (the office).
    pub action: OrderAction,
    /// The office's comments: required to return.
    #[serde(default)]
    pub comment: String,
    /// On a return: the new last day to resubmit (default: the office's number of working days
    /// from today).
    pub resubmit_by: Option<NaiveDate>,
    /// The report's state the caller last saw: if it moved on since, 409 `state_changed`.
    pub expected_state: Option<ReportState>,
}

/// Submits, accepts or returns a report. Submitting is the head's (`report:submit` over the
/// order's department); reviewing the office's (`rectification:manage`).
#[utoipa::path(post, operation_id = "orders_step_report", path = "/api/v1/reports/{id}/steps", tag = "rectification", request_body = ReportStepBody,
    responses((status = 200, body = OrderDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step_report_route(
    State(s): State<AppState>,
    Stepper(user): Stepper,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReportStepBody>,
) -> ApiResult<Json<OrderDetail>> {
    if b.action == OrderAction::DraftReport {
        return Err(ApiError::invalid(
            "action",
            "invalid_choice",
            "取值无效，可选：submit_report、accept、return",
            "Not a valid choice; one of: submit_report, accept, return",
        ));
    }
    // The order is reached through the permission the caller steps with (the office's reaches
    // every order, a head's their department's); whose step it is, core decides (409 `actor`).
    let scope = [Permission::RectificationManage, Permission::ReportSubmit]
        .into_iter()
        .find_map(|p| user.scope(p))
        .ok_or(ApiError::Forbidden)?;
    let comment = parse_text("comment", &b.comment, 4_000)?;
    let tx = s.store.write().await?;
    let rep = rect::get_report(&tx, id).await?;
    let o = rect::get_order(&tx, &scope, rep.order_id).await?;
    expect_state(b.expected_state, rep.status)?;
    // Only the latest version takes steps; an older one has been superseded.
    if rect::latest_reports(&tx, &[o.id]).await?.get(&o.id).is_some_and(|l| l.id != rep.id) {
        return Err(ApiError::StateChanged { current: Some(rep.status.to_string()) });
    }
    let (o, _) = step_report(&tx, Act::new(&s, &user), &o, b.action, &comment, b.resubmit_by).await?;
    tx.commit().await?;
    Ok(Json(detail(s.store.db(), &user, o, city_day(s.clock.now())).await?))
}

// ------------------------------------------------------------------ attachments

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachParams {
    /// The file's name as the user knows it.
    pub filename: String,
}

/// Attaches a file (the request body; up to the server's body limit) to the order's draft
/// report: documents, photos, recordings, told by their content. Office files that can carry
/// macros (.docm/.xlsm/.pptm, and the 97–2003 .doc/.xls/.ppt) are refused (415).
#[utoipa::path(post, operation_id = "orders_add_attachment", path = "/api/v1/reports/{id}/attachments", tag = "rectification", params(AttachParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn add_attachment(
    State(s): State<AppState>,
    auth: Authorized<perm::ReportDraft>,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<AttachParams>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let filename = parse_name("filename", &p.filename, 255)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("empty_file", "文件是空的", "The file is empty"));
    }
    refuse_active_office(&body)?;
    let Some((mime, _)) = xiaoneng_core::evidence::sniff(&body[..body.len().min(8192)]) else {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
            "只能上传文档（PDF、Word、Excel）、图片、音频或视频",
            "Only documents (PDF, Word, Excel), photos, audio or video can be attached",
        ));
    };
    // Asked before the file is stored (so a refused file costs nothing) and again, holding the
    // draft, in the transaction that records it.
    attachable(s.store.db(), &auth, id).await?;
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    let key = format!("attachments/report/{id}/{}", random_key());
    let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
    s.objects
        .put(&object_store::path::Path::from(key.as_str()), body.into())
        .await
        .map_err(|e| ApiError::Internal(format!("storing an attachment: {e}")))?;
    let tx = s.store.write().await?;
    let (o, rep) = attachable(&tx, &auth, id).await?;
    rect::hold_draft(&tx, &rep, s.clock.now()).await?;
    let new = NewAttachment {
        owner_kind: "report",
        owner_id: id,
        filename,
        content_type: mime.into(),
        size,
        sha256,
        object_key: key,
    };
    let act = Act::new(&s, &auth.user);
    let a = rect::add_attachment(&tx, new, auth.user.id, act.now).await?;
    let d = json!({ "order_id": o.id, "report_id": id, "filename": a.filename, "size": size, "sha256": a.sha256 });
    ledger::append(&tx, act.algo, &act.audit("attachment.add", "attachment", a.id, d), &[], None).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Refuses the Office files that can carry code, whatever they are named: a package with macros
/// (.docm, .xlsm, .pptm and their templates: a VBA project or an Excel 4.0 macro sheet inside, or
/// a part typed as macro-enabled; an OpenDocument file with Basic or scripts), and the 97–2003
/// formats (.doc, .xls, .ppt: OLE2 compound files, where macros hide in streams nobody lists).
/// Only the package's directory and `[Content_Types].xml` are read.
fn refuse_active_office(body: &[u8]) -> ApiResult<()> {
    const OLE2: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let refuse = |code, zh, en| ApiError::refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, code, zh, en);
    if body.starts_with(&OLE2) {
        return Err(refuse(
            "legacy_office_document",
            "旧版 Office 文件（.doc、.xls、.ppt）可能藏有宏，不能上传：请另存为 .docx、.xlsx 或 PDF 后再上传",
            "Office 97–2003 files (.doc, .xls, .ppt) can hide macros and cannot be attached: save the file as .docx, .xlsx or PDF and attach that",
        ));
    }
    if !body.starts_with(b"PK\x03\x04") {
        return Ok(());
    }
    let unreadable = || {
        refuse(
            "unsupported_type",
            "无法读取这个压缩包的内容，不能上传",
            "The package's contents cannot be read, so it cannot be attached",
        )
    };
    // The declared sizes do not matter here: nothing but the small content-type list is inflated.
    let mut pkg = excel::Package::open(body, u64::MAX).map_err(|_| unreadable())?;
    let names: Vec<String> = pkg.names().into_iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut macros = names.iter().any(|n| {
        n.ends_with("vbaproject.bin")
            || n.contains("macrosheets/")
            || n.starts_with("basic/")
            || n.starts_with("scripts/")
    });
    if !macros && names.iter().any(|n| n == "[content_types].xml") {
        let types = pkg.text("[Content_Types].xml", 1 << 20).map_err(|_| unreadable())?.unwrap_or_default();
        let types = types.to_ascii_lowercase();
        macros = types.contains("macroenabled") || types.contains("macrosheet");
    }
    if macros {
        return Err(refuse(
            "macro_enabled_document",
            "含宏的 Office 文件（如 .docm、.xlsm、.pptm）不能上传：请另存为 .docx、.xlsx 或 PDF 后再上传",
            "Office files with macros (such as .docm, .xlsm, .pptm) cannot be attached: save the file as .docx, .xlsx or PDF and attach that",
        ));
    }
    Ok(())
}

/// The name a download goes by: the name the user gave it, made safe, with the extension of what
/// the file was found to be (never the one the user typed); and an ASCII stand-in.
fn download_name(stored: &str, content_type: &str, id: i64) -> (String, String) {
    let ext = match content_type {
        "application/pdf" => "pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.oasis.opendocument.text" => "odt",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heif" => "heif",
        "image/heic" => "heic",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "video/x-matroska" => "mkv",
        "video/3gpp" => "3gp",
        "video/x-msvideo" => "avi",
        "audio/mpeg" => "mp3",
        "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/x-wav" => "wav",
        "audio/ogg" => "ogg",
        "audio/amr" => "amr",
        "audio/x-flac" => "flac",
        _ => "bin",
    };
    // The user's own extension goes, if it looks like one.
    let stem = match stored.rsplit_once('.') {
        Some((stem, e))
            if !stem.is_empty() && (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => stored,
    };
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/' | ':' | '*' | '?' | '<' | '>' | '|' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let stem: String = stem.trim_matches([' ', '.']).chars().take(120).collect();
    let fallback = format!("attachment-{id}.{ext}");
    if stem.is_empty() { (fallback.clone(), fallback) } else { (format!("{stem}.{ext}"), fallback) }
}

/// Files go with the draft being written: the order's machine allows drafting, and this report
/// is its draft.
async fn attachable<C: ConnectionTrait>(
    c: &C,
    auth: &Authorized<perm::ReportDraft>,
    id: i64,
) -> ApiResult<(order::Model, report::Model)> {
    let rep = rect::get_report(c, id).await?;
    let o = rect::get_order(c, &auth.scope, rep.order_id).await?;
    let (f, _) = facts(c, &o).await?;
    f.permits_attaching(rep.id, rep.status, actor(c, &auth.user, &o).await?)?;
    Ok((o, rep))
}

fn random_key() -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("{n:032x}")
}

/// An attachment's bytes, for whoever may see the report it belongs to: named as the user named
/// it, with the extension of its type as found on upload.
#[utoipa::path(get, operation_id = "orders_attachment_content", path = "/api/v1/attachments/{id}/content", tag = "rectification",
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn attachment_content(State(s): State<AppState>, r: OrderReader, Path(id): Path<i64>) -> ApiResult<Response> {
    let db = s.store.db();
    let a = rect::get_attachment(db, id).await?;
    let rep = match a.owner_kind.as_str() {
        "report" => rect::get_report(db, a.owner_id).await?,
        _ => return Err(ApiError::NotFound),
    };
    rect::get_order(db, &r.scope, rep.order_id).await?;
    let got = s
        .objects
        .get(&object_store::path::Path::from(a.object_key.as_str()))
        .await
        .map_err(|e| ApiError::Internal(format!("reading attachment {id}: {e}")))?;
    let bytes = got.bytes().await.map_err(|e| ApiError::Internal(format!("reading attachment {id}: {e}")))?;
    let (name, fallback) = download_name(&a.filename, &a.content_type, id);
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type),
            (header::CONTENT_DISPOSITION, attachment_disposition(&name, &fallback)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
