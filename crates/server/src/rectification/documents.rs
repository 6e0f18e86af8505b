//! A bulletin as an official document: Word and PDF for the office and the departments, and a
//! public one as a web page at `/public/bulletins/{year}/{number}`, readable without logging in.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::city_day,
    rectification::{BulletinScope, RectificationPolicy, mask_names_in},
};
use xiaoneng_documents::{FindingRow, OfficialDocument};
use xiaoneng_store::{
    entity::bulletin,
    rectification::{self as rect, BulletinFilter},
    settings,
};

use super::{
    bulletins::{Reader, may_read, public_path},
    read::{finding_lines, number_text},
};
use crate::{
    ApiResult, AppState,
    api::{Checks, Page, page_req},
    error::{ApiError, ErrorBody},
    extract::ApiQuery,
    web::esc,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document)).routes(routes!(public_list)).routes(routes!(public_page))
}

/// The date in the words of an official document: 2026年11月29日.
pub fn date_words(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

async fn official(s: &AppState, b: &bulletin::Model, mask: bool) -> ApiResult<OfficialDocument> {
    let db = s.store.db();
    let policy: RectificationPolicy = settings::get(db, settings::RECTIFICATION_POLICY).await?;
    let findings = rect::bulletin_findings(db, b.id).await?;
    let lines = finding_lines(db, &findings).await?;
    // For the public, people's names are masked wherever they appear, free text included.
    let names: Vec<String> = lines.iter().filter_map(|l| l.person_name.clone()).collect();
    let text = |t: &str| if mask { mask_names_in(t, &names) } else { t.to_owned() };
    let corrects = match b.corrects_id {
        Some(id) => {
            let old = rect::get_bulletin(db, id).await?;
            Some(format!("本通报更正{}《{}》。", number_text(&old).unwrap_or_default(), old.title))
        }
        None => None,
    };
    let day = city_day(b.published_at.unwrap_or(b.updated_at));
    Ok(OfficialDocument {
        masthead: policy.masthead.clone(),
        number: number_text(b).unwrap_or_else(|| "效能通报〔草稿〕".into()),
        title: text(&b.title),
        corrects,
        body: text(&b.body),
        findings: lines
            .into_iter()
            .map(|l| FindingRow {
                department: l.department_name,
                where_who: [l.window_name, l.person_name.as_deref().map(text)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
                category: l.category_name,
                description: text(&l.description),
                occurred: city_day(l.occurred_at).to_string(),
            })
            .collect(),
        requirement: text(&b.requirement),
        issuer: policy.issuer.clone(),
        date: date_words(day),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentParams {
    /// `docx` or `pdf`.
    pub format: String,
}

/// The bulletin as an official document: Word (.docx) or PDF. The office may preview a draft.
#[utoipa::path(get, operation_id = "bulletins_document", path = "/api/v1/bulletins/{id}/document", tag = "rectification", params(DocumentParams),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn document(
    State(s): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i64>,
    Query(p): Query<DocumentParams>,
) -> ApiResult<Response> {
    let b = rect::get_bulletin(s.store.db(), id).await?;
    if !may_read(&user, &b) {
        return Err(ApiError::NotFound);
    }
    let doc = official(&s, &b, false).await?;
    let name = number_text(&b).unwrap_or_else(|| format!("通报草稿-{id}"));
    let (bytes, mime, ext) = match p.format.as_str() {
        "docx" => (
            xiaoneng_documents::docx(&doc).map_err(|e| ApiError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        "pdf" => {
            let t = s.typesetter().await?;
            let bytes = tokio::task::spawn_blocking(move || t.pdf(&doc))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            (bytes, "application/pdf", "pdf")
        }
        _ => {
            return Err(ApiError::invalid(
                "format",
                "invalid_choice",
                "取值无效，可选：docx、pdf",
                "Not a valid choice; one of: docx, pdf",
            ));
        }
    };
    let filename = format!("{name}.{ext}");
    let disposition = format!("attachment; filename=\"bulletin-{id}.{ext}\"; filename*=UTF-8''{}", percent(&filename));
    Ok(([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ------------------------------------------------------------------ the public

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicBulletin {
    pub number: String,
    pub title: String,
    pub scope: BulletinScope,
    pub published_on: NaiveDate,
    pub path: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicParams {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

/// Public and media bulletins, for anyone (no login).
#[utoipa::path(get, operation_id = "bulletins_public_list", path = "/api/v1/public/bulletins", tag = "rectification", params(PublicParams),
    responses((status = 200, body = Page<PublicBulletin>)))]
async fn public_list(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<PublicParams>,
) -> ApiResult<Json<Page<PublicBulletin>>> {
    let mut v = Checks::default();
    let page = page_req(p.page, p.page_size, &mut v);
    v.done()?;
    let f = BulletinFilter { public_only: true, ..Default::default() };
    let rows = rect::list_bulletins(s.store.db(), &f, page).await?;
    let ids: Vec<i64> = rows.items.iter().filter(|b| b.mask_names).map(|b| b.id).collect();
    let named = rect::named_people(s.store.db(), &ids).await?;
    Ok(Json(Page::from(rows, |b| PublicBulletin {
        number: number_text(&b).unwrap_or_default(),
        path: public_path(&b).unwrap_or_default(),
        published_on: city_day(b.published_at.unwrap_or(b.updated_at)),
        title: named.get(&b.id).map_or_else(|| b.title.clone(), |n| mask_names_in(&b.title, n)),
        scope: b.scope,
    })))
}

/// A public bulletin as a web page, at a stable address, readable without logging in. People's
/// names are masked when the office set it so.
#[utoipa::path(get, operation_id = "bulletins_public_page", path = "/public/bulletins/{year}/{number}", tag = "rectification",
    responses((status = 200, description = "the page", content_type = "text/html"), (status = 404, description = "no such public bulletin")))]
async fn public_page(State(s): State<AppState>, Path((year, number)): Path<(i32, i32)>) -> Response {
    let found = match rect::bulletin_by_number(s.store.db(), year, number).await {
        Ok(b) if b.scope.is_public() => Some(b),
        Ok(_) | Err(xiaoneng_store::StoreError::NotFound) => None,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(b) = found else {
        let page = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>未找到</title>\
                    <body style=\"font-family:sans-serif;padding:2em\"><h1>未找到该公开通报</h1>\
                    <p>该通报不存在或未公开。</p><p><a href=\"/public/bulletins\">查看全部公开通报</a></p></body></html>";
        return crate::error::own_page(StatusCode::NOT_FOUND, page.to_owned());
    };
    match official(&s, &b, b.mask_names).await {
        Ok(doc) => Html(public_html(
            &doc,
            &b,
            &rect::corrections_of(s.store.db(), &[b.id]).await.unwrap_or_default().remove(&b.id).unwrap_or_default(),
        ))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

fn public_html(doc: &OfficialDocument, b: &bulletin::Model, corrected_by: &[bulletin::Model]) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str(&format!("<title>{} {}</title>", esc(&doc.number), esc(&doc.title)));
    h.push_str(
        "<style>body{margin:0;background:#f4f4f4;font-family:'Noto Serif CJK SC','Songti SC',SimSun,serif;color:#222}\
         main{max-width:820px;margin:0 auto;background:#fff;padding:2.5em 2em 3em;line-height:1.9;font-size:17px}\
         .mast{color:#c00000;text-align:center;font:bold 28px/1.3 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;letter-spacing:2px}\
         .no{text-align:center;margin:.4em 0 .2em}hr.red{border:0;border-top:2px solid #c00000;margin:0 0 1.4em}\
         h1{text-align:center;font:bold 22px/1.5 'Noto Sans CJK SC','Microsoft YaHei',sans-serif}\
         p{text-indent:2em;margin:.3em 0}p.flush{text-indent:0}.note{color:#c00000;text-indent:0}\
         table{border-collapse:collapse;width:100%;font-size:14px;line-height:1.5;margin:1em 0}\
         th,td{border:1px solid #888;padding:4px 6px;vertical-align:top}th{background:#f0f0f0}\
         .sign{text-align:right;margin-top:2em}.wrap{overflow-x:auto}</style></head><body><main>",
    );
    h.push_str(&format!("<div class=\"mast\">{}</div>", esc(&doc.masthead)));
    h.push_str(&format!("<div class=\"no\">{}</div><hr class=\"red\">", esc(&doc.number)));
    h.push_str(&format!("<h1>{}</h1>", esc(&doc.title)));
    for c in corrected_by {
        let n = number_text(c).unwrap_or_default();
        let link = public_path(c).map(|p| format!(" <a href=\"{p}\">查看更正</a>")).unwrap_or_default();
        h.push_str(&format!("<p class=\"note\">本通报已由{}更正。{link}</p>", esc(&n)));
    }
    if let Some(c) = &doc.corrects {
        h.push_str(&format!("<p class=\"note\">{}</p>", esc(c)));
    }
    for p in doc.body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let class = if p.ends_with('：') { " class=\"flush\"" } else { "" };
        h.push_str(&format!("<p{class}>{}</p>", esc(p)));
    }
    if !doc.findings.is_empty() {
        h.push_str("<div class=\"wrap\"><table><thead><tr><th>序号</th><th>单位</th><th>窗口 / 人员</th><th>问题类别</th><th>问题情况</th><th>发现时间</th></tr></thead><tbody>");
        for (i, f) in doc.findings.iter().enumerate() {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&f.department),
                esc(&f.where_who),
                esc(&f.category),
                esc(&f.description),
                esc(&f.occurred)
            ));
        }
        h.push_str("</tbody></table></div>");
    }
    if !doc.requirement.is_empty() {
        h.push_str(&format!("<p>{}</p>", esc(&doc.requirement)));
    }
    h.push_str(&format!("<div class=\"sign\">{}<br>{}</div>", esc(&doc.issuer), esc(&doc.date)));
    let scope = b.scope.label_zh();
    h.push_str(&format!("<p class=\"flush\" style=\"color:#888;font-size:13px;margin-top:2em\">{scope}</p>"));
    h.push_str("</main></body></html>");
    h
}
