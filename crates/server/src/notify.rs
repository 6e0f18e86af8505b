//! Messages out of the app: to a DingTalk (钉钉) or WeCom (企业微信) group robot, and by email
//! through the office's mail server, when the office has configured them. Sent by the
//! `notify.send` job, so a slow or failing channel never holds up a request, and a failed send is
//! retried.

use std::net::{IpAddr, SocketAddr};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use xiaoneng_core::ValidationError;

/// The office's robot webhooks and mail server. The webhook addresses carry access tokens and
/// the mail password is a password: they are secrets, shown back only as "set".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifyChannels {
    pub dingtalk_webhook: String,
    /// The robot's signing secret (加签), when it has one.
    pub dingtalk_secret: String,
    pub wecom_webhook: String,
    /// The mail server (SMTP); email is off while empty.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `tls` (implicit TLS, port 465), `starttls` (port 587) or `none` (a relay on the same host
    /// or private network).
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password: String,
    pub mail_from: String,
    /// Where the messages go: the office's mailboxes.
    pub mail_to: Vec<String>,
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
    pub email_set: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password_set: bool,
    pub mail_from: String,
    pub mail_to: Vec<String>,
}

/// A change: a field left out keeps its value, an empty string clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelsChange {
    pub dingtalk_webhook: Option<String>,
    pub dingtalk_secret: Option<String>,
    pub wecom_webhook: Option<String>,
    /// An empty host turns email off.
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_security: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub mail_from: Option<String>,
    pub mail_to: Option<Vec<String>>,
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
            email_set: self.email_on(),
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            smtp_security: self.smtp_security.clone(),
            smtp_username: self.smtp_username.clone(),
            smtp_password_set: !self.smtp_password.is_empty(),
            mail_from: self.mail_from.clone(),
            mail_to: self.mail_to.clone(),
        }
    }

    pub fn email_on(&self) -> bool {
        !self.smtp_host.is_empty()
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
        let trimmed = |v: Option<String>, old: &mut String| {
            if let Some(v) = v {
                *old = v.trim().to_owned();
            }
        };
        trimmed(c.smtp_host, &mut n.smtp_host);
        trimmed(c.smtp_security, &mut n.smtp_security);
        trimmed(c.smtp_username, &mut n.smtp_username);
        trimmed(c.mail_from, &mut n.mail_from);
        if let Some(p) = c.smtp_password {
            n.smtp_password = p;
        }
        if let Some(p) = c.smtp_port {
            n.smtp_port = p;
        }
        if let Some(to) = c.mail_to {
            n.mail_to = to.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
        }
        if n.email_on() {
            n.check_email()?;
        }
        Ok(n)
    }

    fn check_email(&mut self) -> Result<(), ValidationError> {
        if self.smtp_security.is_empty() {
            self.smtp_security = "tls".into();
        }
        if !matches!(self.smtp_security.as_str(), "tls" | "starttls" | "none") {
            return Err(ValidationError::new(
                "smtp_security",
                "invalid_choice",
                "取值无效，可选：tls、starttls、none",
                "Not a valid choice; one of: tls, starttls, none",
            ));
        }
        if self.smtp_port == 0 {
            self.smtp_port = if self.smtp_security == "tls" { 465 } else { 587 };
        }
        let bad = |field: &str, a: &str| {
            ValidationError::new(
                field,
                "invalid_email",
                format!("“{a}”不是有效的邮箱地址"),
                format!("\u{201c}{a}\u{201d} is not a valid email address"),
            )
        };
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad("mail_from", &self.mail_from));
        }
        if self.mail_to.is_empty() {
            return Err(ValidationError::new("mail_to", "required", "请填写收件邮箱", "Enter at least one recipient"));
        }
        if let Some(a) = self.mail_to.iter().find(|a| a.parse::<lettre::message::Mailbox>().is_err()) {
            return Err(bad("mail_to", a));
        }
        Ok(())
    }

    pub fn any(&self) -> bool {
        !self.dingtalk_webhook.is_empty() || !self.wecom_webhook.is_empty() || self.email_on()
    }

    /// Sends `text` to every configured robot. The error names the robot, never its address.
    pub async fn send(&self, text: &str, now_ms: i64, egress: &Egress) -> Result<(), String> {
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
            if let Err(e) = post(egress, url, &body).await {
                failures.push(format!("dingtalk: {e}"));
            }
        }
        if !self.wecom_webhook.is_empty() {
            let url = reqwest::Url::parse(&self.wecom_webhook).map_err(|_| "wecom: bad address".to_owned())?;
            if let Err(e) = post(egress, url, &body).await {
                failures.push(format!("wecom: {e}"));
            }
        }
        if self.email_on()
            && let Err(e) = self.mail(text, egress).await
        {
            failures.push(format!("email: {e}"));
        }
        if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
    }

    async fn mail(&self, text: &str, egress: &Egress) -> Result<(), String> {
        egress.addresses(&self.smtp_host, self.smtp_port).await?;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor, message::header::ContentType};
        let mut m = lettre::Message::builder()
            .from(self.mail_from.parse().map_err(|_| "bad sender".to_owned())?)
            .subject(text.chars().take(60).collect::<String>())
            .header(ContentType::TEXT_PLAIN);
        for to in &self.mail_to {
            m = m.to(to.parse().map_err(|_| "bad recipient".to_owned())?);
        }
        let message = m.body(text.to_owned()).map_err(|e| e.to_string())?;
        let host = self.smtp_host.as_str();
        let builder = match self.smtp_security.as_str() {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(|e| e.to_string())?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            _ => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?,
        };
        let mut builder = builder.port(self.smtp_port).timeout(Some(std::time::Duration::from_secs(20)));
        if !self.smtp_username.is_empty() {
            builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                self.smtp_username.clone(),
                self.smtp_password.clone(),
            ));
        }
        builder.build().send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Where messages may go (a robot's webhook, the mail server): any public address; on a loopback,
/// link-local or private network only the hosts the operator allows (`notify.allowed_hosts`), so
/// that the office's settings cannot make the server probe or post to its own network.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    pub allowed_hosts: Vec<String>,
}

/// An address on the server's own side of the network: loopback, private, link-local, shared
/// (CGNAT), unique-local, multicast, unspecified or broadcast.
pub fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

impl Egress {
    fn allows(&self, host: &str) -> bool {
        self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host.trim_start_matches('[').trim_end_matches(']')))
    }

    /// The addresses `host:port` may be reached at: refused when any is internal and the host is
    /// not allowed. `None` when the name does not resolve (now).
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Option<Vec<SocketAddr>>, String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => match tokio::net::lookup_host((bare, port)).await {
                Ok(a) => a.collect(),
                Err(_) => return Ok(None),
            },
        };
        if !self.allows(host) && addrs.iter().any(|a| internal(a.ip())) {
            return Err(format!("{host} is on an internal network"));
        }
        Ok(Some(addrs))
    }

    /// Checks the channels' hosts as the office saves them: an internal address is refused unless
    /// the operator allows its host; a name that does not resolve now is checked again at sending.
    pub async fn check(&self, c: &NotifyChannels) -> Result<(), ValidationError> {
        let mut hosts: Vec<(&str, String, u16)> = Vec::new();
        for (field, url) in [("dingtalk_webhook", &c.dingtalk_webhook), ("wecom_webhook", &c.wecom_webhook)] {
            if let Ok(u) = reqwest::Url::parse(url)
                && let Some(h) = u.host_str()
            {
                hosts.push((field, h.to_owned(), u.port_or_known_default().unwrap_or(443)));
            }
        }
        if c.email_on() {
            hosts.push(("smtp_host", c.smtp_host.clone(), c.smtp_port));
        }
        for (field, host, port) in hosts {
            if self.addresses(&host, port).await.is_err() {
                return Err(ValidationError::new(
                    field,
                    "internal_address",
                    format!(
                        "{host} 位于内部网络，不能作为消息通道；如确需使用，请由运维人员在服务器配置 notify.allowed_hosts 中允许该主机"
                    ),
                    format!(
                        "{host} is on an internal network and cannot be a message channel; the operator may allow it in the server's notify.allowed_hosts"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Both robots answer `{"errcode": 0, ...}` on success.
/// Posts to a robot at an address checked by `egress`, and only there (the name is resolved once
/// and pinned, so that it cannot resolve elsewhere between the check and the connection).
async fn post(egress: &Egress, url: reqwest::Url, body: &str) -> Result<(), String> {
    let host = url.host_str().ok_or("no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
    if let Some(addrs) = egress.addresses(&host, port).await? {
        builder = builder.resolve_to_addrs(&host, &addrs);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.2.3.4",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(internal(a.parse().unwrap()), "{a}");
        }
        for a in ["203.119.1.1", "114.114.114.114", "2400:3200::1"] {
            assert!(!internal(a.parse().unwrap()), "{a}");
        }
    }

    #[tokio::test]
    async fn internal_hosts_are_refused_unless_allowed() {
        let none = Egress::default();
        assert!(none.addresses("127.0.0.1", 25).await.is_err());
        assert!(none.addresses("[::1]", 443).await.is_err());
        assert!(none.addresses("localhost", 443).await.is_err(), "a name is judged by what it resolves to");
        assert!(none.addresses("203.119.1.1", 443).await.unwrap().is_some());
        let relay = Egress { allowed_hosts: vec!["10.0.0.25".into()] };
        assert!(relay.addresses("10.0.0.25", 25).await.is_ok());
        assert!(relay.addresses("10.0.0.26", 25).await.is_err());
    }
}
