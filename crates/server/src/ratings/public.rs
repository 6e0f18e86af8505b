//! The public's way in: a QR code per window, per staff member and per case receipt opens
//! `/r/<code>`; a receipt's code typed at `/rate` rates a finished case on the web. The page is
//! plain HTML rendered here, with no script at all — a form that works on any phone over any
//! link — in Chinese or English (`?lang=en`, or the browser's language). The same ratings can be
//! given as JSON under `/api/v1/public/`.
//!
//! Codes: `w<window id>`, `s<person id>`, `c<the case's rating code>`. Windows and staff are
//! public (their codes hang at the counter); a case's code is random and printed only on its
//! receipt, so that nobody rates a case they were not served in.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    org::Status,
    rating::{RatingChannel, RatingLevel, ReasonSet},
    rectification::mask_name,
    service::CaseStatus,
};
use xiaoneng_store::{StoreError, entity::person, org, ratings as store, service as cases};

use super::{Aim, CodeKind, Rater, RatingBody, RatingReceipt, Target, case_named, give};
use crate::{
    ApiResult, AppState,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    web::esc,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rating_page_info))
        .routes(routes!(public_rate))
        .route("/r/thanks", axum::routing::get(thanks_page))
        .route("/r/{code}", axum::routing::get(qr_page).post(qr_submit))
        .route("/rate", axum::routing::get(web_page).post(web_submit))
}

pub fn window_path(id: i64) -> String {
    format!("/r/w{id}")
}

pub fn staff_path(id: i64) -> String {
    format!("/r/s{id}")
}

pub fn case_path(code: &str) -> String {
    format!("/r/c{code}")
}

/// What a code names, resolved.
pub(super) struct Resolved {
    pub(super) target: Target,
    pub(super) window_name: Option<String>,
    pub(super) staff: Option<String>,
    pub(super) department_name: String,
    pub(super) kind: CodeKind,
    pub(super) item_name: Option<String>,
}

pub(super) fn unknown_code() -> ApiError {
    ApiError::refused(StatusCode::NOT_FOUND, "unknown_code", "评价码无效", "This rating code is not known")
}

/// What a code names: `w<window id>`, `s<person id>` or `c<the case's rating code>`.
#[derive(Debug, Clone, Copy)]
enum Code<'a> {
    Window(i64),
    Staff(i64),
    Case(&'a str),
}

impl<'a> Code<'a> {
    fn parse(code: &'a str) -> ApiResult<Self> {
        let id = |rest: &str| rest.parse::<i64>().ok().filter(|i| *i > 0 && rest.len() <= 18);
        match code.trim().split_at_checked(1) {
            Some(("w", rest)) => id(rest).map(Code::Window),
            Some(("s", rest)) => id(rest).map(Code::Staff),
            Some(("c", rest)) => Some(Code::Case(rest)),
            _ => None,
        }
        .ok_or_else(unknown_code)
    }
}

/// What a code rates: an active window or staff member, or a case, with the window's name and
/// the staff member where it read them. Anything else is 404 `unknown_code`, the same for a code
/// that never existed and one retired.
async fn target(s: &AppState, code: Code<'_>) -> ApiResult<(Target, CodeKind, Option<String>, Option<person::Model>)> {
    let db = s.store.db();
    Ok(match code {
        Code::Window(id) => {
            let w = match org::get_window(db, &org::Scope::All, id).await {
                Ok(w) if w.status == Status::Active => w,
                Ok(_) | Err(StoreError::NotFound) => return Err(unknown_code()),
                Err(e) => return Err(e.into()),
            };
            (Target::of_window(&w), CodeKind::Window, Some(w.name), None)
        }
        Code::Staff(id) => {
            let p = match org::get_person(db, &org::Scope::All, id).await {
                Ok(p) if p.status == Status::Active => p,
                Ok(_) | Err(StoreError::NotFound) => return Err(unknown_code()),
                Err(e) => return Err(e.into()),
            };
            (Target::of_person(&p), CodeKind::Staff, None, Some(p))
        }
        Code::Case(rest) => match store::case_by_rating_code(db, rest).await? {
            Some(c) => (Target::of_case(c), CodeKind::Case, None, None),
            None => return Err(unknown_code()),
        },
    })
}

/// Resolves a code to what it rates, with the names a page shows.
pub(super) async fn resolve(s: &AppState, code: &str) -> ApiResult<Resolved> {
    let db = s.store.db();
    let (target, kind, window, person) = target(s, Code::parse(code)?).await?;
    let department_name = org::department_names(db, [target.department_id]).await?.remove(&target.department_id);
    let window_name = match (window, target.window_id) {
        (Some(name), _) => Some(name),
        (None, Some(w)) => org::window_names(db, [w]).await?.remove(&w),
        (None, None) => None,
    };
    let person = match (person, target.person_id) {
        (Some(p), _) => Some(p),
        (None, Some(p)) => org::get_person(db, &org::Scope::All, p).await.ok(),
        (None, None) => None,
    };
    let item_name = match &target.case {
        Some(c) => cases::item_names(db, [c.item_id]).await?.remove(&c.item_id).map(|(_, n)| n),
        None => None,
    };
    Ok(Resolved {
        staff: person.map(|p| format!("{}（{}）", mask_name(&p.name), p.employee_no)),
        target,
        window_name,
        department_name: department_name.unwrap_or_default(),
        kind,
        item_name,
    })
}

// ------------------------------------------------------------------ JSON

#[derive(Debug, Serialize, ToSchema)]
pub struct RatedCaseInfo {
    pub number: String,
    pub item_name: Option<String>,
    pub completed: bool,
}

/// What a rating page shows: what is rated (names masked), and the reasons offered per level.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingPageInfo {
    pub kind: CodeKind,
    pub department_name: String,
    pub window_name: Option<String>,
    /// The staff member, name masked, with their number (张*（A001）).
    pub staff: Option<String>,
    pub case: Option<RatedCaseInfo>,
    pub reasons_version: i32,
    pub reasons: ReasonSet,
}

#[utoipa::path(get, operation_id = "public_rating_page", path = "/api/v1/public/rating-pages/{code}", tag = "ratings",
    params(("code" = String, Path, description = "w<window>, s<staff> or c<receipt code>")),
    responses((status = 200, body = RatingPageInfo), (status = 404, body = ErrorBody)))]
async fn rating_page_info(State(s): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<RatingPageInfo>> {
    let r = resolve(&s, &code).await?;
    let (reasons_version, reasons) = store::reason_set(s.store.db()).await?;
    Ok(Json(RatingPageInfo {
        kind: r.kind,
        department_name: r.department_name,
        window_name: r.window_name,
        staff: r.staff,
        case: r.target.case.as_ref().map(|c| RatedCaseInfo {
            number: c.number.clone(),
            item_name: r.item_name.clone(),
            completed: CaseStatus::of(c.completed_at) == CaseStatus::Completed,
        }),
        reasons_version,
        reasons,
    }))
}

/// A rating from the public.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicRating {
    pub level: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// `qr` (default: reached by a QR code) or `web` (a finished case, by its receipt's code).
    #[serde(default)]
    pub channel: Option<String>,
    /// On a window's or staff member's page, the number of the case served, if the rater has it.
    #[serde(default)]
    pub case_number: Option<String>,
}

/// Rates what the code names. 201 with the rating's status (`held` when it names no case: it
/// waits for the office's review); 409 `invalid_transition` when the case was rated by this
/// channel already, or (on the web) is not finished; 422 naming each bad field.
#[utoipa::path(post, operation_id = "public_rate", path = "/api/v1/public/rating-pages/{code}/ratings", tag = "ratings",
    params(("code" = String, Path, description = "w<window>, s<staff> or c<receipt code>")),
    request_body = PublicRating,
    responses((status = 201, body = RatingReceipt), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn public_rate(
    State(s): State<AppState>,
    Path(code): Path<String>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<PublicRating>,
) -> ApiResult<(StatusCode, Json<RatingReceipt>)> {
    let channel = match b.channel.as_deref().map(str::trim) {
        None | Some("") | Some("qr") => RatingChannel::Qr,
        Some("web") => RatingChannel::Web,
        Some(_) => {
            return Err(ApiError::invalid(
                "channel",
                "invalid_choice",
                "渠道须为 qr 或 web",
                "The channel is qr or web",
            ));
        }
    };
    let receipt = rate(&s, &code, channel, &b, ip).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// The address a request came from (behind trusted proxies, the one they saw).
pub struct ClientIp(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(crate::auth::client_ip(s, parts)))
    }
}

async fn rate(
    s: &AppState,
    code: &str,
    channel: RatingChannel,
    b: &PublicRating,
    ip: String,
) -> ApiResult<RatingReceipt> {
    let code = Code::parse(code)?;
    // The web rates a case by its receipt's code, nothing else.
    if channel == RatingChannel::Web && !matches!(code, Code::Case(_)) {
        return Err(unknown_code());
    }
    let named = b.case_number.as_deref().is_some_and(|n| !n.trim().is_empty());
    let aim = match code {
        // A window's or staff member's code alone is read by the recorder, with its batch.
        Code::Window(id) if !named => Aim::Window(id),
        Code::Staff(id) if !named => Aim::Staff(id),
        _ => {
            let (mut t, ..) = target(s, code).await?;
            if t.case.is_none()
                && let Some(c) = case_named(s.store.db(), b.case_number.as_deref(), t.window_id, t.person_id).await?
            {
                t = Target::of_case(c);
            }
            Aim::Target(Box::new(t))
        }
    };
    let body = RatingBody {
        level: b.level.clone(),
        reasons: b.reasons.clone(),
        comment: b.comment.clone(),
        phone: b.phone.clone(),
    };
    give(s, &Rater { channel, device: None, ip }, &aim, &body).await
}

// ------------------------------------------------------------------ the page

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    lang: Option<String>,
    code: Option<String>,
    held: Option<String>,
    /// A complaint's ticket number.
    ticket: Option<String>,
}

/// The page's language: `lang` when the page says, else the browser's.
pub(super) fn english(lang: Option<&str>, headers: &HeaderMap) -> bool {
    match lang {
        Some("en") => true,
        Some(_) => false,
        None => crate::error::wants_english(headers),
    }
}

/// Words of the page, in the page's language.
pub(super) fn w(en: bool, zh: &'static str, english: &'static str) -> &'static str {
    if en { english } else { zh }
}

const STYLE: &str = "body{margin:0;background:#f3f5f8;font:16px/1.5 -apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#1f2329}\
main{max-width:560px;margin:0 auto;padding:12px}header{background:#c0392b;color:#fff;padding:14px 16px;border-radius:10px}\
header h1{margin:0;font-size:20px}header p{margin:4px 0 0;opacity:.92}.card{background:#fff;border-radius:10px;padding:14px 16px;margin-top:12px}\
.lv{position:absolute;opacity:0}.levels{display:flex;flex-wrap:wrap;gap:8px}.levels label.l{flex:1 1 30%;min-width:96px;text-align:center;border:2px solid #dcdfe6;border-radius:8px;padding:10px 4px;cursor:pointer}\
.reasons{display:none;width:100%;margin-top:8px}.reasons label{display:inline-block;margin:4px 8px 4px 0;padding:6px 10px;border:1px solid #dcdfe6;border-radius:16px}\
textarea,input[type=tel],input[type=text]{width:100%;box-sizing:border-box;font:inherit;padding:10px;border:1px solid #dcdfe6;border-radius:8px}\
button{width:100%;margin-top:14px;padding:14px;font:inherit;font-size:18px;color:#fff;background:#c0392b;border:0;border-radius:8px}\
table{width:100%;border-collapse:collapse;font-size:14px}th,td{padding:6px 4px;border-bottom:1px solid #eef0f3;text-align:left}td.n{text-align:right;white-space:nowrap}.bar{height:8px;background:#c0392b;border-radius:4px;min-width:2px}.err{color:#c0392b;margin:4px 0}.hint{color:#6b7280;font-size:14px}.lang{text-align:right;font-size:14px;margin:4px 0}a{color:#c0392b}";

fn level_css() -> String {
    RatingLevel::ALL
        .iter()
        .map(|l| {
            let c = l.code();
            format!("#l-{c}:checked~.levels label[for=l-{c}]{{border-color:#c0392b;background:#fdecea}}#l-{c}:checked~.r-{c}{{display:block}}")
        })
        .collect()
}

pub(super) fn shell(en: bool, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}{}</style></head><body><main>{body}</main></body></html>",
        if en { "en" } else { "zh-CN" },
        esc(title),
        level_css()
    )
}

/// The values a form was sent with, to show again beside its errors.
#[derive(Debug, Default)]
struct Sent {
    rating: PublicRating,
    errors: Vec<String>,
}

fn form_page(en: bool, r: &Resolved, set: &ReasonSet, action: &str, web_code: Option<&str>, sent: &Sent) -> String {
    let mut h = String::new();
    let title = w(en, "服务评价", "Rate our service");
    let lang_link = if en { ("?lang=zh", "中文") } else { ("?lang=en", "English") };
    let lang_href = match web_code {
        Some(code) => format!("{}&code={}", lang_link.0, esc(code)),
        None => lang_link.0.to_owned(),
    };
    h.push_str(&format!("<p class=\"lang\"><a href=\"{lang_href}\">{}</a></p>", lang_link.1));
    h.push_str(&format!("<header><h1>{}</h1><p>{}</p>", title, esc(&r.department_name)));
    let mut lines = Vec::new();
    if let Some(wn) = &r.window_name {
        lines.push(format!("{}{}", w(en, "窗口：", "Window: "), esc(wn)));
    }
    if let Some(st) = &r.staff {
        lines.push(format!("{}{}", w(en, "工作人员：", "Staff: "), esc(st)));
    }
    if let Some(c) = &r.target.case {
        lines.push(format!("{}{}", w(en, "办件：", "Case: "), esc(&c.number)));
        if let Some(i) = &r.item_name {
            lines.push(esc(i));
        }
    }
    for l in lines {
        h.push_str(&format!("<p>{l}</p>"));
    }
    h.push_str("</header>");
    if !sent.errors.is_empty() {
        h.push_str("<div class=\"card\" role=\"alert\">");
        for e in &sent.errors {
            h.push_str(&format!("<p class=\"err\">{}</p>", esc(e)));
        }
        h.push_str("</div>");
    }
    h.push_str(&format!("<form method=\"post\" action=\"{}\" class=\"card\">", esc(action)));
    h.push_str(&format!("<input type=\"hidden\" name=\"lang\" value=\"{}\">", if en { "en" } else { "zh" }));
    if let Some(code) = web_code {
        h.push_str(&format!("<input type=\"hidden\" name=\"code\" value=\"{}\">", esc(code)));
    }
    h.push_str(&format!("<p><b>{}</b></p>", w(en, "您对本次服务满意吗？", "How satisfied are you with this service?")));
    // The radios stand before the labels and reason blocks they control: CSS shows the reasons
    // of the level chosen, with no script.
    for l in RatingLevel::ALL {
        let checked = if sent.rating.level == l.code() { " checked" } else { "" };
        h.push_str(&format!(
            "<input class=\"lv\" type=\"radio\" name=\"level\" id=\"l-{c}\" value=\"{c}\" required{checked}>",
            c = l.code()
        ));
    }
    h.push_str("<div class=\"levels\">");
    for l in RatingLevel::ALL {
        h.push_str(&format!("<label class=\"l\" for=\"l-{}\">{}</label>", l.code(), capitalised(l.label(en))));
    }
    h.push_str("</div>");
    for &l in RatingLevel::ALL {
        let c = l.code();
        h.push_str(&format!(
            "<div class=\"reasons r-{c}\"><p class=\"hint\">{}</p>",
            if l.is_bad() {
                w(en, "请选择原因（至少一项）：", "Why? (pick at least one)")
            } else {
                w(en, "可选择原因：", "Anything in particular? (optional)")
            }
        ));
        for t in set.for_level(l) {
            let on = sent.rating.level == c && sent.rating.reasons.contains(&t.code);
            h.push_str(&format!(
                "<label><input type=\"checkbox\" name=\"reasons_{c}\" value=\"{}\"{}> {}</label>",
                esc(&t.code),
                if on { " checked" } else { "" },
                esc(if en { &t.en } else { &t.zh })
            ));
        }
        h.push_str("</div>");
    }
    if r.target.case.is_none() {
        h.push_str(&format!(
            "<p><label>{}<br><input type=\"text\" name=\"case_number\" maxlength=\"64\" value=\"{}\" autocomplete=\"off\"></label></p>",
            w(en, "办件编号（选填，见受理回执）", "Case number (optional, on your receipt)"),
            esc(sent.rating.case_number.as_deref().unwrap_or(""))
        ));
    }
    h.push_str(&format!(
        "<p><label>{}<br><textarea name=\"comment\" rows=\"3\" maxlength=\"500\">{}</textarea></label></p>",
        w(en, "意见建议（选填）", "Comments (optional)"),
        esc(&sent.rating.comment)
    ));
    h.push_str(&format!(
        "<p><label>{}<br><input type=\"tel\" name=\"phone\" maxlength=\"20\" inputmode=\"numeric\" value=\"{}\" autocomplete=\"tel\"></label></p>\
         <p class=\"hint\">{}</p>",
        w(en, "手机号（选填，用于回访）", "Mobile number (optional, for a call back)"),
        esc(sent.rating.phone.as_deref().unwrap_or("")),
        w(en, "号码加密保存，仅用于核实和回访，工作人员看不到评价人。", "Kept encrypted, used only to follow up; staff never see who rated them.")
    ));
    h.push_str(&format!("<button type=\"submit\">{}</button></form>", w(en, "提交评价", "Submit")));
    let complaint = match web_code {
        Some(c) => format!("/r/c{}/complaint", esc(c)),
        None => format!("{}/complaint", esc(action)),
    };
    h.push_str(&format!(
        "<p class=\"hint\">{} <a href=\"{complaint}?lang={}\">{}</a></p>",
        w(en, "遇到推诿、刁难或不作为？", "Refused, obstructed or ignored?"),
        if en { "en" } else { "zh" },
        w(en, "我要投诉", "Make a complaint")
    ));
    shell(en, title, &h)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

pub(super) fn message_page(en: bool, status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!("<header><h1>{}</h1></header><div class=\"card\"><p>{}</p></div>", esc(title), esc(text));
    crate::error::own_page(status, shell(en, title, &body))
}

pub(super) fn error_page(en: bool, e: &ApiError) -> Response {
    if let ApiError::Internal(cause) = e {
        tracing::error!(%cause, "internal error on a rating page");
    }
    message_page(en, e.status(), w(en, "无法评价", "Cannot rate"), &e.body(en).message)
}

async fn show_form(
    s: &AppState,
    en: bool,
    code: &str,
    action: &str,
    web_code: Option<&str>,
    sent: &Sent,
    status: StatusCode,
) -> Response {
    let r = match resolve(s, code).await {
        Ok(r) => r,
        Err(e) => return error_page(en, &e),
    };
    match store::reason_set(s.store.db()).await {
        Ok((_, set)) => crate::error::own_page(status, form_page(en, &r, &set, action, web_code, sent)),
        Err(e) => error_page(en, &e.into()),
    }
}

async fn qr_page(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    show_form(&s, en, &code, &format!("/r/{code}"), None, &Sent::default(), StatusCode::OK).await
}

/// A form as sent: `level`, the chosen level's `reasons_<level>`, `comment`, `phone`,
/// `case_number`, `lang`, `code`. Anything else is ignored; a field sent twice keeps its first.
fn parse_form(body: &[u8]) -> (PublicRating, Option<String>, Option<String>) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().take(100).collect();
    let first = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let level = first("level").unwrap_or_default();
    let reasons = pairs.iter().filter(|(n, _)| *n == format!("reasons_{level}")).map(|(_, v)| v.clone()).collect();
    let rating = PublicRating {
        reasons,
        level,
        comment: first("comment").unwrap_or_default(),
        phone: first("phone"),
        channel: None,
        case_number: first("case_number"),
    };
    (rating, first("lang"), first("code"))
}

async fn submit(
    s: &AppState,
    headers: &HeaderMap,
    ip: String,
    body: &[u8],
    web: bool,
    path_code: Option<String>,
) -> Response {
    let (rating, lang, code) = parse_form(body);
    let en = english(lang.as_deref(), headers);
    let lang = if en { "en" } else { "zh" };
    let (code, channel, action) = match (web, path_code, code) {
        (false, Some(c), _) => (c.clone(), RatingChannel::Qr, format!("/r/{c}")),
        (true, _, Some(c)) => (format!("c{}", c.trim()), RatingChannel::Web, "/rate".to_owned()),
        _ => return Redirect::to(&format!("/rate?lang={lang}")).into_response(),
    };
    match rate(s, &code, channel, &rating, ip).await {
        Ok(receipt) => {
            let held = if receipt.hold_reason.is_some() { 1 } else { 0 };
            Redirect::to(&format!("/r/thanks?lang={lang}&held={held}")).into_response()
        }
        Err(ApiError::Validation(errs)) => {
            let errors = errs.iter().map(|e| if en { e.en.clone() } else { e.zh.clone() }).collect();
            let web_code = web.then(|| code.trim_start_matches('c').to_owned());
            show_form(
                s,
                en,
                &code,
                &action,
                web_code.as_deref(),
                &Sent { rating, errors },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(en, &e),
    }
}

async fn qr_submit(
    State(s): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Response {
    submit(&s, &headers, ip, &body, false, Some(code)).await
}

/// The web's way in: type the code on the case's receipt; with it, the case's form.
async fn web_page(State(s): State<AppState>, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    if let Some(code) = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        return show_form(&s, en, &format!("c{code}"), "/rate", Some(code), &Sent::default(), StatusCode::OK).await;
    }
    let title = w(en, "网上评价", "Rate a finished case");
    let body = format!(
        "<p class=\"lang\"><a href=\"{}\">{}</a></p><header><h1>{title}</h1><p>{}</p></header>\
         <form method=\"get\" action=\"/rate\" class=\"card\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <p><label>{}<br><input type=\"text\" name=\"code\" maxlength=\"16\" required autocomplete=\"off\"></label></p>\
         <button type=\"submit\">{}</button></form>",
        if en { "?lang=zh" } else { "?lang=en" },
        if en { "中文" } else { "English" },
        w(
            en,
            "办结后，凭受理回执上的评价码评价本次办件。",
            "Once your case is finished, rate it with the code on its receipt."
        ),
        if en { "en" } else { "zh" },
        w(en, "评价码（16 位）", "Rating code (16 characters)"),
        w(en, "下一步", "Next"),
    );
    (StatusCode::OK, Html(shell(en, title, &body))).into_response()
}

async fn web_submit(State(s): State<AppState>, headers: HeaderMap, ClientIp(ip): ClientIp, body: Bytes) -> Response {
    submit(&s, &headers, ip, &body, true, None).await
}

async fn thanks_page(Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    let ticket = q.ticket.as_deref().filter(|t| {
        (14..=24).contains(&t.len())
            && t.starts_with("GD-")
            && t[3..].bytes().enumerate().all(|(i, b)| if i == 4 { b == b'-' } else { b.is_ascii_digit() })
    });
    if let Some(number) = ticket {
        let text = if en {
            format!(
                "Thank you. Your complaint is ticket {number}: the department looks into it, puts it right and calls you back."
            )
        } else {
            format!("感谢您的监督！您的投诉已生成工单 {number}，责任部门将核实、整改并回访。")
        };
        let mut res = message_page(en, StatusCode::OK, w(en, "投诉已受理", "Complaint received"), &text);
        res.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
        return res;
    }
    let text = if q.held.as_deref() == Some("1") {
        w(en, "感谢您的评价！您的评价将经审核后计入。", "Thank you! Your rating is counted once it has been reviewed.")
    } else {
        w(en, "感谢您的评价！我们会认真对待每一条意见。", "Thank you! Every rating is read.")
    };
    let mut res = message_page(en, StatusCode::OK, w(en, "评价成功", "Rating received"), text);
    res.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    res
}
