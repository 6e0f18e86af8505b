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
    BUILT_IN_VERSION, DeviceStatus, HoldReason, Outlier, RatingChannel, RatingGuards, RatingLevel, RatingStatus,
    ReasonSet, Recent, WindowTally,
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
    pub address_key: Option<String>,
    pub quick: bool,
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
        address_key: Set(r.address_key),
        quick: Set(r.quick),
        ..Default::default()
    }
    .insert(c)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::StateChanged,
        other => other,
    })
}

/// Who a rating comes from and what it is about, as the guards count them: the blind indexes the
/// address and the phone may be stored under (one per key held), the device, the window and the
/// staff member.
#[derive(Debug, Clone, Default)]
pub struct RecentKeys {
    pub address: Vec<String>,
    pub phone: Vec<String>,
    pub device_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
}

/// The ratings the guards count, each in its window before `now`, in one query.
pub async fn recent<C: ConnectionTrait>(c: &C, k: &RecentKeys, g: &RatingGuards, now: DateTime<Utc>) -> Result<Recent> {
    use rating::Column as K;
    use sea_orm::sea_query::{Alias, Asterisk, ExprTrait, Query, SelectStatement};
    let since = |minutes: u32| now - chrono::Duration::minutes(i64::from(minutes));
    let count = |cond: Condition| -> SelectStatement {
        Query::select().expr(Expr::col(Asterisk).count()).from(rating::Entity).cond_where(cond).to_owned()
    };
    let mut q = Query::select();
    let mut add = |name: &str, cond: Option<Condition>| {
        let e = match cond {
            Some(cond) => Expr::SubQuery(None, Box::new(count(cond).into())),
            None => Expr::val(0i64),
        };
        q.expr_as(e, Alias::new(name));
    };
    let keyed = |col: K, keys: &[String], minutes: u32| {
        (!keys.is_empty()).then(|| Condition::all().add(col.is_in(keys.to_vec())).add(K::GivenAt.gte(since(minutes))))
    };
    add("from_address", keyed(K::AddressKey, &k.address, g.per_address.minutes));
    add("phone_limit", keyed(K::PhoneIndex, &k.phone, g.per_phone.minutes));
    add("phone_burst", keyed(K::PhoneIndex, &k.phone, g.phone_burst.minutes));
    let device =
        |minutes| k.device_id.map(|d| Condition::all().add(K::DeviceId.eq(d)).add(K::GivenAt.gte(since(minutes))));
    add("device_limit", device(g.per_device.minutes));
    add("device_burst", device(g.device_burst.minutes));
    // Quick ratings at the window, or of the staff member where there is no window.
    let place = match (k.window_id, k.person_id) {
        (Some(w), _) => Some(K::WindowId.eq(w)),
        (None, Some(p)) => Some(K::PersonId.eq(p)),
        (None, None) => None,
    };
    add(
        "quick",
        place
            .clone()
            .map(|p| Condition::all().add(p).add(K::Quick.eq(true)).add(K::GivenAt.gte(since(g.quick_bulk.minutes)))),
    );
    add(
        "window_held",
        k.window_id.map(|w| {
            Condition::all()
                .add(K::WindowId.eq(w))
                .add(K::Status.eq(RatingStatus::Held))
                .add(K::HoldReason.eq(HoldReason::WindowOutlier))
        }),
    );
    let row = c.query_one(&q).await?.ok_or(StoreError::NotFound)?;
    let n = |name: &str| -> Result<u32> { Ok(u32::try_from(row.try_get::<i64>("", name)?).unwrap_or(u32::MAX)) };
    Ok(Recent {
        from_address: n("from_address")?,
        phone: (n("phone_limit")?, n("phone_burst")?),
        device: (n("device_limit")?, n("device_burst")?),
        quick_at_window: n("quick")?,
        window_held: n("window_held")? > 0,
    })
}

/// Applies the office's review, conditional on the rating still being held.
pub async fn review<C: ConnectionTrait>(
    c: &C,
    id: i64,
    next: RatingStatus,
    by: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    use rating::Column as K;
    let done = rating::Entity::update_many()
        .col_expr(K::Status, Expr::value(next))
        .col_expr(K::ReviewedBy, Expr::value(by))
        .col_expr(K::ReviewedAt, Expr::value(now))
        .col_expr(K::ReviewReason, Expr::value(reason))
        .filter(K::Id.eq(id))
        .filter(K::Status.eq(RatingStatus::Held))
        .exec(c)
        .await?;
    if done.rows_affected == 1 { Ok(()) } else { Err(StoreError::StateChanged) }
}

/// Each window's counted ratings given since `since` that the office has not reviewed (a
/// window whose held ratings it released is judged again on what came after).
pub async fn window_tallies<C: ConnectionTrait>(c: &C, since: DateTime<Utc>) -> Result<Vec<WindowTally>> {
    use rating::Column as K;
    use sea_orm::sea_query::{Asterisk, ExprTrait};
    let below_top = Expr::case(K::Level.ne(RatingLevel::VerySatisfied), 1).finally(0);
    let rows: Vec<(i64, i64, i64)> = rating::Entity::find()
        .select_only()
        .column(K::WindowId)
        .column_as(Expr::col(Asterisk).count(), "ratings")
        .column_as(below_top.sum(), "below_top")
        .filter(K::Status.eq(RatingStatus::Counted))
        .filter(K::ReviewedAt.is_null())
        .filter(K::WindowId.is_not_null())
        .filter(K::GivenAt.gte(since))
        .group_by(K::WindowId)
        .into_tuple()
        .all(c)
        .await?;
    let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    Ok(rows.into_iter().map(|(w, r, b)| WindowTally { window_id: w, ratings: n(r), below_top: n(b) }).collect())
}

/// The window's counted, unreviewed good ratings given since `since`: what an outlier holds (a
/// stuffed window is stuffed with good ones; a bad one has its ticket and keeps it).
pub async fn outlier_candidates<C: ConnectionTrait>(
    c: &C,
    window_id: i64,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<rating::Model>> {
    use rating::Column as K;
    Ok(rating::Entity::find()
        .filter(K::WindowId.eq(window_id))
        .filter(K::Status.eq(RatingStatus::Counted))
        .filter(K::Level.is_not_in([RatingLevel::Dissatisfied, RatingLevel::VeryDissatisfied]))
        .filter(K::ReviewedAt.is_null())
        .filter(K::GivenAt.gte(since))
        .filter(K::Id.gt(after_id))
        .order_by_asc(K::Id)
        .limit(limit)
        .all(c)
        .await?)
}

/// Holds a counted rating as its window's outlier, conditional on it still being counted.
pub async fn hold_outlier<C: ConnectionTrait>(c: &C, id: i64, outlier: &Outlier) -> Result<()> {
    use rating::Column as K;
    let done = rating::Entity::update_many()
        .col_expr(K::Status, Expr::value(RatingStatus::Held))
        .col_expr(K::HoldReason, Expr::value(HoldReason::WindowOutlier))
        .col_expr(K::HoldDetail, Expr::value(serde_json::to_string(outlier).unwrap_or_default()))
        .filter(K::Id.eq(id))
        .filter(K::Status.eq(RatingStatus::Counted))
        .exec(c)
        .await?;
    if done.rows_affected == 1 { Ok(()) } else { Err(StoreError::StateChanged) }
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
    pub hold_reason: Option<HoldReason>,
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
    if let Some(h) = f.hold_reason {
        cond = cond.add(K::HoldReason.eq(h));
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
