//! The office's rectification rules (deadlines, reminders, the document's masthead) and the
//! message robots that reminders and notices go to.

use axum::{Json, extract::State};
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::rectification::RectificationPolicy;
use xiaoneng_store::{ledger, settings};

use crate::{
    ApiResult, AppState,
    auth::{Act, Authorized, perm},
    error::ErrorBody,
    extract::ApiJson,
    notify::{ChannelsChange, ChannelsView, NotifyChannels},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_policy, put_policy)).routes(routes!(get_channels, put_channels))
}

#[utoipa::path(get, operation_id = "orders_get_policy", path = "/api/v1/settings/rectification-policy", tag = "rectification",
    responses((status = 200, body = RectificationPolicy)))]
async fn get_policy(
    State(s): State<AppState>,
    _r: Authorized<perm::RectificationRead>,
) -> ApiResult<Json<RectificationPolicy>> {
    Ok(Json(settings::get(s.store.db(), settings::RECTIFICATION_POLICY).await?))
}

#[utoipa::path(put, operation_id = "orders_put_policy", path = "/api/v1/settings/rectification-policy", tag = "rectification",
    request_body = RectificationPolicy, responses((status = 200, body = RectificationPolicy), (status = 422, body = ErrorBody)))]
async fn put_policy(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    ApiJson(p): ApiJson<RectificationPolicy>,
) -> ApiResult<Json<RectificationPolicy>> {
    p.validate()?;
    crate::api::save_setting(&s, &auth.user, settings::RECTIFICATION_POLICY, &p).await?;
    Ok(Json(p))
}

/// The message robots, without their secrets.
#[utoipa::path(get, operation_id = "orders_get_channels", path = "/api/v1/settings/notify-channels", tag = "rectification",
    responses((status = 200, body = ChannelsView), (status = 403, body = ErrorBody)))]
async fn get_channels(
    State(s): State<AppState>,
    _a: Authorized<perm::RectificationManage>,
) -> ApiResult<Json<ChannelsView>> {
    let c: NotifyChannels = settings::get(s.store.db(), settings::NOTIFY_CHANNELS).await?;
    Ok(Json(c.view()))
}

/// Sets the DingTalk / WeCom group robots that reminders and notices go to.
#[utoipa::path(put, operation_id = "orders_put_channels", path = "/api/v1/settings/notify-channels", tag = "rectification",
    request_body = ChannelsChange, responses((status = 200, body = ChannelsView), (status = 422, body = ErrorBody)))]
async fn put_channels(
    State(s): State<AppState>,
    auth: Authorized<perm::RectificationManage>,
    ApiJson(c): ApiJson<ChannelsChange>,
) -> ApiResult<Json<ChannelsView>> {
    let tx = s.store.write().await?;
    let before: NotifyChannels = settings::get(&tx, settings::NOTIFY_CHANNELS).await?;
    let after = before.apply(c)?;
    s.config.egress.check(&after).await?;
    settings::put(&tx, settings::NOTIFY_CHANNELS, &after, Some(auth.user.id), s.clock.now()).await?;
    // The audit says what changed, never the addresses or secrets themselves.
    let d = json!({ "before": before.view(), "after": after.view() });
    let act = Act::new(&s, &auth.user);
    ledger::append(
        &tx,
        act.algo,
        &act.audit("settings.notify_channels", "setting", settings::NOTIFY_CHANNELS, d),
        &[],
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after.view()))
}
