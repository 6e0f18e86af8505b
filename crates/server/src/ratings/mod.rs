//! The public's ratings (好差评). Every channel — the QR page ([`public`]), the counter device
//! ([`device`]), the web — gives a rating through [`give`]: core checks it against the reasons in
//! force and decides it; the store keeps it, the phone sealed; the ledger records `rating.given`.
//! The office and the departments read ratings here, the phone masked, and reveal it only through
//! an audited request; staff read the ratings about them without any trace of the rater.

pub mod batch;
pub mod complaints;
pub mod device;
pub mod measures;
pub mod public;
pub mod results;

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    ValidationError,
    org::mask_mobile,
    rating::{
        self as core_rating, HoldReason, Outlier, RatedCase, RatingChannel, RatingLevel, RatingPolicy, RatingSpec,
        RatingStatus, RatingTarget, ReasonSet, ReviewDecision, StoredRating,
    },
    rbac::Permission,
    service::CaseStatus,
};
use xiaoneng_store::{
    StoreError,
    audit::AuditRecord,
    entity::{person, rating, service_case, window},
    ledger, org,
    personal::Field,
    ratings::{self as store, NewRating, RatingFilter, RecentKeys},
    settings,
};

use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req, parse_opt},
    auth::{Authorized, perm},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_ratings))
        .routes(routes!(reveal_phone))
        .routes(routes!(review_ratings))
        .routes(routes!(get_reasons, put_reasons))
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(rating_codes))
        .merge(public::router())
        .merge(complaints::router())
        .merge(measures::router())
        .merge(results::router())
        .merge(device::router())
}

// ------------------------------------------------------------------ giving a rating

/// What a rater sends, on every channel.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// `very_satisfied`, `satisfied`, `basic`, `dissatisfied` or `very_dissatisfied`.
    pub level: String,
    /// Codes of the reasons offered for the level; a bad rating names at least one.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    /// A mobile number for the callback, if the rater wants one; kept encrypted.
    #[serde(default)]
    pub phone: Option<String>,
}

/// The answer to a rating given.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingReceipt {
    pub id: i64,
    pub status: RatingStatus,
    /// Why it is held for review, when it is.
    pub hold_reason: Option<HoldReason>,
}

/// What is being rated, resolved from a QR code, a receipt's code or a device's window.
#[derive(Debug, Clone)]
pub struct Target {
    pub case: Option<service_case::Model>,
    pub department_id: i64,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
}

impl Target {
    pub fn of_case(c: service_case::Model) -> Self {
        Target { department_id: c.department_id, window_id: c.window_id, person_id: c.person_id, case: Some(c) }
    }

    /// A window, without a case.
    pub fn of_window(w: &window::Model) -> Self {
        Target { case: None, department_id: w.department_id, window_id: Some(w.id), person_id: None }
    }

    /// A staff member (at their window, if they have one), without a case.
    pub fn of_person(p: &person::Model) -> Self {
        Target { case: None, department_id: p.department_id, window_id: p.window_id, person_id: Some(p.id) }
    }
}

/// What a rating is about, as its channel names it: a target read already (a case, a device's
/// window), or the public code of a window or staff member, which the recorder reads with the
/// rest of its batch (one query for all), so that such a rating reads nothing on its own.
#[derive(Debug, Clone)]
pub enum Aim {
    Target(Box<Target>),
    Window(i64),
    Staff(i64),
}

impl Aim {
    /// The target of this aim, given the batch's active windows and staff: none when the code
    /// names neither (one that never existed or was retired).
    fn target(self, windows: &HashMap<i64, window::Model>, people: &HashMap<i64, person::Model>) -> Option<Target> {
        match self {
            Aim::Target(t) => Some(*t),
            Aim::Window(id) => windows.get(&id).map(Target::of_window),
            Aim::Staff(id) => people.get(&id).map(Target::of_person),
        }
    }
}

/// Who sent it: the public (with their address) or a device.
#[derive(Clone)]
pub struct Rater<'a> {
    pub channel: RatingChannel,
    pub device: Option<&'a xiaoneng_store::entity::api_client::Model>,
    pub ip: String,
}

/// Gives a rating: checked against the reasons in force, decided by core, stored with the phone
/// sealed, recorded in the ledger, in one transaction. A second rating of a case by the same
/// channel — also one racing this — is refused with `already_rated`.
pub async fn give(s: &AppState, rater: &Rater<'_>, aim: &Aim, b: &RatingBody) -> ApiResult<RatingReceipt> {
    for _ in 0..2 {
        match batch::submit(s, rater, aim, b).await {
            Err(ApiError::StateChanged { .. }) => continue,
            other => return other,
        }
    }
    Err(ApiError::Busy)
}

/// Records a rating given at `now` in `tx`: decided, stored, its event and audit entry appended,
/// and its ticket opened if it is a bad one that counts.
pub async fn record<C: sea_orm::ConnectionTrait>(
    tx: &C,
    algo: xiaoneng_store::HashAlgo,
    vault: &xiaoneng_store::personal::Vault,
    rater: &Rater<'_>,
    target: &Target,
    b: &RatingBody,
    now: DateTime<Utc>,
) -> ApiResult<rating::Model> {
    let rules = Rules::load(tx).await?;
    let given = Giving { rater: rater.clone(), target: target.clone(), body: b.clone(), at: now };
    record_many(tx, algo, vault, &rules, std::slice::from_ref(&given)).await?.pop().unwrap_or(Err(ApiError::Busy))
}

/// The office's reasons in force (their version) and its rating policy: what every rating is
/// judged by. A batch of ratings reads them once.
pub struct Rules {
    version: i32,
    set: xiaoneng_core::rating::ReasonSet,
    policy: RatingPolicy,
}

impl Rules {
    pub async fn load<C: sea_orm::ConnectionTrait>(c: &C) -> ApiResult<Self> {
        let (version, set) = store::reason_set(c).await?;
        Ok(Rules { version, set, policy: settings::get(c, settings::RATING_POLICY).await? })
    }
}

/// A rating to record: who gave it, about what, what it says, and when.
pub struct Giving<'a> {
    pub rater: Rater<'a>,
    pub target: Target,
    pub body: RatingBody,
    pub at: DateTime<Utc>,
}

/// Records ratings in order under rules already read, in a handful of statements whatever their
/// number (decision 0037): each is decided by core against the guards' counts — the stored
/// ratings' and those of the batch accepted before it — and those accepted are stored, their
/// events and audit entries appended, and the bad ones that count given their tickets. Each
/// answer is its rating's own: a refusal leaves the others as they are. An error is the store's,
/// and leaves the transaction holding part of the batch: the caller rolls it back.
pub async fn record_many<C: sea_orm::ConnectionTrait>(
    tx: &C,
    algo: xiaoneng_store::HashAlgo,
    vault: &xiaoneng_store::personal::Vault,
    rules: &Rules,
    given: &[Giving<'_>],
) -> ApiResult<Vec<ApiResult<rating::Model>>> {
    let (version, set, guards) = (rules.version, &rules.set, &rules.policy.guards);
    // The guards count with the writers serialised, on PostgreSQL as on SQLite; the audit
    // chain's head so taken is what the batch's entries chain from.
    let held = xiaoneng_store::audit::serialise(tx).await?;
    let cases: Vec<i64> = given.iter().filter_map(|g| g.target.case.as_ref().map(|c| c.id)).collect();
    let mut rated = store::rated(tx, &cases).await?;
    // What each says, and who and what the guards count it by.
    let mut read = Vec::with_capacity(given.len());
    for g in given {
        let spec = RatingSpec::parse(&g.body.level, &g.body.reasons, &g.body.comment, g.body.phone.as_deref(), set);
        let address = g.rater.channel.limited_by_address().then_some(g.rater.ip.as_str());
        let keys = RecentKeys {
            address: address.map(|a| vault.lookups(Field::RaterAddress, a)).unwrap_or_default(),
            phone: match &spec {
                Ok(s) => s.phone.as_deref().map(|p| vault.lookups(Field::RaterPhone, p)).unwrap_or_default(),
                Err(_) => Vec::new(),
            },
            device_id: g.rater.device.map(|d| d.id),
            window_id: g.target.window_id,
            person_id: g.target.person_id,
        };
        read.push((spec, keys, address));
    }
    let batch: Vec<(RecentKeys, DateTime<Utc>)> =
        read.iter().zip(given).map(|((_, k, _), g)| (k.clone(), g.at)).collect();
    let mut tally = store::Tally::load(tx, &batch, guards).await?;
    // Decided in order, each counting those accepted before it.
    let mut answers: Vec<Result<usize, ApiError>> = Vec::with_capacity(given.len());
    let (mut new, mut decisions) = (Vec::new(), Vec::new());
    for ((spec, keys, address), g) in read.into_iter().zip(given) {
        let spec = match spec {
            Ok(s) => s,
            Err(errs) => {
                answers.push(Err(ApiError::Validation(errs)));
                continue;
            }
        };
        let facts = RatingTarget {
            case: g.target.case.as_ref().map(|c| RatedCase {
                id: c.id,
                status: CaseStatus::of(c.completed_at),
                completed_at: c.completed_at,
                rated_here: rated.contains(&(c.id, g.rater.channel)),
            }),
            department_id: g.target.department_id,
            window_id: g.target.window_id,
            person_id: g.target.person_id,
            item_id: g.target.case.as_ref().map(|c| c.item_id),
        };
        let recent = tally.recent(&keys, g.at);
        let d = match core_rating::decide(&facts, g.rater.channel, &spec, version, &recent, guards, g.at) {
            Ok(d) => d,
            Err(refused) => {
                answers.push(Err(refused.into()));
                continue;
            }
        };
        let phone = match spec.phone.as_deref() {
            Some(p) => Some((vault.seal(Field::RaterPhone, p)?, vault.index(Field::RaterPhone, p)?)),
            None => None,
        };
        if let Some(c) = facts.case {
            rated.insert((c.id, g.rater.channel));
        }
        answers.push(Ok(new.len()));
        let r = NewRating {
            channel: g.rater.channel,
            level: spec.level,
            reasons: spec.reasons,
            reasons_version: version,
            comment: spec.comment,
            phone,
            case_id: facts.case.map(|c| c.id),
            department_id: facts.department_id,
            window_id: facts.window_id,
            person_id: facts.person_id,
            item_id: facts.item_id,
            device_id: g.rater.device.map(|d| d.id),
            status: d.status,
            hold_reason: d.hold,
            given_at: g.at,
            address_key: address.map(|a| vault.index(Field::RaterAddress, a)).transpose()?,
            quick: d.quick,
        };
        tally.note(&r);
        new.push(r);
        decisions.push((d, g));
    }
    let stored = store::insert_ratings(tx, new).await?;
    // What the audit log keeps: each rating's facts, never the phone.
    let actor = |g: &Giving<'_>| match g.rater.device {
        Some(dev) => format!("device:{}", dev.name),
        None => "public".to_owned(),
    };
    let recs: Vec<AuditRecord> = stored
        .iter()
        .zip(&decisions)
        .map(|(m, (_, g))| AuditRecord {
            ip: g.rater.ip.clone(),
            ..crate::jobs::system_audit(
                &actor(g),
                "rating.give",
                ("rating", m.id),
                json!({ "level": m.level, "channel": m.channel, "case_id": m.case_id, "status": m.status }),
                g.at,
            )
        })
        .collect();
    let changes: Vec<ledger::Change<'_>> = recs
        .iter()
        .zip(&decisions)
        .zip(&stored)
        .map(|((rec, (d, _)), m)| ledger::Change { rec, events: std::slice::from_ref(&d.event), created: Some(m.id) })
        .collect();
    ledger::append_many_held(tx, algo, held, &changes).await?;
    let mut devices: HashMap<i64, (&xiaoneng_store::entity::api_client::Model, DateTime<Utc>)> = HashMap::new();
    for (m, (_, g)) in stored.iter().zip(&decisions) {
        if core_rating::opens_ticket(m.level, m.status) {
            crate::tickets::open(tx, algo, &actor(g), bad_rating_ticket(m), g.at).await?;
        }
        if let Some(dev) = g.rater.device {
            let last = devices.entry(dev.id).or_insert((dev, g.at));
            last.1 = last.1.max(g.at);
        }
    }
    // Each device's last use, once for the batch.
    for (dev, at) in devices.into_values() {
        xiaoneng_store::service::touch_client(tx, dev, at).await?;
    }
    let mut stored: Vec<Option<rating::Model>> = stored.into_iter().map(Some).collect();
    Ok(answers
        .into_iter()
        .map(|a| a.and_then(|i| stored[i].take().ok_or_else(|| ApiError::Internal("a rating answered twice".into()))))
        .collect())
}

/// The case a rater names by its number, which must be one handled at `window_id` (or by
/// `person_id`): a number from elsewhere is as unknown as one that does not exist.
pub async fn case_named<C: sea_orm::ConnectionTrait>(
    c: &C,
    number: Option<&str>,
    window_id: Option<i64>,
    person_id: Option<i64>,
) -> ApiResult<Option<service_case::Model>> {
    let Some(number) = number.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    let found = xiaoneng_store::service::cases_by_number(c, &[number.to_owned()]).await?.remove(number);
    match found {
        Some(m)
            if (window_id.is_some() && m.window_id == window_id)
                || (person_id.is_some() && m.person_id == person_id) =>
        {
            Ok(Some(m))
        }
        _ => Err(ApiError::invalid(
            "case_number",
            "unknown",
            "该窗口没有这个办件编号",
            "No case with this number was handled here",
        )),
    }
}

// ------------------------------------------------------------------ reading ratings

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingReason {
    pub code: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rating {
    pub id: i64,
    pub channel: RatingChannel,
    pub level: RatingLevel,
    /// 5 for 非常满意 down to 1.
    pub score: u8,
    pub reasons: Vec<RatingReason>,
    pub comment: String,
    /// The rater's phone, masked (138****1234), for those who may call back; never for staff.
    pub phone: Option<String>,
    pub has_phone: bool,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub item_id: Option<i64>,
    pub item_name: Option<String>,
    pub department_id: i64,
    pub department_name: String,
    pub window_id: Option<i64>,
    pub window_name: Option<String>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub status: RatingStatus,
    pub hold_reason: Option<HoldReason>,
    /// The figures a window was held on, when it stood out from its peers.
    pub outlier: Option<Outlier>,
    /// Given seconds after the case was completed (QR page or web).
    pub quick: bool,
    pub given_at: DateTime<Utc>,
    /// The office's review of a held rating: when, by whom, why.
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by_name: Option<String>,
    pub review_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    /// The department and those below it.
    pub department_id: Option<i64>,
    pub window_id: Option<i64>,
    pub person_id: Option<i64>,
    pub case_id: Option<i64>,
    pub level: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    /// Why held: `no_case`, `phone_burst`, `device_burst`, `quick_bulk`, `window_outlier`.
    pub hold_reason: Option<String>,
    /// Only 不满意 and 非常不满意.
    pub bad: Option<bool>,
    /// Given on or after this day (city time).
    pub from: Option<String>,
    /// Given on or before this day.
    pub to: Option<String>,
}

fn day_bound(field: &str, raw: Option<&str>, v: &mut Checks) -> Option<chrono::NaiveDate> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
    if d.is_none() {
        v.push(ValidationError::new(field, "invalid_date", "日期格式须为 YYYY-MM-DD", "A date is YYYY-MM-DD"));
    }
    d
}

/// Ratings within the caller's scope, newest first. The phone is masked, and shown at all only to
/// those who may call the rater back.
#[utoipa::path(get, operation_id = "ratings_list", path = "/api/v1/ratings", tag = "ratings", params(RatingParams),
    responses((status = 200, body = Page<Rating>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_ratings(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceRead>,
    ApiQuery(p): ApiQuery<RatingParams>,
) -> ApiResult<Json<Page<Rating>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    let level = parse_opt::<RatingLevel>("level", p.level.as_deref(), &mut v);
    let channel = parse_opt::<RatingChannel>("channel", p.channel.as_deref(), &mut v);
    let status = parse_opt::<RatingStatus>("status", p.status.as_deref(), &mut v);
    let hold_reason = parse_opt::<HoldReason>("hold_reason", p.hold_reason.as_deref(), &mut v);
    let from = day_bound("from", p.from.as_deref(), &mut v);
    let to = day_bound("to", p.to.as_deref(), &mut v);
    v.done()?;
    let f = RatingFilter {
        department_id: p.department_id,
        window_id: p.window_id,
        person_id: p.person_id,
        case_id: p.case_id,
        level,
        channel,
        status,
        hold_reason,
        bad: p.bad.unwrap_or(false),
        from: from.map(xiaoneng_core::clock::city_midnight),
        before: to.and_then(|d| d.succ_opt()).map(xiaoneng_core::clock::city_midnight),
    };
    let found = store::list_ratings(s.store.db(), &auth.scope, &f, page).await?;
    let may_call = auth.user.grants.has(Permission::RatingReveal);
    let dtos = rating_dtos(&s, found.items, may_call).await?;
    Ok(Json(Page { items: dtos, total: found.total, page: found.page, page_size: found.page_size }))
}

async fn rating_dtos(s: &AppState, rows: Vec<rating::Model>, may_call: bool) -> ApiResult<Vec<Rating>> {
    let db = s.store.db();
    let sets = store::reason_sets(db, rows.iter().map(|r| r.reasons_version)).await?;
    let depts = org::department_names(db, rows.iter().map(|r| r.department_id)).await?;
    let windows = org::window_names(db, rows.iter().filter_map(|r| r.window_id)).await?;
    let people = org::person_names(db, rows.iter().filter_map(|r| r.person_id)).await?;
    let items = xiaoneng_store::service::item_names(db, rows.iter().filter_map(|r| r.item_id)).await?;
    let cases = case_numbers(db, rows.iter().filter_map(|r| r.case_id)).await?;
    let reviewers = xiaoneng_store::accounts::display_names(db, rows.iter().filter_map(|r| r.reviewed_by)).await?;
    let vault = s.store.vault();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let phone = match (&r.phone_sealed, may_call) {
            (Some(sealed), true) => Some(mask_mobile(&vault.open(Field::RaterPhone, sealed)?)),
            _ => None,
        };
        let set = sets.get(&r.reasons_version);
        let reasons = r
            .reason_codes()
            .into_iter()
            .map(|code| RatingReason {
                zh: set.and_then(|s| s.label(r.level, &code, false)).unwrap_or(&code).to_owned(),
                en: set.and_then(|s| s.label(r.level, &code, true)).unwrap_or(&code).to_owned(),
                code,
            })
            .collect();
        out.push(Rating {
            id: r.id,
            channel: r.channel,
            level: r.level,
            score: r.level.score(),
            reasons,
            comment: r.comment,
            has_phone: r.phone_sealed.is_some() && may_call,
            phone,
            case_id: r.case_id,
            case_number: r.case_id.and_then(|c| cases.get(&c).cloned()),
            item_id: r.item_id,
            item_name: r.item_id.and_then(|i| items.get(&i).map(|(_, n)| n.clone())),
            department_id: r.department_id,
            department_name: depts.get(&r.department_id).cloned().unwrap_or_default(),
            window_id: r.window_id,
            window_name: r.window_id.and_then(|w| windows.get(&w).cloned()),
            person_id: r.person_id,
            person_name: r.person_id.and_then(|p| people.get(&p).cloned()),
            status: r.status,
            hold_reason: r.hold_reason,
            outlier: r.hold_detail.as_deref().and_then(|d| serde_json::from_str(d).ok()),
            quick: r.quick,
            given_at: r.given_at,
            reviewed_at: r.reviewed_at,
            reviewed_by_name: r.reviewed_by.and_then(|u| reviewers.get(&u).cloned()),
            review_reason: r.review_reason,
        });
    }
    Ok(out)
}

async fn case_numbers<C: sea_orm::ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = i64>,
) -> ApiResult<HashMap<i64, String>> {
    Ok(org::names_by_id::<_, service_case::Entity>(c, service_case::Column::Id, service_case::Column::Number, ids)
        .await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedPhone {
    pub phone: String,
}

/// The rater's full number, for the callback (回访). Audited: who read which rating's number.
#[utoipa::path(post, operation_id = "ratings_reveal_phone", path = "/api/v1/ratings/{id}/reveal-phone", tag = "ratings",
    responses((status = 200, body = RevealedPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reveal_phone(
    State(s): State<AppState>,
    auth: Authorized<perm::RatingReveal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RevealedPhone>> {
    let r = store::get_rating(s.store.db(), id, &auth.scope).await?;
    let field = (Field::RaterPhone, "rating", id);
    reveal(&s, &auth.user, r.phone_sealed.as_ref(), field, ("评价人未留电话", "The rater left no phone")).await
}

/// Opens a sealed phone for a callback and audits who read whose (`<target>.phone_viewed`); 404
/// `no_phone` when none was left.
pub async fn reveal(
    s: &AppState,
    user: &crate::auth::CurrentUser,
    sealed: Option<&xiaoneng_store::personal::Sealed>,
    (field, target, id): (Field, &str, i64),
    none: (&str, &str),
) -> ApiResult<Json<RevealedPhone>> {
    let Some(sealed) = sealed else {
        return Err(ApiError::refused(StatusCode::NOT_FOUND, "no_phone", none.0, none.1));
    };
    let phone = s.store.vault().open(field, sealed)?;
    s.store.audit(&user.audit(s, &format!("{target}.phone_viewed"), target, id, json!({}))).await?;
    Ok(Json(RevealedPhone { phone }))
}

// ------------------------------------------------------------------ reviewing held ratings

/// The office's decision on held ratings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// The held ratings decided alike, 1 to 200 of them.
    pub ids: Vec<i64>,
    /// `release` (it counts from now on) or `reject` (kept on record, counted nowhere).
    pub decision: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reviewed {
    pub reviewed: usize,
    pub status: RatingStatus,
}

/// Releases or rejects held ratings with a reason, all of them or none: one no longer held (or
/// not found) refuses the whole request and changes nothing.
#[utoipa::path(post, operation_id = "ratings_review", path = "/api/v1/ratings/review", tag = "ratings",
    request_body = ReviewBody,
    responses((status = 200, body = Reviewed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review_ratings(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> ApiResult<Json<Reviewed>> {
    let Some(decision) = ReviewDecision::from_code(b.decision.trim()) else {
        return Err(ApiError::invalid(
            "decision",
            "invalid_choice",
            "审核结论须为 release 或 reject",
            "The decision is release or reject",
        ));
    };
    let mut ids = b.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > 200 {
        return Err(ApiError::invalid(
            "ids",
            "length",
            "每次审核 1 至 200 条评价",
            "Review 1 to 200 ratings at a time",
        ));
    }
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let mut events = Vec::with_capacity(ids.len());
    let mut next = RatingStatus::Held;
    let mut opened = Vec::new();
    for &id in &ids {
        let r = store::get_rating(&tx, id, &auth.scope).await?;
        let (to, event) = core_rating::review(&stored(&r), decision, &b.reason, now)?;
        store::review(&tx, id, to, auth.user.id, b.reason.trim(), now).await?;
        events.push(event);
        if core_rating::opens_ticket(r.level, to) {
            opened.push(r);
        }
        next = to;
    }
    let detail = json!({ "ids": ids, "decision": decision, "reason": b.reason.trim() });
    let rec = auth.user.audit(&s, "rating.reviewed", "rating", ids[0], detail);
    ledger::append(&tx, s.store.audit_algo(), &rec, &events, None).await?;
    // A bad rating released now counts, and opens its ticket.
    for r in &opened {
        crate::tickets::open(&tx, s.store.audit_algo(), &auth.user.username, bad_rating_ticket(r), now).await?;
    }
    tx.commit().await?;
    Ok(Json(Reviewed { reviewed: ids.len(), status: next }))
}

/// The ticket a bad rating opens for its department: its comment, its window and staff member.
fn bad_rating_ticket(r: &rating::Model) -> crate::tickets::Opening {
    crate::tickets::Opening {
        source: xiaoneng_core::ticket::TicketSource::BadRating,
        rating_id: Some(r.id),
        about: None,
        on: xiaoneng_core::ticket::TicketAbout {
            department_id: r.department_id,
            window_id: r.window_id,
            person_id: r.person_id,
        },
        case_id: r.case_id,
        content: r.comment.clone(),
        phone: None,
        address_key: None,
        photo: None,
    }
}

/// A stored rating as core's review and holding rules see it.
pub fn stored(r: &rating::Model) -> StoredRating {
    StoredRating {
        id: r.id,
        status: r.status,
        hold: r.hold_reason,
        target: RatingTarget {
            case: None,
            department_id: r.department_id,
            window_id: r.window_id,
            person_id: r.person_id,
            item_id: r.item_id,
        },
    }
}

/// One pass of the outlier check: the windows whose satisfaction sits far above their peers' over
/// the guards' period, each of their counted ratings not yet reviewed held with the figures.
/// Returns the ratings held.
pub async fn hold_outliers(store: &xiaoneng_store::Store, now: DateTime<Utc>) -> xiaoneng_store::Result<usize> {
    let policy: RatingPolicy = settings::get(store.db(), settings::RATING_POLICY).await?;
    let since = now - chrono::Duration::days(i64::from(policy.guards.outlier_days));
    let tallies = store::window_tallies(store.db(), since).await?;
    let mut held = 0;
    for o in core_rating::outliers(&tallies, &policy.guards) {
        let mut after = 0;
        loop {
            let tx = store.write().await?;
            let batch = store::outlier_candidates(&tx, o.window_id, since, after, 500).await?;
            let mut events = Vec::new();
            for r in &batch {
                let Some(e) = core_rating::hold_as_outlier(&stored(r), &o, now) else { continue };
                match store::hold_outlier(&tx, r.id, &o).await {
                    Ok(()) => events.push(e),
                    Err(xiaoneng_store::StoreError::StateChanged) => continue,
                    Err(e) => return Err(e),
                }
            }
            if !events.is_empty() {
                let detail = json!({ "outlier": o, "held": events.len() });
                let rec = crate::jobs::system_audit("system", "rating.held", ("window", o.window_id), detail, now);
                ledger::append(&tx, store.audit_algo(), &rec, &events, None).await?;
                held += events.len();
            }
            tx.commit().await?;
            match batch.last() {
                Some(r) if batch.len() == 500 => after = r.id,
                _ => break,
            }
        }
        tracing::info!(window = o.window_id, ratings = o.ratings, below_top = o.below_top, "window held as an outlier");
    }
    Ok(held)
}

// ------------------------------------------------------------------ reasons and policy

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonVersion {
    /// The version shown; a save names the version it edits.
    pub version: i32,
    pub reasons: ReasonSet,
}

#[utoipa::path(get, operation_id = "rating_reasons_get", path = "/api/v1/rating-reasons", tag = "ratings",
    responses((status = 200, body = ReasonVersion), (status = 403, body = ErrorBody)))]
async fn get_reasons(State(s): State<AppState>, _r: Authorized<perm::ServiceRead>) -> ApiResult<Json<ReasonVersion>> {
    let (version, reasons) = store::reason_set(s.store.db()).await?;
    Ok(Json(ReasonVersion { version, reasons }))
}

/// Saves the reasons as a new version; ratings already given keep theirs. `version` is the one
/// the editor started from: another save since is 409 `state_changed`.
#[utoipa::path(put, operation_id = "rating_reasons_put", path = "/api/v1/rating-reasons", tag = "ratings",
    request_body = ReasonVersion,
    responses((status = 200, body = ReasonVersion), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_reasons(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(b): ApiJson<ReasonVersion>,
) -> ApiResult<Json<ReasonVersion>> {
    let reasons = b.reasons.checked().map_err(ApiError::Validation)?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    let version = match store::save_reason_set(&tx, b.version, &reasons, auth.user.id, now).await {
        Err(StoreError::StateChanged) => {
            let (current, _) = store::reason_set(&tx).await?;
            return Err(ApiError::StateChanged { current: Some(current.to_string()) });
        }
        other => other?,
    };
    let d = json!({ "version": version, "reasons": reasons });
    xiaoneng_store::audit::append(
        &tx,
        s.store.audit_algo(),
        &auth.user.audit(&s, "rating_reasons.save", "setting", version, d),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(ReasonVersion { version, reasons }))
}

#[utoipa::path(get, operation_id = "rating_policy_get", path = "/api/v1/settings/rating-policy", tag = "ratings",
    responses((status = 200, body = RatingPolicy), (status = 403, body = ErrorBody)))]
async fn get_policy(State(s): State<AppState>, _r: Authorized<perm::ServiceRead>) -> ApiResult<Json<RatingPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::RATING_POLICY).await?))
}

/// Sets the public address of the rating pages, which every QR code carries.
#[utoipa::path(put, operation_id = "rating_policy_put", path = "/api/v1/settings/rating-policy", tag = "ratings",
    request_body = RatingPolicy, responses((status = 200, body = RatingPolicy), (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    ApiJson(p): ApiJson<RatingPolicy>,
) -> ApiResult<Json<RatingPolicy>> {
    let p = p.checked().map_err(ApiError::Validation)?;
    crate::api::save_setting(&s, &auth.user, settings::RATING_POLICY, &p).await?;
    Ok(Json(p))
}

// ------------------------------------------------------------------ QR codes

/// What a rating code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Window,
    Staff,
    Case,
}

/// A QR code to print: what it rates, the address it opens, and the code drawn as SVG.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingCode {
    pub kind: CodeKind,
    /// The window's name, the staff member's name and number, or the case's number.
    pub label: String,
    /// For a staff member: their window; for a case: its item.
    pub detail: String,
    pub url: String,
    pub svg: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingCodes {
    /// False until the office sets the public address: the codes then carry this server's own
    /// address as the browser reached it, which phones outside may not reach.
    pub public_url_set: bool,
    pub codes: Vec<RatingCode>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeParams {
    /// A window's sheet: its code and one for each staff member at it.
    pub window_id: Option<i64>,
    /// A case's receipt code.
    pub case_id: Option<i64>,
}

/// The office's QR codes: a window's sheet (the window and each staff member at it), or a case's
/// receipt code.
#[utoipa::path(get, operation_id = "rating_codes", path = "/api/v1/rating-codes", tag = "ratings", params(CodeParams),
    responses((status = 200, body = RatingCodes), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rating_codes(
    State(s): State<AppState>,
    auth: Authorized<perm::ServiceManage>,
    headers: axum::http::HeaderMap,
    ApiQuery(p): ApiQuery<CodeParams>,
) -> ApiResult<Json<RatingCodes>> {
    let db = s.store.db();
    let policy: RatingPolicy = settings::get(db, settings::RATING_POLICY).await?;
    let public_url_set = !policy.public_url.is_empty();
    let base = if public_url_set {
        policy.public_url
    } else {
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        let scheme = if crate::auth::secure_request(&s, &headers) { "https" } else { "http" };
        format!("{scheme}://{host}")
    };
    let mut codes = Vec::new();
    let mut push = |kind: CodeKind, label: String, detail: String, path: String| -> ApiResult<()> {
        let url = format!("{base}{path}");
        codes.push(RatingCode { kind, label, detail, svg: qr_svg(&url)?, url });
        Ok(())
    };
    match (p.window_id, p.case_id) {
        (Some(w), None) => {
            let window = org::get_window(db, &auth.scope, w).await?;
            push(CodeKind::Window, window.name.clone(), window.hall.clone(), public::window_path(window.id))?;
            for person in org::people_at_window(db, window.id).await? {
                push(
                    CodeKind::Staff,
                    format!("{}（{}）", person.name, person.employee_no),
                    window.name.clone(),
                    public::staff_path(person.id),
                )?;
            }
        }
        (None, Some(c)) => {
            let case = xiaoneng_store::service::get_case(db, c, &auth.scope).await?;
            let item = xiaoneng_store::service::item_names(db, [case.item_id]).await?;
            let code = case.rating_code.clone().ok_or(ApiError::NotFound)?;
            push(
                CodeKind::Case,
                case.number.clone(),
                item.get(&case.item_id).map(|i| i.1.clone()).unwrap_or_default(),
                public::case_path(&code),
            )?;
        }
        _ => {
            return Err(ApiError::invalid(
                "window_id",
                "required",
                "请指定一个窗口或一个办件",
                "Name one window or one case",
            ));
        }
    }
    Ok(Json(RatingCodes { public_url_set, codes }))
}

fn qr_svg(url: &str) -> ApiResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}
