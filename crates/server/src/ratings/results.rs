//! The public's results: the monthly ranking of windows, which the office publishes once a month
//! is over (frozen as computed), and a page per window and per department with this month's
//! measures and the last twelve months. No login, no personal data (no staff names), no script.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{clock::city_day, measure, scope::Scope};
use xiaoneng_store::{
    ledger,
    measures::{self as store, Group},
    org,
};

use super::{
    measures::{MeasureRow, table},
    public::{english, message_page, shell, w},
};
use crate::{
    ApiResult, AppState,
    auth::{Authorized, perm},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    web::esc,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_published, publish))
        .routes(routes!(public_ranking))
        .route("/public/rankings", axum::routing::get(rankings_page))
        .route("/public/rankings/{month}", axum::routing::get(ranking_page))
        .route("/public/windows/{id}", axum::routing::get(window_page))
        .route("/public/departments/{id}", axum::routing::get(department_page))
}

/// One window in a published ranking: what the public may read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RankedWindow {
    pub rank: u32,
    pub window_id: i64,
    pub window_name: String,
    pub department_name: String,
    pub ratings: u64,
    pub satisfaction_rate: f64,
    pub satisfaction_lower_bound: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedRanking {
    pub month: String,
    pub published_at: DateTime<Utc>,
    pub windows: Vec<RankedWindow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedMonth {
    pub month: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// `2026-11`: a month that is over.
    pub month: String,
}

fn month_first(raw: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", raw.trim()), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("month", "invalid_month", "月份格式须为 YYYY-MM", "A month is YYYY-MM"))
}

fn month_last(first: NaiveDate) -> NaiveDate {
    first.checked_add_months(Months::new(1)).and_then(|n| n.pred_opt()).unwrap_or(first)
}

/// The months published, newest first.
#[utoipa::path(get, operation_id = "rating_rankings_list", path = "/api/v1/rating-rankings", tag = "ratings",
    responses((status = 200, body = Vec<PublishedMonth>), (status = 403, body = ErrorBody)))]
async fn list_published(
    State(s): State<AppState>,
    _r: Authorized<perm::ServiceRead>,
) -> ApiResult<Json<Vec<PublishedMonth>>> {
    let rows = store::published(s.store.db()).await?;
    Ok(Json(rows.into_iter().map(|r| PublishedMonth { month: r.month, published_at: r.published_at }).collect()))
}

/// Publishes a month's ranking of windows, frozen as computed now; the public pages show it. A
/// month not yet over is 422; one already published is 409.
#[utoipa::path(post, operation_id = "rating_rankings_publish", path = "/api/v1/rating-rankings", tag = "ratings",
    request_body = PublishBody,
    responses((status = 201, body = PublishedRanking), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn publish(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(b): ApiJson<PublishBody>,
) -> ApiResult<(StatusCode, Json<PublishedRanking>)> {
    let first = month_first(&b.month)?;
    let now = s.clock.now();
    measure::publishable(first, city_day(now)).map_err(|e| ApiError::Validation(vec![e]))?;
    let month = format!("{:04}-{:02}", first.year(), first.month());
    let tx = s.store.write().await?;
    let rows = table(&tx, Group::Window, &Scope::All, None, first, month_last(first)).await?;
    let windows = ranked(&tx, rows).await?;
    match store::publish(&tx, &month, &serde_json::to_string(&windows).unwrap_or_default(), auth.user.id, now).await {
        Err(xiaoneng_store::StoreError::Conflict { .. }) => {
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                "already_published",
                format!("{month} 的排名已发布"),
                format!("The ranking of {month} is already published"),
            ));
        }
        other => other?,
    }
    let rec = auth.user.audit(&s, "rating.ranking_published", "ranking", &month, json!({ "windows": windows.len() }));
    ledger::append(&tx, s.store.audit_algo(), &rec, &[], None).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(PublishedRanking { month, published_at: now, windows })))
}

/// The ranked windows of a table, with their departments' names.
async fn ranked<C: sea_orm::ConnectionTrait>(c: &C, rows: Vec<MeasureRow>) -> ApiResult<Vec<RankedWindow>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut depts = std::collections::HashMap::new();
    for id in ids {
        if let Ok(wnd) = org::get_window(c, &Scope::All, id).await {
            depts.insert(id, wnd.department_id);
        }
    }
    let names = org::department_names(c, depts.values().copied()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(RankedWindow {
                rank: r.rank?,
                window_id: r.id,
                department_name: depts.get(&r.id).and_then(|d| names.get(d)).cloned().unwrap_or_default(),
                window_name: r.name,
                ratings: r.measures.ratings,
                satisfaction_rate: r.measures.satisfaction_rate?,
                satisfaction_lower_bound: r.measures.satisfaction_lower_bound?,
            })
        })
        .collect())
}

async fn load(s: &AppState, month: &str) -> ApiResult<PublishedRanking> {
    let row = store::published_month(s.store.db(), month.trim()).await?.ok_or_else(|| {
        ApiError::refused(
            StatusCode::NOT_FOUND,
            "not_published",
            "该月排名尚未发布",
            "This month's ranking is not published",
        )
    })?;
    let windows = serde_json::from_str(&row.rows).map_err(|e| ApiError::Internal(format!("ranking {month}: {e}")))?;
    Ok(PublishedRanking { month: row.month, published_at: row.published_at, windows })
}

/// A published month's ranking of windows.
#[utoipa::path(get, operation_id = "public_ranking", path = "/api/v1/public/rankings/{month}", tag = "ratings",
    responses((status = 200, body = PublishedRanking), (status = 404, body = ErrorBody)))]
async fn public_ranking(State(s): State<AppState>, Path(month): Path<String>) -> ApiResult<Json<PublishedRanking>> {
    Ok(Json(load(&s, &month).await?))
}

// ------------------------------------------------------------------ pages

fn error_page(en: bool, e: &ApiError) -> Response {
    if let ApiError::Internal(cause) = e {
        tracing::error!(%cause, "internal error on a public results page");
    }
    message_page(en, e.status(), w(en, "无法显示", "Cannot show this page"), &e.body(en).message)
}

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn page(en: bool, title: &str, subtitle: &str, body: &str) -> Response {
    let html = format!(
        "<p class=\"lang\"><a href=\"?lang={}\">{}</a></p><header><h1>{}</h1><p>{}</p></header>{body}",
        if en { "zh" } else { "en" },
        if en { "中文" } else { "English" },
        esc(title),
        esc(subtitle)
    );
    crate::error::own_page(StatusCode::OK, shell(en, title, &html))
}

fn ranking_html(en: bool, r: &PublishedRanking) -> String {
    let mut h = format!(
        "<div class=\"card\"><table><tr><th>{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        w(en, "名次", "Rank"),
        w(en, "窗口", "Window"),
        w(en, "部门", "Department"),
        w(en, "评价数", "Ratings"),
        w(en, "好评率", "Satisfied"),
    );
    for x in &r.windows {
        h.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"/public/windows/{}\">{}</a></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            x.rank,
            x.window_id,
            esc(&x.window_name),
            esc(&x.department_name),
            x.ratings,
            pct(Some(x.satisfaction_rate))
        ));
    }
    h.push_str(&format!(
        "</table><p class=\"hint\">{}</p></div>",
        w(
            en,
            "按好评率的 95% 置信下限排名：评价少的窗口不会仅凭几条好评排到前面。",
            "Ranked by the 95% lower confidence bound of the satisfaction rate, so a few ratings do not top the table."
        )
    ));
    h
}

async fn rankings_page(State(s): State<AppState>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    let months = match store::published(s.store.db()).await {
        Ok(m) => m,
        Err(e) => return error_page(en, &e.into()),
    };
    let Some(latest) = months.first() else {
        return page(
            en,
            w(en, "窗口服务排名", "Window rankings"),
            w(en, "尚未发布排名", "No ranking published yet"),
            "",
        );
    };
    let r = match load(&s, &latest.month).await {
        Ok(r) => r,
        Err(e) => return error_page(en, &e),
    };
    let mut body = ranking_html(en, &r);
    let links: Vec<String> =
        months.iter().map(|m| format!("<a href=\"/public/rankings/{0}\">{0}</a>", esc(&m.month))).collect();
    body.push_str(&format!("<div class=\"card\"><p>{} {}</p></div>", w(en, "往期：", "Earlier:"), links.join(" · ")));
    page(en, w(en, "窗口服务排名", "Window rankings"), &r.month, &body)
}

async fn ranking_page(
    State(s): State<AppState>,
    Path(month): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    match load(&s, &month).await {
        Ok(r) => page(en, w(en, "窗口服务排名", "Window rankings"), &r.month, &ranking_html(en, &r)),
        Err(e) => error_page(en, &e),
    }
}

/// A window's public page: this month's measures and the last twelve months.
async fn window_page(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    match place(&s, en, Group::Window, &id).await {
        Ok(r) => r,
        Err(e) => error_page(en, &e),
    }
}

/// A department's public page, the same for the department.
async fn department_page(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    match place(&s, en, Group::Department, &id).await {
        Ok(r) => r,
        Err(e) => error_page(en, &e),
    }
}

async fn place(s: &AppState, en: bool, group: Group, raw: &str) -> ApiResult<Response> {
    let db = s.store.db();
    let id = raw.parse::<i64>().ok().filter(|_| raw.bytes().all(|b| b.is_ascii_digit())).ok_or(ApiError::NotFound)?;
    let (title, subtitle, path) = match group {
        Group::Window => {
            let wnd = org::get_window(db, &Scope::All, id).await?;
            if wnd.status != xiaoneng_core::org::Status::Active {
                return Err(ApiError::NotFound);
            }
            let dept = org::get_department(db, &Scope::All, wnd.department_id).await?;
            (wnd.name, dept.name, dept.path)
        }
        Group::Department | Group::Person => {
            let dept = org::get_department(db, &Scope::All, id).await?;
            (dept.name.clone(), String::new(), dept.path)
        }
    };
    let under = Scope::Tree(path);
    let this_month = city_day(s.clock.now()).with_day(1).unwrap_or_default();
    let mut months = Vec::new();
    for back in (0..12).rev() {
        let first = this_month.checked_sub_months(Months::new(back)).unwrap_or(this_month);
        let rows = table(db, group, &Scope::All, Some(&under), first, month_last(first)).await?;
        months.push((first, rows.into_iter().find(|r| r.id == id).map(|r| r.measures)));
    }
    let current = months.last().and_then(|(_, m)| *m);
    let mut h = String::from("<div class=\"card\"><table>");
    for (label, value) in [
        (w(en, "本月评价数", "Ratings this month"), current.map_or("0".to_owned(), |m| m.ratings.to_string())),
        (w(en, "好评率", "Satisfied"), pct(current.and_then(|m| m.satisfaction_rate))),
        (w(en, "主动评价率", "Cases rated"), pct(current.and_then(|m| m.active_rate))),
        (w(en, "差评整改率", "Bad ratings put right"), pct(current.and_then(|m| m.rectification_rate))),
    ] {
        h.push_str(&format!("<tr><td>{label}</td><td class=\"n\">{value}</td></tr>"));
    }
    h.push_str(&format!(
        "</table></div><div class=\"card\"><p>{}</p><table><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th style=\"width:40%\"></th></tr>",
        w(en, "近十二个月", "The last twelve months"),
        w(en, "月份", "Month"),
        w(en, "评价数", "Ratings"),
        w(en, "好评率", "Satisfied"),
    ));
    for (first, m) in &months {
        let rate = m.and_then(|m| m.satisfaction_rate);
        let bar =
            rate.map_or(String::new(), |r| format!("<div class=\"bar\" style=\"width:{:.0}%\"></div>", r * 100.0));
        h.push_str(&format!(
            "<tr><td>{:04}-{:02}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{bar}</td></tr>",
            first.year(),
            first.month(),
            m.map_or(0, |m| m.ratings),
            pct(rate)
        ));
    }
    h.push_str(&format!(
        "</table></div><p class=\"hint\"><a href=\"/public/rankings\">{}</a></p>",
        w(en, "窗口服务排名", "Window rankings")
    ));
    Ok(page(en, &title, &subtitle, &h))
}
