//! The working-day calendar that deadlines count on: the published holidays and 调休, and the
//! office's own days for what the publication does not cover (later years) or gets wrong.

use axum::body::Bytes;
use axum::{Json, extract::State};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{calendar::WorkCalendar, clock::city_day, org::parse_text};
use xiaoneng_store::{audit, calendar};

use crate::{
    ApiResult, AppState,
    auth::{Authorized, CurrentUser, perm},
    error::{ApiError, ErrorBody, RowError},
    excel,
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(year)).routes(routes!(set_day)).routes(routes!(import))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    /// Default: this year.
    pub year: Option<i32>,
}

/// A day that is not what Monday-to-Friday would make it, or that the office has set.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub working: bool,
    /// `published` (the State Council's arrangement) or `office` (the office's own entry).
    pub source: String,
    /// The office's note (e.g. 春节调休上班).
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    /// Whether the published arrangements cover the year (the data runs to 2026-12-25); when not,
    /// the office's entries and Monday to Friday decide its days.
    pub published: bool,
    pub days: Vec<CalendarDay>,
    /// From December: next year, while its days are neither published nor entered by the office
    /// (until they are, its holidays count as working days in every deadline).
    pub unknown_next_year: Option<i32>,
}

/// A year's exceptions to Monday-to-Friday: holidays on weekdays, working weekends, and the
/// office's own entries.
#[utoipa::path(get, operation_id = "calendar_year", path = "/api/v1/calendar", tag = "inspections", params(YearParams),
    responses((status = 200, body = CalendarYear), (status = 422, body = ErrorBody)))]
async fn year(
    State(s): State<AppState>,
    _user: CurrentUser,
    ApiQuery(p): ApiQuery<YearParams>,
) -> ApiResult<Json<CalendarYear>> {
    let year = p.year.unwrap_or_else(|| city_day(s.clock.now()).year());
    if !(2004..=2100).contains(&year) {
        return Err(ApiError::invalid(
            "year",
            "out_of_range",
            "年份须在 2004 到 2100 之间",
            "The year must be 2004 to 2100",
        ));
    }
    let db = s.store.db();
    let cal = calendar::work_calendar(db).await?;
    let (first, last) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31));
    let (Some(first), Some(last)) = (first, last) else { return Err(ApiError::NotFound) };
    let notes: std::collections::HashMap<NaiveDate, String> =
        calendar::overrides_in(db, first, last).await?.into_iter().map(|d| (d.day, d.note)).collect();
    let days = cal
        .exceptions(year)
        .into_iter()
        .map(|(day, working, office)| CalendarDay {
            day,
            working,
            source: if office { "office" } else { "published" }.into(),
            note: notes.get(&day).cloned().unwrap_or_default(),
        })
        .collect();
    let unknown_next_year = cal.unknown_next_year(city_day(s.clock.now()));
    Ok(Json(CalendarYear { year, published: WorkCalendar::published(first), days, unknown_next_year }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DayBody {
    pub day: NaiveDate,
    /// `true`: a working day; `false`: a day off; `null`: drop the office's entry, so the day
    /// follows the published arrangement (or Monday to Friday) again.
    pub working: Option<bool>,
    /// Why (e.g. 国务院办公厅关于2027年部分节假日安排的通知): shown in the calendar.
    #[serde(default)]
    pub note: String,
}

/// Sets one day of the office's calendar, or drops the office's entry for it.
#[utoipa::path(put, operation_id = "calendar_set_day", path = "/api/v1/calendar/days", tag = "inspections", request_body = DayBody,
    responses((status = 200, body = CalendarYear), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_day(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    ApiJson(b): ApiJson<DayBody>,
) -> ApiResult<Json<CalendarYear>> {
    let note = parse_text("note", &b.note, 100)?;
    if !(2004..=2100).contains(&b.day.year()) {
        return Err(ApiError::invalid(
            "day",
            "out_of_range",
            "日期须在 2004 到 2100 年之间",
            "The day must be in 2004 to 2100",
        ));
    }
    let tx = s.store.write().await?;
    let now = s.clock.now();
    let (action, before) = match b.working {
        Some(w) => ("calendar.set", calendar::set_day(&tx, b.day, w, note.clone(), auth.user.id, now).await?),
        None => ("calendar.clear", calendar::clear_day(&tx, b.day).await?),
    };
    let d = json!({ "day": b.day, "working": b.working, "note": note, "before": before.map(|m| json!({ "working": m.working, "note": m.note })) });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, action, "calendar", b.day, d)).await?;
    crate::jobs::cards_now(&tx, now).await?;
    tx.commit().await?;
    year(State(s), auth.user, ApiQuery(YearParams { year: Some(b.day.year()) })).await
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarImport {
    /// Days set (new or changed).
    pub set: usize,
    /// The years the file touched, as they now stand.
    pub years: Vec<CalendarYear>,
}

/// A day in a spreadsheet: 2027-01-01, 2027/1/1 or 2027年1月1日.
/// A date cell that also holds a time of day (`2027-01-01 08:00:00`) is its day.
fn parse_day(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let day = s.split_once(' ').filter(|(_, t)| t.contains(':')).map_or(s, |(d, _)| d);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d"].iter().find_map(|f| NaiveDate::parse_from_str(day, f).ok())
}

fn parse_kind(s: &str) -> Option<bool> {
    match s.trim() {
        "上班" | "工作日" | "补班" | "调休上班" | "working" | "workday" | "work" => Some(true),
        "放假" | "休息" | "休息日" | "节假日" | "假日" | "off" | "holiday" | "rest" => Some(false),
        _ => None,
    }
}

/// What of a calendar file an import reads: a year's days under a header fit in 400 rows, and
/// ten columns (A to J) leave room beside 日期, 类型 and 说明.
const IMPORT_LIMITS: excel::Limits = excel::Limits { max_rows: 400, max_cols: 10, max_uncompressed: 16 << 20 };

/// Imports the office's days from an .xlsx sheet with the columns 日期, 类型 (上班 / 放假) and
/// 说明 — typically the State Council's notice for a coming year, typed in. All or nothing: a
/// file with any bad row changes nothing and reports every bad row.
#[utoipa::path(post, operation_id = "calendar_import", path = "/api/v1/calendar/import", tag = "inspections",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = CalendarImport), (status = 400, body = ErrorBody),
        (status = 422, description = "row-by-row report, or a file bigger than an import reads (`file`); nothing imported", body = ErrorBody)))]
async fn import(
    State(s): State<AppState>,
    auth: Authorized<perm::InspectionManage>,
    body: Bytes,
) -> ApiResult<Json<CalendarImport>> {
    let rows = excel::read_sheet_guarded(body, IMPORT_LIMITS).await?;
    let mut rows = rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((_, header)) = rows.next() else {
        return Err(ApiError::bad_request("empty_file", "文件中没有数据", "The file has no rows"));
    };
    let col = |names: &[&str]| header.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
    let (Some(day_at), Some(kind_at)) = (col(&["日期", "date", "day"]), col(&["类型", "kind", "type"])) else {
        return Err(ApiError::bad_request(
            "missing_columns",
            "缺少必需的列：日期、类型",
            "Required columns are missing: 日期 (date), 类型 (kind)",
        ));
    };
    let note_at = col(&["说明", "note"]);
    let mut days = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (row, cells) in rows {
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(String::as_str).unwrap_or("");
        let err = |column: &str, code, zh: String, en: String| RowError { row, column: column.into(), code, zh, en };
        let day = parse_day(cell(Some(day_at))).filter(|d| (2004..=2100).contains(&d.year()));
        let kind = parse_kind(cell(Some(kind_at)));
        let note: String = cell(note_at).chars().take(100).collect();
        match (day, kind) {
            (None, _) => errors.push(err(
                "日期",
                "invalid_date",
                format!("日期“{}”无效（如 2027-01-01）", cell(Some(day_at))),
                format!("\"{}\" is not a date (like 2027-01-01)", cell(Some(day_at))),
            )),
            (_, None) => errors.push(err(
                "类型",
                "invalid_kind",
                format!("类型“{}”无效：填“上班”或“放假”", cell(Some(kind_at))),
                format!("\"{}\" is not a kind: write 上班 (working) or 放假 (off)", cell(Some(kind_at))),
            )),
            (Some(d), Some(_)) if !seen.insert(d) => {
                errors.push(err("日期", "duplicate", format!("{d} 重复出现"), format!("{d} appears twice")))
            }
            (Some(d), Some(w)) => days.push((d, w, note)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::ImportRejected(errors));
    }
    let tx = s.store.write().await?;
    let now = s.clock.now();
    let mut set = 0;
    for (day, working, note) in &days {
        let before = calendar::set_day(&tx, *day, *working, note.clone(), auth.user.id, now).await?;
        if before.is_none_or(|b| b.working != *working || &b.note != note) {
            set += 1;
        }
    }
    let d = json!({ "rows": days.len(), "set": set, "from": days.iter().map(|d| d.0).min(), "to": days.iter().map(|d| d.0).max() });
    audit::append(&tx, s.store.audit_algo(), &auth.user.audit(&s, "calendar.import", "calendar", "import", d)).await?;
    crate::jobs::cards_now(&tx, now).await?;
    tx.commit().await?;
    let mut years: Vec<i32> = days.iter().map(|d| d.0.year()).collect();
    years.sort_unstable();
    years.dedup();
    let mut out = Vec::new();
    for y in years {
        out.push(year(State(s.clone()), auth.user.clone(), ApiQuery(YearParams { year: Some(y) })).await?.0);
    }
    Ok(Json(CalendarImport { set, years: out }))
}

/// The office's task while next year's days are unknown (`WorkCalendar::unknown_next_year`).
pub async fn tasks<C: sea_orm::ConnectionTrait>(
    c: &C,
    user: &crate::auth::CurrentUser,
    today: NaiveDate,
) -> ApiResult<Vec<crate::tasks::Task>> {
    if !user.grants.has(xiaoneng_core::rbac::Permission::InspectionManage) {
        return Ok(Vec::new());
    }
    let Some(year) = calendar::work_calendar(c).await?.unknown_next_year(today) else { return Ok(Vec::new()) };
    let due = NaiveDate::from_ymd_opt(year - 1, 12, 31);
    Ok(vec![crate::tasks::Task {
        kind: crate::tasks::TaskKind::EnterHolidays,
        title: format!("录入{year}年节假日和调休安排（未录入前元旦、春节均按工作日计算期限）"),
        link: format!("/inspections/calendar?year={year}"),
        due,
        overdue: due.is_some_and(|d| today > d),
    }])
}

#[cfg(test)]
mod tests {
    use super::parse_day;

    #[test]
    fn a_day_is_read_in_the_ways_a_sheet_writes_it() {
        let d = chrono::NaiveDate::from_ymd_opt(2027, 1, 1);
        for s in ["2027-01-01", " 2027/1/1 ", "2027年1月1日", "2027.01.01", "2027-01-01 08:00:00"] {
            assert_eq!(parse_day(s), d, "{s}");
        }
        for s in ["2027-01-01 later", "2027-13-01", "1/1/2027", ""] {
            assert_eq!(parse_day(s), None, "{s}");
        }
    }
}
