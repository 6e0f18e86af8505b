//! Messages out of the app: to a DingTalk (钉钉) or WeCom (企业微信) group robot, when the office
//! has configured one. Sent by the `notify.send` job, so a slow or failing robot never holds up a
//! request, and a failed send is retried.

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use xiaoneng_core::ValidationError;

/// The office's robot webhooks. Their addresses carry access tokens: they are secrets, shown
/// back only as "set".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifyChannels {
    pub dingtalk_webhook: String,
    /// The robot's signing secret (加签), when it has one.
    pub dingtalk_secret: String,
    pub wecom_webhook: String,
}

/// What the office sees of the channels.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelsView {
    pub dingtalk_webhook_set: bool,
    /// Scheme and host only: the token stays on the server.
    pub dingtalk_host: Option<String>,
    pub dingtalk_signed: bool,
    pub wecom_webhook_set: bool,
    pub wecom_host: Option<String>,
}

/// A change: a field left out keeps its value, an empty string clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelsChange {
    pub dingtalk_webhook: Option<String>,
    pub dingtalk_secret: Option<String>,
    pub wecom_webhook: Option<String>,
}

fn host_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(format!("{}://{}", u.scheme(), u.host_str()?))
}

fn check_url(field: &str, url: &str) -> Result<(), ValidationError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(ValidationError::new(
            field,
            "invalid_url",
            "请填写机器人的完整 Webhook 地址（以 https:// 开头）",
            "Enter the robot's full webhook address (starting with https://)",
        )),
    }
}

impl NotifyChannels {
    pub fn view(&self) -> ChannelsView {
        ChannelsView {
            dingtalk_webhook_set: !self.dingtalk_webhook.is_empty(),
            dingtalk_host: host_of(&self.dingtalk_webhook),
            dingtalk_signed: !self.dingtalk_secret.is_empty(),
            wecom_webhook_set: !self.wecom_webhook.is_empty(),
            wecom_host: host_of(&self.wecom_webhook),
        }
    }

    pub fn apply(&self, c: ChannelsChange) -> Result<Self, ValidationError> {
        let mut n = self.clone();
        if let Some(v) = c.dingtalk_webhook {
            n.dingtalk_webhook = v.trim().to_owned();
        }
        if let Some(v) = c.dingtalk_secret {
            n.dingtalk_secret = v.trim().to_owned();
        }
        if let Some(v) = c.wecom_webhook {
            n.wecom_webhook = v.trim().to_owned();
        }
        if !n.dingtalk_webhook.is_empty() {
            check_url("dingtalk_webhook", &n.dingtalk_webhook)?;
        }
        if !n.wecom_webhook.is_empty() {
            check_url("wecom_webhook", &n.wecom_webhook)?;
        }
        Ok(n)
    }

    pub fn any(&self) -> bool {
        !self.dingtalk_webhook.is_empty() || !self.wecom_webhook.is_empty()
    }

    /// Sends `text` to every configured robot. The error names the robot, never its address.
    pub async fn send(&self, text: &str, now_ms: i64) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let body = json!({ "msgtype": "text", "text": { "content": text } }).to_string();
        let mut failures = Vec::new();
        if !self.dingtalk_webhook.is_empty() {
            let mut url =
                reqwest::Url::parse(&self.dingtalk_webhook).map_err(|_| "dingtalk: bad address".to_owned())?;
            if !self.dingtalk_secret.is_empty() {
                // DingTalk's signing: HMAC-SHA256 of "timestamp\nsecret" keyed by the secret.
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.dingtalk_secret.as_bytes())
                    .map_err(|e| e.to_string())?;
                mac.update(format!("{now_ms}\n{}", self.dingtalk_secret).as_bytes());
                use base64::Engine;
                let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
                url.query_pairs_mut().append_pair("timestamp", &now_ms.to_string()).append_pair("sign", &sign);
            }
            if let Err(e) = post(&client, url, &body).await {
                failures.push(format!("dingtalk: {e}"));
            }
        }
        if !self.wecom_webhook.is_empty() {
            let url = reqwest::Url::parse(&self.wecom_webhook).map_err(|_| "wecom: bad address".to_owned())?;
            if let Err(e) = post(&client, url, &body).await {
                failures.push(format!("wecom: {e}"));
            }
        }
        if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
    }
}

/// Both robots answer `{"errcode": 0, ...}` on success.
async fn post(client: &reqwest::Client, url: reqwest::Url, body: &str) -> Result<(), String> {
    let r = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = r.status();
    let bytes = r.bytes().await.map_err(|e| e.without_url().to_string())?;
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match answer.get("errcode").and_then(serde_json::Value::as_i64) {
        Some(0) if status.is_success() => Ok(()),
        code => Err(format!("HTTP {status}, errcode {code:?}")),
    }
}
