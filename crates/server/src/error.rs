//! The API's one error type. Every error body is `{"code","message","details"}`; the message is
//! in the request's language, chosen by the [`localize`] middleware from `Accept-Language`.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use xiaoneng_core::ValidationError;
use xiaoneng_store::StoreError;

/// The error body of every failed request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code for programs.
    pub code: String,
    /// For people, in the request's language (zh-CN by default, `Accept-Language: en` for English).
    pub message: String,
    /// Per-field or per-row problems (a list), facts about a refusal (an object), or null.
    pub details: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not logged in")]
    Unauthenticated,
    #[error("session expired")]
    SessionExpired,
    #[error("wrong user name or password")]
    InvalidCredentials { attempts_left: Option<u32> },
    #[error("account locked")]
    AccountLocked { until: chrono::DateTime<chrono::Utc> },
    #[error("account disabled")]
    AccountDisabled,
    /// Too many failed logins from this address, or from everywhere, in the current window.
    #[error("too many login attempts")]
    TooManyAttempts { retry_after: u64, global: bool },
    #[error("password change required")]
    PasswordChangeRequired,
    /// The account must enrol a second factor before anything else (decision 0029).
    #[error("second factor required")]
    SecondFactorRequired,
    /// A wrong second-factor code at login; counts towards the account's lock.
    #[error("wrong second-factor code")]
    InvalidSecondFactor { attempts_left: u32 },
    /// No login waiting for a second step (never started, past its five minutes, or finished).
    #[error("login challenge expired")]
    LoginChallengeExpired,
    #[error("forbidden")]
    Forbidden,
    #[error("cross-site request refused")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("conflict on {field}")]
    Conflict { field: String },
    /// The record's state, the caller's part in it or the time does not allow the action.
    #[error("invalid transition: {0}")]
    InvalidTransition(xiaoneng_core::workflow::TransitionRefused),
    /// Someone else changed the record first (a conditional update found it moved on, or it is
    /// no longer in the state the caller acted on).
    #[error("state changed")]
    StateChanged { current: Option<String> },
    #[error("validation failed")]
    Validation(Vec<ValidationError>),
    /// Rows of an uploaded file that failed; nothing was imported.
    #[error("import rejected")]
    ImportRejected(Vec<RowError>),
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, zh: String, en: String },
    /// A refusal with its own status (a tus precondition, a range, a type, a corrupt file).
    #[error("refused ({status}): {code}")]
    Refused { status: StatusCode, code: &'static str, zh: String, en: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("busy")]
    Busy,
    /// Too many of something from one source (a rating's address, phone or device).
    #[error("rate limited")]
    RateLimited(xiaoneng_core::workflow::TooMany),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<object_store::Error> for ApiError {
    fn from(e: object_store::Error) -> Self {
        match e {
            // The object changed between the check and the read: the caller may retry.
            object_store::Error::Precondition { .. } => ApiError::Busy,
            e => ApiError::Internal(format!("object store: {e}")),
        }
    }
}

/// One problem in one row of an imported file. `row` is the spreadsheet's row number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    pub row: u32,
    pub column: String,
    pub code: &'static str,
    #[serde(skip)]
    pub zh: String,
    #[serde(skip)]
    pub en: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::BadRequest { code, zh: zh.into(), en: en.into() }
    }

    pub fn refused(status: StatusCode, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::Refused { status, code, zh: zh.into(), en: en.into() }
    }

    pub fn invalid(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        ApiError::Validation(vec![ValidationError::new(field, code, zh, en)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated
            | ApiError::SessionExpired
            | ApiError::InvalidCredentials { .. }
            | ApiError::InvalidSecondFactor { .. }
            | ApiError::LoginChallengeExpired => StatusCode::UNAUTHORIZED,
            ApiError::AccountLocked { .. } => StatusCode::LOCKED,
            ApiError::TooManyAttempts { .. } | ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AccountDisabled
            | ApiError::PasswordChangeRequired
            | ApiError::SecondFactorRequired
            | ApiError::Forbidden
            | ApiError::CsrfRejected => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::InvalidTransition(_) | ApiError::StateChanged { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::Validation(_) | ApiError::ImportRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Refused { status, .. } => *status,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self, en: bool) -> ErrorBody {
        let pick = |zh: &str, e: &str| if en { e.to_owned() } else { zh.to_owned() };
        let (code, message, details): (&str, String, Value) = match self {
            ApiError::Unauthenticated => ("unauthenticated", pick("请先登录", "Please log in"), Value::Null),
            ApiError::SessionExpired => (
                "session_expired",
                pick("登录已过期，请重新登录", "Your session has expired; please log in again"),
                Value::Null,
            ),
            ApiError::InvalidCredentials { attempts_left } => (
                "invalid_credentials",
                match attempts_left {
                    Some(n) if en => format!("Wrong user name or password; {n} attempts left before the account locks"),
                    Some(n) => format!("用户名或密码错误，再错 {n} 次账号将被锁定"),
                    None => pick("用户名或密码错误", "Wrong user name or password"),
                },
                json!({ "attempts_left": attempts_left }),
            ),
            ApiError::AccountLocked { until } => {
                let local = until.with_timezone(&chrono_tz::Asia::Shanghai).format("%H:%M");
                (
                    "account_locked",
                    if en {
                        format!("Too many failed logins: the account is locked until {local}")
                    } else {
                        format!("登录失败次数过多，账号已锁定至 {local}")
                    },
                    json!({ "locked_until": until }),
                )
            }
            ApiError::TooManyAttempts { retry_after, global } => {
                let minutes = retry_after.div_ceil(60).max(1);
                (
                    "too_many_attempts",
                    match (en, global) {
                        (true, false) => {
                            format!("Too many failed logins from your address; try again in {minutes} minutes")
                        }
                        (true, true) => format!("Too many failed logins on the system; try again in {minutes} minutes"),
                        (false, false) => format!("您所在地址登录失败次数过多，请 {minutes} 分钟后再试"),
                        (false, true) => format!("系统登录失败次数过多，已暂停登录，请 {minutes} 分钟后再试"),
                    },
                    json!({ "retry_after": retry_after, "scope": if *global { "global" } else { "address" } }),
                )
            }
            ApiError::AccountDisabled => (
                "account_disabled",
                pick("账号已停用，请联系系统管理员", "The account is disabled; ask the system administrator"),
                Value::Null,
            ),
            ApiError::PasswordChangeRequired => {
                ("password_change_required", pick("请先修改密码", "You must change your password first"), Value::Null)
            }
            ApiError::SecondFactorRequired => (
                "second_factor_required",
                pick(
                    "请先启用两步验证：用手机验证器应用扫描二维码并输入验证码",
                    "Set up two-step verification first: scan the QR code with an authenticator app and enter its code",
                ),
                Value::Null,
            ),
            ApiError::InvalidSecondFactor { attempts_left } => (
                "invalid_second_factor",
                if en {
                    format!(
                        "The code is wrong or was used already; {attempts_left} attempts left before the account locks"
                    )
                } else {
                    format!("验证码不正确或已使用过，再错 {attempts_left} 次账号将被锁定")
                },
                json!({ "attempts_left": attempts_left }),
            ),
            ApiError::LoginChallengeExpired => (
                "login_challenge_expired",
                pick(
                    "验证已超时，请重新输入用户名和密码",
                    "The sign-in has timed out; enter your user name and password again",
                ),
                Value::Null,
            ),
            ApiError::Forbidden => {
                ("forbidden", pick("没有权限执行此操作", "You are not allowed to do this"), Value::Null)
            }
            ApiError::CsrfRejected => {
                ("csrf_rejected", pick("拒绝来自其他站点的请求", "Cross-site request refused"), Value::Null)
            }
            ApiError::NotFound => ("not_found", pick("记录不存在", "Not found"), Value::Null),
            ApiError::Conflict { field } => (
                "already_exists",
                if field.is_empty() {
                    pick("记录已存在", "The record already exists")
                } else if en {
                    format!("This {field} is already in use")
                } else {
                    format!("{} 已被使用", field_zh(field))
                },
                json!({ "field": field }),
            ),
            ApiError::InvalidTransition(t) => (
                "invalid_transition",
                pick(&t.zh, &t.en),
                json!({ "state": t.state, "action": t.action, "reason": t.reason }),
            ),
            ApiError::StateChanged { current } => (
                "state_changed",
                pick(
                    "该记录刚被他人处理，状态已变化；请刷新后再操作",
                    "Someone else has just acted on this record and its state has changed; reload and try again",
                ),
                json!({ "current_state": current }),
            ),
            ApiError::Validation(errs) => (
                "validation_failed",
                errs.first().map(|e| e.message(en).to_owned()).unwrap_or_default(),
                Value::Array(
                    errs.iter()
                        .map(|e| json!({ "field": e.field, "code": e.code, "message": e.message(en) }))
                        .collect(),
                ),
            ),
            ApiError::ImportRejected(rows) => (
                "import_rejected",
                if en {
                    format!("{} problems in the file; nothing was imported", rows.len())
                } else {
                    format!("文件中有 {} 处错误，未导入任何数据", rows.len())
                },
                Value::Array(
                    rows.iter()
                        .map(|r| {
                            json!({ "row": r.row, "column": r.column, "code": r.code,
                                    "message": if en { &r.en } else { &r.zh } })
                        })
                        .collect(),
                ),
            ),
            ApiError::BadRequest { code, zh, en: e } => (code, pick(zh, e), Value::Null),
            ApiError::Refused { code, zh, en: e, .. } => (code, pick(zh, e), Value::Null),
            ApiError::MethodNotAllowed => {
                ("method_not_allowed", pick("不支持该请求方法", "This method is not allowed here"), Value::Null)
            }
            ApiError::PayloadTooLarge => {
                ("payload_too_large", pick("上传的内容过大", "The request body is too large"), Value::Null)
            }
            ApiError::Busy => ("busy", pick("系统繁忙，请稍后重试", "The system is busy; please retry"), Value::Null),
            ApiError::RateLimited(t) => {
                ("rate_limited", pick(&t.zh, &t.en), json!({ "scope": t.scope, "retry_after": t.retry_after_secs }))
            }
            ApiError::Internal(_) => (
                "internal_error",
                pick("服务器内部错误，请稍后重试", "Internal server error; please retry later"),
                Value::Null,
            ),
        };
        ErrorBody { code: code.to_owned(), message, details }
    }
}

fn field_zh(field: &str) -> &str {
    match field {
        "code" => "编码",
        "username" => "用户名",
        "employee_no" => "工号",
        _ => field,
    }
}

/// Carried on error responses so that [`localize`] can rewrite the body in English.
#[derive(Clone)]
struct Localizable(std::sync::Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.body(false)).unwrap_or_default();
        let mut res =
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
        // When the caller may come back: the end of the login window, or a moment for a busy server.
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after, .. } => Some(*retry_after),
            ApiError::RateLimited(t) => Some(t.retry_after_secs),
            ApiError::Busy => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res.extensions_mut().insert(Localizable(std::sync::Arc::new(self)));
        res
    }
}

/// True when the request's first language preference is English.
pub fn wants_english(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("en"))
}

/// Marks an error answer a handler made whole (an HTML page for people), which [`localize`]
/// leaves as it is.
#[derive(Clone, Copy)]
pub struct OwnPage;

/// An HTML page answering with an error status, kept as it is.
pub fn own_page(status: StatusCode, html: String) -> Response {
    let mut res = (status, axum::response::Html(html)).into_response();
    res.extensions_mut().insert(OwnPage);
    res
}

/// Gives errors that did not come from our handlers (axum's own rejections of a malformed path,
/// a wrong method, an oversized body) the API's error shape; and rewrites error bodies in English
/// for `Accept-Language: en`.
pub async fn localize(req: Request, next: Next) -> Response {
    let en = wants_english(req.headers());
    let mut res = next.run(req).await;
    let status = res.status();
    if (status.is_client_error() || status.is_server_error())
        && res.extensions().get::<Localizable>().is_none()
        && res.extensions().get::<OwnPage>().is_none()
    {
        let err = match status {
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::bad_request(
                "unsupported_media_type",
                "不支持该内容类型",
                "This content type is not supported here",
            ),
            s if s.is_client_error() => ApiError::bad_request("invalid_request", "请求格式错误", "Malformed request"),
            _ => ApiError::Internal(format!("unhandled {status}")),
        };
        let keep = res.headers().get(header::ALLOW).cloned();
        res = err.into_response();
        if let Some(allow) = keep {
            res.headers_mut().insert(header::ALLOW, allow);
        }
    }
    if en && let Some(Localizable(err)) = res.extensions_mut().remove::<Localizable>() {
        let body = serde_json::to_vec(&err.body(true)).unwrap_or_default();
        *res.body_mut() = Body::from(body);
        res.headers_mut().remove(header::CONTENT_LENGTH);
    }
    res
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { field } => ApiError::Conflict { field },
            StoreError::StateChanged => ApiError::StateChanged { current: None },
            StoreError::Invalid(v) => ApiError::Validation(vec![v]),
            StoreError::Busy => ApiError::Busy,
            StoreError::Db(e) => ApiError::Internal(e.to_string()),
            StoreError::Key(e) => ApiError::Internal(format!("personal data: {e}")),
        }
    }
}

impl From<xiaoneng_core::workflow::Refusal> for ApiError {
    fn from(r: xiaoneng_core::workflow::Refusal) -> Self {
        match r {
            // Whether the state or the actor does not allow it (`details.reason` is `actor` when
            // it is not this caller's step): one answer in every workflow. A route the caller's
            // permissions do not reach at all stays 403 (the extractor's).
            xiaoneng_core::workflow::Refusal::Transition(t) => ApiError::InvalidTransition(t),
            xiaoneng_core::workflow::Refusal::Invalid(v) => ApiError::Validation(vec![v]),
            xiaoneng_core::workflow::Refusal::TooMany(t) => ApiError::RateLimited(t),
        }
    }
}

/// A value the checks have already vouched for.
pub fn checked<T>(v: Option<T>) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::Internal("a checked value was missing".into()))
}

/// The caller acted on a record in the state they last saw (`expected`); if it has moved on since,
/// they lost a race: 409 `state_changed`, naming the state it is in now.
pub fn expect_state<S: PartialEq + std::fmt::Display>(expected: Option<S>, current: S) -> ApiResult<()> {
    match expected {
        Some(e) if e != current => Err(ApiError::StateChanged { current: Some(current.to_string()) }),
        _ => Ok(()),
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation(vec![e])
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        StoreError::from(e).into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
