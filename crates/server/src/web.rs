//! The web application, built by Vite into `web/dist` and embedded in the binary, so that running
//! a release build never needs Node. Every path that is not the API gets the application's
//! `index.html` (the router in the browser takes it from there).

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

/// Whether this binary carries the web application (a build without it serves only the API).
pub fn embedded() -> bool {
    Assets::get("index.html").is_some()
}

/// The fallback for every route the API does not have.
pub async fn serve(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::NotFound.into_response();
    }
    if !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD) {
        return ApiError::MethodNotAllowed.into_response();
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty()
        && let Some(asset) = Assets::get(file)
    {
        // Vite puts a content hash in every name under assets/: those never change.
        let cache = if file.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return file_response(asset, cache);
    }
    match Assets::get("index.html") {
        Some(index) => file_response(index, "no-cache"),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "This build of xiaoneng carries no web application (web/dist was empty when it was built).\n\
             Build it with `bash scripts/run.sh`, or `npm ci && npm run build` in web/ and then cargo build.\n\
             The API is at /api/v1 and its documentation at /api/docs.\n",
        )
            .into_response(),
    }
}

fn file_response(file: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let mime = file.metadata.mimetype().to_owned();
    let mut res = Response::new(Body::from(file.data.into_owned()));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// The policy of every HTML page: the application, the public bulletin pages, Swagger UI. No
/// script but our own files; inline styles only (Element Plus and the official layout use them).
const HTML_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; \
    object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
/// Everything else (JSON, evidence and attachments opened in a tab): nothing in it may run.
const FILE_POLICY: &str = "default-src 'none'; img-src 'self' data:; media-src 'self'; object-src 'self'; style-src 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers every response carries: no MIME sniffing, no framing, no referrer to other sites.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    let html = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(if html { HTML_POLICY } else { FILE_POLICY }));
    res
}

/// Text made safe to put in HTML, in an element or a quoted attribute.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}
