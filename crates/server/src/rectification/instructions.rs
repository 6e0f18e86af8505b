//! City leaders' instructions (批示) on published bulletins and submitted reports, and the
//! follow-up items they may ask for, each a decision of `core::rectification`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    event::Subject,
    org::parse_name,
    rbac::{Permission, Role},
    rectification::{self as core_rect, FollowUp, InstructionOn, InstructionTarget},
    scope::Scope,
};
use xiaoneng_store::{
    entity::instruction,
    ledger, org,
    rectification::{self as rect, NewInstruction, Note},
};

use super::read::{self, Instruction};
use crate::{
    ApiResult, AppState,
    auth::{Act, Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(instruct)).routes(routes!(follow_up))
}

// ------------------------------------------------------------------ commands

/// Writes a leader's instruction on a published bulletin or a submitted report (within the
/// leader's reach); with a follow-up, a tracked item for a department or the office. The office,
/// the department concerned and the follow-up's department are told.
pub async fn write<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    scope: &Scope,
    new: NewInstruction,
) -> ApiResult<instruction::Model> {
    let (on, title, dept, link) = match new.target_kind {
        InstructionTarget::Bulletin => {
            let b = rect::get_bulletin(c, new.target_id).await?;
            // A draft is the office's alone: for anyone else it does not exist.
            if !super::bulletins::may_read(act.user, &b) {
                return Err(ApiError::NotFound);
            }
            (InstructionOn::Bulletin(b.status), b.title.clone(), None, format!("/bulletins/{}", b.id))
        }
        InstructionTarget::Report => {
            let r = rect::get_report(c, new.target_id).await?;
            let o = rect::get_order(c, scope, r.order_id).await?;
            let title = format!("整改报告（第 {} 版）", r.version);
            (InstructionOn::Report(r.status), title, Some(o.department_id), format!("/rectification/{}", o.id))
        }
    };
    if let Some(d) = new.follow_up.and_then(|f| f.department_id) {
        crate::api::known_department(c, "follow_up.department_id", d).await?;
    }
    let about = Subject { department_id: dept, ..Default::default() };
    let instructor = act.user.grants.has(Permission::InstructionWrite);
    let d = core_rect::instruct(on, new.target_id, about, new.follow_up, instructor, act.now)?;
    let text = new.text.clone();
    let follow = new.follow_up;
    let i = rect::add_instruction(c, new, d.next, act.user.id, act.now).await?;
    let mut to = rect::users_with_roles(c, &[Role::OfficeAdmin]).await?;
    for d in dept.into_iter().chain(follow.and_then(|f| f.department_id)) {
        to.extend(rect::department_users(c, d, &[Role::DeptHead]).await?);
    }
    to.sort_unstable();
    to.dedup();
    let note = Note {
        kind: "instruction",
        title: format!("{}的批示：{title}", act.user.display_name),
        body: text,
        link,
        due: follow.map(|f| f.due),
    };
    rect::notify(c, &to, &note, None, act.now).await?;
    let detail = json!({ "target_kind": i.target_kind, "target_id": i.target_id, "follow_up": follow.map(|f| json!({"department_id": f.department_id, "due": f.due})) });
    let rec = act.audit("instruction.create", "instruction", i.id, detail);
    ledger::append(c, act.algo, &rec, &d.events, Some(i.id)).await?;
    Ok(i)
}

/// Whether the caller is who must follow an instruction up: the office for its own items, the
/// department's head (report:submit over it) for the department's.
async fn assignee<C: ConnectionTrait>(c: &C, user: &CurrentUser, i: &instruction::Model) -> ApiResult<bool> {
    let Some(d) = i.follow_up_department_id else { return Ok(read::is_assignee(user, None)) };
    let paths = org::department_paths(c, [d]).await?;
    Ok(read::is_assignee(user, Some((d, paths.get(&d).map_or("", String::as_str)))))
}

/// Whether `user` sees an instruction: where they read the bulletin, or the order of the report,
/// it was written on.
async fn sees<C: ConnectionTrait>(c: &C, user: &CurrentUser, i: &instruction::Model) -> ApiResult<bool> {
    Ok(match i.target_kind {
        InstructionTarget::Bulletin => super::bulletins::may_read(user, &rect::get_bulletin(c, i.target_id).await?),
        InstructionTarget::Report => {
            let Some(scope) = user.scope(Permission::RectificationRead) else { return Ok(false) };
            let order_id = rect::get_report(c, i.target_id).await?.order_id;
            match rect::get_order(c, &scope, order_id).await {
                Ok(_) => true,
                Err(xiaoneng_store::StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            }
        }
    })
}

/// Reports a follow-up done, as its machine allows.
pub async fn complete<C: ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    i: &instruction::Model,
    note: &str,
) -> ApiResult<instruction::Model> {
    let state = i.follow_up_status.ok_or(ApiError::NotFound)?;
    let by_assignee = assignee(c, act.user, i).await?;
    let d = core_rect::complete_follow_up(
        i.id,
        state,
        i.follow_up_department_id,
        i.follow_up_due,
        by_assignee,
        note,
        act.now,
    )?;
    let out = rect::complete_follow_up(c, i, note, act.user.id, act.now).await?;
    let rec = act.audit("instruction.follow_up", "instruction", i.id, json!({ "note": note.trim() }));
    ledger::append(c, act.algo, &rec, &d.events, None).await?;
    Ok(out)
}

// ------------------------------------------------------------------ routes

#[derive(Debug, Deserialize, ToSchema)]
pub struct FollowUpBody {
    /// The department that must follow up; the office when left out.
    pub department_id: Option<i64>,
    pub due: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InstructionBody {
    pub target_kind: InstructionTarget,
    pub target_id: i64,
    pub text: String,
    /// Set when the instruction must be followed up: by whom and by when.
    pub follow_up: Option<FollowUpBody>,
}

/// A city leader's instruction (批示) on a published bulletin or a submitted report.
#[utoipa::path(post, operation_id = "orders_instruct", path = "/api/v1/instructions", tag = "rectification", request_body = InstructionBody,
    responses((status = 201, body = Instruction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn instruct(
    State(s): State<AppState>,
    auth: Authorized<perm::InstructionWrite>,
    ApiJson(b): ApiJson<InstructionBody>,
) -> ApiResult<(StatusCode, Json<Instruction>)> {
    let text = parse_name("text", &b.text, 2_000)?;
    let new = NewInstruction {
        target_kind: b.target_kind,
        target_id: b.target_id,
        text,
        follow_up: b.follow_up.map(|f| FollowUp { department_id: f.department_id, due: f.due }),
    };
    let tx = s.store.write().await?;
    let i = write(&tx, Act::new(&s, &auth.user), &auth.scope, new).await?;
    tx.commit().await?;
    let today = city_day(s.clock.now());
    let dto =
        read::instruction_dtos(s.store.db(), &auth.user, vec![i], today).await?.pop().ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = FollowUpDoneBody)]
pub struct FollowUpDone {
    /// What was done.
    pub note: String,
}

/// Reports an instruction's follow-up done: the office for its own items, the department's head
/// for the department's.
#[utoipa::path(post, operation_id = "orders_follow_up", path = "/api/v1/instructions/{id}/follow-up", tag = "rectification", request_body = FollowUpDone,
    responses((status = 200, body = Instruction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn follow_up(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<FollowUpDone>,
) -> ApiResult<Json<Instruction>> {
    let note = parse_name("note", &b.note, 4_000)?;
    let tx = s.store.write().await?;
    let i = rect::get_instruction(&tx, id).await?;
    // Whoever does not see the instruction is told it does not exist; whoever does, but is not
    // its assignee, is refused by the follow-up's machine.
    if !i.follow_up || !sees(&tx, &user, &i).await? {
        return Err(ApiError::NotFound);
    }
    let i = complete(&tx, Act::new(&s, &user), &i, &note).await?;
    tx.commit().await?;
    let today = city_day(s.clock.now());
    Ok(Json(read::instruction_dtos(s.store.db(), &user, vec![i], today).await?.pop().ok_or(ApiError::NotFound)?))
}
