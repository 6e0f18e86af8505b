//! Tickets for bad ratings and the public's complaints (差评整改): opened when a bad rating
//! counts or a complaint arrives, worked by the responsible department — verify, rectify, call
//! back — within the office's working-day limits, appealed to the office, reminded and marked
//! overdue by a job. Every step is core's decision (`core::ticket`), applied conditional on the
//! version read, with its events and audit entry in one transaction.

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    event::{Aggregate, EventKind, Payload},
    org::mask_mobile,
    rbac::{DataScope, Permission, Role},
    scope::Scope,
    ticket::{
        self as core_ticket, ComplaintAbout, TicketAbout, TicketAction, TicketActor, TicketPolicy, TicketSource,
        TicketState, TicketStep,
    },
};
use xiaoneng_store::{
    HashAlgo, calendar,
    entity::ticket,
    ledger, org,
    personal::{Field, Sealed},
    rectification::{self as rect, Note},
    settings,
    tickets::{self as store, NewTicket, TicketFilter},
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req, parse_opt},
    auth::{Act, Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
    jobs::{enqueue_notice, system_audit},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets))
        .routes(routes!(get_ticket))
        .routes(routes!(step))
        .routes(routes!(reveal_phone))
        .routes(routes!(photo))
        .routes(routes!(get_policy, put_policy))
}

// ------------------------------------------------------------------ opening

/// What a ticket is opened for.
pub struct Opening {
    pub source: TicketSource,
    pub rating_id: Option<i64>,
    pub about: Option<ComplaintAbout>,
    pub on: TicketAbout,
    pub case_id: Option<i64>,
    pub content: String,
    pub phone: Option<(Sealed, String)>,
    /// A complaint's sender's address, as a blind index.
    pub address_key: Option<String>,
    /// A complaint's photo as kept: (object key, media type, SHA-256).
    pub photo: Option<(String, String, String)>,
}

/// Opens a ticket for the department in `c`'s transaction: core sets its first deadline; the
/// ledger records `ticket.opened`; the department's head and liaison are told.
pub async fn open<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    actor: &str,
    o: Opening,
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<ticket::Model> {
    let cal = calendar::work_calendar(c).await?;
    let policy: TicketPolicy = settings::get(c, settings::TICKET_POLICY).await?;
    let (due, event) = core_ticket::open(o.source, o.rating_id, o.on, &cal, &policy, now);
    let t = store::insert_ticket(
        c,
        NewTicket {
            source: o.source,
            rating_id: o.rating_id,
            about: o.about,
            department_id: o.on.department_id,
            window_id: o.on.window_id,
            person_id: o.on.person_id,
            case_id: o.case_id,
            content: o.content,
            phone: o.phone,
            address_key: o.address_key,
            photo: o.photo,
            due,
            opened_at: now,
        },
    )
    .await?;
    let rec = system_audit(actor, "ticket.open", ("ticket", t.id), json!({ "source": t.source, "due": due }), now);
    ledger::append(c, algo, &rec, &[event], Some(t.id)).await?;
    let note = Note {
        kind: "ticket.opened",
        title: format!("新{}工单 {}", o.source.label_zh(), number_of(&t)),
        body: format!("请于 {due} 前核实。"),
        link: format!("/service/tickets?id={}", t.id),
        due: Some(due),
    };
    let users = rect::department_users(c, t.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
    rect::notify(c, &users, &note, Some(&format!("ticket.opened:{}", t.id)), now).await?;
    Ok(t)
}

/// GD-2026-000123: the year it was opened and its id.
pub fn number_of(t: &ticket::Model) -> String {
    core_ticket::ticket_number(chrono::Datelike::year(&city_day(t.opened_at)), t.id)
}

// ------------------------------------------------------------------ reading

#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    pub id: i64,
    /// GD-2026-000123.
    pub number: String,
    pub source: TicketSource,
    pub rating_id: Option<i64>,
    pub about: Option<ComplaintAbout>,
    pub department_id: i64,
    pub department_name: String,
    pub window_id: Option<i64>,
    pub window_name: Option<String>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub case_id: Option<i64>,
    pub content: String,
    pub state: TicketState,
    /// The deadline of the stage it is in.
    pub due: Option<NaiveDate>,
    pub overdue: bool,
    pub reopened: bool,
    pub verification: Option<String>,
    pub rectification: Option<String>,
    pub callback_satisfied: Option<bool>,
    pub callback_note: Option<String>,
    pub appeal_reason: Option<String>,
    pub decision_reason: Option<String>,
    /// A complainant's phone, masked, for those who call back.
    pub phone: Option<String>,
    /// The complaint came with a photo (`GET /api/v1/tickets/{id}/photo`).
    pub has_photo: bool,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketStepView {
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub text: Option<String>,
    pub satisfied: Option<bool>,
    pub due: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// What the caller may do now.
    pub allowed_actions: Vec<TicketAction>,
    pub history: Vec<TicketStepView>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    pub department_id: Option<i64>,
    pub state: Option<String>,
    pub source: Option<String>,
    /// Only those past their deadline.
    pub overdue: Option<bool>,
}

async fn views(s: &AppState, rows: Vec<ticket::Model>, may_call: bool) -> ApiResult<Vec<Ticket>> {
    let db = s.store.db();
    let depts = org::department_names(db, rows.iter().map(|t| t.department_id)).await?;
    let windows = org::window_names(db, rows.iter().filter_map(|t| t.window_id)).await?;
    let people = org::person_names(db, rows.iter().filter_map(|t| t.person_id)).await?;
    let today = city_day(s.clock.now());
    let vault = s.store.vault();
    let mut out = Vec::with_capacity(rows.len());
    for t in rows {
        let phone = match (&t.phone_sealed, may_call) {
            (Some(sealed), true) => Some(mask_mobile(&vault.open(Field::ComplainantPhone, sealed)?)),
            _ => None,
        };
        out.push(Ticket {
            id: t.id,
            number: number_of(&t),
            source: t.source,
            rating_id: t.rating_id,
            about: t.about,
            department_id: t.department_id,
            department_name: depts.get(&t.department_id).cloned().unwrap_or_default(),
            window_id: t.window_id,
            window_name: t.window_id.and_then(|w| windows.get(&w).cloned()),
            person_id: t.person_id,
            person_name: t.person_id.and_then(|p| people.get(&p).cloned()),
            case_id: t.case_id,
            overdue: t.state.is_open() && t.due.is_some_and(|d| d < today),
            content: t.content,
            state: t.state,
            due: t.due,
            reopened: t.reopened,
            verification: t.verification,
            rectification: t.rectification,
            callback_satisfied: t.callback_satisfied,
            callback_note: t.callback_note,
            appeal_reason: t.appeal_reason,
            decision_reason: t.decision_reason,
            phone,
            has_photo: t.photo_key.is_some(),
            opened_at: t.opened_at,
            closed_at: t.closed_at,
        });
    }
    Ok(out)
}

/// Tickets in the caller's scope, the nearest deadline first.
#[utoipa::path(get, operation_id = "tickets_list", path = "/api/v1/tickets", tag = "tickets", params(TicketParams),
    responses((status = 200, body = Page<Ticket>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_tickets(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    ApiQuery(p): ApiQuery<TicketParams>,
) -> ApiResult<Json<Page<Ticket>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let state = parse_opt::<TicketState>("state", p.state.as_deref(), &mut v);
    let source = parse_opt::<TicketSource>("source", p.source.as_deref(), &mut v);
    v.done()?;
    let today = city_day(s.clock.now());
    let f = TicketFilter {
        department_id: p.department_id,
        state,
        source,
        overdue_on: p.overdue.unwrap_or(false).then_some(today),
    };
    let found = store::list_tickets(s.store.db(), &auth.scope, &f, page).await?;
    let may_call = auth.user.grants.has(Permission::RatingReveal);
    let items = views(&s, found.items, may_call).await?;
    Ok(Json(Page { items, total: found.total, page: found.page, page_size: found.page_size }))
}

/// Who acts on tickets: the office (its grant reaches the whole city) or the department; none
/// for a reader who does not handle tickets.
fn actor(user: &CurrentUser) -> Option<TicketActor> {
    match user.grants.scope(Permission::TicketHandle)? {
        DataScope::All => Some(TicketActor::Office),
        _ => Some(TicketActor::Department),
    }
}

#[utoipa::path(get, operation_id = "tickets_get", path = "/api/v1/tickets/{id}", tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_ticket(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    Path(id): Path<i64>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(detail(&s, &auth.user, &auth.scope, id).await?))
}

/// A ticket with what the reader may do and its history.
async fn detail(s: &AppState, user: &CurrentUser, scope: &Scope, id: i64) -> ApiResult<TicketDetail> {
    let db = s.store.db();
    let t = store::get_ticket(db, id, scope).await?;
    let allowed_actions = actor(user).map(|a| store::facts(&t).allowed(a)).unwrap_or_default();
    let events = ledger::of(db, Aggregate::Ticket, t.id).await?;
    let names = xiaoneng_store::accounts::display_names(db, events.iter().filter_map(|e| e.actor_user_id)).await?;
    let mut history = Vec::with_capacity(events.len());
    for e in &events {
        let (text, satisfied, due) = match ledger::payload(e)? {
            Payload::TicketOpened(o) => (None, None, Some(o.due)),
            Payload::TicketReminded(d) | Payload::TicketOverdue(d) => (None, None, Some(d.due)),
            Payload::TicketVerified(x)
            | Payload::TicketRectified(x)
            | Payload::TicketCalledBack(x)
            | Payload::TicketReopened(x)
            | Payload::TicketAppealed(x)
            | Payload::TicketOverturned(x)
            | Payload::TicketUpheld(x) => (Some(x.text), x.satisfied, x.due),
            _ => (None, None, None),
        };
        let by = e.actor_user_id.and_then(|u| names.get(&u).cloned());
        history.push(TicketStepView { kind: e.kind, at: e.occurred_at, by, text, satisfied, due });
    }
    let ticket = views(s, vec![t], user.grants.has(Permission::RatingReveal)).await?.remove(0);
    Ok(TicketDetail { ticket, allowed_actions, history })
}

// ------------------------------------------------------------------ steps

/// A step on a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketStepBody {
    /// `verify`, `rectify`, `call_back`, `appeal`, `overturn` or `uphold`.
    pub action: String,
    /// What was verified, rectified or heard back; why appealed, overturned or upheld.
    #[serde(default)]
    pub text: String,
    /// For `call_back`: whether the rater is satisfied with the rectification.
    pub satisfied: Option<bool>,
}

/// Takes a step: the department verifies, rectifies, calls back and appeals; the office calls
/// back too and decides appeals. An overturned bad rating counts nowhere from then on.
#[utoipa::path(post, operation_id = "tickets_step", path = "/api/v1/tickets/{id}/steps", tag = "tickets",
    request_body = TicketStepBody,
    responses((status = 200, body = TicketDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step(
    State(s): State<AppState>,
    auth: Authorized<perm::TicketHandle>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<TicketStepBody>,
) -> ApiResult<Json<TicketDetail>> {
    let Some(action) = TicketAction::from_code(b.action.trim()) else {
        return Err(ApiError::invalid(
            "action",
            "invalid_choice",
            format!("操作须为 {} 之一", TicketAction::codes().join("、")),
            format!("The action is one of {}", TicketAction::codes().join(", ")),
        ));
    };
    let text = b.text.clone();
    let step = match action {
        TicketAction::Verify => TicketStep::Verify { note: text },
        TicketAction::Rectify => TicketStep::Rectify { note: text },
        TicketAction::CallBack => {
            let Some(satisfied) = b.satisfied else {
                return Err(ApiError::invalid(
                    "satisfied",
                    "required",
                    "请选择回访结果",
                    "Say whether the rater is satisfied",
                ));
            };
            TicketStep::CallBack { satisfied, note: text }
        }
        TicketAction::Appeal => TicketStep::Appeal { reason: text },
        TicketAction::Overturn => TicketStep::Overturn { reason: text },
        TicketAction::Uphold => TicketStep::Uphold { reason: text },
    };
    let Some(who) = actor(&auth.user) else { return Err(ApiError::Forbidden) };
    let tx = s.store.write().await?;
    let t = store::get_ticket(&tx, id, &auth.scope).await?;
    take_step(&tx, &Act::new(&s, &auth.user), who, &t, &step).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, &auth.scope, id).await?))
}

/// Takes a step on `t` in `tx` as core decides: applied on the version read, its events and audit
/// entry appended, a bad rating overturned, the office told of an appeal. The demo takes its
/// tickets' steps this way.
pub async fn take_step<C: ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    who: TicketActor,
    t: &ticket::Model,
    step: &TicketStep,
) -> ApiResult<core_ticket::TicketChange> {
    let now = act.now;
    let cal = calendar::work_calendar(tx).await?;
    let policy: TicketPolicy = settings::get(tx, settings::TICKET_POLICY).await?;
    let change = store::facts(t).decide(step, who, &cal, &policy, now)?;
    store::apply_step(tx, t, &change, now).await?;
    let action = change.action;
    if let (TicketAction::Overturn, Some(r)) = (action, t.rating_id) {
        store::overturn_rating(tx, r).await?;
    }
    let facts = json!({ "action": action, "from": t.state, "to": change.next, "due": change.due });
    let rec = act.audit(&format!("ticket.{}", action.code()), "ticket", t.id, facts);
    ledger::append(tx, act.algo, &rec, &change.events, None).await?;
    if action == TicketAction::Appeal {
        let office = rect::users_with_roles(tx, &[Role::OfficeAdmin]).await?;
        let note = Note {
            kind: "ticket.appealed",
            title: format!("工单 {} 申诉待裁决", number_of(t)),
            body: change.text.clone(),
            link: format!("/service/tickets?id={}", t.id),
            due: None,
        };
        rect::notify(tx, &office, &note, Some(&format!("ticket.appealed:{}", t.id)), now).await?;
    }
    Ok(change)
}

/// A complainant's full number, for the callback. Audited. (A bad rating's number is revealed on
/// the rating.)
#[utoipa::path(post, operation_id = "tickets_reveal_phone", path = "/api/v1/tickets/{id}/reveal-phone", tag = "tickets",
    responses((status = 200, body = crate::ratings::RevealedPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reveal_phone(
    State(s): State<AppState>,
    auth: Authorized<perm::RatingReveal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<crate::ratings::RevealedPhone>> {
    let t = store::get_ticket(s.store.db(), id, &auth.scope).await?;
    let field = (Field::ComplainantPhone, "ticket", id);
    crate::ratings::reveal(
        &s,
        &auth.user,
        t.phone_sealed.as_ref(),
        field,
        ("投诉人未留电话", "The complainant left no phone"),
    )
    .await
}

/// The photo a complaint came with, as it was sent, for those who handle the ticket (not the
/// staff member it is about: it may show the complainant); viewing it is audited.
#[utoipa::path(get, operation_id = "tickets_photo", path = "/api/v1/tickets/{id}/photo", tag = "tickets",
    responses((status = 200, description = "the photo", content_type = "image/*"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn photo(
    State(s): State<AppState>,
    auth: Authorized<perm::TicketHandle>,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    use axum::{http::header, response::IntoResponse};
    use object_store::ObjectStoreExt;
    let t = store::get_ticket(s.store.db(), id, &auth.scope).await?;
    let (Some(key), Some(mime)) = (t.photo_key, t.photo_type) else {
        return Err(ApiError::refused(
            axum::http::StatusCode::NOT_FOUND,
            "no_photo",
            "该投诉未附照片",
            "The complaint came without a photo",
        ));
    };
    let got = s.objects.get(&object_store::path::Path::from(key.as_str())).await?;
    let bytes = got.bytes().await?;
    s.store.audit(&auth.user.audit(&s, "ticket.photo_viewed", "ticket", id, json!({}))).await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

// ------------------------------------------------------------------ policy

#[utoipa::path(get, operation_id = "ticket_policy_get", path = "/api/v1/settings/ticket-policy", tag = "tickets",
    responses((status = 200, body = TicketPolicy), (status = 403, body = ErrorBody)))]
async fn get_policy(State(s): State<AppState>, _r: Authorized<perm::ServiceRead>) -> ApiResult<Json<TicketPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::TICKET_POLICY).await?))
}

/// The working days for each stage and the reminder; tickets already open keep their deadlines.
#[utoipa::path(put, operation_id = "ticket_policy_put", path = "/api/v1/settings/ticket-policy", tag = "tickets",
    request_body = TicketPolicy, responses((status = 200, body = TicketPolicy), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(p): ApiJson<TicketPolicy>,
) -> ApiResult<Json<TicketPolicy>> {
    let p = p.checked().map_err(ApiError::Validation)?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    settings::put(&tx, settings::TICKET_POLICY, &p, Some(auth.user.id), now).await?;
    ledger::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "settings.ticket_policy", "settings", settings::TICKET_POLICY, json!(p)),
        &[],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(p))
}

// ------------------------------------------------------------------ the job

/// Marks tickets past their deadline overdue, and in office hours reminds the department of a
/// deadline coming; each once per deadline, with its event, telling the department's head and
/// liaison (and the office of an overdue one) through the notification channels.
pub async fn remind<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    now: DateTime<Utc>,
    office_hours: bool,
) -> xiaoneng_store::Result<usize> {
    let cal = calendar::work_calendar(c).await?;
    let policy: TicketPolicy = settings::get(c, settings::TICKET_POLICY).await?;
    let office = rect::users_with_roles(c, &[Role::OfficeAdmin]).await?;
    let mut n = 0;
    for t in store::with_deadlines(c).await? {
        let facts = store::facts(&t);
        let (event, overdue) = match facts.overdue(now) {
            Some(e) => (e, true),
            None if office_hours => match facts.reminder(&cal, &policy, now) {
                Some(e) => (e, false),
                None => continue,
            },
            None => continue,
        };
        let Some(due) = t.due else { continue };
        if !store::mark_deadline(c, t.id, due, overdue).await? {
            continue;
        }
        let what = if overdue { "ticket.overdue" } else { "ticket.remind" };
        let rec = system_audit("system", what, ("ticket", t.id), json!({ "state": t.state, "due": due }), now);
        ledger::append(c, algo, &rec, &[event], None).await?;
        let stage = t.state.label_zh();
        let (title, text) = if overdue {
            (
                format!("工单 {} {stage}已逾期", number_of(&t)),
                format!("【效能办】工单 {} {stage}期限 {due} 已过，请尽快办理。", number_of(&t)),
            )
        } else {
            (
                format!("工单 {} {stage}将于 {due} 到期", number_of(&t)),
                format!("【效能办】提醒：工单 {} 请于 {due} 前完成{stage}。", number_of(&t)),
            )
        };
        let note = Note {
            kind: what,
            title,
            body: t.content.chars().take(100).collect(),
            link: format!("/service/tickets?id={}", t.id),
            due: Some(due),
        };
        let mut users = rect::department_users(c, t.department_id, &[Role::DeptHead, Role::DeptLiaison]).await?;
        if overdue {
            users.extend(&office);
        }
        let key = format!("{what}:{}:{due}", t.id);
        rect::notify(c, &users, &note, Some(&key), now).await?;
        enqueue_notice(c, &text, Some(key), now).await?;
        n += 1;
    }
    Ok(n)
}
