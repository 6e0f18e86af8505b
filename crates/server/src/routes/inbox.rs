//! Each user's inbox: what awaits their action now, with due dates (worked out from the records
//! themselves, so it is never stale), and the notifications sent to them.

use axum::{Json, extract::State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    rbac::Permission,
    rectification::{BulletinState, OrderState, ReportState, bulletin_number},
};
use xiaoneng_store::{
    entity::notification,
    rectification::{self as rect, BulletinFilter},
};

use super::{Checks, Page, page_req};
use crate::{
    ApiResult, AppState,
    auth::CurrentUser,
    error::ErrorBody,
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inbox)).routes(routes!(mark_read))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Task {
    /// `answer_order`, `resubmit_report`, `submit_report`, `review_report`, `overdue_order`,
    /// `draft_bulletin`, `follow_up`, `self_check`.
    pub kind: String,
    pub title: String,
    /// The page where it is done.
    pub link: String,
    pub due: Option<NaiveDate>,
    pub overdue: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub due: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl From<notification::Model> for Notification {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            link: n.link,
            due: n.due,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// Nearest due first; undated last.
    pub tasks: Vec<Task>,
    pub notifications: Page<Notification>,
    pub unread: u64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// Only unread notifications.
    pub unread: Option<bool>,
}

/// The caller's work and messages.
#[utoipa::path(get, operation_id = "inbox_get", path = "/api/v1/inbox", tag = "rectification", params(InboxParams),
    responses((status = 200, body = Inbox), (status = 401, body = ErrorBody)))]
async fn inbox(
    State(s): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<InboxParams>,
) -> ApiResult<Json<Inbox>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let tasks = tasks(&s, &user).await?;
    let (rows, unread) = rect::list_notifications(s.store.db(), user.id, p.unread.unwrap_or(false), page).await?;
    Ok(Json(Inbox { tasks, notifications: Page::from(rows, Notification::from), unread }))
}

pub(crate) async fn tasks(s: &AppState, user: &CurrentUser) -> ApiResult<Vec<Task>> {
    let db = s.store.db();
    let today = city_day(s.clock.now());
    let mut out = Vec::new();
    let number = |o: &xiaoneng_store::entity::order::Model, titles: &std::collections::HashMap<i64, String>| {
        o.bulletin_id.and_then(|b| titles.get(&b).cloned()).unwrap_or_else(|| format!("整改通知 {}", o.id))
    };
    let mut titles = std::collections::HashMap::new();
    let remember = |titles: &mut std::collections::HashMap<i64, String>,
                    b: &xiaoneng_store::entity::bulletin::Model| {
        let n = b.year.zip(b.number).map(|(y, n)| bulletin_number(y, n)).unwrap_or_default();
        titles.insert(b.id, format!("{n}《{}》", b.title));
    };

    if user.grants.has(Permission::RectificationManage) {
        let scope = xiaoneng_store::org::Scope::All;
        let review = rect::orders_in_state(db, &scope, OrderState::Submitted).await?;
        let overdue: Vec<_> = rect::orders_owed(db, &scope).await?.into_iter().filter(|o| today > o.deadline).collect();
        for o in review.iter().chain(&overdue) {
            if let Some(b) = o.bulletin_id {
                remember(&mut titles, &rect::get_bulletin(db, b).await?);
            }
        }
        let depts =
            xiaoneng_store::org::department_names(db, review.iter().chain(&overdue).map(|o| o.department_id)).await?;
        for o in &review {
            out.push(Task {
                kind: "review_report".into(),
                title: format!(
                    "审核{}的整改报告：{}",
                    depts.get(&o.department_id).cloned().unwrap_or_default(),
                    number(o, &titles)
                ),
                link: format!("/rectification/{}", o.id),
                due: None,
                overdue: false,
            });
        }
        for o in &overdue {
            out.push(Task {
                kind: "overdue_order".into(),
                title: format!(
                    "{}逾期未报送整改情况：{}",
                    depts.get(&o.department_id).cloned().unwrap_or_default(),
                    number(o, &titles)
                ),
                link: format!("/rectification/{}", o.id),
                due: Some(o.deadline),
                overdue: true,
            });
        }
        let drafts = rect::list_bulletins(
            db,
            &BulletinFilter { status: Some(BulletinState::Draft.code().into()), ..Default::default() },
            xiaoneng_store::PageReq { page: 1, page_size: 50 },
        )
        .await?;
        for b in drafts.items {
            out.push(Task {
                kind: "draft_bulletin".into(),
                title: format!("通报草稿待发布：{}", b.title),
                link: format!("/bulletins/{}", b.id),
                due: None,
                overdue: false,
            });
        }
        for i in rect::open_follow_ups(db, None).await? {
            out.push(follow_up_task(s, &i, today).await?);
        }
    }

    if let Some(scope) = user.scope(Permission::ReportDraft) {
        let owed = rect::orders_owed(db, &scope).await?;
        for o in &owed {
            if let Some(b) = o.bulletin_id {
                remember(&mut titles, &rect::get_bulletin(db, b).await?);
            }
        }
        let may_submit = user.grants.has(Permission::ReportSubmit);
        for o in owed {
            let latest = rect::reports_of(db, o.id).await?.pop();
            let drafted = latest.as_ref().is_some_and(|r| r.status == ReportState::Draft.code());
            let (kind, what) = match (o.status.as_str(), drafted, may_submit) {
                (_, true, true) => ("submit_report", "整改报告待签发报送"),
                ("returned", _, _) => ("resubmit_report", "整改报告被退回，待修改后重新报送"),
                _ => ("answer_order", "待报送整改情况"),
            };
            out.push(Task {
                kind: kind.into(),
                title: format!("{what}：{}", number(&o, &titles)),
                link: format!("/rectification/{}", o.id),
                due: Some(o.deadline),
                overdue: today > o.deadline,
            });
        }
    }
    if let Some(scope) = user.scope(Permission::ReportSubmit) {
        for i in rect::open_follow_ups(db, Some(&scope)).await? {
            out.push(follow_up_task(s, &i, today).await?);
        }
    }
    out.extend(super::campaigns::tasks(s, user, today).await?);
    out.sort_by_key(|t| (t.due.is_none(), t.due));
    Ok(out)
}

async fn follow_up_task(
    s: &AppState,
    i: &xiaoneng_store::entity::instruction::Model,
    today: NaiveDate,
) -> ApiResult<Task> {
    let link = match i.target_kind.as_str() {
        "bulletin" => format!("/bulletins/{}", i.target_id),
        _ => format!("/rectification/{}", rect::get_report(s.store.db(), i.target_id).await?.order_id),
    };
    Ok(Task {
        kind: "follow_up".into(),
        title: format!("落实领导批示：{}", i.text.chars().take(40).collect::<String>()),
        link,
        due: i.follow_up_due,
        overdue: i.follow_up_due.is_some_and(|d| today > d),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReadBody {
    /// These notifications; all of the caller's when left out.
    pub ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadResult {
    pub marked: u64,
}

/// Marks the caller's notifications read.
#[utoipa::path(post, operation_id = "inbox_mark_read", path = "/api/v1/notifications/read", tag = "rectification", request_body = ReadBody,
    responses((status = 200, body = ReadResult)))]
async fn mark_read(
    State(s): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<Json<ReadResult>> {
    let tx = s.store.write().await?;
    let marked = rect::mark_read(&tx, user.id, b.ids, s.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(ReadResult { marked }))
}
