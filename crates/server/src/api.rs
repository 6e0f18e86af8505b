//! The API under `/api/v1`: each domain module's routes gathered into one OpenAPI document,
//! and what every handler uses to check input and shape lists.

use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use xiaoneng_core::{Coded, ValidationError};
use xiaoneng_store::{PageReq, page::MAX_PAGE_SIZE};

use crate::{AppState, error::ApiError};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Xiaoneng API",
        description = "效能 — supervising the efficiency of government services. Errors are \
                       `{code, message, details}`; messages follow `Accept-Language` (zh-CN default, en). \
                       Log in with `POST /api/v1/auth/login`; the session is an HttpOnly cookie.",
    ),
    tags(
        (name = "auth", description = "Login, logout, password"),
        (name = "organisation", description = "Departments, windows, posts, people, supervisors"),
        (name = "accounts", description = "User accounts (system admin) and roles (security admin)"),
        (name = "audit", description = "The tamper-evident audit log (audit admin)"),
        (name = "inspections", description = "Covert inspections: secret plans, findings and their review"),
        (name = "rectification", description = "Bulletins, rectification orders and reports, instructions, campaigns, the inbox"),
        (name = "service", description = "Service commitments: items, cases pushed by connected systems, yellow and red cards"),
        (name = "ratings", description = "The public's ratings from QR codes, counter devices and the web; reasons, QR sheets, devices"),
        (name = "tickets", description = "Tickets for bad ratings and complaints: verify, rectify, call back, appeal"),
        (name = "inquiries", description = "The first-inquiry log: record, hand over, take up, answer; lapses the office reviews"),
        (name = "events", description = "The regime's event ledger: what happened, to whom, when"),
    )
)]
struct ApiDoc;

pub fn api() -> OpenApiRouter<AppState> {
    use crate::{
        campaigns, events, inbox, inquiries, inspections, organisation, platform, ratings, rectification, service,
        tickets,
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(platform::router())
        .merge(organisation::router())
        .merge(inspections::router())
        .merge(rectification::router())
        .merge(campaigns::router())
        .merge(inbox::router())
        .merge(service::router())
        .merge(ratings::router())
        .merge(tickets::router())
        .merge(inquiries::router())
        .merge(events::router())
}

/// The last page a list may be asked for: far past the end of any real list, and small enough
/// that `(page - 1) × page_size` always fits the databases' 64-bit `OFFSET`. A page past the end
/// of the list (but not past this) is an empty page.
pub const MAX_PAGE: u64 = 1_000_000;

/// A list's paging, for a route whose other parameters are also read without it (a summary of
/// the same filter takes no page).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

/// Checks the paging of a list: `page` from 1 to [`MAX_PAGE`], `page_size` from 1 to 200
/// (default 20).
pub fn page_req(page: Option<u64>, page_size: Option<u64>, v: &mut Checks) -> PageReq {
    let page = page.unwrap_or(1);
    let page_size = page_size.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&page) {
        v.push(page_out_of_range());
    }
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        v.push(page_size_out_of_range());
    }
    PageReq { page: page.clamp(1, MAX_PAGE), page_size: page_size.clamp(1, MAX_PAGE_SIZE) }
}

fn page_out_of_range() -> ValidationError {
    ValidationError::new(
        "page",
        "out_of_range",
        format!("页码须为 1 到 {MAX_PAGE} 之间的整数"),
        format!("page must be a whole number from 1 to {MAX_PAGE}"),
    )
}

fn page_size_out_of_range() -> ValidationError {
    ValidationError::new(
        "page_size",
        "out_of_range",
        format!("每页条数须为 1 到 {MAX_PAGE_SIZE} 之间的整数"),
        format!("page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"),
    )
}

/// For a query string that did not parse: whether a paging parameter is what failed, because it
/// is not a whole number a `u64` holds (`page=-1`, `page_size=1e3`, `page=` past 2⁶⁴). That is
/// the same mistake as `page=0`, so it gets the same answer: 422 naming the parameter.
pub fn paging_error(query: &str) -> Option<ApiError> {
    let uri: axum::http::Uri = format!("/?{query}").parse().ok()?;
    let axum::extract::Query(pairs) = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).ok()?;
    let mut v = Checks::default();
    for (key, value) in pairs {
        let whole = value.parse::<u64>().is_ok();
        match key.as_str() {
            "page" if !whole => v.push(page_out_of_range()),
            "page_size" if !whole => v.push(page_size_out_of_range()),
            _ => {}
        }
    }
    v.done().err()
}

/// `Content-Disposition` for a download named `name`, which may be anything a user typed: the
/// name in UTF-8 as RFC 6266's `filename*` (percent-encoded, so quotes, semicolons and line
/// breaks cannot end the value or add parameters), and an ASCII `filename` for clients that know
/// no better — the name's ASCII letters, digits and `.-_`, or `fallback` (made safe the same way)
/// when that leaves nothing to recognise.
pub fn attachment_disposition(name: &str, fallback: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let ascii = ascii_name(name).or_else(|| ascii_name(fallback)).unwrap_or_else(|| "download".to_owned());
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `name` with everything but ASCII letters, digits and `.-_` turned into `_` (runs of them
/// joined, none at either end of the stem or the extension); `None` when the stem keeps no
/// letter or digit.
fn ascii_name(name: &str) -> Option<String> {
    let clean = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' };
            if !(c == '_' && out.ends_with('_')) {
                out.push(c);
            }
        }
        out.trim_matches(['_', '.']).to_owned()
    };
    let (stem, ext) = name.rsplit_once('.').map_or((name, ""), |(s, e)| (s, e));
    let (stem, ext) = (clean(stem), clean(ext));
    if !stem.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(if ext.is_empty() { stem } else { format!("{stem}.{ext}") })
}

/// Collects every validation problem of a request, so the form can show them all at once.
#[derive(Debug, Default)]
pub struct Checks(Vec<ValidationError>);

impl Checks {
    pub fn take<T: Default>(&mut self, r: Result<T, ValidationError>) -> T {
        r.unwrap_or_else(|e| {
            self.0.push(e);
            T::default()
        })
    }

    /// One of a set of codes, checked with the rest of the form (so that all its problems are
    /// told at once); `None` when it is not one.
    pub fn choice<T: Coded>(&mut self, field: &str, raw: &str) -> Option<T> {
        let t = T::from_code(raw.trim());
        if t.is_none() {
            self.push(invalid_choice(field, &T::codes()));
        }
        t
    }

    pub fn push(&mut self, e: ValidationError) {
        self.0.push(e);
    }

    pub fn done(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

/// Department names by id, to show beside the ids in responses.
pub async fn department_names(
    s: &AppState,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>, ApiError> {
    Ok(xiaoneng_store::org::department_names(s.store.db(), ids).await?)
}

/// The department a form names: 422 on `field` when there is none.
pub async fn known_department<C: sea_orm::ConnectionTrait>(c: &C, field: &str, id: i64) -> Result<(), ApiError> {
    use xiaoneng_store::{StoreError, org};
    match org::get_department(c, &org::Scope::All, id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => {
            Err(ApiError::invalid(field, "unknown_department", "部门不存在", "No such department"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Stores one of the office's settings and audits the change, before and after, in one
/// transaction.
pub async fn save_setting<T>(
    s: &AppState,
    user: &crate::auth::CurrentUser,
    key: &str,
    value: &T,
) -> Result<(), ApiError>
where
    T: Serialize + serde::de::DeserializeOwned + Default,
{
    use xiaoneng_store::{audit, settings};
    let tx = s.store.write().await?;
    let before: T = settings::get(&tx, key).await?;
    settings::put(&tx, key, value, Some(user.id), s.clock.now()).await?;
    let d = serde_json::json!({ "before": before, "after": value });
    audit::append(&tx, s.store.audit_algo(), &user.audit(s, &format!("settings.{key}"), "setting", key, d)).await?;
    tx.commit().await?;
    Ok(())
}

/// Why a record is retired: required, so the audit log says why.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RetireRequest {
    pub reason: String,
}

impl RetireRequest {
    pub fn reason(&self) -> Result<String, ApiError> {
        Ok(xiaoneng_core::org::parse_name("reason", &self.reason, 500)?)
    }
}

/// The shape of every list response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Matching records in all pages.
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

impl<T: ToSchema> Page<T> {
    pub fn from<M>(p: xiaoneng_store::Paged<M>, f: impl FnMut(M) -> T) -> Self {
        let p = p.map(f);
        Page { items: p.items, total: p.total, page: p.page, page_size: p.page_size }
    }

    /// As [`Page::from`], for a conversion that may fail (opening an encrypted field).
    pub fn try_from<M, E>(p: xiaoneng_store::Paged<M>, f: impl FnMut(M) -> Result<T, E>) -> Result<Self, E> {
        let items = p.items.into_iter().map(f).collect::<Result<Vec<T>, E>>()?;
        Ok(Page { items, total: p.total, page: p.page, page_size: p.page_size })
    }
}

/// A comma-separated list of codes (`open,returned`), each checked; the unknown ones are reported
/// into `v` and left out.
pub fn parse_codes<T: Coded>(field: &str, raw: Option<&str>, v: &mut Checks) -> Vec<T> {
    let mut out = Vec::new();
    for code in raw.unwrap_or_default().split(',').map(str::trim).filter(|x| !x.is_empty()) {
        match T::from_code(code) {
            Some(t) => out.push(t),
            None => v.push(invalid_choice(field, &T::codes())),
        }
    }
    out
}

/// An optional code (empty counts as absent), checked; an unknown one is reported into `v`.
pub fn parse_opt<T: Coded>(field: &str, raw: Option<&str>, v: &mut Checks) -> Option<T> {
    let raw = raw.map(str::trim).filter(|x| !x.is_empty())?;
    let t = T::from_code(raw);
    if t.is_none() {
        v.push(invalid_choice(field, &T::codes()));
    }
    t
}

fn invalid_choice(field: &str, allowed: &[&str]) -> ValidationError {
    ValidationError::new(
        field,
        "invalid_choice",
        format!("取值无效，可选：{}", allowed.join("、")),
        format!("Not a valid choice; one of: {}", allowed.join(", ")),
    )
}

pub fn parse_enum<T>(
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Result<T, ValidationError> {
    parse(raw).ok_or_else(|| invalid_choice(field, allowed))
}
