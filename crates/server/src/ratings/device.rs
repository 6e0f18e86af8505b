//! The counter rating device (评价器), as `docs/rating-device-protocol.md` describes it to a
//! device maker: `Authorization: Bearer <key>` with the key the office made for the device's
//! window. The device sends heartbeats, asks which case its window is handling, and sends the
//! applicant's rating of it. The staff member at the window has no part in the exchange: a
//! staff account cannot rate, and a device rates only for its own window.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{StatusCode, request::Parts},
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    rating::{DeviceStatus, RatingChannel, ReasonSet},
    service::ClientKind,
};
use xiaoneng_store::{entity::api_client, org, ratings as store, service as cases};

use super::{Aim, Rater, RatingBody, RatingReceipt, Target, case_named, give};
use crate::service::keyed_client;
use crate::{
    ApiResult, AppState,
    api::Checks,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(heartbeat)).routes(routes!(current_case)).routes(routes!(device_rate))
}

/// A case is offered to the device for this long after the window last touched it.
const OFFER_FOR: Duration = Duration::minutes(30);

/// The device a request comes from, with its window: an active device key ([`keyed_client`];
/// a device key is always made for a window).
pub struct Device(pub api_client::Model, pub i64);

impl FromRequestParts<AppState> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let device = keyed_client(parts, s, ClientKind::Device).await?;
        let window =
            device.window_id.ok_or_else(|| ApiError::Internal(format!("device {} has no window", device.id)))?;
        Ok(Device(device, window))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// `ok` or `fault`.
    pub status: String,
    /// The device's firmware version, as its maker names it.
    #[serde(default)]
    pub firmware: Option<String>,
}

/// The case offered to the device.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferedCase {
    pub number: String,
    pub item_name: String,
    /// The staff member who handles it, name masked.
    pub staff: Option<String>,
    pub completed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatAnswer {
    pub server_time: DateTime<Utc>,
    /// The case the window is handling and the device has not rated, if any.
    pub case: Option<OfferedCase>,
    /// The version of the reasons in force: fetch `GET /api/v1/device/case` when it changes.
    pub reasons_version: i32,
}

/// Every 60 seconds: the device's state; answers with the server's time and the case on offer.
/// The office sees a device silent for three minutes as offline.
#[utoipa::path(post, operation_id = "device_heartbeat", path = "/api/v1/device/heartbeat", tag = "ratings",
    request_body = Heartbeat,
    responses((status = 200, body = HeartbeatAnswer), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn heartbeat(
    State(s): State<AppState>,
    Device(device, window): Device,
    ApiJson(b): ApiJson<Heartbeat>,
) -> ApiResult<Json<HeartbeatAnswer>> {
    let mut v = Checks::default();
    let status = v.choice::<DeviceStatus>("status", &b.status);
    let firmware = b.firmware.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned);
    if firmware.as_ref().is_some_and(|f| f.chars().count() > 60 || f.chars().any(char::is_control)) {
        v.push(xiaoneng_core::ValidationError::new(
            "firmware",
            "length",
            "固件版本最多 60 个可见字符",
            "The firmware version is at most 60 visible characters",
        ));
    }
    v.done()?;
    let now = s.clock.now();
    let tx = s.store.write().await?;
    store::heartbeat(&tx, &device, status.unwrap_or(DeviceStatus::Ok), firmware, now).await?;
    tx.commit().await?;
    let (reasons_version, _) = store::reason_set(s.store.db()).await?;
    Ok(Json(HeartbeatAnswer { server_time: now, case: offer(&s, window, now).await?, reasons_version }))
}

async fn offer(s: &AppState, window: i64, now: DateTime<Utc>) -> ApiResult<Option<OfferedCase>> {
    let db = s.store.db();
    let Some(c) = store::current_case(db, window, now - OFFER_FOR).await? else { return Ok(None) };
    let item_name = cases::item_names(db, [c.item_id]).await?.remove(&c.item_id).map(|(_, n)| n).unwrap_or_default();
    let staff = match c.person_id {
        Some(p) => org::person_names(db, [p]).await?.remove(&p).map(|n| xiaoneng_core::rectification::mask_name(&n)),
        None => None,
    };
    Ok(Some(OfferedCase { number: c.number, item_name, staff, completed: c.completed_at.is_some() }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCase {
    pub case: Option<OfferedCase>,
    pub reasons_version: i32,
    /// The reasons per level, for the device's screen.
    pub reasons: ReasonSet,
}

/// The case the device's window is handling (the one it last accepted, moved on or completed in
/// the last 30 minutes that this device has not rated), and the reasons to offer.
#[utoipa::path(get, operation_id = "device_case", path = "/api/v1/device/case", tag = "ratings",
    responses((status = 200, body = DeviceCase), (status = 401, body = ErrorBody)))]
async fn current_case(State(s): State<AppState>, device: Device) -> ApiResult<Json<DeviceCase>> {
    let window = device.1;
    let case = offer(&s, window, s.clock.now()).await?;
    let (reasons_version, reasons) = store::reason_set(s.store.db()).await?;
    Ok(Json(DeviceCase { case, reasons_version, reasons }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRating {
    /// The case offered, by number; absent when the window had none (the rating is then held).
    #[serde(default)]
    pub case_number: Option<String>,
    pub level: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The applicant's rating at the counter. 201 when stored (retry with the same
/// `Idempotency-Key` after a lost answer); 409 `invalid_transition` (`already_rated`) when this
/// channel rated the case already; 422 naming each bad field, including a case number that was
/// not handled at this window.
#[utoipa::path(post, operation_id = "device_rate", path = "/api/v1/device/ratings", tag = "ratings",
    request_body = DeviceRating,
    responses((status = 201, body = RatingReceipt), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn device_rate(
    State(s): State<AppState>,
    Device(device, window): Device,
    ApiJson(b): ApiJson<DeviceRating>,
) -> ApiResult<(StatusCode, Json<RatingReceipt>)> {
    let db = s.store.db();
    let target = match case_named(db, b.case_number.as_deref(), Some(window), None).await? {
        Some(c) => Target::of_case(c),
        None => {
            let w = org::get_window(db, &org::Scope::All, window).await?;
            Target::of_window(&w)
        }
    };
    let body = RatingBody { level: b.level, reasons: b.reasons, comment: b.comment, phone: b.phone };
    let rater = Rater { channel: RatingChannel::Device, device: Some(&device), ip: String::new() };
    Ok((StatusCode::CREATED, Json(give(&s, &rater, &Aim::Target(Box::new(target)), &body).await?)))
}
