//! Each user's inbox: what awaits their action now, with due dates (worked out from the records
//! themselves, so it is never stale), and the notifications sent to them.

use axum::{Json, extract::State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::clock::city_day;
use xiaoneng_store::{entity::notification, rectification as rect};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req},
    auth::CurrentUser,
    error::ErrorBody,
    extract::{ApiJson, ApiQuery},
    tasks::Task,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inbox)).routes(routes!(mark_read))
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

/// Everything awaiting the user, from each module, nearest due first.
pub async fn tasks(s: &AppState, user: &CurrentUser) -> ApiResult<Vec<Task>> {
    let db = s.store.db();
    let today = city_day(s.clock.now());
    let mut out = crate::rectification::tasks::tasks(db, user, today).await?;
    out.extend(crate::campaigns::tasks(db, user, today).await?);
    out.extend(crate::platform::calendar::tasks(db, user, today).await?);
    out.extend(crate::platform::resets::tasks(db, user, s.clock.now()).await?);
    out.extend(crate::inquiries::tasks(db, user, today).await?);
    out.sort_by_key(|t| (t.due.is_none(), t.due));
    Ok(out)
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
