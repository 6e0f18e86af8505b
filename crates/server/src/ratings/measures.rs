//! The rating measures per department, window or staff member for a month or any span of days,
//! within the reader's scope, ranked by the lower confidence bound of the satisfaction rate.

use axum::{Json, extract::State};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    clock::{city_day, city_midnight},
    measure::{Measures, ranks},
    scope::Scope,
};
use xiaoneng_store::{
    measures::{self as store, Group},
    org,
};

use crate::{
    ApiResult, AppState,
    api::Checks,
    auth::{Authorized, perm},
    error::{ApiError, ErrorBody},
    extract::ApiQuery,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(measures))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeasureParams {
    /// `department`, `window` (the default) or `person`.
    pub group: Option<String>,
    /// A month, `2026-11`; the default is this month. Or `from` and `to`.
    pub month: Option<String>,
    /// The first day, `2026-11-01`.
    pub from: Option<String>,
    /// The last day, included.
    pub to: Option<String>,
    /// Only this department and those below it.
    pub department_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureRow {
    pub id: i64,
    pub name: String,
    #[serde(flatten)]
    pub measures: Measures,
    /// By the satisfaction rate's lower bound; none without a rating.
    pub rank: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureTable {
    pub group: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ranked first, then the unrated by name.
    pub rows: Vec<MeasureRow>,
}

fn day(field: &str, raw: &str, v: &mut Checks) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok();
    if d.is_none() {
        v.push(ValidationError::new(field, "invalid_date", "日期格式须为 YYYY-MM-DD", "A date is YYYY-MM-DD"));
    }
    d
}

/// The measures of each department, window or staff member in `[from, to]`, ranked first (best
/// first, the busier first on a tie), then the unrated by name.
pub async fn table<C: sea_orm::ConnectionTrait>(
    db: &C,
    group: Group,
    scope: &Scope,
    under: Option<&Scope>,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<MeasureRow>> {
    let before = city_midnight(to.succ_opt().unwrap_or(to));
    let tallies = store::tallies(db, group, scope, under, city_midnight(from), before).await?;
    let ids: Vec<i64> = tallies.keys().copied().collect();
    let names = match group {
        Group::Department => org::department_names(db, ids.iter().copied()).await?,
        Group::Window => org::window_names(db, ids.iter().copied()).await?,
        Group::Person => org::person_names(db, ids.iter().copied()).await?,
    };
    let mut rows: Vec<(i64, Measures)> = tallies.into_iter().map(|(id, t)| (id, t.measures())).collect();
    rows.sort_by_key(|(id, _)| *id);
    let measures: Vec<Measures> = rows.iter().map(|(_, m)| *m).collect();
    let mut out: Vec<MeasureRow> = rows
        .into_iter()
        .zip(ranks(&measures))
        .map(|((id, measures), rank)| MeasureRow {
            id,
            name: names.get(&id).cloned().unwrap_or_default(),
            measures,
            rank,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, b.measures.ratings, &a.name).cmp(&(
            b.rank.is_none(),
            b.rank,
            a.measures.ratings,
            &b.name,
        ))
    });
    Ok(out)
}

/// The period asked for: a month, a span of days, or this month.
fn period(p: &MeasureParams, today: NaiveDate, v: &mut Checks) -> Option<(NaiveDate, NaiveDate)> {
    let month = |first: NaiveDate| {
        let next = first.checked_add_months(chrono::Months::new(1))?;
        Some((first, next.pred_opt()?))
    };
    match (p.month.as_deref(), p.from.as_deref(), p.to.as_deref()) {
        (Some(m), None, None) => {
            let first = NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok();
            if first.is_none() {
                v.push(ValidationError::new("month", "invalid_month", "月份格式须为 YYYY-MM", "A month is YYYY-MM"));
            }
            first.and_then(month)
        }
        (None, Some(f), Some(t)) => {
            let (f, t) = (day("from", f, v), day("to", t, v));
            match (f, t) {
                (Some(f), Some(t)) if f <= t && (t - f).num_days() <= 366 => Some((f, t)),
                (Some(_), Some(_)) => {
                    v.push(ValidationError::new(
                        "to",
                        "invalid_span",
                        "结束日须不早于开始日，跨度不超过一年",
                        "The last day is not before the first, at most a year apart",
                    ));
                    None
                }
                _ => None,
            }
        }
        (None, None, None) => month(today.with_day(1)?),
        _ => {
            v.push(ValidationError::new(
                "month",
                "invalid_period",
                "请给出月份，或同时给出开始日和结束日",
                "Give a month, or both a first and a last day",
            ));
            None
        }
    }
}

/// 好评率, 主动评价率 and 未评率 apart, and the bad ratings' reply, rectification, callback and
/// post-callback satisfaction rates, per department, window or staff member; ranked by the 95%
/// Wilson lower bound of the satisfaction rate. Only counted ratings count.
#[utoipa::path(get, operation_id = "rating_measures", path = "/api/v1/rating-measures", tag = "ratings",
    params(MeasureParams),
    responses((status = 200, body = MeasureTable), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn measures(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    ApiQuery(p): ApiQuery<MeasureParams>,
) -> ApiResult<Json<MeasureTable>> {
    let mut v = Checks::default();
    let group = match p.group.as_deref().map(str::trim) {
        None | Some("") | Some("window") => Some(Group::Window),
        Some("department") => Some(Group::Department),
        Some("person") => Some(Group::Person),
        Some(_) => {
            v.push(ValidationError::new(
                "group",
                "invalid_choice",
                "分组须为 department、window 或 person",
                "The group is department, window or person",
            ));
            None
        }
    };
    let span = period(&p, city_day(s.clock.now()), &mut v);
    v.done()?;
    let (Some(group), Some((from, to))) = (group, span) else {
        return Err(ApiError::invalid("month", "invalid_period", "期间无效", "The period is not valid"));
    };
    let db = s.store.db();
    let under = match p.department_id {
        Some(d) => Some(Scope::Tree(org::get_department(db, &auth.scope, d).await?.path)),
        None => None,
    };
    let out = table(db, group, &auth.scope, under.as_ref(), from, to).await?;
    let group = match group {
        Group::Department => "department",
        Group::Window => "window",
        Group::Person => "person",
    };
    Ok(Json(MeasureTable { group: group.into(), from, to, rows: out }))
}
