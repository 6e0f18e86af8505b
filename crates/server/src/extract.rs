//! Extractors that turn malformed input into the API's error shape instead of axum's text.

use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body; a body that does not parse is a 400 `invalid_json` naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::bad_request(
                "unsupported_media_type",
                "请求须为 JSON（Content-Type: application/json）",
                "The request body must be JSON (Content-Type: application/json)",
            )),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::PayloadTooLarge),
            // Well-formed JSON whose content does not fit: a field missing, or a value not one
            // of its choices. That is the input's fault, named by its field (422).
            Err(JsonRejection::JsonDataError(e)) => Err(data_error(&e.body_text())),
            Err(e) => {
                let why = e.body_text();
                Err(ApiError::bad_request(
                    "invalid_json",
                    format!("请求内容格式错误：{why}"),
                    format!("Malformed request body: {why}"),
                ))
            }
        }
    }
}

/// A JSON body that may be left out: no body (or an empty one) is `T::default()`. For steps whose
/// only field is optional, such as `expected_state`.
pub struct MaybeJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for MaybeJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let empty = req.headers().get(axum::http::header::CONTENT_LENGTH).is_some_and(|v| v == "0")
            || (req.headers().get(axum::http::header::CONTENT_TYPE).is_none()
                && req.headers().get(axum::http::header::CONTENT_LENGTH).is_none()
                && req.headers().get(axum::http::header::TRANSFER_ENCODING).is_none());
        if empty {
            return Ok(MaybeJson(T::default()));
        }
        Ok(MaybeJson(ApiJson::<T>::from_request(req, state).await?.0))
    }
}

/// Query string; one that does not parse is a 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded_from_str(q).map(ApiQuery).map_err(|why| {
            // A paging parameter that is no whole number is out of range, like `page=0`.
            crate::api::paging_error(q).unwrap_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("查询参数错误：{why}"),
                    format!("Bad query parameters: {why}"),
                )
            })
        })
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(q: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}").parse().map_err(|e: axum::http::uri::InvalidUri| e.to_string())?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| e.body_text())
}

/// serde's message for a body that parsed but does not fit, as a field error:
/// `Failed to deserialize the JSON body into the target type: status: unknown variant …`.
fn data_error(text: &str) -> ApiError {
    let detail = text.split_once("target type: ").map_or(text, |(_, d)| d);
    let (field, why) = match detail.split_once(": ") {
        // A path such as `answers[0].due`; a message without one is about the body as a whole.
        Some((path, why)) if !path.contains(' ') => (path, why),
        _ => {
            let missing = detail.strip_prefix("missing field `").and_then(|r| r.split('`').next());
            (missing.unwrap_or(""), detail)
        }
    };
    let why = why.split(" at line ").next().unwrap_or(why);
    let (code, zh) = if why.starts_with("missing field") {
        ("required", format!("缺少必填项：{why}"))
    } else if why.starts_with("unknown variant") {
        ("invalid_choice", format!("取值无效：{why}"))
    } else {
        ("invalid_value", format!("取值无效：{why}"))
    };
    ApiError::invalid(field, code, zh, why.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_errors_name_their_field() {
        let e = super::data_error(
            "Failed to deserialize the JSON body into the target type: status: unknown variant `lost`, expected one of `scheduled`, `done` at line 1 column 17",
        );
        let crate::error::ApiError::Validation(v) = e else { panic!("{e:?}") };
        assert_eq!((v[0].field.as_str(), v[0].code), ("status", "invalid_choice"));
        let e = super::data_error(
            "Failed to deserialize the JSON body into the target type: missing field `action` at line 1 column 2",
        );
        let crate::error::ApiError::Validation(v) = e else { panic!("{e:?}") };
        assert_eq!((v[0].field.as_str(), v[0].code), ("action", "required"));
    }
}
