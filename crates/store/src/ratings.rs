//! The public's ratings: the office's reason sets, one version per save; the ratings, read
//! through the reader's scope (a staff member's are those about them); the rating code that
//! opens a case's rating page; and the counter devices' heartbeats.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use xiaoneng_core::rating::{
    BUILT_IN_VERSION, DeviceStatus, HoldReason, RatingChannel, RatingLevel, RatingStatus, ReasonSet,
};

use crate::{
    PageReq, Paged, Result, StoreError,
    entity::{api_client, rating, rating_reason_set, service_case},
    org::{Scope, in_dept_scope},
    personal::Sealed,
};

// ------------------------------------------------------------------ reasons

/// The reasons in force and their version: the office's latest save, or the built-in set.
pub async fn reason_set<C: ConnectionTrait>(c: &C) -> Result<(i32, ReasonSet)> {
    let row = rating_reason_set::Entity::find().order_by_desc(rating_reason_set::Column::Version).one(c).await?;
    Ok(match row {
        Some(r) => (r.version, decode(&r)?),
        None => (BUILT_IN_VERSION, ReasonSet::default()),
    })
}

fn decode(r: &rating_reason_set::Model) -> Result<ReasonSet> {
    serde_json::from_str(&r.reasons)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("reason set {}: {e}", r.version))))
}

/// The reason sets of these versions (the built-in one included), to read ratings' reasons.
pub async fn reason_sets<C: ConnectionTrait>(
    c: &C,
    versions: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, ReasonSet>> {
    let mut wanted: Vec<i32> = versions.into_iter().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = HashMap::new();
    if wanted.contains(&BUILT_IN_VERSION) {
        out.insert(BUILT_IN_VERSION, ReasonSet::default());
    }
    for r in rating_reason_set::Entity::find().filter(rating_reason_set::Column::Version.is_in(wanted)).all(c).await? {
        out.insert(r.version, decode(&r)?);
    }
    Ok(out)
}

/// Saves a new version after `read` (the version the editor saw); another save since then is
/// `StateChanged`.
pub async fn save_reason_set<C: ConnectionTrait>(
    c: &C,
    read: i32,
    set: &ReasonSet,
    by: i64,
    now: DateTime<Utc>,
) -> Result<i32> {
    let (current, _) = reason_set(c).await?;
    if current != read {
        return Err(StoreError::StateChanged);
    }
    let version = current + 1;
    rating_reason_set::ActiveModel {
        version: Set(version),
        reasons: Set(serde_json::to_string(set).unwrap_or_default()),
        created_by: Set(by),
        created_at: Set(now),
    }
    .insert(c)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::StateChanged,
        other => other,
    })?;
    Ok(version)
}

// ------------------------------------------------------------------ ratings

/// A rating as decided, to store.
#[derive(Debug, Clone)]
pub struct NewRating {
    pub channel: RatingChannel,
    pub level: RatingLevel,
    pub reasons: Vec<String>,
    pub reasons_version: i32,
    pub comment: String,
    pub phone: Option<(Sealed, String)>,
    pub case_id: Option<i64>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub item_id: Option<i64>,
    pub device_id: Option<i64>,
    pub status: RatingStatus,
    pub hold_reason: Option<HoldReason>,
    pub given_at: DateTime<Utc>,
}

/// Stores a rating. A second rating of the case by the channel, committed meanwhile, is
/// `StateChanged`: the unique index keeps it one.
pub async fn insert_rating<C: ConnectionTrait>(c: &C, r: NewRating) -> Result<rating::Model> {
    let (phone_sealed, phone_index) = match r.phone {
        Some((s, i)) => (Some(s), Some(i)),
        None => (None, None),
    };
    rating::ActiveModel {
        channel: Set(r.channel),
        level: Set(r.level),
        reasons: Set(serde_json::to_string(&r.reasons).unwrap_or_else(|_| "[]".into())),
        reasons_version: Set(r.reasons_version),
        comment: Set(r.comment),
        phone_sealed: Set(phone_sealed),
        phone_index: Set(phone_index),
        case_id: Set(r.case_id),
        department_id: Set(r.department_id),
        window_id: Set(r.window_id),
        person_id: Set(r.person_id),
        item_id: Set(r.item_id),
        device_id: Set(r.device_id),
        status: Set(r.status),
        hold_reason: Set(r.hold_reason),
        given_at: Set(r.given_at),
        ..Default::default()
    }
    .insert(c)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::StateChanged,
        other => other,
    })
}

/// Whether `channel` has rated the case.
pub async fn is_rated<C: ConnectionTrait>(c: &C, case_id: i64, channel: RatingChannel) -> Result<bool> {
    Ok(rating::Entity::find()
        .filter(rating::Column::CaseId.eq(case_id))
        .filter(rating::Column::Channel.eq(channel))
        .count(c)
        .await?
        > 0)
}

fn rating_scope(scope: &Scope) -> Condition {
    match scope {
        Scope::Person(Some(p)) => Condition::all().add(rating::Column::PersonId.eq(*p)),
        other => in_dept_scope(rating::Column::DepartmentId, other),
    }
}

#[derive(Debug, Default, Clone)]
pub struct RatingFilter {
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub case_id: Option<i64>,
    pub level: Option<RatingLevel>,
    pub channel: Option<RatingChannel>,
    pub status: Option<RatingStatus>,
    /// 不满意 and 非常不满意 only.
    pub bad: bool,
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// Ratings, newest first.
pub async fn list_ratings<C: ConnectionTrait>(
    c: &C,
    scope: &Scope,
    f: &RatingFilter,
    page: PageReq,
) -> Result<Paged<rating::Model>> {
    use rating::Column as K;
    let mut cond = rating_scope(scope);
    if let Some(d) = f.department_id {
        cond = cond.add(crate::org::in_department(c, K::DepartmentId, d, false).await?);
    }
    for (col, v) in [(K::WindowId, f.window_id), (K::PersonId, f.person_id), (K::CaseId, f.case_id)] {
        if let Some(v) = v {
            cond = cond.add(col.eq(v));
        }
    }
    if let Some(l) = f.level {
        cond = cond.add(K::Level.eq(l));
    }
    if f.bad {
        cond = cond.add(K::Level.is_in([RatingLevel::Dissatisfied, RatingLevel::VeryDissatisfied]));
    }
    if let Some(ch) = f.channel {
        cond = cond.add(K::Channel.eq(ch));
    }
    if let Some(s) = f.status {
        cond = cond.add(K::Status.eq(s));
    }
    if let Some(t) = f.from {
        cond = cond.add(K::GivenAt.gte(t));
    }
    if let Some(t) = f.before {
        cond = cond.add(K::GivenAt.lt(t));
    }
    let q = rating::Entity::find().filter(cond).order_by_desc(K::GivenAt).order_by_desc(K::Id);
    let total = q.clone().count(c).await?;
    let items = q.offset(page.offset()).limit(page.page_size).all(c).await?;
    Ok(Paged { items, total, page: page.page, page_size: page.page_size })
}

pub async fn get_rating<C: ConnectionTrait>(c: &C, id: i64, scope: &Scope) -> Result<rating::Model> {
    rating::Entity::find_by_id(id).filter(rating_scope(scope)).one(c).await?.ok_or(StoreError::NotFound)
}

// ------------------------------------------------------------------ cases and devices

/// A fresh rating code for a case's receipt: 16 random hex digits.
pub fn new_rating_code() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The case a receipt's rating code names.
pub async fn case_by_rating_code<C: ConnectionTrait>(c: &C, code: &str) -> Result<Option<service_case::Model>> {
    if code.len() != 16 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(service_case::Entity::find()
        .filter(service_case::Column::RatingCode.eq(code.to_ascii_lowercase()))
        .one(c)
        .await?)
}

/// The case a window is handling, as its device is offered it: the one it last accepted, moved
/// on or completed since `since`, unless the device has rated it already.
pub async fn current_case<C: ConnectionTrait>(
    c: &C,
    window_id: i64,
    since: DateTime<Utc>,
) -> Result<Option<service_case::Model>> {
    use service_case::Column as K;
    let rated = sea_orm::sea_query::Query::select()
        .column(rating::Column::CaseId)
        .from(rating::Entity)
        .and_where(rating::Column::Channel.eq(RatingChannel::Device))
        .and_where(rating::Column::CaseId.is_not_null())
        .to_owned();
    Ok(service_case::Entity::find()
        .filter(K::WindowId.eq(window_id))
        .filter(K::UpdatedAt.gte(since))
        .filter(K::Id.not_in_subquery(rated))
        .order_by_desc(K::UpdatedAt)
        .order_by_desc(K::Id)
        .one(c)
        .await?)
}

/// Records a device's heartbeat: what it says of itself, and when.
pub async fn heartbeat<C: ConnectionTrait>(
    c: &C,
    device: &api_client::Model,
    status: DeviceStatus,
    firmware: Option<String>,
    now: DateTime<Utc>,
) -> Result<api_client::Model> {
    api_client::Entity::update_many()
        .col_expr(api_client::Column::DeviceStatus, Expr::value(status))
        .col_expr(api_client::Column::DeviceFirmware, Expr::value(firmware))
        .col_expr(api_client::Column::HeartbeatAt, Expr::value(now))
        .col_expr(api_client::Column::LastUsedAt, Expr::value(now))
        .filter(api_client::Column::Id.eq(device.id))
        .exec(c)
        .await?;
    crate::service::get_client(c, device.id).await
}
