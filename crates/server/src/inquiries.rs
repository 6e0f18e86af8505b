//! The first-inquiry log (首问负责制): a staff member records what they were asked first and
//! answers it, hands it over to a named person or department, or keeps it to answer later; the
//! receiver takes it up or refuses it back; the chain is read whole from the ledger. A refusal, a
//! hand-over not taken up in time, and an inquiry not answered in time are lapses: candidate
//! findings the office reviews, making a finding (a draft without a visit) or dismissing them.
//! Every step is core's decision (`core::inquiry`), applied on the version read, with its events
//! and audit entry in one transaction.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    event::{Aggregate, EventKind, Payload, Subject},
    inquiry::{
        self as core_inquiry, FirstMove, InquiryAction, InquiryChannel, InquiryPolicy, InquiryState, InquiryStep,
        LapseKind, LapseState, NewInquiry, Receiver, Staff,
    },
    inspection::{NewFinding, Severity, record_from_lapse},
    org::mask_mobile,
    rbac::{Permission, Role},
    rectification::mask_name,
};
use xiaoneng_store::{
    HashAlgo, calendar,
    entity::{inquiry, inquiry_lapse},
    inquiries::{self as store, InquiryFilter, Reach, Shelf},
    inspections::{self, FindingInput},
    ledger, org,
    org::Scope,
    personal::{Field, Vault},
    rectification::{self as rect, Note},
    settings,
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req, parse_opt},
    auth::{Act, Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
    jobs::system_audit,
    tasks::{Task, TaskKind},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_inquiries, record))
        .routes(routes!(get_inquiry))
        .routes(routes!(step))
        .routes(routes!(reveal_phone))
        .routes(routes!(receivers))
        .routes(routes!(list_lapses))
        .routes(routes!(review_lapse))
        .routes(routes!(get_policy, put_policy))
}

/// SW-2026-000123: the year it was asked and its id.
pub fn number_of(i: &inquiry::Model) -> String {
    format!("SW-{}-{:06}", chrono::Datelike::year(&city_day(i.asked_at)), i.id)
}

/// The staff member an account acts as, where they work now; none for an account not linked to
/// an active staff member.
async fn staff_of<C: ConnectionTrait>(c: &C, user: &CurrentUser) -> ApiResult<Option<Staff>> {
    let Some(pid) = user.person_id else { return Ok(None) };
    match org::get_person(c, &Scope::All, pid).await {
        Ok(p) if p.status == xiaoneng_core::org::Status::Active => {
            Ok(Some(Staff { person_id: p.id, department_id: p.department_id }))
        }
        Ok(_) | Err(xiaoneng_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn not_staff() -> ApiError {
    ApiError::refused(
        StatusCode::FORBIDDEN,
        "not_staff",
        "您的账号未关联在职工作人员，不能办理首问咨询",
        "Your account is not linked to a serving staff member: you cannot handle inquiries",
    )
}

// ------------------------------------------------------------------ reading

#[derive(Debug, Serialize, ToSchema)]
pub struct Inquiry {
    pub id: i64,
    /// SW-2026-000123.
    pub number: String,
    pub channel: InquiryChannel,
    /// Who asked, masked (王**).
    pub asker: String,
    /// The number they left, masked; the full one through the audited reveal.
    pub phone: Option<String>,
    pub content: String,
    pub state: InquiryState,
    pub first_person_id: i64,
    pub first_person_name: String,
    pub first_department_id: i64,
    pub first_department_name: String,
    /// With whom it is now (none: waiting in the department for anyone there).
    pub holder_person_id: Option<i64>,
    pub holder_person_name: Option<String>,
    pub holder_department_id: i64,
    pub holder_department_name: String,
    pub hand_overs: i32,
    /// The day a receiver must take it up by, while waiting.
    pub accept_due: Option<NaiveDate>,
    /// The day it must be answered by.
    pub due: NaiveDate,
    /// Not answered and past its day.
    pub overdue: bool,
    pub answer: Option<String>,
    pub asked_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// One link of the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryLink {
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    /// The staff member who acted (or whom a passed limit is against).
    pub person_name: Option<String>,
    pub department_name: Option<String>,
    /// Whom it went to.
    pub to_person_name: Option<String>,
    pub to_department_name: Option<String>,
    /// The note, answer or reason.
    pub text: Option<String>,
    /// The day the link set or missed.
    pub due: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lapse {
    pub id: i64,
    pub inquiry_id: i64,
    pub inquiry_number: String,
    pub inquiry_content: String,
    pub kind: LapseKind,
    pub department_id: i64,
    pub department_name: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub state: LapseState,
    pub finding_id: Option<i64>,
    pub reason: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryDetail {
    #[serde(flatten)]
    pub inquiry: Inquiry,
    /// What the caller may do now.
    pub allowed_actions: Vec<InquiryAction>,
    /// Every link, the first first.
    pub chain: Vec<InquiryLink>,
    /// Its lapses, for the office (empty for everyone else).
    pub lapses: Vec<Lapse>,
}

async fn views(s: &AppState, rows: Vec<inquiry::Model>) -> ApiResult<Vec<Inquiry>> {
    let db = s.store.db();
    let depts =
        org::department_names(db, rows.iter().flat_map(|i| [i.first_department_id, i.holder_department_id])).await?;
    let people =
        org::person_names(db, rows.iter().flat_map(|i| std::iter::once(i.first_person_id).chain(i.holder_person_id)))
            .await?;
    let today = city_day(s.clock.now());
    let vault = s.store.vault();
    let mut out = Vec::with_capacity(rows.len());
    for i in rows {
        let phone = match &i.phone_sealed {
            Some(sealed) => Some(mask_mobile(&vault.open(Field::AskerPhone, sealed)?)),
            None => None,
        };
        out.push(Inquiry {
            id: i.id,
            number: number_of(&i),
            channel: i.channel,
            asker: mask_name(&i.asker),
            phone,
            state: i.state,
            first_person_name: people.get(&i.first_person_id).cloned().unwrap_or_default(),
            first_person_id: i.first_person_id,
            first_department_name: depts.get(&i.first_department_id).cloned().unwrap_or_default(),
            first_department_id: i.first_department_id,
            holder_person_name: i.holder_person_id.and_then(|p| people.get(&p).cloned()),
            holder_person_id: i.holder_person_id,
            holder_department_name: depts.get(&i.holder_department_id).cloned().unwrap_or_default(),
            holder_department_id: i.holder_department_id,
            hand_overs: i.hand_overs,
            accept_due: i.accept_due,
            overdue: store::facts(&i).overdue(today),
            due: i.due,
            answer: i.answer,
            content: i.content,
            asked_at: i.asked_at,
            answered_at: i.answered_at,
        });
    }
    Ok(out)
}

async fn lapse_views<C: ConnectionTrait>(c: &C, rows: Vec<inquiry_lapse::Model>) -> ApiResult<Vec<Lapse>> {
    let depts = org::department_names(c, rows.iter().map(|l| l.department_id)).await?;
    let people = org::person_names(c, rows.iter().filter_map(|l| l.person_id)).await?;
    let mut inquiries = std::collections::HashMap::new();
    for l in &rows {
        if let std::collections::hash_map::Entry::Vacant(e) = inquiries.entry(l.inquiry_id) {
            let i = store::get_inquiry(c, l.inquiry_id, &Reach { scope: Scope::All, me: None }).await?;
            e.insert((number_of(&i), i.content));
        }
    }
    Ok(rows
        .into_iter()
        .map(|l| {
            let (number, content) = inquiries.get(&l.inquiry_id).cloned().unwrap_or_default();
            Lapse {
                id: l.id,
                inquiry_id: l.inquiry_id,
                inquiry_number: number,
                inquiry_content: content,
                kind: l.kind,
                department_name: depts.get(&l.department_id).cloned().unwrap_or_default(),
                department_id: l.department_id,
                person_name: l.person_id.and_then(|p| people.get(&p).cloned()),
                person_id: l.person_id,
                raised_at: l.raised_at,
                state: l.state,
                finding_id: l.finding_id,
                reason: l.reason,
                reviewed_at: l.reviewed_at,
            }
        })
        .collect())
}

async fn reach_of(s: &AppState, auth: &Authorized<perm::InquiryHandle>) -> ApiResult<(Reach, Option<Staff>)> {
    let me = staff_of(s.store.db(), &auth.user).await?;
    Ok((Reach { scope: auth.scope.clone(), me }, me))
}

/// An inquiry with its chain and what the reader may do. Its lapses and the office's review of
/// them are candidate findings: only the office sees them.
async fn detail(
    s: &AppState,
    user: &CurrentUser,
    reach: &Reach,
    me: Option<Staff>,
    id: i64,
) -> ApiResult<InquiryDetail> {
    let db = s.store.db();
    let i = store::get_inquiry(db, id, reach).await?;
    let allowed_actions = me.map(|m| store::facts(&i).allowed(m)).unwrap_or_default();
    let reviewer = user.grants.has(Permission::InquiryReview);
    let mut events = ledger::of(db, Aggregate::Inquiry, i.id).await?;
    events.retain(|e| reviewer || !e.office_only);
    let mut links = Vec::with_capacity(events.len());
    let (mut dept_ids, mut person_ids) = (Vec::new(), Vec::new());
    for e in &events {
        let p = ledger::payload(e)?;
        let (to_p, to_d, text, due) = match p {
            Payload::InquiryRecorded(r) => (None, None, None, Some(r.due)),
            Payload::InquiryHandedOver(m)
            | Payload::InquiryAccepted(m)
            | Payload::InquiryRefused(m)
            | Payload::InquiryAnswered(m) => {
                (m.to_person_id, m.to_department_id, Some(m.text).filter(|t| !t.is_empty()), m.accept_due)
            }
            Payload::InquiryDropped(l) | Payload::InquiryOverdue(l) => (None, None, None, Some(l.due)),
            Payload::InquiryLapseUpheld(r) | Payload::InquiryLapseDismissed(r) => (None, None, Some(r.reason), None),
            _ => (None, None, None, None),
        };
        // An accepted link names who took it up as its actor, not again as its receiver.
        let (to_p, to_d) = if e.kind == EventKind::InquiryAccepted { (None, None) } else { (to_p, to_d) };
        dept_ids.extend(e.department_id.into_iter().chain(to_d));
        person_ids.extend(e.person_id.into_iter().chain(to_p));
        links.push((e.kind, e.occurred_at, e.person_id, e.department_id, to_p, to_d, text, due));
    }
    let depts = org::department_names(db, dept_ids).await?;
    let people = org::person_names(db, person_ids).await?;
    let chain = links
        .into_iter()
        .map(|(kind, at, p, d, to_p, to_d, text, due)| InquiryLink {
            kind,
            at,
            person_name: p.and_then(|p| people.get(&p).cloned()),
            department_name: d.and_then(|d| depts.get(&d).cloned()),
            to_person_name: to_p.and_then(|p| people.get(&p).cloned()),
            to_department_name: to_d.and_then(|d| depts.get(&d).cloned()),
            text,
            due,
        })
        .collect();
    let lapses = if reviewer { lapse_views(db, store::lapses_of(db, i.id).await?).await? } else { Vec::new() };
    let inquiry = views(s, vec![i]).await?.remove(0);
    Ok(InquiryDetail { inquiry, allowed_actions, chain, lapses })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InquiryParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// `mine` (waiting for the caller), `asked` (the caller was asked first) or `all` (everything
    /// within the caller's reach; the default).
    pub shelf: Option<String>,
    pub department_id: Option<i64>,
    pub state: Option<String>,
    /// Only those not answered and past their day.
    pub overdue: Option<bool>,
}

/// Inquiries within the caller's reach: those that passed through their department (or them),
/// and those waiting in their department; the open ones with the nearest day first.
#[utoipa::path(get, operation_id = "inquiries_list", path = "/api/v1/inquiries", tag = "inquiries", params(InquiryParams),
    responses((status = 200, body = Page<Inquiry>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_inquiries(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryHandle>,
    ApiQuery(p): ApiQuery<InquiryParams>,
) -> ApiResult<Json<Page<Inquiry>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let state = parse_opt::<InquiryState>("state", p.state.as_deref(), &mut v);
    let shelf = match p.shelf.as_deref().map(str::trim).unwrap_or("all") {
        "all" | "" => Shelf::All,
        "mine" => Shelf::Mine,
        "asked" => Shelf::Asked,
        _ => {
            v.push(xiaoneng_core::ValidationError::new(
                "shelf",
                "invalid_choice",
                "须为 mine、asked 或 all",
                "One of mine, asked or all",
            ));
            Shelf::All
        }
    };
    v.done()?;
    let (reach, _) = reach_of(&s, &auth).await?;
    let f = InquiryFilter {
        shelf,
        department_id: p.department_id,
        state,
        overdue_on: p.overdue.unwrap_or(false).then(|| city_day(s.clock.now())),
    };
    let found = store::list_inquiries(s.store.db(), &reach, &f, page).await?;
    let items = views(&s, found.items).await?;
    Ok(Json(Page { items, total: found.total, page: found.page, page_size: found.page_size }))
}

#[utoipa::path(get, operation_id = "inquiries_get", path = "/api/v1/inquiries/{id}", tag = "inquiries",
    responses((status = 200, body = InquiryDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_inquiry(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryHandle>,
    Path(id): Path<i64>,
) -> ApiResult<Json<InquiryDetail>> {
    let (reach, me) = reach_of(&s, &auth).await?;
    Ok(Json(detail(&s, &auth.user, &reach, me, id).await?))
}

// ------------------------------------------------------------------ recording and steps

/// Whom to hand an inquiry to: a staff member (their department follows) or a department.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandTo {
    pub person_id: Option<i64>,
    pub department_id: Option<i64>,
}

/// Checks a receiver against the records: an active staff member (in their department), or an
/// active department.
async fn receiver<C: ConnectionTrait>(c: &C, to: Option<&HandTo>) -> ApiResult<Receiver> {
    let missing = || {
        ApiError::invalid("to", "required", "请选择转交的人员或部门", "Choose the person or department to hand it to")
    };
    let to = to.ok_or_else(missing)?;
    let active = xiaoneng_core::org::Status::Active;
    match (to.person_id, to.department_id) {
        (Some(p), _) => match org::get_person(c, &Scope::All, p).await {
            Ok(person) if person.status == active => {
                Ok(Receiver { person_id: Some(person.id), department_id: person.department_id })
            }
            Ok(_) | Err(xiaoneng_store::StoreError::NotFound) => Err(ApiError::invalid(
                "to.person_id",
                "person_not_found",
                "该人员不存在或已离岗",
                "No serving staff member with that id",
            )),
            Err(e) => Err(e.into()),
        },
        (None, Some(d)) => match org::get_department(c, &Scope::All, d).await {
            Ok(dept) if dept.status == active => Ok(Receiver { person_id: None, department_id: dept.id }),
            Ok(_) | Err(xiaoneng_store::StoreError::NotFound) => Err(ApiError::invalid(
                "to.department_id",
                "department_not_found",
                "该部门不存在或已撤销",
                "No active department with that id",
            )),
            Err(e) => Err(e.into()),
        },
        (None, None) => Err(missing()),
    }
}

/// An inquiry as the staff member asked first records it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryBody {
    /// `counter`, `phone`, `online` or `letter`.
    pub channel: String,
    /// Who asked (a name or description, up to 50 characters; may be empty).
    #[serde(default)]
    pub asker: String,
    /// A mobile number to answer them on, if they left one.
    pub phone: Option<String>,
    /// What they asked about (1 to 1,000 characters).
    pub content: String,
    /// `answer` (answered there and then: `text` is the answer), `hand_over` (to `to`, with
    /// `text` as the note) or `keep` (to answer later).
    pub then: String,
    #[serde(default)]
    pub text: String,
    pub to: Option<HandTo>,
}

/// Records an inquiry the caller was asked first, answered, handed over or kept.
#[utoipa::path(post, operation_id = "inquiries_record", path = "/api/v1/inquiries", tag = "inquiries",
    request_body = InquiryBody,
    responses((status = 201, body = InquiryDetail), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryHandle>,
    ApiJson(b): ApiJson<InquiryBody>,
) -> ApiResult<(StatusCode, Json<InquiryDetail>)> {
    let mut v = Checks::default();
    let channel = parse_opt::<InquiryChannel>("channel", Some(b.channel.as_str()), &mut v);
    if b.channel.trim().is_empty() {
        v.push(xiaoneng_core::ValidationError::new("channel", "required", "请选择咨询方式", "Choose how they asked"));
    }
    let spec = NewInquiry::parse(channel.unwrap_or(InquiryChannel::Counter), &b.asker, &b.content, b.phone.as_deref());
    if let Err(errs) = &spec {
        errs.iter().for_each(|e| v.push(e.clone()));
    }
    let then = b.then.trim();
    if !matches!(then, "answer" | "hand_over" | "keep") {
        v.push(xiaoneng_core::ValidationError::new(
            "then",
            "invalid_choice",
            "须为 answer、hand_over 或 keep 之一",
            "One of answer, hand_over or keep",
        ));
    }
    v.done()?;
    let spec = spec.map_err(ApiError::Validation)?;
    let tx = s.store.write().await?;
    let Some(me) = staff_of(&tx, &auth.user).await? else { return Err(not_staff()) };
    let first = match then {
        "answer" => FirstMove::Answer(b.text.clone()),
        "hand_over" => FirstMove::HandOver(receiver(&tx, b.to.as_ref()).await?, b.text.clone()),
        _ => FirstMove::Keep,
    };
    let act = Act::new(&s, &auth.user);
    let i = record_inquiry(&tx, &act, s.store.vault(), me, spec, &first).await?;
    tx.commit().await?;
    let reach = Reach { scope: auth.scope.clone(), me: Some(me) };
    Ok((StatusCode::CREATED, Json(detail(&s, &auth.user, &reach, Some(me), i.id).await?)))
}

/// Records an inquiry as core decides its first move, in `tx`: the inquiry and its parties, the
/// events and audit entry, the receiver told of a hand-over. The demo records its inquiries this
/// way.
pub async fn record_inquiry<C: ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    vault: &Vault,
    me: Staff,
    spec: NewInquiry,
    first: &FirstMove,
) -> ApiResult<inquiry::Model> {
    let cal = calendar::work_calendar(tx).await?;
    let policy: InquiryPolicy = settings::get(tx, settings::INQUIRY_POLICY).await?;
    let change = core_inquiry::record(spec.channel, me, first, &cal, &policy, act.now)?;
    let due = match change.events.first().map(|e| &e.payload) {
        Some(Payload::InquiryRecorded(r)) => r.due,
        _ => city_day(act.now),
    };
    let phone = match &spec.phone {
        Some(p) => Some((vault.seal(Field::AskerPhone, p)?, vault.index(Field::AskerPhone, p)?)),
        None => None,
    };
    let row = store::NewInquiry {
        channel: spec.channel,
        asker: spec.asker,
        content: spec.content,
        phone,
        first: me,
        due,
        recorded_by: act.user.id,
        asked_at: act.now,
    };
    let i = store::insert_inquiry(tx, row, &change).await?;
    let rec = act.audit("inquiry.record", "inquiry", i.id, json!({ "channel": i.channel, "state": i.state }));
    ledger::append(tx, act.algo, &rec, &change.events, Some(i.id)).await?;
    if let Some(to) = change.tell {
        tell_receiver(tx, &i, to, act.now).await?;
    }
    Ok(i)
}

async fn tell_receiver<C: ConnectionTrait>(
    c: &C,
    i: &inquiry::Model,
    to: Receiver,
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<()> {
    let users = store::receiver_users(c, to).await?;
    let due = i.accept_due.unwrap_or(i.due);
    let note = Note {
        kind: "inquiry.handed_over",
        title: format!("首问咨询 {} 转交给您", number_of(i)),
        body: format!("请于 {due} 前接收办理：{}", i.content.chars().take(80).collect::<String>()),
        link: format!("/inquiries?id={}", i.id),
        due: Some(due),
    };
    rect::notify(c, &users, &note, Some(&format!("inquiry.handed_over:{}:{}", i.id, i.hand_overs)), now).await?;
    Ok(())
}

/// A step on an inquiry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryStepBody {
    /// `accept`, `refuse`, `answer` or `hand_over`.
    pub action: String,
    /// The answer, the hand-over's note, or why it is refused.
    #[serde(default)]
    pub text: String,
    /// For `hand_over`: whom to.
    pub to: Option<HandTo>,
}

/// Takes a step as the caller: the receiver takes it up or refuses it back; whoever holds it
/// answers or hands it on.
#[utoipa::path(post, operation_id = "inquiries_step", path = "/api/v1/inquiries/{id}/steps", tag = "inquiries",
    request_body = InquiryStepBody,
    responses((status = 200, body = InquiryDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryHandle>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<InquiryStepBody>,
) -> ApiResult<Json<InquiryDetail>> {
    let Some(action) = InquiryAction::from_code(b.action.trim()) else {
        return Err(ApiError::invalid(
            "action",
            "invalid_choice",
            format!("操作须为 {} 之一", InquiryAction::codes().join("、")),
            format!("The action is one of {}", InquiryAction::codes().join(", ")),
        ));
    };
    let tx = s.store.write().await?;
    let Some(me) = staff_of(&tx, &auth.user).await? else { return Err(not_staff()) };
    let reach = Reach { scope: auth.scope.clone(), me: Some(me) };
    let i = store::get_inquiry(&tx, id, &reach).await?;
    let text = b.text.clone();
    let step = match action {
        InquiryAction::Accept => InquiryStep::Accept,
        InquiryAction::Refuse => InquiryStep::Refuse { reason: text },
        InquiryAction::Answer => InquiryStep::Answer { answer: text },
        InquiryAction::HandOver => InquiryStep::HandOver { to: receiver(&tx, b.to.as_ref()).await?, note: text },
    };
    take_step(&tx, &Act::new(&s, &auth.user), me, &i, &step).await?;
    tx.commit().await?;
    Ok(Json(detail(&s, &auth.user, &reach, Some(me), id).await?))
}

/// Takes a step on `i` in `tx` as core decides: applied on the version read, a refusal put before
/// the office as a lapse, the events and audit entry appended, a new receiver told. The demo
/// takes its inquiries' steps this way.
pub async fn take_step<C: ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    me: Staff,
    i: &inquiry::Model,
    step: &InquiryStep,
) -> ApiResult<()> {
    let cal = calendar::work_calendar(tx).await?;
    let policy: InquiryPolicy = settings::get(tx, settings::INQUIRY_POLICY).await?;
    let change = store::facts(i).decide(step, me, &cal, &policy, act.now)?;
    store::apply_step(tx, i, me, &change, act.now).await?;
    if let Some(l) = &change.lapse {
        store::insert_lapse(tx, i.id, l, act.now).await?;
    }
    let facts = json!({ "action": change.action, "from": i.state, "to": change.next });
    let rec = act.audit(&format!("inquiry.{}", change.action.code()), "inquiry", i.id, facts);
    ledger::append(tx, act.algo, &rec, &change.events, None).await?;
    if let Some(to) = change.tell {
        let moved = inquiry::Model { hand_overs: change.hand_overs, accept_due: change.accept_due, ..i.clone() };
        tell_receiver(tx, &moved, to, act.now).await?;
    }
    Ok(())
}

/// The asker's full number, to answer them. Audited.
#[utoipa::path(post, operation_id = "inquiries_reveal_phone", path = "/api/v1/inquiries/{id}/reveal-phone", tag = "inquiries",
    responses((status = 200, body = crate::ratings::RevealedPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reveal_phone(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryHandle>,
    Path(id): Path<i64>,
) -> ApiResult<Json<crate::ratings::RevealedPhone>> {
    let (reach, _) = reach_of(&s, &auth).await?;
    let i = store::get_inquiry(s.store.db(), id, &reach).await?;
    crate::ratings::reveal(
        &s,
        &auth.user,
        i.phone_sealed.as_ref(),
        (Field::AskerPhone, "inquiry", id),
        ("咨询人未留电话", "The asker left no phone"),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiverParams {
    /// Part of a department's or staff member's name (1 to 50 characters).
    pub q: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiverOption {
    pub person_id: Option<i64>,
    pub department_id: i64,
    /// 张三（市政务服务中心） or the department's name.
    pub label: String,
}

/// Whom an inquiry may be handed to, found by name across the city: names only.
#[utoipa::path(get, operation_id = "inquiries_receivers", path = "/api/v1/inquiry-receivers", tag = "inquiries",
    params(ReceiverParams),
    responses((status = 200, body = Vec<ReceiverOption>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn receivers(
    State(s): State<AppState>,
    _auth: Authorized<perm::InquiryHandle>,
    ApiQuery(p): ApiQuery<ReceiverParams>,
) -> ApiResult<Json<Vec<ReceiverOption>>> {
    let q = p.q.trim();
    if q.is_empty() || q.chars().count() > 50 {
        return Err(ApiError::invalid("q", "length", "请输入 1 至 50 个字", "Type 1 to 50 characters"));
    }
    let db = s.store.db();
    let (depts, people) = store::receivers(db, q, 20).await?;
    let names = org::department_names(db, people.iter().map(|p| p.2)).await?;
    let mut out: Vec<ReceiverOption> = depts
        .into_iter()
        .map(|(id, name)| ReceiverOption { person_id: None, department_id: id, label: name })
        .collect();
    out.extend(people.into_iter().map(|(id, name, d)| ReceiverOption {
        person_id: Some(id),
        department_id: d,
        label: format!("{name}（{}）", names.get(&d).cloned().unwrap_or_default()),
    }));
    Ok(Json(out))
}

// ------------------------------------------------------------------ the office's review

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LapseParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// `pending` (the review queue, the oldest first), `finding` or `dismissed`; all, the
    /// newest first, without it.
    pub state: Option<String>,
}

/// The lapses of the first-inquiry rule: the office's review queue.
#[utoipa::path(get, operation_id = "inquiry_lapses_list", path = "/api/v1/inquiry-lapses", tag = "inquiries",
    params(LapseParams),
    responses((status = 200, body = Page<Lapse>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_lapses(
    State(s): State<AppState>,
    _auth: Authorized<perm::InquiryReview>,
    ApiQuery(p): ApiQuery<LapseParams>,
) -> ApiResult<Json<Page<Lapse>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let state = parse_opt::<LapseState>("state", p.state.as_deref(), &mut v);
    v.done()?;
    let db = s.store.db();
    let found = store::list_lapses(db, state, page).await?;
    let items = lapse_views(db, found.items).await?;
    Ok(Json(Page { items, total: found.total, page: found.page, page_size: found.page_size }))
}

/// The office's decision on a lapse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LapseReviewBody {
    /// `finding` (a draft finding is made against whom the lapse names) or `dismiss`.
    pub decision: String,
    pub reason: String,
    /// For `finding`: its category (the taxonomy's 违反首问负责, as a rule), and its severity if
    /// not the category's.
    pub category_id: Option<i64>,
    pub severity: Option<Severity>,
    /// For `finding`: its description; the inquiry's account by default.
    pub description: Option<String>,
}

/// Reviews a lapse once: made a finding (a draft without a visit, which then goes the way of
/// every finding) or dismissed, with a reason.
#[utoipa::path(post, operation_id = "inquiry_lapses_review", path = "/api/v1/inquiry-lapses/{id}/review", tag = "inquiries",
    request_body = LapseReviewBody,
    responses((status = 200, body = Lapse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review_lapse(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryReview>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<LapseReviewBody>,
) -> ApiResult<Json<Lapse>> {
    let make = match b.decision.trim() {
        "finding" => true,
        "dismiss" => false,
        _ => {
            return Err(ApiError::invalid(
                "decision",
                "invalid_choice",
                "须为 finding 或 dismiss",
                "One of finding or dismiss",
            ));
        }
    };
    let description = match &b.description {
        Some(d) => Some(xiaoneng_core::org::parse_text("description", d, 4000)?).filter(|d| !d.is_empty()),
        None => None,
    };
    let act = Act::new(&s, &auth.user);
    let tx = s.store.write().await?;
    let l = store::get_lapse(&tx, id).await?;
    let finding = if make {
        let Some(category_id) = b.category_id else {
            return Err(ApiError::invalid(
                "category_id",
                "required",
                "请选择问题类别",
                "Choose the finding's category",
            ));
        };
        Some(AsFinding { category_id, severity: b.severity, description })
    } else {
        None
    };
    review(&tx, &act, &l, finding, &b.reason).await?;
    let out = lapse_views(&tx, vec![store::get_lapse(&tx, id).await?]).await?.remove(0);
    tx.commit().await?;
    Ok(Json(out))
}

/// The finding a lapse is made into: its category, and its severity and description if not the
/// category's and the inquiry's account.
pub struct AsFinding {
    pub category_id: i64,
    pub severity: Option<Severity>,
    pub description: Option<String>,
}

/// Reviews lapse `l` in `tx` as core decides: once, with a reason; made a draft finding against
/// whom it names, or dismissed. The demo reviews its lapses this way.
pub async fn review<C: ConnectionTrait>(
    tx: &C,
    act: &Act<'_>,
    l: &inquiry_lapse::Model,
    finding: Option<AsFinding>,
    reason: &str,
) -> ApiResult<()> {
    let facts = store::lapse_facts(l);
    // Refused before anything is made: a lapse already reviewed, or no reason.
    facts.review(None, reason, act.now)?;
    let finding_id = match finding {
        Some(f) => {
            let i = store::get_inquiry(tx, l.inquiry_id, &Reach { scope: Scope::All, me: None }).await?;
            let input = FindingInput {
                visit: None,
                department_id: l.department_id,
                window_id: None,
                person_id: l.person_id,
                post_id: None,
                category_id: f.category_id,
                severity: f.severity,
                occurred_at: l.raised_at,
                description: f.description.unwrap_or_else(|| account(&i, l)),
            };
            let severity = inspections::check_refs(tx, &input).await?;
            let subject =
                Subject { department_id: Some(l.department_id), person_id: l.person_id, ..Default::default() };
            let new = NewFinding { subject, category_id: f.category_id, severity, occurred_at: l.raised_at };
            let d = record_from_lapse(&new, act.now)?;
            let made = inspections::insert_finding(tx, input, severity, d.next, act.user.id, act.now).await?;
            let detail = json!({ "inquiry_lapse_id": l.id, "severity": severity });
            ledger::append(
                tx,
                act.algo,
                &act.audit("finding.record", "finding", made.id, detail),
                &d.events,
                Some(made.id),
            )
            .await?;
            Some(made.id)
        }
        None => None,
    };
    let (next, event) = facts.review(finding_id, reason, act.now)?;
    store::apply_review(tx, l.id, next, finding_id, reason, act.user.id, act.now).await?;
    let detail = json!({ "lapse_id": l.id, "to": next, "finding_id": finding_id });
    let rec = act.audit("inquiry.lapse_review", "inquiry", l.inquiry_id, detail);
    ledger::append(tx, act.algo, &rec, &[event], None).await?;
    Ok(())
}

/// The finding's description by default: the inquiry, and how the rule was broken.
fn account(i: &inquiry::Model, l: &inquiry_lapse::Model) -> String {
    let asked = city_day(i.asked_at);
    format!(
        "{asked} 群众{}咨询“{}”（首问登记 {}），{}。",
        i.channel.label_zh(),
        i.content.chars().take(200).collect::<String>(),
        number_of(i),
        match l.kind {
            LapseKind::Refused => "被转交人员拒收推诿",
            LapseKind::Dropped => "转交后逾期未接收",
            LapseKind::Overdue => "逾期未答复",
        }
    )
}

// ------------------------------------------------------------------ policy

#[utoipa::path(get, operation_id = "inquiry_policy_get", path = "/api/v1/settings/inquiry-policy", tag = "inquiries",
    responses((status = 200, body = InquiryPolicy), (status = 403, body = ErrorBody)))]
async fn get_policy(State(s): State<AppState>, _r: Authorized<perm::InquiryHandle>) -> ApiResult<Json<InquiryPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::INQUIRY_POLICY).await?))
}

/// The working days to take up a hand-over and to answer; inquiries already asked keep theirs.
#[utoipa::path(put, operation_id = "inquiry_policy_put", path = "/api/v1/settings/inquiry-policy", tag = "inquiries",
    request_body = InquiryPolicy, responses((status = 200, body = InquiryPolicy), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::InquiryReview>,
    ApiJson(p): ApiJson<InquiryPolicy>,
) -> ApiResult<Json<InquiryPolicy>> {
    let p = p.checked().map_err(ApiError::Validation)?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    settings::put(&tx, settings::INQUIRY_POLICY, &p, Some(auth.user.id), now).await?;
    let rec = auth.user.audit(&s, "settings.inquiry_policy", "settings", settings::INQUIRY_POLICY, json!(p));
    ledger::append(&tx, s.store.audit_algo(), &rec, &[], None).await?;
    tx.commit().await?;
    Ok(Json(p))
}

// ------------------------------------------------------------------ the inbox

/// The inquiries waiting for the user (to take up or to answer), and for the office the lapses
/// to review.
pub async fn tasks<C: ConnectionTrait>(c: &C, user: &CurrentUser, today: NaiveDate) -> ApiResult<Vec<Task>> {
    let mut out = Vec::new();
    if let (Some(scope), Some(me)) = (user.grants.scope(Permission::InquiryHandle), staff_of(c, user).await?) {
        let reach = Reach { scope: user.scope_for(scope), me: Some(me) };
        let f = InquiryFilter { shelf: Shelf::Mine, ..Default::default() };
        let page = xiaoneng_store::PageReq { page: 1, page_size: 50 };
        for i in store::list_inquiries(c, &reach, &f, page).await?.items {
            let Some((action, due)) = store::facts(&i).owed() else { continue };
            let verb = action.label_zh();
            out.push(Task {
                kind: TaskKind::Inquiry,
                title: format!("{verb}首问咨询 {}：{}", number_of(&i), i.content.chars().take(30).collect::<String>()),
                link: format!("/inquiries?id={}", i.id),
                due: Some(due),
                overdue: today > due,
            });
        }
    }
    if user.grants.has(Permission::InquiryReview) {
        let waiting =
            store::list_lapses(c, Some(LapseState::Pending), xiaoneng_store::PageReq { page: 1, page_size: 1 })
                .await?
                .total;
        if waiting > 0 {
            out.push(Task {
                kind: TaskKind::ReviewLapses,
                title: format!("审查首问负责线索 {waiting} 条"),
                link: "/inquiries/lapses".into(),
                due: None,
                overdue: false,
            });
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ the job

/// Raises the lapses of inquiries whose limits have passed: a hand-over not taken up (against
/// its receiver) and an inquiry not answered (against whoever holds it), each once, with its
/// event; the office is told there is something to review.
pub async fn raise_lapses<C: ConnectionTrait>(
    c: &C,
    algo: HashAlgo,
    now: DateTime<Utc>,
) -> xiaoneng_store::Result<usize> {
    let (mut n, mut first) = (0, 0);
    for i in store::with_lapses(c, city_day(now)).await? {
        let mut current = i.clone();
        for (lapse, event) in store::facts(&i).lapses(now) {
            // Raised as of the first day past the limit: when the rule was broken.
            let Some(l) = store::raise_lapse(c, &current, &lapse, event.occurred_at).await? else { break };
            current.version += 1;
            let what = format!("inquiry.{}", lapse.kind.code());
            let rec = system_audit("system", &what, ("inquiry", i.id), json!({ "lapse_id": l.id }), now);
            ledger::append(c, algo, &rec, &[event], None).await?;
            if n == 0 {
                first = l.id;
            }
            n += 1;
        }
    }
    if n > 0 {
        let office = rect::users_with_roles(c, &[Role::OfficeAdmin]).await?;
        let note = Note {
            kind: "inquiry.lapsed",
            title: format!("首问负责：{n} 条新线索待审查"),
            body: "有转交未接收或逾期未答复的首问咨询，请审查是否立为问题。".into(),
            link: "/inquiries/lapses".into(),
            due: None,
        };
        rect::notify(c, &office, &note, Some(&format!("inquiry.lapsed:{first}")), now).await?;
    }
    Ok(n)
}
