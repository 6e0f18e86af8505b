//! Evidence files on findings. They come in by tus 1.0 (core, creation, termination), so a phone
//! that loses the network picks up where it stopped; each request streams straight into the
//! object store while SHA-256 and SM3 are computed, and the digests' state is kept with the
//! upload so that any instance can take the next request. Stored files never change: each time
//! one is served its object must still be the version whose digests matched, or it is hashed
//! again, and a file that no longer matches is reported and never served.
//!
//! A file is added only while its finding takes it from the uploader: checked when the upload
//! starts, on every request that sends bytes, and in the transaction that files it, on the
//! finding's row as it is then (decision 0026). A department is served photos and videos with
//! their place and device blanked in place ([`strip`]); the office keeps the original.

use std::{
    collections::HashMap,
    ops::Range,
    sync::{Arc, LazyLock, Mutex},
};

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart, path::Path as ObjectPath};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use xiaoneng_core::{
    clock::{city_day, city_midnight},
    event::EvidenceFiled,
    evidence::{
        EvidenceKind, EvidencePurpose, SNIFF_BYTES, StreamDigest, extension_of, sniff,
        strip::{self, Patch, Scan},
    },
    inspection::{InspectionPolicy, UploadRefusal, evidence_filed},
};
use xiaoneng_store::{
    audit,
    entity::{evidence, finding, upload},
    evidence::{self as store, NewEvidence, NewUpload, Received},
    inspections, ledger, settings,
};

use super::access::{FindingViewer, Rules};
use crate::{
    ApiResult, AppState,
    auth::{Act, Authorized, perm},
    error::ApiError,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload, options_finding))
        .routes(routes!(upload_offset, append, terminate, options_upload))
        .routes(routes!(content))
        .routes(routes!(metrics))
}

const TUS_VERSION: &str = "1.0.0";
/// Bytes gathered before each write to the store: S3's smallest part.
const PART_BUFFER: usize = 5 * 1024 * 1024;
/// Bytes hashed at a time.
const HASH_BATCH: usize = 1024 * 1024;
/// A file whose object has not changed since it last matched its digests is served without
/// hashing it again, for this long; then it is hashed again on the next view.
const REVERIFY_AFTER: Duration = Duration::hours(24);
/// Seconds a caller with too many unfinished uploads is asked to wait before starting another
/// (one of theirs is usually about to finish).
const RETRY_OPEN_AFTER: u32 = 30;

/// An evidence file, as a finding's viewers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    pub id: i64,
    /// The inspection's evidence, or a file offered with an appeal.
    pub purpose: EvidencePurpose,
    /// Told from the content.
    pub kind: EvidenceKind,
    /// The media type told from the content.
    pub mime: String,
    pub filename: String,
    /// Bytes.
    pub size: i64,
    pub sha256: String,
    pub sm3: String,
    pub uploaded_at: DateTime<Utc>,
    /// Shown to the office and the plan's team only.
    pub uploaded_by_name: Option<String>,
    /// The stored file no longer matches its digests: it is not served.
    pub corrupt: bool,
    /// Served to the caller with the place and the device it was taken with blanked (photos and
    /// videos, to a department): the bytes then differ from the digests above, which are the
    /// original's, kept by the office.
    pub redacted: bool,
    /// Inline (with HTTP Range); add `?download=true` for an attachment.
    pub content_url: String,
}

/// An instant as a department may know it: the day (city time), not the time.
pub(crate) fn day_only(t: DateTime<Utc>) -> DateTime<Utc> {
    city_midnight(city_day(t))
}

/// Whether a department is served this kind of file with its metadata blanked.
fn redacted_for(kind: EvidenceKind, inside: bool) -> bool {
    !inside && matches!(kind, EvidenceKind::Photo | EvidenceKind::Video)
}

/// The file's name as the viewer sees it: an inspector's name for a file (`IMG_20261102_103712`)
/// may tell when it was taken, so a department sees a neutral one for the inspection's files.
fn shown_name(e: &evidence::Model, inside: bool) -> String {
    if inside || e.purpose == EvidencePurpose::Appeal {
        e.filename.clone()
    } else {
        format!("evidence-{}.{}", e.id, extension_of(&e.mime))
    }
}

pub(crate) async fn listing(s: &AppState, finding_id: i64, inside: bool) -> ApiResult<Vec<Evidence>> {
    let files = store::of_finding(s.store.db(), finding_id).await?;
    let uploaders = if inside {
        xiaoneng_store::accounts::display_names(s.store.db(), files.iter().map(|e| e.uploaded_by)).await?
    } else {
        Default::default()
    };
    Ok(files
        .into_iter()
        .map(|e| Evidence {
            uploaded_by_name: uploaders.get(&e.uploaded_by).cloned(),
            content_url: format!("/api/v1/evidence/{}/content", e.id),
            filename: shown_name(&e, inside),
            redacted: redacted_for(e.kind, inside),
            uploaded_at: if inside { e.uploaded_at } else { day_only(e.uploaded_at) },
            id: e.id,
            purpose: e.purpose,
            kind: e.kind,
            mime: e.mime,
            size: e.bytes,
            sha256: e.sha256,
            sm3: e.sm3,
            corrupt: e.corrupt_at.is_some(),
        })
        .collect())
}

// ------------------------------------------------------------------ tus

fn tus_headers(mut res: Response) -> Response {
    res.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn tus_error(e: ApiError) -> Response {
    tus_headers(e.into_response())
}

fn require_tus(h: &HeaderMap) -> ApiResult<()> {
    if h.get("tus-resumable").and_then(|v| v.to_str().ok()) == Some(TUS_VERSION) {
        return Ok(());
    }
    Err(ApiError::refused(
        StatusCode::PRECONDITION_FAILED,
        "tus_version_unsupported",
        "请使用 tus 1.0.0 协议上传",
        "Upload with the tus 1.0.0 protocol (Tus-Resumable: 1.0.0)",
    ))
}

fn header_u64(h: &HeaderMap, name: &'static str) -> ApiResult<u64> {
    h.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_tus_header",
            format!("缺少或无效的 {name} 请求头"),
            format!("The {name} header is missing or not a number"),
        )
    })
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(h: &HeaderMap) -> ApiResult<Vec<(String, String)>> {
    use base64::Engine;
    let Some(raw) = h.get("upload-metadata") else { return Ok(Vec::new()) };
    let bad = || {
        ApiError::bad_request(
            "invalid_tus_header",
            "Upload-Metadata 请求头格式错误",
            "The Upload-Metadata header is malformed",
        )
    };
    let raw = raw.to_str().map_err(|_| bad())?;
    raw.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let mut it = pair.trim().splitn(2, ' ');
            let key = it.next().unwrap_or_default().to_owned();
            let value = match it.next() {
                Some(v) => base64::engine::general_purpose::STANDARD.decode(v.trim()).map_err(|_| bad())?,
                None => Vec::new(),
            };
            Ok((key, String::from_utf8(value).map_err(|_| bad())?))
        })
        .collect()
}

/// A file name as shown and offered for download: no path, no control characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() { "evidence".to_owned() } else { clean.trim().to_owned() }
}

/// tus discovery: the version, the extensions and the largest file accepted now.
async fn capabilities(s: &AppState) -> ApiResult<Response> {
    let policy: InspectionPolicy = settings::get(s.store.db(), settings::INSPECTION_POLICY).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static("creation,termination"));
    h.insert("tus-max-size", HeaderValue::from(policy.evidence_max_bytes()));
    Ok(tus_headers(res))
}

/// tus discovery: the version, the extensions and the largest file accepted.
#[utoipa::path(options, operation_id = "evidence_options_finding", path = "/api/v1/findings/{id}/uploads", tag = "inspections",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size")))]
async fn options_finding(
    State(s): State<AppState>,
    _viewer: FindingViewer,
    Path(_id): Path<i64>,
) -> ApiResult<Response> {
    capabilities(&s).await
}

/// tus discovery, on an upload's own address.
#[utoipa::path(options, operation_id = "evidence_options_upload", path = "/api/v1/uploads/{id}", tag = "inspections",
    params(("id" = String, Path)), responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size")))]
async fn options_upload(
    State(s): State<AppState>,
    _viewer: FindingViewer,
    Path(_id): Path<String>,
) -> ApiResult<Response> {
    capabilities(&s).await
}

/// Starts a resumable upload of a file to a finding (tus creation). Headers: `Tus-Resumable:
/// 1.0.0`, `Upload-Length`, and `Upload-Metadata` with `filename` and `purpose` (`evidence`, the
/// default, or `appeal`). Answers with the upload's address in `Location`.
#[utoipa::path(post, operation_id = "evidence_create_upload", path = "/api/v1/findings/{id}/uploads", tag = "inspections",
    responses((status = 201, description = "Location: the upload's address"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 413, description = "`file_too_large`, `user_quota_exceeded` or `finding_quota_exceeded`", body = crate::error::ErrorBody),
        (status = 429, description = "`too_many_uploads`; Retry-After says when to try again", body = crate::error::ErrorBody)))]
async fn create_upload(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    match start(&s, &viewer, id, &headers).await {
        Ok(token) => {
            let mut res = StatusCode::CREATED.into_response();
            if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/uploads/{token}")) {
                res.headers_mut().insert(header::LOCATION, loc);
            }
            res.headers_mut().insert("upload-offset", HeaderValue::from(0));
            tus_headers(res)
        }
        Err(e) => {
            let mut res = tus_error(e);
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_OPEN_AFTER));
            }
            res
        }
    }
}

async fn start(s: &AppState, viewer: &FindingViewer, id: i64, h: &HeaderMap) -> ApiResult<String> {
    require_tus(h)?;
    let f = xiaoneng_store::inspections::get_finding(s.store.db(), &viewer.vis, id).await?;
    if h.contains_key("upload-defer-length") {
        return Err(ApiError::bad_request(
            "length_required",
            "上传前须告知文件大小（Upload-Length）",
            "Give the file's size (Upload-Length) when starting the upload",
        ));
    }
    let length = header_u64(h, "upload-length")?;
    let policy: InspectionPolicy = settings::get(s.store.db(), settings::INSPECTION_POLICY).await?;
    if length == 0 {
        return Err(ApiError::bad_request("empty_file", "文件是空的", "The file is empty"));
    }
    if let Err(r @ UploadRefusal::TooLarge { .. }) = policy.admit_upload(length, Default::default()) {
        return Err(refused_upload(r));
    }
    let meta = metadata(h)?;
    let get = |k: &str| meta.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let purpose = match get("purpose") {
        None => EvidencePurpose::Evidence,
        Some(p) => EvidencePurpose::from_code(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_purpose",
                "用途须为 evidence（取证）或 appeal（申诉）",
                "purpose must be evidence or appeal",
            )
        })?,
    };
    let filename = clean_filename(get("filename").or(get("name")).unwrap_or_default());
    let access = viewer.access_one(s.store.db(), &f).await?;
    let rules = Rules::load(s.store.db()).await?;
    inspections::finding_facts(&f).may_attach(purpose, access, s.clock.now(), rules.get())?;
    let token = hex::encode(rand::random::<[u8; 16]>());
    let tx = s.store.write().await?;
    // Counted and started under the user's and the finding's locks: two uploads started at once
    // cannot both fit in the room left for one.
    store::lock_for_upload(&tx, viewer.user.id, f.id).await?;
    let load = store::upload_load(&tx, viewer.user.id, f.id).await?;
    policy.admit_upload(length, load).map_err(refused_upload)?;
    store::create_upload(
        &tx,
        NewUpload {
            id: token.clone(),
            finding_id: f.id,
            purpose,
            filename,
            total_bytes: i64::try_from(length).map_err(|_| ApiError::PayloadTooLarge)?,
            digest_state: StreamDigest::default().save(),
            created_by: viewer.user.id,
        },
        s.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// A quota, a size or too many uploads at once: 413, or 429 for the last (it passes).
fn refused_upload(r: UploadRefusal) -> ApiError {
    let status = match r {
        UploadRefusal::TooManyOpen { .. } => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::PAYLOAD_TOO_LARGE,
    };
    ApiError::refused(status, r.code(), r.zh(), r.en())
}

/// Whether the finding still takes this upload's file from the viewer, as it stands now (its
/// state, the appeal period, the viewer's part in it): 409 `invalid_transition` if not, 404 if
/// they no longer see it.
async fn still_attachable<C: sea_orm::ConnectionTrait>(
    c: &C,
    s: &AppState,
    viewer: &FindingViewer,
    u: &upload::Model,
    f: &finding::Model,
) -> ApiResult<()> {
    inspections::get_finding(c, &viewer.vis, f.id).await?;
    let access = viewer.access_one(c, f).await?;
    let rules = Rules::load(c).await?;
    inspections::finding_facts(f).may_attach(u.purpose, access, s.clock.now(), rules.get())?;
    Ok(())
}

/// A refusal that ends the upload: the finding no longer takes it from this caller.
fn ends_upload(e: &ApiError) -> bool {
    matches!(e, ApiError::InvalidTransition(_) | ApiError::NotFound)
}

/// Checks, before taking more bytes, that the finding still takes the file; if not, the upload
/// goes with what it stored.
async fn check_still_open(s: &AppState, viewer: &FindingViewer, u: &upload::Model) -> ApiResult<()> {
    let db = s.store.db();
    let checked = match inspections::findings_by_ids(db, &[u.finding_id]).await?.pop() {
        Some(f) => still_attachable(db, s, viewer, u, &f).await,
        None => Err(ApiError::NotFound),
    };
    if let Err(e) = checked {
        if ends_upload(&e) {
            discard(&s.store, s.objects.as_ref(), &u.id, None).await?;
        }
        return Err(e);
    }
    Ok(())
}

/// The viewer's own unfinished or finished upload; anyone else's does not exist for them.
async fn own_upload(s: &AppState, viewer: &FindingViewer, token: &str) -> ApiResult<upload::Model> {
    let u = store::get_upload(s.store.db(), token).await?;
    if u.created_by != viewer.user.id {
        return Err(ApiError::NotFound);
    }
    Ok(u)
}

/// The tus answer; once the file is filed, `Upload-Evidence-Id` names it.
fn offset_response(status: StatusCode, u: &upload::Model, received: i64) -> Response {
    let mut res = status.into_response();
    res.headers_mut().insert("upload-offset", HeaderValue::from(received));
    res.headers_mut().insert("upload-length", HeaderValue::from(u.total_bytes));
    if let Some(id) = u.evidence_id {
        res.headers_mut().insert("upload-evidence-id", HeaderValue::from(id));
    }
    tus_headers(res)
}

/// How much of an upload has arrived (tus HEAD).
#[utoipa::path(head, operation_id = "evidence_upload_offset", path = "/api/v1/uploads/{id}", tag = "inspections",
    params(("id" = String, Path)), responses((status = 200, description = "Upload-Offset and Upload-Length"), (status = 404)))]
async fn upload_offset(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(token): Path<String>,
    h: HeaderMap,
) -> Response {
    let run = async {
        require_tus(&h)?;
        let u = own_upload(&s, &viewer, &token).await?;
        // Everything arrived but the request that brought the last byte ended before filing it.
        let u = if u.received_bytes == u.total_bytes && u.evidence_id.is_none() {
            finish(&s, &viewer, &u).await?;
            store::get_upload(s.store.db(), &token).await?
        } else {
            u
        };
        Ok::<_, ApiError>(offset_response(StatusCode::OK, &u, u.received_bytes))
    };
    run.await.unwrap_or_else(tus_error)
}

/// Sends the next bytes of an upload (tus PATCH, `Content-Type: application/offset+octet-stream`,
/// `Upload-Offset` = what has arrived). Bytes that arrive before a connection breaks are kept.
#[utoipa::path(patch, operation_id = "evidence_append", path = "/api/v1/uploads/{id}", tag = "inspections",
    params(("id" = String, Path)),
    responses((status = 204, description = "Upload-Offset: what has now arrived; Upload-Evidence-Id once the file is filed"), (status = 404, body = crate::error::ErrorBody),
        (status = 408, description = "`upload_stalled`: nothing arrived for the policy's seconds; Upload-Offset says what was kept", body = crate::error::ErrorBody),
        (status = 409, description = "`offset_mismatch`, or `invalid_transition`: the finding no longer takes this file from the caller (the upload is removed)", body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody)))]
async fn append(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(token): Path<String>,
    h: HeaderMap,
    body: Body,
) -> Response {
    // Runs apart from the request, so that a dropped connection does not cut it short: what
    // arrived before the break is stored and counted.
    let task = tokio::spawn(async move {
        let (u, received, stalled) = receive(&s, &viewer, &token, &h, body).await?;
        if stalled {
            let seconds = settings::get::<_, InspectionPolicy>(s.store.db(), settings::INSPECTION_POLICY)
                .await
                .map(|p| p.upload_stall_seconds)
                .unwrap_or_default();
            let mut res = tus_error(ApiError::refused(
                StatusCode::REQUEST_TIMEOUT,
                "upload_stalled",
                format!("{seconds} 秒内未收到数据，本次上传请求已结束；已收到的 {received} 字节已保存，可从此处继续"),
                format!(
                    "Nothing arrived for {seconds} seconds, so this request was ended; the {received} bytes received are kept, and the upload resumes from there"
                ),
            ));
            res.headers_mut().insert("upload-offset", HeaderValue::from(received));
            return Ok(res);
        }
        Ok::<_, ApiError>(offset_response(StatusCode::NO_CONTENT, &u, received))
    });
    match task.await {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => tus_error(e),
        Err(e) => tus_error(ApiError::Internal(format!("upload task failed: {e}"))),
    }
}

async fn receive(
    s: &AppState,
    viewer: &FindingViewer,
    token: &str,
    h: &HeaderMap,
    body: Body,
) -> ApiResult<(upload::Model, i64, bool)> {
    require_tus(h)?;
    if h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/offset+octet-stream") {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "上传内容的类型须为 application/offset+octet-stream",
            "Send the bytes as Content-Type: application/offset+octet-stream",
        ));
    }
    let offset = header_u64(h, "upload-offset")?;
    let u = own_upload(s, viewer, token).await?;
    let from = u.received_bytes;
    if u64::try_from(from).ok() != Some(offset) {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("上传位置不符：服务器已收到 {from} 字节"),
            format!("Wrong offset: the server has {from} bytes"),
        ));
    }
    if u.evidence_id.is_some() || from == u.total_bytes {
        if u.evidence_id.is_none() {
            finish(s, viewer, &u).await?;
        }
        return Ok((store::get_upload(s.store.db(), token).await?, from, false));
    }
    // The finding may have moved on since the upload began (confirmed, notified, the appeal
    // period over): then no more bytes are taken, and the upload goes.
    check_still_open(s, viewer, &u).await?;
    store::touch_upload(s.store.db(), token, s.clock.now()).await?;
    let policy: InspectionPolicy = settings::get(s.store.db(), settings::INSPECTION_POLICY).await?;
    let stall = policy.upload_stall();
    let mut stalled = false;
    let room = u.total_bytes - from;
    let mut digest = StreamDigest::restore(&u.digest_state)
        .ok_or_else(|| ApiError::Internal(format!("upload {token}: unreadable digest state")))?;
    let mut head = u.head.clone();
    let head_len = usize::try_from(u.total_bytes).unwrap_or(usize::MAX).min(SNIFF_BYTES);
    let mut told = u.mime.clone().zip(u.kind);
    let part_key = format!("uploads/{token}/{from:012}-{}", hex::encode(rand::random::<[u8; 4]>()));
    let part = ObjectPath::from(part_key.as_str());
    let mut writer = WriteMultipart::new_with_chunk_size(s.objects.put_multipart(&part).await?, PART_BUFFER);
    let mut received: i64 = 0;
    let mut stream = body.into_data_stream();
    // Bytes gather into batches, each hashed off the async threads (two digests, two threads)
    // and then written.
    let mut batch = BytesMut::new();
    let outcome: ApiResult<()> = async {
        loop {
            // A body that sends nothing for this long is ended like a broken one: what came
            // before is kept, and the client resumes from there.
            let next = match tokio::time::timeout(stall, stream.next()).await {
                Ok(next) => next,
                Err(_) => {
                    stalled = true;
                    None
                }
            };
            let ended = !matches!(next, Some(Ok(_)));
            if (ended && !batch.is_empty()) || batch.len() >= HASH_BATCH {
                let bytes = batch.split().freeze();
                digest = hash_apart(std::mem::take(&mut digest), bytes.clone()).await?;
                writer.wait_for_capacity(1).await?;
                writer.write(&bytes);
            }
            // The end, or a broken connection: what came before it is kept.
            let Some(Ok(chunk)) = next else { break };
            let len = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            if received + len > room {
                return Err(ApiError::bad_request(
                    "beyond_upload_length",
                    "发送的内容超过了文件大小",
                    "More bytes were sent than the upload's length",
                ));
            }
            if head.len() < head_len {
                let take = (head_len - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            if told.is_none() && head.len() == head_len {
                told = Some(accept(&policy, &head)?);
            }
            batch.extend_from_slice(&chunk);
            received += len;
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        let _ = writer.abort().await;
        if matches!(&e, ApiError::Refused { status, .. } if *status == StatusCode::UNSUPPORTED_MEDIA_TYPE) {
            // Not a type the office accepts: the whole upload goes.
            discard(&s.store, s.objects.as_ref(), &u.id, None).await?;
        }
        return Err(e);
    }
    if received == 0 {
        let _ = writer.abort().await;
        return Ok((u, from, stalled));
    }
    writer.finish().await?;
    let (mime, kind) = told.map_or((None, None), |(m, k)| (Some(m), Some(k)));
    let tx = s.store.write().await?;
    let r = Received { part_key: part_key.clone(), bytes: received, head, mime, kind, digest_state: digest.save() };
    if !store::append_part(&tx, token, from, r, s.clock.now()).await? {
        drop(tx);
        let _ = s.objects.delete(&part).await;
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "offset_mismatch",
            "同一文件的另一个上传请求已先到达",
            "Another request for this upload arrived first",
        ));
    }
    tx.commit().await?;
    let mut u = store::get_upload(s.store.db(), token).await?;
    if u.received_bytes == u.total_bytes {
        finish(s, viewer, &u).await?;
        u = store::get_upload(s.store.db(), token).await?;
    }
    let received = u.received_bytes;
    Ok((u, received, stalled))
}

/// Feeds `bytes` to the digests on a blocking thread.
async fn hash_apart(mut digest: StreamDigest, bytes: Bytes) -> ApiResult<StreamDigest> {
    tokio::task::spawn_blocking(move || {
        digest.update(&bytes);
        digest
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))
}

/// The file's type, told from its first bytes, if the office accepts it.
fn accept(policy: &InspectionPolicy, head: &[u8]) -> ApiResult<(String, EvidenceKind)> {
    let allowed: Vec<&str> = policy.evidence_kinds.iter().map(|k| k.label_zh()).collect();
    let allowed_en: Vec<&str> = policy.evidence_kinds.iter().map(|k| k.label_en()).collect();
    match sniff(head) {
        Some((mime, kind)) if policy.evidence_kinds.contains(&kind) => Ok((mime.to_owned(), kind)),
        found => Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "type_not_accepted",
            format!(
                "不接受此类文件{}：可上传 {}",
                found.map(|(m, _)| format!("（{m}）")).unwrap_or_default(),
                allowed.join("、")
            ),
            format!(
                "This kind of file{} is not accepted: upload {}",
                found.map(|(m, _)| format!(" ({m})")).unwrap_or_default(),
                allowed_en.join(", ")
            ),
        )),
    }
}

/// Forgets an unfinished upload and removes what it stored (and `also`, the file it was being
/// made into); a filed upload is left alone. Returns the bytes removed.
async fn discard(
    db: &xiaoneng_store::Store,
    objects: &dyn ObjectStore,
    id: &str,
    also: Option<&ObjectPath>,
) -> ApiResult<u64> {
    let tx = db.write().await?;
    if !store::delete_unfinished(&tx, id, None).await? {
        return Ok(0);
    }
    tx.commit().await?;
    let mut freed = remove_under(objects, &ObjectPath::from(format!("uploads/{id}")), None).await?;
    if let Some(path) = also
        && let Ok(meta) = objects.head(path).await
        && objects.delete(path).await.is_ok()
    {
        freed += meta.size;
    }
    Ok(freed)
}

/// Removes the objects under `prefix` (those last changed before `before`, when given): every
/// part an upload stored, including those a request cut short never recorded. Returns the bytes
/// removed.
async fn remove_under(objects: &dyn ObjectStore, prefix: &ObjectPath, before: Option<DateTime<Utc>>) -> ApiResult<u64> {
    let found: Vec<object_store::ObjectMeta> =
        objects.list(Some(prefix)).collect::<Vec<_>>().await.into_iter().filter_map(Result::ok).collect();
    let mut freed = 0;
    for meta in found {
        if before.is_some_and(|b| meta.last_modified >= b) {
            continue;
        }
        if objects.delete(&meta.location).await.is_ok() {
            freed += meta.size;
        }
    }
    Ok(freed)
}

/// Makes the arrived parts one immutable object and files it as evidence, once — if the finding
/// still takes it from the uploader, decided in the transaction that files it.
async fn finish(s: &AppState, viewer: &FindingViewer, u: &upload::Model) -> ApiResult<()> {
    // Nothing is joined or moved for a finding that no longer takes the file.
    check_still_open(s, viewer, u).await?;
    let parts = store::parts(s.store.db(), &u.id).await?;
    let (Some(mime), Some(kind)) = (u.mime.clone(), u.kind) else {
        return Err(ApiError::Internal(format!("upload {} complete without a type", u.id)));
    };
    let digests = StreamDigest::restore(&u.digest_state)
        .ok_or_else(|| ApiError::Internal(format!("upload {}: unreadable digest state", u.id)))?
        .finish();
    let key = format!("evidence/{}/{}", u.finding_id, u.id);
    let target = ObjectPath::from(key.as_str());
    if let [one] = parts.as_slice() {
        // One request brought it all: the part becomes the file, nothing is copied.
        s.objects.rename(&ObjectPath::from(one.object_key.as_str()), &target).await?;
    } else {
        // Several: joined in order, hashed again on the way to prove the join.
        let mut writer = WriteMultipart::new_with_chunk_size(s.objects.put_multipart(&target).await?, PART_BUFFER);
        let mut check = StreamDigest::default();
        for p in &parts {
            let mut bytes = s.objects.get(&ObjectPath::from(p.object_key.as_str())).await?.into_stream();
            while let Some(chunk) = bytes.next().await {
                let chunk = chunk?;
                check.update(&chunk);
                writer.wait_for_capacity(1).await?;
                writer.write(&chunk);
            }
        }
        if check.finish() != digests {
            let _ = writer.abort().await;
            return Err(ApiError::Internal(format!("upload {}: the joined parts do not match their digests", u.id)));
        }
        writer.finish().await?;
    }
    let meta = s.objects.head(&target).await?;
    if i64::try_from(meta.size).ok() != Some(u.total_bytes) {
        return Err(ApiError::Internal(format!("upload {}: stored {} of {} bytes", u.id, meta.size, u.total_bytes)));
    }
    let tx = s.store.write().await?;
    let e = NewEvidence {
        finding_id: u.finding_id,
        purpose: u.purpose,
        kind,
        mime,
        filename: u.filename.clone(),
        bytes: u.total_bytes,
        sha256: digests.sha256,
        sm3: digests.sm3,
        object_key: key,
        uploaded_by: u.created_by,
        verified_tag: meta.e_tag.clone(),
    };
    // The finding as it is now, locked until the filing commits: a step taken on it meanwhile
    // waits, and one taken before is seen here. The viewer's plans are read again too.
    let decided = async {
        let f = store::finding_for_update(&tx, u.finding_id).await?;
        let now_viewer = FindingViewer::of(&tx, viewer.user.clone()).await?;
        still_attachable(&tx, s, &now_viewer, u, &f).await?;
        Ok::<_, ApiError>(f)
    }
    .await;
    let f = match decided {
        Ok(f) => f,
        Err(err) => {
            drop(tx);
            if ends_upload(&err) {
                discard(&s.store, s.objects.as_ref(), &u.id, Some(&target)).await?;
            }
            return Err(err);
        }
    };
    if file(&tx, Act::new(s, &viewer.user), &f, e, Some(&u.id)).await?.is_none() {
        return Ok(()); // another request filed it
    }
    tx.commit().await?;
    if parts.len() > 1 {
        for p in parts {
            let _ = s.objects.delete(&ObjectPath::from(p.object_key.as_str())).await;
        }
    }
    Ok(())
}

/// Files a stored object as evidence of a finding, with its event: the one way a file enters the
/// record. From an upload (`Some(its id)`), once: `None` if another request already filed it.
pub async fn file<C: sea_orm::ConnectionTrait>(
    c: &C,
    act: Act<'_>,
    f: &finding::Model,
    e: NewEvidence,
    upload: Option<&str>,
) -> ApiResult<Option<evidence::Model>> {
    let ev = match upload {
        Some(id) => match store::file_evidence(c, id, e, act.now).await? {
            Some(ev) => ev,
            None => return Ok(None),
        },
        None => store::insert_evidence(c, e, act.now).await?,
    };
    let filed = EvidenceFiled {
        finding_id: f.id,
        purpose: ev.purpose,
        kind: ev.kind,
        bytes: ev.bytes,
        sha256: ev.sha256.clone(),
        sm3: ev.sm3.clone(),
    };
    let event = evidence_filed(&inspections::finding_facts(f), ev.id, filed, act.now);
    // Not the file's name: an inspector's file name may say where it was taken.
    let d = json!({ "finding_id": ev.finding_id, "purpose": ev.purpose, "kind": ev.kind, "mime": ev.mime,
        "bytes": ev.bytes, "sha256": ev.sha256, "sm3": ev.sm3 });
    ledger::append(c, act.algo, &act.audit("evidence.add", "evidence", ev.id, d), &[event], None).await?;
    Ok(Some(ev))
}

/// Abandons an unfinished upload (tus termination). A stored file cannot be removed.
#[utoipa::path(delete, operation_id = "evidence_terminate", path = "/api/v1/uploads/{id}", tag = "inspections",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn terminate(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(token): Path<String>,
    h: HeaderMap,
) -> Response {
    let run = async {
        require_tus(&h)?;
        let u = own_upload(&s, &viewer, &token).await?;
        if u.evidence_id.is_some() {
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                "evidence_immutable",
                "文件已存为证据，不能删除",
                "The file is stored as evidence and cannot be removed",
            ));
        }
        discard(&s.store, s.objects.as_ref(), &u.id, None).await?;
        Ok(tus_headers(StatusCode::NO_CONTENT.into_response()))
    };
    run.await.unwrap_or_else(tus_error)
}

/// Removes uploads nobody has continued for the policy's `upload_abandon_hours`, with every
/// object they stored, and what no unfinished upload owns under `uploads/` (parts of a request
/// cut short, of an instance that died) once as old; adds both to the running totals
/// (`GET /api/v1/metrics`). Returns how many uploads went.
pub async fn sweep_abandoned(
    store_: &xiaoneng_store::Store,
    objects: &dyn ObjectStore,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let policy: InspectionPolicy = settings::get(store_.db(), settings::INSPECTION_POLICY).await?;
    let before = policy.uploads_abandoned_before(now);
    let mut swept: usize = 0;
    let mut freed: u64 = 0;
    for u in store::stale_uploads(store_.db(), before).await? {
        let tx = store_.write().await?;
        // Continued or finished since it was listed: it stays.
        if !store::delete_unfinished(&tx, &u.id, Some(before)).await? {
            continue;
        }
        tx.commit().await?;
        freed += remove_under(objects, &ObjectPath::from(format!("uploads/{}", u.id)), None).await?;
        swept += 1;
    }
    let folders = match objects.list_with_delimiter(Some(&ObjectPath::from("uploads"))).await {
        Ok(l) => l.common_prefixes,
        Err(object_store::Error::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    for folder in folders {
        let token = folder.parts().next_back().map(|p| p.as_ref().to_owned()).unwrap_or_default();
        if store::find_upload(store_.db(), &token).await?.is_some_and(|u| u.evidence_id.is_none()) {
            continue; // an upload under way owns it
        }
        freed += remove_under(objects, &folder, Some(before)).await?;
    }
    let tx = store_.write().await?;
    store::add_count(&tx, store::UPLOADS_SWEPT, i64::try_from(swept).unwrap_or(i64::MAX)).await?;
    store::add_count(&tx, store::UPLOAD_BYTES_FREED, i64::try_from(freed).unwrap_or(i64::MAX)).await?;
    tx.commit().await?;
    if freed > 0 {
        tracing::info!(uploads = swept, bytes = freed, "abandoned upload data removed");
    }
    Ok(swept)
}

/// Evidence storage in Prometheus' text format, for the office's monitoring: abandoned uploads
/// removed and the bytes freed (counters, summed over every instance), and the uploads under way.
#[utoipa::path(get, operation_id = "evidence_metrics", path = "/api/v1/metrics", tag = "inspections",
    responses((status = 200, description = "Prometheus text format (text/plain; version=0.0.4)", content_type = "text/plain"),
        (status = 403, body = crate::error::ErrorBody)))]
async fn metrics(State(s): State<AppState>, _auth: Authorized<perm::InspectionManage>) -> ApiResult<Response> {
    let db = s.store.db();
    let totals: HashMap<String, i64> = store::counters(db).await?.into_iter().collect();
    let (open, open_bytes) = store::unfinished(db).await?;
    let total = |name: &str| totals.get(name).copied().unwrap_or(0);
    let mut text = String::new();
    for (name, kind, help, value) in [
        (
            "xiaoneng_evidence_uploads_swept_total",
            "counter",
            "Abandoned evidence uploads removed with what they stored.",
            total(store::UPLOADS_SWEPT),
        ),
        (
            "xiaoneng_evidence_upload_bytes_freed_total",
            "counter",
            "Bytes of abandoned upload data removed from the object store.",
            total(store::UPLOAD_BYTES_FREED),
        ),
        (
            "xiaoneng_evidence_uploads_unfinished",
            "gauge",
            "Evidence uploads started and not finished.",
            i64::try_from(open).unwrap_or(i64::MAX),
        ),
        ("xiaoneng_evidence_upload_bytes_unfinished", "gauge", "Bytes received by unfinished uploads.", open_bytes),
    ] {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    }
    let mut res = text.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

// ------------------------------------------------------------------ serving

#[derive(Debug, Deserialize, IntoParams)]
pub struct ContentParams {
    /// As an attachment rather than inline.
    #[serde(default)]
    pub download: bool,
}

/// The file, inline or as an attachment; honours `Range` so that players seek. Served only if
/// it still matches its digests: a file that does not is reported (409 `evidence_corrupted`).
/// Each session's first view of a file, and its first download, is audited, whatever range it
/// asks for. A department is served photos and videos with the place and device they were taken
/// with blanked in place (same length, so ranges stay valid); the office and the team get the
/// original.
#[utoipa::path(get, operation_id = "evidence_content", path = "/api/v1/evidence/{id}/content", tag = "inspections",
    params(ContentParams),
    responses((status = 200, description = "The file"), (status = 206, description = "A range of it"),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 416, body = crate::error::ErrorBody)))]
async fn content(
    State(s): State<AppState>,
    viewer: FindingViewer,
    Path(id): Path<i64>,
    Query(q): Query<ContentParams>,
    h: HeaderMap,
) -> ApiResult<Response> {
    let e = store::get(s.store.db(), id).await?;
    // A file of a finding the viewer cannot see does not exist for them.
    let f = xiaoneng_store::inspections::get_finding(s.store.db(), &viewer.vis, e.finding_id).await?;
    let inside = viewer.access_one(s.store.db(), &f).await?.inside();
    let size = u64::try_from(e.bytes).unwrap_or_default();
    let range = match h.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(r) => parse_range(r, size).map_err(|()| {
            ApiError::refused(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("请求的范围超出文件（{size} 字节）"),
                format!("The requested range is outside the file ({size} bytes)"),
            )
        })?,
    };
    let tag = verified(&s, &viewer, &e).await?;
    // Once per session and file (and once more for a download), on whichever instance: a player's
    // seeks are one view, and a view that starts past the first byte is recorded all the same.
    let session = &viewer.user.session_hash;
    if !store::viewed(s.store.db(), session, e.id, q.download).await? {
        let tx = s.store.write().await?;
        if store::first_view(&tx, session, e.id, q.download, s.clock.now()).await? {
            let action = if q.download { "evidence.download" } else { "evidence.view" };
            let d = json!({ "finding_id": e.finding_id, "sha256": e.sha256 });
            audit::append(&tx, s.store.audit_algo(), &viewer.user.audit(&s, action, "evidence", e.id, d)).await?;
        }
        tx.commit().await?;
    }
    let redact = redacted_for(e.kind, inside);
    let patches = if redact { blanking(&s, &e, tag.clone()).await? } else { Arc::new(Vec::new()) };
    let opts = GetOptions { range: range.clone().map(GetRange::Bounded), if_match: tag, ..Default::default() };
    let got = s.objects.get_opts(&ObjectPath::from(e.object_key.as_str()), opts).await?;
    let (status, len) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, size),
    };
    let body = if patches.is_empty() {
        Body::from_stream(got.into_stream())
    } else {
        // The position in the file is followed so that each piece gets the patches that fall in it.
        let mut at = range.as_ref().map_or(0, |r| r.start);
        Body::from_stream(got.into_stream().map(move |piece| {
            piece.map(|bytes| {
                let start = at;
                at += bytes.len() as u64;
                if patches.iter().all(|p| p.span().end <= start || p.span().start >= at) {
                    return bytes;
                }
                let mut copy = BytesMut::from(&bytes[..]);
                strip::apply(&patches, start, &mut copy);
                copy.freeze()
            })
        }))
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let hm = res.headers_mut();
    hm.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    hm.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    hm.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    hm.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&e.mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // The blanked file is another representation: another tag.
    let etag = if redact { format!("\"{}-r\"", e.sha256) } else { format!("\"{}\"", e.sha256) };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        hm.insert(header::ETAG, v);
    }
    if let Some(r) = &range
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end - 1))
    {
        hm.insert(header::CONTENT_RANGE, v);
    }
    let disposition = if q.download { "attachment" } else { "inline" };
    let encoded: String = shown_name(&e, inside)
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"evidence\"; filename*=UTF-8''{encoded}")) {
        hm.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// (object key, object version) → the patches that blank it.
type PlanCache = HashMap<(String, String), Arc<Vec<Patch>>>;
/// Blanking plans by object and version: a player's seeks ask for the same file again and again.
/// Only a cache (each instance finds the same plan from the same bytes).
static PLANS: LazyLock<Mutex<PlanCache>> = LazyLock::new(Default::default);
const PLANS_KEPT: usize = 512;

/// Where the file's place and device metadata is, read from its structure (the object at
/// version `tag`): the patches that blank it.
async fn blanking(s: &AppState, e: &evidence::Model, tag: Option<String>) -> ApiResult<Arc<Vec<Patch>>> {
    let key = tag.clone().map(|t| (e.object_key.clone(), t));
    if let Some(k) = &key
        && let Some(plan) = PLANS.lock().ok().and_then(|m| m.get(k).cloned())
    {
        return Ok(plan);
    }
    let size = u64::try_from(e.bytes).unwrap_or_default();
    let Some(mut scan) = Scan::new(&e.mime, size) else { return Ok(Arc::new(Vec::new())) };
    let path = ObjectPath::from(e.object_key.as_str());
    let mut step = scan.start();
    let patches = loop {
        match step {
            strip::Step::Done(p) => break p,
            strip::Step::Read { at, len } => {
                let bytes = if len == 0 {
                    Vec::new()
                } else {
                    let opts = GetOptions {
                        range: Some(GetRange::Bounded(at..at + len)),
                        if_match: tag.clone(),
                        ..Default::default()
                    };
                    s.objects.get_opts(&path, opts).await?.bytes().await?.to_vec()
                };
                step = scan.next(at, bytes);
            }
        }
    };
    let plan = Arc::new(patches);
    if let Some(k) = key
        && let Ok(mut m) = PLANS.lock()
    {
        if m.len() >= PLANS_KEPT {
            m.clear();
        }
        m.insert(k, plan.clone());
    }
    Ok(plan)
}

/// One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) within `size`, as a half-open range.
/// Several ranges are answered with the whole file (`None`), as HTTP allows.
fn parse_range(header: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let r = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let n: u64 = b.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            size.saturating_sub(n)..size
        }
        (false, _) => {
            let start: u64 = a.parse().map_err(|_| ())?;
            let end = if b.is_empty() { size } else { b.parse::<u64>().map_err(|_| ())?.saturating_add(1).min(size) };
            start..end
        }
        (true, true) => return Err(()),
    };
    if r.start >= size || r.start >= r.end {
        return Err(());
    }
    Ok(Some(r))
}

/// The object's version, if it matches the file's digests; hashes it again when it changed or
/// when the last check is old. A mismatch is recorded (once) and audited, and refused.
async fn verified(s: &AppState, viewer: &FindingViewer, e: &evidence::Model) -> ApiResult<Option<String>> {
    let path = ObjectPath::from(e.object_key.as_str());
    let now = s.clock.now();
    let meta = match s.objects.head(&path).await {
        Ok(m) => Some(m),
        Err(object_store::Error::NotFound { .. }) => None,
        Err(err) => return Err(err.into()),
    };
    if let Some(m) = &meta
        && e.corrupt_at.is_none()
        && m.e_tag.is_some()
        && m.e_tag == e.verified_tag
        && e.verified_at.is_some_and(|at| now - at < REVERIFY_AFTER)
    {
        return Ok(m.e_tag.clone());
    }
    let whole = match &meta {
        Some(m) if i64::try_from(m.size).ok() == Some(e.bytes) => {
            let mut d = StreamDigest::default();
            let mut bytes = s.objects.get(&path).await?.into_stream();
            while let Some(chunk) = bytes.next().await {
                d.update(&chunk?);
            }
            let d = d.finish();
            d.sha256 == e.sha256 && d.sm3 == e.sm3
        }
        _ => false,
    };
    if whole {
        let tag = meta.and_then(|m| m.e_tag);
        store::mark_verified(s.store.db(), e.id, tag.clone(), now).await?;
        return Ok(tag);
    }
    let tx = s.store.write().await?;
    if store::mark_corrupt(&tx, e.id, now).await? {
        tracing::error!(evidence = e.id, key = %e.object_key, "stored evidence no longer matches its digests");
        let d = json!({ "finding_id": e.finding_id, "filename": e.filename, "sha256": e.sha256, "missing": meta.is_none() });
        audit::append(&tx, s.store.audit_algo(), &viewer.user.audit(s, "evidence.corrupt", "evidence", e.id, d))
            .await?;
    }
    tx.commit().await?;
    Err(ApiError::refused(
        StatusCode::CONFLICT,
        "evidence_corrupted",
        "该证据文件已损坏或被改动，与存档哈希不符，不予提供；已记录并报告",
        "This evidence file is damaged or altered and no longer matches its recorded hashes; it is not served, and this has been recorded",
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-", 10), Ok(Some(0..10)));
        assert_eq!(parse_range("bytes=2-4", 10), Ok(Some(2..5)));
        assert_eq!(parse_range("bytes=5-100", 10), Ok(Some(5..10)));
        assert_eq!(parse_range("bytes=-3", 10), Ok(Some(7..10)));
        assert_eq!(parse_range("bytes=-30", 10), Ok(Some(0..10)));
        assert_eq!(parse_range("bytes=0-1,4-5", 10), Ok(None));
        assert_eq!(parse_range("items=0-1", 10), Ok(None));
        assert_eq!(parse_range("bytes=10-", 10), Err(()));
        assert_eq!(parse_range("bytes=4-2", 10), Err(()));
        assert_eq!(parse_range("bytes=-0", 10), Err(()));
        assert_eq!(parse_range("bytes=x-", 10), Err(()));
    }
}
