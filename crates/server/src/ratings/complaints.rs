//! Complaints from the public (投诉): from a window's, staff member's or case's rating page, about
//! the window, the person, the case or the whole department. Each opens a ticket for the
//! responsible department. `/r/<code>/complaint` is the script-free form; the JSON twin is
//! `POST /api/v1/public/rating-pages/{code}/complaints`.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    rating::{Limit, RatingPolicy},
    ticket::{
        ComplaintAbout, ComplaintSpec, TicketAbout, TicketSource, complaint_about, complaint_allowed, complaint_photo,
    },
};
use xiaoneng_store::{personal::Field, settings, tickets};

use super::{
    case_named,
    public::{ClientIp, english, message_page, resolve, shell, w},
};
use crate::{
    ApiResult, AppState,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    tickets::Opening,
    web::esc,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_complain))
        .route("/r/{code}/complaint", axum::routing::get(form).post(form_submit))
}

/// A complaint from the public.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicComplaint {
    /// What happened, 1 to 1,000 characters.
    pub content: String,
    /// On a window's or staff member's page: the case served, if the complainant has its number.
    #[serde(default)]
    pub case_number: Option<String>,
    /// About the department as a whole rather than this window or person.
    #[serde(default)]
    pub about_department: bool,
    /// A mobile number for the callback; kept encrypted.
    #[serde(default)]
    pub phone: Option<String>,
    /// A photo of what happened, base64-encoded: a JPEG, PNG, WebP, HEIC or GIF of at most 5 MB
    /// (told by its bytes).
    #[serde(default)]
    pub photo: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintReceipt {
    /// The ticket's number, for the complainant's reference.
    pub number: String,
}

/// Files a complaint: a ticket for the responsible department. 404 for an unknown code, 429 past
/// the limits per address and phone (the rating guards', counted apart), 422
/// naming each bad field; nothing is stored unless it is all well.
#[utoipa::path(post, operation_id = "public_complain", path = "/api/v1/public/rating-pages/{code}/complaints", tag = "tickets",
    params(("code" = String, Path, description = "w<window>, s<staff> or c<receipt code>")),
    request_body = PublicComplaint,
    responses((status = 201, body = ComplaintReceipt), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn public_complain(
    State(s): State<AppState>,
    Path(code): Path<String>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<PublicComplaint>,
) -> ApiResult<(StatusCode, Json<ComplaintReceipt>)> {
    use base64::Engine;
    let photo = match b.photo.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(base64::engine::general_purpose::STANDARD.decode(p).map_err(|_| {
            ApiError::invalid("photo", "invalid_base64", "照片须为 base64 编码", "The photo must be base64-encoded")
        })?),
    };
    let number = complain(&s, &code, &b, photo, &ip).await?;
    Ok((StatusCode::CREATED, Json(ComplaintReceipt { number })))
}

async fn complain(
    s: &AppState,
    code: &str,
    b: &PublicComplaint,
    photo: Option<Vec<u8>>,
    ip: &str,
) -> ApiResult<String> {
    let spec = ComplaintSpec::parse(&b.content, b.phone.as_deref());
    let photo_type = photo.as_deref().map(complaint_photo).transpose();
    let spec = match (spec, photo_type) {
        (Ok(spec), Ok(t)) => (spec, t),
        (spec, t) => {
            let mut errs = spec.err().unwrap_or_default();
            errs.extend(t.err());
            return Err(ApiError::Validation(errs));
        }
    };
    let (spec, photo_type) = spec;
    let r = resolve(s, code).await?;
    let mut target = r.target;
    if target.case.is_none()
        && let Some(c) = case_named(s.store.db(), b.case_number.as_deref(), target.window_id, target.person_id).await?
    {
        target = super::Target::of_case(c);
    }
    let about = complaint_about(target.case.is_some(), b.about_department, target.person_id.is_some());
    let vault = s.store.vault();
    let phone = match spec.phone.as_deref() {
        Some(p) => Some((vault.seal(Field::ComplainantPhone, p)?, vault.index(Field::ComplainantPhone, p)?)),
        None => None,
    };
    // A complaint about the department is not filed against the window or person whose code it
    // came from; one about a window not against whoever's code it was.
    let (window_id, person_id) = match about {
        ComplaintAbout::Case | ComplaintAbout::Person => (target.window_id, target.person_id),
        ComplaintAbout::Window => (target.window_id, None),
        ComplaintAbout::Department => (None, None),
    };
    // The photo goes to the object store before the write transaction (no writer waits on it);
    // should the ticket not be stored after all, it is removed again.
    let photo = match (photo, photo_type) {
        (Some(bytes), Some(mime)) => Some(keep_photo(s, bytes, mime).await?),
        _ => None,
    };
    let opening = Opening {
        source: TicketSource::Complaint,
        rating_id: None,
        about: Some(about),
        on: TicketAbout { department_id: target.department_id, window_id, person_id },
        case_id: target.case.as_ref().map(|c| c.id),
        content: spec.content,
        phone,
        address_key: Some(vault.index(Field::RaterAddress, ip)?),
        photo,
    };
    let kept = opening.photo.as_ref().map(|p| p.0.clone());
    let filed = file(s, opening, spec.phone.as_deref(), ip).await;
    if let (Err(_), Some(key)) = (&filed, kept) {
        use object_store::ObjectStoreExt;
        if let Err(e) = s.objects.delete(&object_store::path::Path::from(key.as_str())).await {
            tracing::warn!(error = %e, "a refused complaint's photo could not be removed");
        }
    }
    filed
}

/// Opens the complaint's ticket if the limits per address and phone allow it: counted in the write
/// transaction with the writers serialised, so that two at once cannot both slip under a limit.
async fn file(s: &AppState, opening: Opening, phone: Option<&str>, ip: &str) -> ApiResult<String> {
    let vault = s.store.vault();
    let now = s.clock.now();
    let tx = s.store.write().await?;
    xiaoneng_store::audit::serialise(&tx).await?;
    let guards = settings::get::<_, RatingPolicy>(&tx, settings::RATING_POLICY).await?.guards;
    let ago = |l: Limit| now - chrono::Duration::minutes(i64::from(l.minutes));
    let phones = phone.map(|p| vault.lookups(Field::ComplainantPhone, p)).unwrap_or_default();
    let (from_address, naming_phone) = tickets::recent_complaints(
        &tx,
        &vault.lookups(Field::RaterAddress, ip),
        ago(guards.per_address),
        &phones,
        ago(guards.per_phone),
    )
    .await?;
    complaint_allowed(&guards, from_address, naming_phone)?;
    let t = crate::tickets::open(&tx, s.store.audit_algo(), &format!("public:{ip}"), opening, now).await?;
    tx.commit().await?;
    Ok(crate::tickets::number_of(&t))
}

/// Puts a complaint's photo in the object store under a name no one can guess: (key, media type,
/// SHA-256).
async fn keep_photo(s: &AppState, bytes: Vec<u8>, mime: &str) -> ApiResult<(String, String, String)> {
    use object_store::ObjectStoreExt;
    use rand::RngCore;
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let mut name = [0u8; 16];
    rand::rng().fill_bytes(&mut name);
    let key = format!("complaints/{}.{}", hex::encode(name), xiaoneng_core::evidence::extension_of(mime));
    s.objects.put(&object_store::path::Path::from(key.as_str()), bytes.into()).await?;
    Ok((key, mime.to_owned(), sha256))
}

/// The page a complaint the form could not file answers with: why, and when a limit was reached,
/// when to try again.
fn refused_page(en: bool, e: &ApiError) -> Response {
    if let ApiError::Internal(cause) = e {
        tracing::error!(%cause, "internal error on the complaint form");
    }
    let mut page =
        message_page(en, e.status(), w(en, "无法提交投诉", "Cannot file the complaint"), &e.body(en).message);
    if let ApiError::RateLimited(t) = e
        && let Ok(v) = axum::http::HeaderValue::from_str(&t.retry_after_secs.to_string())
    {
        page.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    page
}

#[derive(Debug, Default, Deserialize)]
struct FormQuery {
    lang: Option<String>,
}

fn form_html(en: bool, code: &str, what: &str, sent: &PublicComplaint, errors: &[String]) -> String {
    let lang = if en { "en" } else { "zh" };
    let mut h = format!(
        "<p class=\"lang\"><a href=\"?lang={}\">{}</a></p><header><h1>{}</h1><p>{}</p></header>",
        if en { "zh" } else { "en" },
        if en { "中文" } else { "English" },
        w(en, "投诉", "Make a complaint"),
        esc(what),
    );
    h.push_str(&format!(
        "<form method=\"post\" action=\"/r/{}/complaint\" enctype=\"multipart/form-data\" class=\"card\">",
        esc(code)
    ));
    h.push_str(&format!("<input type=\"hidden\" name=\"lang\" value=\"{lang}\">"));
    for e in errors {
        h.push_str(&format!("<p class=\"err\">{}</p>", esc(e)));
    }
    h.push_str(&format!(
        "<p><label>{}<br><textarea name=\"content\" rows=\"5\" maxlength=\"1000\" required>{}</textarea></label></p>",
        w(en, "请写明经过（时间、窗口、事由）", "What happened (when, where, what)"),
        esc(&sent.content)
    ));
    if !code.starts_with('c') {
        h.push_str(&format!(
            "<p><label>{}<br><input type=\"text\" name=\"case_number\" maxlength=\"64\" value=\"{}\" autocomplete=\"off\"></label></p>",
            w(en, "办件编号（如有）", "Case number (if you have one)"),
            esc(sent.case_number.as_deref().unwrap_or_default())
        ));
        h.push_str(&format!(
            "<p><label><input type=\"checkbox\" name=\"about_department\" value=\"1\"{}> {}</label></p>",
            if sent.about_department { " checked" } else { "" },
            w(en, "投诉整个部门，而非本窗口或个人", "About the whole department, not this window or person")
        ));
    }
    h.push_str(&format!(
        "<p><label>{}<br><input type=\"file\" name=\"photo\" accept=\"image/*\"></label></p>",
        w(en, "照片（选填，5 MB 以内）", "A photo (optional, up to 5 MB)"),
    ));
    h.push_str(&format!(
        "<p><label>{}<br><input type=\"tel\" name=\"phone\" maxlength=\"20\" inputmode=\"numeric\" value=\"{}\" autocomplete=\"tel\"></label></p>\
         <p class=\"hint\">{}</p><button type=\"submit\">{}</button></form>",
        w(en, "手机号（选填，用于回访）", "Mobile number (optional, for a call back)"),
        esc(sent.phone.as_deref().unwrap_or_default()),
        w(en, "号码加密保存，仅用于回访。", "Your number is stored encrypted and used only to call you back."),
        w(en, "提交投诉", "Submit"),
    ));
    h
}

async fn show(
    s: &AppState,
    en: bool,
    code: &str,
    sent: &PublicComplaint,
    errors: &[String],
    status: StatusCode,
) -> Response {
    let r = match resolve(s, code).await {
        Ok(r) => r,
        Err(e) => return refused_page(en, &e),
    };
    let what = [Some(r.department_name.clone()), r.window_name.clone(), r.staff.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let title = w(en, "投诉", "Make a complaint");
    crate::error::own_page(status, shell(en, title, &form_html(en, code, &what, sent, errors)))
}

async fn form(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<FormQuery>,
    headers: HeaderMap,
) -> Response {
    let en = english(q.lang.as_deref(), &headers);
    show(&s, en, &code, &PublicComplaint::default(), &[], StatusCode::OK).await
}

async fn form_submit(
    State(s): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    req: axum::extract::Request,
) -> Response {
    let (fields, photo) = match read_form(req, &headers).await {
        Ok(f) => f,
        Err(e) => return refused_page(english(None, &headers), &e),
    };
    let first = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let en = english(first("lang").as_deref(), &headers);
    let sent = PublicComplaint {
        content: first("content").unwrap_or_default(),
        case_number: first("case_number"),
        about_department: first("about_department").is_some(),
        phone: first("phone"),
        photo: None,
    };
    match complain(&s, &code, &sent, photo, &ip).await {
        Ok(number) => {
            let lang = if en { "en" } else { "zh" };
            Redirect::to(&format!("/r/thanks?lang={lang}&ticket={number}")).into_response()
        }
        Err(ApiError::Validation(errs)) => {
            let errors: Vec<String> = errs.iter().map(|e| if en { e.en.clone() } else { e.zh.clone() }).collect();
            show(&s, en, &code, &sent, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => refused_page(en, &e),
    }
    .into_response()
}

/// The form's fields (at most 20, each at most 8 KB) and its photo, if one was chosen: sent as
/// `multipart/form-data` (the page's form) or `application/x-www-form-urlencoded`.
async fn read_form(
    req: axum::extract::Request,
    headers: &HeaderMap,
) -> ApiResult<(Vec<(String, String)>, Option<Vec<u8>>)> {
    use axum::extract::FromRequest;
    let bad = || ApiError::invalid("form", "malformed", "表单内容无法读取", "The form could not be read");
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let body = Bytes::from_request(req, &()).await.map_err(|_| bad())?;
        return Ok((url::form_urlencoded::parse(&body).into_owned().take(20).collect(), None));
    }
    let mut form = axum::extract::Multipart::from_request(req, &()).await.map_err(|_| bad())?;
    let (mut fields, mut photo) = (Vec::new(), None);
    for _ in 0..20 {
        let Some(field) = form.next_field().await.map_err(|_| bad())? else { break };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|_| bad())?;
        if name == "photo" {
            // A file input left empty still sends its part, with no bytes.
            photo = (!bytes.is_empty()).then(|| bytes.to_vec());
        } else if bytes.len() <= 8 * 1024 {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        } else {
            return Err(bad());
        }
    }
    Ok((fields, photo))
}
