//! Rectification orders (整改通知) and the departments' written reports: the liaison drafts, the
//! head submits, the office accepts or returns with comments; every version stays on record.
//! Also the city leaders' instructions (批示) with their follow-up items, report attachments, and
//! the office's rectification rules and message robots.

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
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    org::{parse_name, parse_text},
    rbac::{Permission, Role},
    rectification::{OrderState, RectificationPolicy, ReportAction, ReportActor, ReportState},
};
use xiaoneng_store::{
    accounts, audit,
    entity::{attachment, instruction, order, report},
    org::{self, Scope},
    rectification::{self as rect, NewAttachment, NewInstruction, Note, OrderFilter, ReportInput},
    settings,
};

use super::{Checks, Page, page_req, parse_codes, parse_enum};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
    notify::{ChannelsChange, ChannelsView, NotifyChannels},
    routes::bulletins::{BulletinFinding, finding_lines, state_conflict},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(save_report))
        .routes(routes!(step_report))
        .routes(routes!(add_attachment))
        .routes(routes!(attachment_content))
        .routes(routes!(instruct))
        .routes(routes!(follow_up))
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(get_channels, put_channels))
}

// ------------------------------------------------------------------ shapes

#[derive(Debug, Serialize, ToSchema)]
pub struct Order {
    pub id: i64,
    pub bulletin_id: Option<i64>,
    /// The bulletin's number, e.g. 效能通报〔2026〕12号.
    pub bulletin_number: Option<String>,
    pub bulletin_title: Option<String>,
    pub department_id: i64,
    pub department_name: String,
    pub requirement: String,
    /// The last day (city time) to report.
    pub deadline: NaiveDate,
    /// `open`, `submitted`, `returned` or `accepted`.
    pub status: String,
    /// Past the deadline with no report in.
    pub overdue: bool,
    /// Working or calendar days left; negative when overdue.
    pub days_left: i64,
    pub finding_count: u64,
    pub issued_at: DateTime<Utc>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// The first report came in after the deadline.
    pub submitted_late: bool,
    pub accepted_at: Option<DateTime<Utc>>,
}

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
    /// `draft`, `submitted`, `returned` or `accepted`.
    pub status: String,
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
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The office's comments on a return (or an acceptance).
    pub review_comment: String,
    pub attachments: Vec<Attachment>,
    pub instructions: Vec<Instruction>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Instruction {
    pub id: i64,
    /// `bulletin` or `report`.
    pub target_kind: String,
    pub target_id: i64,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub follow_up: bool,
    /// Who must follow up: a department, or the office when empty.
    pub follow_up_department_id: Option<i64>,
    pub follow_up_department_name: Option<String>,
    pub follow_up_due: Option<NaiveDate>,
    /// `open` or `done`.
    pub follow_up_status: Option<String>,
    pub follow_up_note: String,
    pub follow_up_done_at: Option<DateTime<Utc>>,
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
    /// What the caller may do now: `draft`, `submit`, `review`.
    pub can: Vec<String>,
}

pub(crate) async fn order_dtos(s: &AppState, rows: Vec<order::Model>) -> ApiResult<Vec<Order>> {
    let db = s.store.db();
    let today = city_day(s.clock.now());
    let departments = org::department_names(db, rows.iter().map(|o| o.department_id)).await?;
    let counts = rect::order_finding_counts(db, rows.iter().map(|o| o.id).collect::<Vec<_>>()).await?;
    let mut bulletins = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for o in rows {
        let b = match o.bulletin_id {
            Some(id) => match bulletins.get(&id) {
                Some(b) => Some(b),
                None => {
                    bulletins.insert(id, rect::get_bulletin(db, id).await?);
                    bulletins.get(&id)
                }
            },
            None => None,
        };
        let state = OrderState::from_code(&o.status).unwrap_or(OrderState::Open);
        let finding_count = counts.get(&o.id).copied().unwrap_or(0);
        out.push(Order {
            id: o.id,
            bulletin_id: o.bulletin_id,
            bulletin_number: b.and_then(|b| Some(xiaoneng_core::rectification::bulletin_number(b.year?, b.number?))),
            bulletin_title: b.map(|b| b.title.clone()),
            department_name: departments.get(&o.department_id).cloned().unwrap_or_default(),
            department_id: o.department_id,
            requirement: o.requirement,
            overdue: state.overdue(o.deadline, today),
            days_left: (o.deadline - today).num_days(),
            deadline: o.deadline,
            status: o.status,
            finding_count,
            issued_at: o.issued_at,
            submitted_late: o.first_submitted_at.is_some_and(|t| city_day(t) > o.deadline),
            first_submitted_at: o.first_submitted_at,
            accepted_at: o.accepted_at,
        });
    }
    Ok(out)
}

pub(crate) async fn instruction_dtos(s: &AppState, rows: Vec<instruction::Model>) -> ApiResult<Vec<Instruction>> {
    let db = s.store.db();
    let authors = accounts::display_names(db, rows.iter().map(|i| i.author_id)).await?;
    let departments = org::department_names(db, rows.iter().filter_map(|i| i.follow_up_department_id)).await?;
    Ok(rows
        .into_iter()
        .map(|i| Instruction {
            id: i.id,
            author_name: authors.get(&i.author_id).cloned().unwrap_or_default(),
            follow_up_department_name: i.follow_up_department_id.and_then(|d| departments.get(&d).cloned()),
            target_kind: i.target_kind,
            target_id: i.target_id,
            text: i.text,
            created_at: i.created_at,
            follow_up: i.follow_up,
            follow_up_department_id: i.follow_up_department_id,
            follow_up_due: i.follow_up_due,
            follow_up_status: i.follow_up_status,
            follow_up_note: i.follow_up_note,
            follow_up_done_at: i.follow_up_done_at,
        })
        .collect())
}

async fn report_dtos(s: &AppState, rows: Vec<report::Model>) -> ApiResult<Vec<Report>> {
    let db = s.store.db();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let people: Vec<i64> =
        rows.iter().flat_map(|r| [Some(r.drafted_by), r.submitted_by, r.reviewed_by]).flatten().collect();
    let names = accounts::display_names(db, people).await?;
    let mut files: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for a in rect::attachments_of(db, "report", ids.clone()).await? {
        files.entry(a.owner_id).or_default().push(a.into());
    }
    let mut notes: HashMap<i64, Vec<Instruction>> = HashMap::new();
    for i in instruction_dtos(s, rect::instructions_on(db, "report", ids).await?).await? {
        notes.entry(i.target_id).or_default().push(i);
    }
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

/// Someone who may see orders: the office and city leaders all, a department's head and liaison
/// their department's (and below).
pub struct OrderReader {
    pub user: CurrentUser,
    pub scope: Scope,
}

impl axum::extract::FromRequestParts<AppState> for OrderReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        let a = Authorized::<perm::RectificationRead>::from_request_parts(parts, s).await?;
        Ok(OrderReader { user: a.user, scope: a.scope })
    }
}

fn may(user: &CurrentUser, p: Permission) -> bool {
    user.grants.has(p)
}

async fn detail(s: &AppState, user: &CurrentUser, o: order::Model) -> ApiResult<OrderDetail> {
    let db = s.store.db();
    let ids = rect::order_finding_ids(db, o.id).await?;
    let rows = xiaoneng_store::inspections::findings_by_ids(db, &ids).await?;
    let findings = finding_lines(s, &rows, false).await?;
    let reports = rect::reports_of(db, o.id).await?;
    let latest = reports.last().map(|r| r.status.clone());
    let reports = report_dtos(s, reports).await?;
    let reminders = rect::reminders_sent(db, o.id)
        .await?
        .into_iter()
        .map(|r| Reminder { deadline: r.deadline, point: r.point, sent_at: r.sent_at })
        .collect();
    let state = OrderState::from_code(&o.status).unwrap_or(OrderState::Open);
    let mut can = Vec::new();
    let in_dept = user.scope(Permission::ReportDraft).is_some();
    if state.awaits_department() && in_dept {
        can.push("draft".to_owned());
        if may(user, Permission::ReportSubmit) && latest.as_deref() == Some(ReportState::Draft.code()) {
            can.push("submit".to_owned());
        }
    }
    if state == OrderState::Submitted && may(user, Permission::RectificationManage) {
        can.push("review".to_owned());
    }
    let order = order_dtos(s, vec![o]).await?.pop().ok_or(ApiError::NotFound)?;
    Ok(OrderDetail { order, findings, reports, reminders, can })
}

// ------------------------------------------------------------------ orders

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
    let codes: Vec<&str> = OrderState::ALL.iter().map(|s| s.code()).collect();
    let status = parse_codes("status", p.status.as_deref(), OrderState::from_code, &codes, &mut v);
    v.done()?;
    let f = OrderFilter {
        status,
        department_id: p.department_id,
        bulletin_id: p.bulletin_id,
        overdue_on: p.overdue.unwrap_or(false).then(|| city_day(s.clock.now())),
    };
    let rows = rect::list_orders(s.store.db(), &r.scope, &f, page).await?;
    let (total, pg, ps) = (rows.total, rows.page, rows.page_size);
    Ok(Json(Page { items: order_dtos(&s, rows.items).await?, total, page: pg, page_size: ps }))
}

#[utoipa::path(get, operation_id = "orders_get_one", path = "/api/v1/orders/{id}", tag = "rectification",
    responses((status = 200, body = OrderDetail), (status = 404, body = ErrorBody)))]
async fn get_one(State(s): State<AppState>, r: OrderReader, Path(id): Path<i64>) -> ApiResult<Json<OrderDetail>> {
    let o = rect::get_order(s.store.db(), &r.scope, id).await?;
    Ok(Json(detail(&s, &r.user, o).await?))
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
    let r = rect::save_draft(&tx, &o, input, auth.user.id, s.clock.now()).await.map_err(state_conflict)?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "report.draft", "order", id, json!({ "report_id": r.id, "version": r.version })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, o).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportStepBody {
    /// `submit` (the department's head), `accept` or `return` (the office).
    pub action: String,
    /// The office's comments: required to return.
    #[serde(default)]
    pub comment: String,
    /// On a return: the new last day to resubmit (default: the office's number of working days
    /// from today).
    pub resubmit_by: Option<NaiveDate>,
}

/// Submits, accepts or returns a report.
#[utoipa::path(post, operation_id = "orders_step_report", path = "/api/v1/reports/{id}/steps", tag = "rectification", request_body = ReportStepBody,
    responses((status = 200, body = OrderDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step_report(
    State(s): State<AppState>,
    r: OrderReader,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReportStepBody>,
) -> ApiResult<Json<OrderDetail>> {
    let actions: Vec<&str> = ReportAction::ALL.iter().map(|a| a.code()).collect();
    let action = parse_enum("action", &b.action, ReportAction::from_code, &actions)?;
    let comment = parse_text("comment", &b.comment, 4_000)?;
    if action == ReportAction::Return && comment.is_empty() {
        return Err(ApiError::invalid("comment", "required", "退回时请写明意见", "Say why the report is returned"));
    }
    let user = &r.user;
    let actor = match action {
        ReportAction::Submit if may(user, Permission::ReportSubmit) => ReportActor::Head,
        ReportAction::Accept | ReportAction::Return if may(user, Permission::RectificationManage) => {
            ReportActor::Office
        }
        _ => return Err(ApiError::Forbidden),
    };
    let now = s.clock.now();
    let today = city_day(now);
    let tx = s.store.write().await?;
    let rep = rect::get_report(&tx, id).await?;
    let o = rect::get_order(&tx, &r.scope, rep.order_id).await?;
    let from = ReportState::from_code(&rep.status).ok_or_else(|| ApiError::Internal(format!("report {id} state")))?;
    let to = from.after(action, actor).map_err(|e| match e.code {
        "not_your_step" => ApiError::Forbidden,
        _ => ApiError::refused(StatusCode::CONFLICT, e.code, e.zh, e.en),
    })?;
    if to == ReportState::Submitted && rep.cause.trim().is_empty() && rep.measures.trim().is_empty() {
        return Err(ApiError::invalid(
            "measures",
            "required",
            "请先填写原因分析和整改措施再报送",
            "Write the cause analysis and the measures before submitting",
        ));
    }
    let new_deadline = if to == ReportState::Returned {
        let policy: RectificationPolicy = settings::get(&tx, settings::RECTIFICATION_POLICY).await?;
        let d = match b.resubmit_by {
            Some(d) if d < today => {
                return Err(ApiError::invalid(
                    "resubmit_by",
                    "in_the_past",
                    "重新报送期限不能早于今天",
                    "The resubmission date cannot be in the past",
                ));
            }
            Some(d) => d,
            None => xiaoneng_store::calendar::work_calendar(&tx)
                .await?
                .add_working_days(today, policy.resubmit_working_days),
        };
        Some(d)
    } else {
        None
    };
    let (o, rep) = rect::step_report(&tx, o, rep, to, user.id, comment.clone(), new_deadline, now).await?;
    let dept_users = rect::department_users(&tx, o.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
    let link = format!("/rectification/{}", o.id);
    let note = match to {
        ReportState::Submitted => {
            let office = rect::users_with_roles(&tx, &[Role::OfficeAdmin]).await?;
            let dept =
                org::department_names(&tx, [o.department_id]).await?.remove(&o.department_id).unwrap_or_default();
            Some((
                office,
                Note {
                    kind: "report.submitted",
                    title: format!("{dept}报送了整改报告"),
                    body: format!("第 {} 版，请审核。", rep.version),
                    link,
                    due: None,
                },
            ))
        }
        ReportState::Returned => Some((
            dept_users,
            Note {
                kind: "report.returned",
                title: "整改报告被退回".into(),
                body: comment.clone(),
                link,
                due: Some(o.deadline),
            },
        )),
        ReportState::Accepted => Some((
            dept_users,
            Note {
                kind: "report.accepted", title: "整改报告已采纳".into(), body: comment.clone(), link, due: None
            },
        )),
        ReportState::Draft => None,
    };
    if let Some((users, n)) = note {
        rect::notify(&tx, &users, &n, None, now).await?;
    }
    let d = json!({ "order_id": o.id, "version": rep.version, "from": from.code(), "to": to.code(), "comment": comment, "resubmit_by": new_deadline });
    audit::append(&tx, s.store.audit_algo(), &user.audit(&s, &format!("report.{}", action.code()), "report", id, d))
        .await?;
    tx.commit().await?;
    Ok(Json(detail(&s, user, o).await?))
}

// ------------------------------------------------------------------ attachments

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachParams {
    /// The file's name as the user knows it.
    pub filename: String,
}

/// Attaches a file (the request body; up to the server's body limit) to a draft report:
/// documents, photos, recordings.
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
    let Some((mime, _)) = xiaoneng_core::evidence::sniff(&body[..body.len().min(8192)]) else {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
            "只能上传文档（PDF、Word、Excel）、图片、音频或视频",
            "Only documents (PDF, Word, Excel), photos, audio or video can be attached",
        ));
    };
    let rep = rect::get_report(s.store.db(), id).await?;
    let o = rect::get_order(s.store.db(), &auth.scope, rep.order_id).await?;
    if rep.status != ReportState::Draft.code() {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "not_a_draft",
            "报告已报送，不能再添加附件",
            "The report has been submitted; no more files can be added",
        ));
    }
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    let key = format!("attachments/report/{id}/{}", uuid_like());
    let size = body.len() as i64;
    s.objects
        .put(&object_store::path::Path::from(key.as_str()), body.into())
        .await
        .map_err(|e| ApiError::Internal(format!("storing an attachment: {e}")))?;
    let tx = s.store.write().await?;
    let a = rect::add_attachment(
        &tx,
        NewAttachment {
            owner_kind: "report",
            owner_id: id,
            filename,
            content_type: mime.into(),
            size,
            sha256,
            object_key: key,
        },
        auth.user.id,
        s.clock.now(),
    )
    .await?;
    let d = json!({ "order_id": o.id, "report_id": id, "filename": a.filename, "size": size, "sha256": a.sha256 });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "attachment.add", "attachment", a.id, d)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

fn uuid_like() -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("{n:032x}")
}

/// An attachment's bytes, for whoever may see the report it belongs to.
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
    let ext = a.filename.rsplit_once('.').map(|(_, e)| e).unwrap_or("bin");
    let disposition = format!("attachment; filename=\"attachment-{id}.{ext}\"");
    Ok(([(header::CONTENT_TYPE, a.content_type), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

// ------------------------------------------------------------------ instructions

#[derive(Debug, Deserialize, ToSchema)]
pub struct FollowUpBody {
    /// The department that must follow up; the office when left out.
    pub department_id: Option<i64>,
    pub due: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InstructionBody {
    /// `bulletin` or `report`.
    pub target_kind: String,
    pub target_id: i64,
    pub text: String,
    /// Set when the instruction must be followed up: by whom and by when.
    pub follow_up: Option<FollowUpBody>,
}

/// A city leader's instruction (批示) on a published bulletin or a submitted report.
#[utoipa::path(post, operation_id = "orders_instruct", path = "/api/v1/instructions", tag = "rectification", request_body = InstructionBody,
    responses((status = 201, body = Instruction), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn instruct(
    State(s): State<AppState>,
    auth: Authorized<perm::InstructionWrite>,
    ApiJson(b): ApiJson<InstructionBody>,
) -> ApiResult<(StatusCode, Json<Instruction>)> {
    let text = parse_name("text", &b.text, 2_000)?;
    let now = s.clock.now();
    let kind: &'static str = match b.target_kind.as_str() {
        "bulletin" => "bulletin",
        "report" => "report",
        _ => {
            return Err(ApiError::invalid(
                "target_kind",
                "invalid_choice",
                "取值无效，可选：bulletin、report",
                "Not a valid choice; one of: bulletin, report",
            ));
        }
    };
    if let Some(f) = &b.follow_up
        && f.due < city_day(now)
    {
        return Err(ApiError::invalid(
            "follow_up.due",
            "in_the_past",
            "落实期限不能早于今天",
            "The due date cannot be in the past",
        ));
    }
    let tx = s.store.write().await?;
    // The target must exist and be something a leader instructs on: published or submitted.
    let (title, dept, link) = match kind {
        "bulletin" => {
            let bl = rect::get_bulletin(&tx, b.target_id).await?;
            if bl.status != "published" {
                return Err(ApiError::NotFound);
            }
            (bl.title.clone(), None, format!("/bulletins/{}", bl.id))
        }
        _ => {
            let rep = rect::get_report(&tx, b.target_id).await?;
            if rep.status == ReportState::Draft.code() {
                return Err(ApiError::NotFound);
            }
            let o = rect::get_order(&tx, &auth.scope, rep.order_id).await?;
            (format!("整改报告（第 {} 版）", rep.version), Some(o.department_id), format!("/rectification/{}", o.id))
        }
    };
    if let Some(d) = b.follow_up.as_ref().and_then(|f| f.department_id) {
        org::get_department(&tx, &Scope::All, d).await.map_err(|_| {
            ApiError::invalid("follow_up.department_id", "unknown_department", "部门不存在", "No such department")
        })?;
    }
    let i = rect::add_instruction(
        &tx,
        NewInstruction {
            target_kind: kind,
            target_id: b.target_id,
            text: text.clone(),
            follow_up: b.follow_up.as_ref().map(|f| (f.department_id, f.due)),
        },
        auth.user.id,
        now,
    )
    .await?;
    let mut to = rect::users_with_roles(&tx, &[Role::OfficeAdmin]).await?;
    let follow_dept = b.follow_up.as_ref().and_then(|f| f.department_id);
    for d in dept.into_iter().chain(follow_dept) {
        to.extend(rect::department_users(&tx, d, &[Role::DeptHead]).await?);
    }
    to.sort_unstable();
    to.dedup();
    let note = Note {
        kind: "instruction",
        title: format!("{}的批示：{title}", auth.user.display_name),
        body: text,
        link,
        due: b.follow_up.as_ref().map(|f| f.due),
    };
    rect::notify(&tx, &to, &note, None, now).await?;
    let d = json!({ "target_kind": kind, "target_id": b.target_id, "follow_up": b.follow_up.as_ref().map(|f| json!({"department_id": f.department_id, "due": f.due})) });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "instruction.create", "instruction", i.id, d))
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(instruction_dtos(&s, vec![i]).await?.remove(0))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FollowUpDone {
    /// What was done.
    pub note: String,
}

/// Reports an instruction's follow-up done: the office for its own items, the department's head
/// for the department's.
#[utoipa::path(post, operation_id = "orders_follow_up", path = "/api/v1/instructions/{id}/follow-up", tag = "rectification", request_body = FollowUpDone,
    responses((status = 200, body = Instruction), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn follow_up(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<FollowUpDone>,
) -> ApiResult<Json<Instruction>> {
    let note = parse_name("note", &b.note, 4_000)?;
    let tx = s.store.write().await?;
    let i = rect::get_instruction(&tx, id).await?;
    let allowed = match i.follow_up_department_id {
        None => user.grants.has(Permission::RectificationManage),
        Some(d) => match user.scope(Permission::ReportSubmit) {
            Some(scope) => org::get_department(&tx, &scope, d).await.is_ok(),
            None => false,
        },
    };
    if !allowed || !i.follow_up {
        return Err(ApiError::NotFound);
    }
    let i = rect::complete_follow_up(&tx, i, note.clone(), user.id, s.clock.now()).await.map_err(state_conflict)?;
    audit::append(
        &tx,
        s.store.audit_algo(),
        &user.audit(&s, "instruction.follow_up", "instruction", id, json!({ "note": note })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(instruction_dtos(&s, vec![i]).await?.remove(0)))
}

// ------------------------------------------------------------------ the office's rules

#[utoipa::path(get, operation_id = "orders_get_policy", path = "/api/v1/settings/rectification-policy", tag = "rectification",
    responses((status = 200, body = RectificationPolicy)))]
async fn get_policy(State(s): State<AppState>, _r: OrderReader) -> ApiResult<Json<RectificationPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::RECTIFICATION_POLICY).await?))
}

#[utoipa::path(put, operation_id = "orders_put_policy", path = "/api/v1/settings/rectification-policy", tag = "rectification",
    request_body = RectificationPolicy, responses((status = 200, body = RectificationPolicy), (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    ApiJson(p): ApiJson<RectificationPolicy>,
) -> ApiResult<Json<RectificationPolicy>> {
    p.validate()?;
    super::save_setting(&s, &auth.user, settings::RECTIFICATION_POLICY, &p).await?;
    Ok(Json(p))
}

/// The message robots, without their secrets.
#[utoipa::path(get, operation_id = "orders_get_channels", path = "/api/v1/settings/notify-channels", tag = "rectification",
    responses((status = 200, body = ChannelsView), (status = 403, body = ErrorBody)))]
async fn get_channels(
    State(s): State<AppState>,
    _a: Authorized<perm::RectificationManage>,
) -> ApiResult<Json<ChannelsView>> {
    let c: NotifyChannels = settings::get(s.store.db(), settings::NOTIFY_CHANNELS).await?;
    Ok(Json(c.view()))
}

/// Sets the DingTalk / WeCom group robots that reminders and notices go to.
#[utoipa::path(put, operation_id = "orders_put_channels", path = "/api/v1/settings/notify-channels", tag = "rectification",
    request_body = ChannelsChange, responses((status = 200, body = ChannelsView), (status = 422, body = ErrorBody)))]
async fn put_channels(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    ApiJson(c): ApiJson<ChannelsChange>,
) -> ApiResult<Json<ChannelsView>> {
    let tx = s.store.write().await?;
    let before: NotifyChannels = settings::get(&tx, settings::NOTIFY_CHANNELS).await?;
    let after = before.apply(c)?;
    settings::put(&tx, settings::NOTIFY_CHANNELS, &after, Some(auth.user.id), s.clock.now()).await?;
    // The audit says what changed, never the addresses or secrets themselves.
    let d = json!({ "before": before.view(), "after": after.view() });
    audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "settings.notify_channels", "setting", settings::NOTIFY_CHANNELS, d),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after.view()))
}
