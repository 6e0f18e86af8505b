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

/// Stores ratings in order, in multi-row inserts, and returns them as stored. A second rating of
/// a case by a channel, committed meanwhile, is `StateChanged`: the unique index keeps it one.
///
/// Nothing is read back but the ids: on SQLite, a multi-row insert into a rowid table gives its
/// rows consecutive ids ending at the last one inserted (the writer holds the database), so not
/// even those; on PostgreSQL, the ids are returned, and given in the order the rows were written.
pub async fn insert_ratings<C: ConnectionTrait>(c: &C, new: Vec<NewRating>) -> Result<Vec<rating::Model>> {
    use sea_orm::{ActiveValue::NotSet, DbBackend, IntoActiveModel, QueryTrait};
    let mut stored = Vec::with_capacity(new.len());
    for chunk in new.chunks(crate::audit::INSERT_ROWS / 2) {
        let rows: Vec<rating::Model> = chunk.iter().cloned().map(NewRating::into_model).collect();
        let insert = rating::Entity::insert_many(rows.iter().cloned().map(|m| {
            let mut a = m.into_active_model();
            a.id = NotSet;
            a
        }));
        let conflict = |e: sea_orm::DbErr| match StoreError::from(e) {
            StoreError::Conflict { .. } => StoreError::StateChanged,
            other => other,
        };
        let n = rows.len() as i64;
        let ids: Vec<i64> = match c.get_database_backend() {
            DbBackend::Sqlite => {
                let done = c.execute(insert.as_query()).await.map_err(conflict)?;
                let last = done.last_insert_id() as i64;
                if done.rows_affected() != n as u64 {
                    return Err(StoreError::Db(sea_orm::DbErr::RecordNotInserted));
                }
                (last - n + 1..=last).collect()
            }
            _ => {
                let mut ids = insert.exec_with_returning_keys(c).await.map_err(conflict)?;
                ids.sort_unstable();
                ids
            }
        };
        if ids.len() != rows.len() {
            return Err(StoreError::Db(sea_orm::DbErr::RecordNotInserted));
        }
        stored.extend(rows.into_iter().zip(ids).map(|(m, id)| rating::Model { id, ..m }));
    }
    Ok(stored)
}

impl NewRating {
    /// The row as it is stored, but for its id.
    fn into_model(self) -> rating::Model {
        let (phone_sealed, phone_index) = self.phone.unzip();
        rating::Model {
            id: 0,
            channel: self.channel,
            level: self.level,
            reasons: serde_json::to_string(&self.reasons).unwrap_or_else(|_| "[]".into()),
            reasons_version: self.reasons_version,
            comment: self.comment,
            phone_sealed,
            phone_index,
            case_id: self.case_id,
            department_id: self.department_id,
            window_id: self.window_id,
            person_id: self.person_id,
            item_id: self.item_id,
            device_id: self.device_id,
            status: self.status,
            hold_reason: self.hold_reason,
            given_at: xiaoneng_core::clock::truncate_micros(self.given_at),
            address_key: self.address_key,
            quick: self.quick,
            hold_detail: None,
            reviewed_by: None,
            reviewed_at: None,
            review_reason: None,
        }
    }
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

/// The ratings the guards count for a batch of ratings about to be given: the stored ones any of
/// them may count, read once, and the batch's own as each is accepted ([`Tally::note`]), kept by
/// the keys they are stored under. A rating counts another given in its guard's window before it,
/// as one query per rating would.
#[derive(Debug, Default)]
pub struct Tally {
    guards: RatingGuards,
    address: HashMap<String, Vec<DateTime<Utc>>>,
    phone: HashMap<String, Vec<DateTime<Utc>>>,
    device: HashMap<i64, Vec<DateTime<Utc>>>,
    quick_window: HashMap<i64, Vec<DateTime<Utc>>>,
    quick_person: HashMap<i64, Vec<DateTime<Utc>>>,
    held_windows: std::collections::HashSet<i64>,
}

impl Tally {
    /// Reads what the ratings in `batch` (their keys, and when each is given) may count.
    pub async fn load<C: ConnectionTrait>(
        c: &C,
        batch: &[(RecentKeys, DateTime<Utc>)],
        g: &RatingGuards,
    ) -> Result<Tally> {
        use rating::Column as K;
        let mut t = Tally { guards: g.clone(), ..Tally::default() };
        let Some(earliest) = batch.iter().map(|(_, at)| *at).min() else { return Ok(t) };
        let since = |minutes: u32| earliest - chrono::Duration::minutes(i64::from(minutes));
        let all = |f: fn(&RecentKeys) -> &[String]| -> Vec<String> {
            let mut v: Vec<String> = batch.iter().flat_map(|(k, _)| f(k).iter().cloned()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let ids = |f: fn(&RecentKeys) -> Option<i64>| -> Vec<i64> {
            let mut v: Vec<i64> = batch.iter().filter_map(|(k, _)| f(k)).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (addresses, phones) = (all(|k| &k.address), all(|k| &k.phone));
        let (devices, windows, people) = (ids(|k| k.device_id), ids(|k| k.window_id), ids(|k| k.person_id));
        if !addresses.is_empty() {
            let rows: Vec<(Option<String>, DateTime<Utc>)> = rating::Entity::find()
                .select_only()
                .columns([K::AddressKey, K::GivenAt])
                .filter(K::AddressKey.is_in(addresses))
                .filter(K::GivenAt.gte(since(g.per_address.minutes)))
                .into_tuple()
                .all(c)
                .await?;
            for (k, at) in rows {
                t.address.entry(k.unwrap_or_default()).or_default().push(at);
            }
        }
        if !phones.is_empty() {
            let rows: Vec<(Option<String>, DateTime<Utc>)> = rating::Entity::find()
                .select_only()
                .columns([K::PhoneIndex, K::GivenAt])
                .filter(K::PhoneIndex.is_in(phones))
                .filter(K::GivenAt.gte(since(g.per_phone.minutes.max(g.phone_burst.minutes))))
                .into_tuple()
                .all(c)
                .await?;
            for (k, at) in rows {
                t.phone.entry(k.unwrap_or_default()).or_default().push(at);
            }
        }
        if !devices.is_empty() {
            let rows: Vec<(Option<i64>, DateTime<Utc>)> = rating::Entity::find()
                .select_only()
                .columns([K::DeviceId, K::GivenAt])
                .filter(K::DeviceId.is_in(devices))
                .filter(K::GivenAt.gte(since(g.per_device.minutes.max(g.device_burst.minutes))))
                .into_tuple()
                .all(c)
                .await?;
            for (k, at) in rows {
                t.device.entry(k.unwrap_or_default()).or_default().push(at);
            }
        }
        // The quick ratings at the batch's windows, and of its staff: a query each, so that each
        // uses its partial index (`quick` itself, not `quick = ?`, is what lets the planners).
        let quick = |by: K, ids: Vec<i64>| {
            rating::Entity::find()
                .select_only()
                .columns([by, K::GivenAt])
                .filter(Expr::col((rating::Entity, K::Quick)))
                .filter(K::GivenAt.gte(since(g.quick_bulk.minutes)))
                .filter(by.is_in(ids))
                .into_tuple::<(Option<i64>, DateTime<Utc>)>()
        };
        for (by, ids, into) in
            [(K::WindowId, &windows, &mut t.quick_window), (K::PersonId, &people, &mut t.quick_person)]
        {
            if ids.is_empty() {
                continue;
            }
            for (k, at) in quick(by, ids.clone()).all(c).await? {
                into.entry(k.unwrap_or_default()).or_default().push(at);
            }
        }
        if !windows.is_empty() {
            let held: Vec<Option<i64>> = rating::Entity::find()
                .select_only()
                .column(K::WindowId)
                .distinct()
                .filter(K::WindowId.is_in(windows))
                .filter(K::Status.eq(RatingStatus::Held))
                .filter(K::HoldReason.eq(HoldReason::WindowOutlier))
                .into_tuple()
                .all(c)
                .await?;
            t.held_windows = held.into_iter().flatten().collect();
        }
        Ok(t)
    }

    /// What the guards count for a rating with these keys given at `at`.
    pub fn recent(&self, k: &RecentKeys, at: DateTime<Utc>) -> Recent {
        let g = &self.guards;
        let n = |c: usize| u32::try_from(c).unwrap_or(u32::MAX);
        let since = |minutes: u32| at - chrono::Duration::minutes(i64::from(minutes));
        let count = |times: Option<&Vec<DateTime<Utc>>>, minutes: u32| {
            let from = since(minutes);
            times.map_or(0, |v| v.iter().filter(|t| **t >= from).count())
        };
        let keyed = |map: &HashMap<String, Vec<DateTime<Utc>>>, keys: &[String], minutes: u32| {
            n(keys.iter().map(|key| count(map.get(key), minutes)).sum())
        };
        let device = |minutes| k.device_id.map_or(0, |d| n(count(self.device.get(&d), minutes)));
        let quick_at_window = match (k.window_id, k.person_id) {
            (Some(w), _) => n(count(self.quick_window.get(&w), g.quick_bulk.minutes)),
            (None, Some(p)) => n(count(self.quick_person.get(&p), g.quick_bulk.minutes)),
            (None, None) => 0,
        };
        Recent {
            from_address: keyed(&self.address, &k.address, g.per_address.minutes),
            phone: (
                keyed(&self.phone, &k.phone, g.per_phone.minutes),
                keyed(&self.phone, &k.phone, g.phone_burst.minutes),
            ),
            device: (device(g.per_device.minutes), device(g.device_burst.minutes)),
            quick_at_window,
            window_held: k.window_id.is_some_and(|w| self.held_windows.contains(&w)),
        }
    }

    /// Counts a rating of the batch, accepted, for those after it: under the keys it is stored
    /// under, as a stored one is counted.
    pub fn note(&mut self, r: &NewRating) {
        let at = r.given_at;
        if let Some(k) = &r.address_key {
            self.address.entry(k.clone()).or_default().push(at);
        }
        if let Some((_, k)) = &r.phone {
            self.phone.entry(k.clone()).or_default().push(at);
        }
        if let Some(d) = r.device_id {
            self.device.entry(d).or_default().push(at);
        }
        if r.quick {
            if let Some(w) = r.window_id {
                self.quick_window.entry(w).or_default().push(at);
            }
            if let Some(p) = r.person_id {
                self.quick_person.entry(p).or_default().push(at);
            }
        }
    }
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

/// Which of these cases were rated, and by which channel.
pub async fn rated<C: ConnectionTrait>(
    c: &C,
    case_ids: &[i64],
) -> Result<std::collections::HashSet<(i64, RatingChannel)>> {
    if case_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(Option<i64>, RatingChannel)> = rating::Entity::find()
        .select_only()
        .columns([rating::Column::CaseId, rating::Column::Channel])
        .filter(rating::Column::CaseId.is_in(case_ids.to_vec()))
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().filter_map(|(case, ch)| case.map(|id| (id, ch))).collect())
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
