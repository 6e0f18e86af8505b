//! Evidence files: tus uploads that survive broken connections, digests that match `sha256sum`,
//! Range for players, altered objects caught, types told by content, and who may add or see what.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use base64::Engine;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::{
    both,
    support::{Resp, Session, TestApp},
};

/// A small MP4 (its `ftyp` box) followed by `len` pseudo-random bytes.
fn video(len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0];
    v.extend_from_slice(b"isomiso2avc1mp41");
    let mut x: u32 = 0x2545_f491;
    v.extend((0..len).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x >> 24) as u8
    }));
    v
}

fn png(len: usize) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    v.extend((0..len).map(|i| (i % 251) as u8));
    v
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn create_request(s: &Session, finding: i64, len: usize, filename: &str, purpose: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/findings/{finding}/uploads"))
        .header(header::COOKIE, &s.cookie)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", len.to_string())
        .header("upload-metadata", format!("filename {},purpose {}", b64(filename), b64(purpose)))
        .body(Body::empty())
        .unwrap()
}

async fn create(app: &TestApp, s: &Session, finding: i64, len: usize, filename: &str, purpose: &str) -> Resp {
    app.send(create_request(s, finding, len, filename, purpose)).await
}

/// Starts an upload and returns its address.
async fn start(app: &TestApp, s: &Session, finding: i64, len: usize, filename: &str, purpose: &str) -> String {
    let r = create(app, s, finding, len, filename, purpose).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.headers["tus-resumable"], "1.0.0");
    r.headers[header::LOCATION].to_str().unwrap().to_owned()
}

async fn patch(app: &TestApp, s: &Session, at: &str, offset: usize, body: Body) -> Resp {
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(at)
        .header(header::COOKIE, &s.cookie)
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(body)
        .unwrap();
    app.send(req).await
}

async fn tus(app: &TestApp, s: &Session, method: Method, at: &str) -> Resp {
    let req = Request::builder()
        .method(method)
        .uri(at)
        .header(header::COOKIE, &s.cookie)
        .header("tus-resumable", "1.0.0")
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

fn offset_of(r: &Resp) -> usize {
    r.headers["upload-offset"].to_str().unwrap().parse().unwrap()
}

/// A body that delivers `bytes` in 64 KiB pieces and then fails, as a dropped connection does.
fn broken(bytes: &[u8]) -> Body {
    let mut items: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    items.push(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection lost")));
    Body::from_stream(futures::stream::iter(items))
}

/// Uploads a whole file in one request; returns the finding's evidence after it.
async fn upload(app: &TestApp, s: &Session, finding: i64, data: &[u8], filename: &str, purpose: &str) -> Resp {
    let at = start(app, s, finding, data.len(), filename, purpose).await;
    patch(app, s, &at, 0, Body::from(data.to_vec())).await
}

/// A draft finding recorded by `inspector` on bureau A.
async fn draft(app: &TestApp) -> i64 {
    let office = app.login("office").await;
    let a = app.ids["dept_a"];
    let plan = app
        .post(
            "/api/v1/plans",
            &office,
            json!({"title": "暗访", "period_start": "2026-11-01", "period_end": "2026-11-30", "status": "active",
                   "targets": [{"department_id": a}], "team": [app.ids["inspector"]]}),
        )
        .await;
    let plan = plan.ok()["id"].as_i64().unwrap();
    let visit = app
        .post(
            &format!("/api/v1/plans/{plan}/visits"),
            &office,
            json!({"department_id": a, "scheduled_on": "2026-11-02"}),
        )
        .await;
    let visit = visit.ok()["id"].as_i64().unwrap();
    let inspector = app.login("inspector").await;
    let cats = app.get("/api/v1/finding-categories", &inspector).await;
    let cat = cats.ok().as_array().unwrap()[0]["id"].as_i64().unwrap();
    let f = app
        .post(
            "/api/v1/findings",
            &inspector,
            json!({"visit_id": visit, "department_id": a, "person_id": app.ids["person_a"], "category_id": cat,
                   "occurred_at": "2026-11-02T00:30:00Z", "description": "窗口无人，离岗约二十分钟"}),
        )
        .await;
    f.ok()["id"].as_i64().unwrap()
}

async fn evidence(app: &TestApp, s: &Session, finding: i64) -> Vec<Value> {
    app.get(&format!("/api/v1/findings/{finding}"), s).await.ok()["evidence"].as_array().unwrap().clone()
}

fn sha256sum(data: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("original");
    std::fs::write(&file, data).unwrap();
    let out = std::process::Command::new("sha256sum").arg(&file).output().expect("sha256sum runs");
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

both!(an_upload_broken_off_resumes_and_its_digest_matches_sha256sum, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = video(3 * 1024 * 1024 + 12_345);
    let at = start(&app, &inspector, f, data.len(), "窗口录像.mp4", "evidence").await;
    // Broken off three times, at offsets inside and on the edges of the store's 5 MiB parts and
    // of the first bytes that tell the type; each time what arrived is kept.
    let mut sent = 0;
    for cut in [1000, 64 * 1024, 2 * 1024 * 1024 + 7] {
        let r = patch(&app, &inspector, &at, sent, broken(&data[sent..cut])).await;
        let head = tus(&app, &inspector, Method::HEAD, &at).await;
        assert_eq!(head.status, 200, "{r:?}");
        assert_eq!(offset_of(&head), cut, "after a break at {cut}");
        assert_eq!(head.headers["upload-length"], data.len().to_string().as_str());
        sent = cut;
    }
    // Resuming from a wrong offset is refused and changes nothing.
    patch(&app, &inspector, &at, sent - 1, Body::from(vec![0u8; 10])).await.expect(409, "offset_mismatch");
    assert_eq!(offset_of(&tus(&app, &inspector, Method::HEAD, &at).await), sent);
    let r = patch(&app, &inspector, &at, sent, Body::from(data[sent..].to_vec())).await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(offset_of(&r), data.len());
    let ev = evidence(&app, &inspector, f).await;
    assert_eq!(ev.len(), 1);
    // The last answer names the file it became; so does a HEAD asked afterwards.
    assert_eq!(r.headers["upload-evidence-id"], ev[0]["id"].to_string().as_str());
    assert_eq!(
        tus(&app, &inspector, Method::HEAD, &at).await.headers["upload-evidence-id"],
        ev[0]["id"].to_string().as_str()
    );
    assert_eq!(ev[0]["sha256"], sha256sum(&data));
    assert_eq!(ev[0]["kind"], "video");
    assert_eq!(ev[0]["mime"], "video/mp4");
    assert_eq!(ev[0]["size"], data.len());
    assert_eq!(ev[0]["filename"], "窗口录像.mp4");
    assert_eq!(ev[0]["uploaded_by_name"], "inspector");
    assert_eq!(ev[0]["sm3"].as_str().unwrap().len(), 64);
    // What is served is what was sent; the parts are gone from the store.
    let got = app.get(ev[0]["content_url"].as_str().unwrap(), &inspector).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == data, "served bytes differ from the original");
    let leftover = std::fs::read_dir(app.objects_dir.path().join("uploads").join(at.rsplit('/').next().unwrap()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftover, 0);
    // Stored once, audited once, and immutable: the upload cannot be withdrawn now.
    tus(&app, &inspector, Method::DELETE, &at).await.expect(409, "evidence_immutable");
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=evidence.add", &auditor).await;
    assert_eq!(log.ok()["total"], 1, "{}", log.json);
});

both!(a_dropped_connection_keeps_what_arrived, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = video(256 * 1024);
    let at = start(&app, &inspector, f, data.len(), "clip.mp4", "evidence").await;
    // A real socket: the request promises the whole file, sends 100 KiB and the client vanishes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH {at} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        inspector.cookie,
        data.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&data[..100 * 1024]).await.unwrap();
    sock.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(sock);
    let mut offset = 0;
    for _ in 0..50 {
        offset = offset_of(&tus(&app, &inspector, Method::HEAD, &at).await);
        if offset == 100 * 1024 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(offset, 100 * 1024);
    server.abort();
    let r = patch(&app, &inspector, &at, offset, Body::from(data[offset..].to_vec())).await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(evidence(&app, &inspector, f).await[0]["sha256"], sha256sum(&data));
});

both!(players_seek_with_range_and_views_are_audited, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = png(10_000);
    assert_eq!(upload(&app, &inspector, f, &data, "photo.png", "evidence").await.status, 204);
    let ev = evidence(&app, &inspector, f).await;
    assert_eq!(ev[0]["kind"], "photo");
    let url = ev[0]["content_url"].as_str().unwrap().to_owned();
    let ranged = |r: &'static str| {
        let req = Request::builder()
            .uri(&url)
            .header(header::COOKIE, &inspector.cookie)
            .header(header::RANGE, r)
            .body(Body::empty())
            .unwrap();
        app.send(req)
    };
    let len = data.len();
    let r = ranged("bytes=0-99").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.headers[header::CONTENT_RANGE], format!("bytes 0-99/{len}").as_str());
    assert_eq!(r.bytes, data[..100]);
    let r = ranged("bytes=5000-").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.bytes, data[5000..]);
    let r = ranged("bytes=-16").await;
    assert_eq!(r.bytes, data[len - 16..]);
    ranged("bytes=99999-").await.expect(416, "range_not_satisfiable");
    let whole = app.get(&url, &inspector).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.headers[header::ACCEPT_RANGES], "bytes");
    assert_eq!(whole.headers[header::CONTENT_TYPE], "image/png");
    assert!(whole.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("inline"));
    let dl = app.get(&format!("{url}?download=true"), &inspector).await;
    assert!(dl.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    // One view per session and file, whatever ranges the player asks for; the download is
    // recorded apart.
    let auditor = app.login("auditor").await;
    let views = app.get("/api/v1/audit?action=evidence.view", &auditor).await;
    assert_eq!(views.ok()["total"], 1, "{}", views.json);
    let downloads = app.get("/api/v1/audit?action=evidence.download", &auditor).await;
    assert_eq!(downloads.ok()["total"], 1);
});

both!(an_altered_object_is_caught_and_never_served, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = video(50_000);
    upload(&app, &inspector, f, &data, "clip.mp4", "evidence").await;
    let ev = evidence(&app, &inspector, f).await;
    let url = ev[0]["content_url"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&url, &inspector).await.status, 200);
    // Someone with access to the disk changes one byte, keeping the size.
    let file = app.objects_dir.path().join("evidence").join(f.to_string());
    let file = std::fs::read_dir(file).unwrap().next().unwrap().unwrap().path();
    let mut altered = data.clone();
    altered[30_000] ^= 0xFF;
    std::fs::write(&file, &altered).unwrap();
    app.get(&url, &inspector).await.expect(409, "evidence_corrupted");
    let ranged = Request::builder()
        .uri(&url)
        .header(header::COOKIE, &inspector.cookie)
        .header(header::RANGE, "bytes=100-200")
        .body(Body::empty())
        .unwrap();
    app.send(ranged).await.expect(409, "evidence_corrupted");
    assert_eq!(evidence(&app, &inspector, f).await[0]["corrupt"], true);
    let auditor = app.login("auditor").await;
    let log = app.get("/api/v1/audit?action=evidence.corrupt", &auditor).await;
    assert_eq!(log.ok()["total"], 1, "reported once: {}", log.json);
    // Restored from a backup, it matches again and is served.
    std::fs::write(&file, &data).unwrap();
    let back = app.get(&url, &inspector).await;
    assert_eq!(back.status, 200);
    assert!(back.bytes == data);
    assert_eq!(evidence(&app, &inspector, f).await[0]["corrupt"], false);
    // A missing object is caught the same way.
    std::fs::remove_file(&file).unwrap();
    app.get(&url, &inspector).await.expect(409, "evidence_corrupted");
});

both!(types_are_told_by_content_and_sizes_are_limited, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    // An executable named like a video is refused, and the upload is gone.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend(vec![0u8; 8000]);
    let at = start(&app, &inspector, f, exe.len(), "video.mp4", "evidence").await;
    patch(&app, &inspector, &at, 0, Body::from(exe)).await.expect(415, "type_not_accepted");
    assert_eq!(tus(&app, &inspector, Method::HEAD, &at).await.status, 404);
    // A file shorter than the bytes that tell a type is judged whole.
    let text = b"just a note".to_vec();
    let at = start(&app, &inspector, f, text.len(), "note.mp4", "evidence").await;
    patch(&app, &inspector, &at, 0, Body::from(text)).await.expect(415, "type_not_accepted");
    // The office narrows what it accepts: photos only, at most 1 MB.
    let office = app.login("office").await;
    let mut policy = app.get("/api/v1/settings/inspection-policy", &office).await.ok().clone();
    policy["evidence_max_mb"] = json!(1);
    policy["evidence_kinds"] = json!(["photo"]);
    app.put("/api/v1/settings/inspection-policy", &office, policy.clone()).await.ok();
    let big = create(&app, &inspector, f, 2 * 1024 * 1024, "big.png", "evidence").await;
    big.expect(413, "file_too_large");
    assert!(big.json["message"].as_str().unwrap().contains("1 MB"));
    let clip = video(10_000);
    let at = start(&app, &inspector, f, clip.len(), "clip.mp4", "evidence").await;
    let refused = patch(&app, &inspector, &at, 0, Body::from(clip)).await;
    refused.expect(415, "type_not_accepted");
    assert!(refused.json["message"].as_str().unwrap().contains("照片"), "{}", refused.json);
    assert_eq!(upload(&app, &inspector, f, &png(2000), "p.png", "evidence").await.status, 204);
    assert_eq!(evidence(&app, &inspector, f).await.len(), 1);
    // Malformed tus requests.
    let no_tus = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/findings/{f}/uploads"))
        .header(header::COOKIE, &inspector.cookie)
        .header("upload-length", "10")
        .body(Body::empty())
        .unwrap();
    app.send(no_tus).await.expect(412, "tus_version_unsupported");
    create(&app, &inspector, f, 0, "empty.png", "evidence").await.expect(400, "empty_file");
    create(&app, &inspector, f, 10, "x.png", "gossip").await.expect(400, "invalid_purpose");
    policy["evidence_kinds"] = json!([]);
    policy["evidence_max_mb"] = json!(0);
    let bad = app.put("/api/v1/settings/inspection-policy", &office, policy).await;
    bad.expect(422, "validation_failed");
});

both!(who_may_add_and_see_files, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let office = app.login("office").await;
    let head_a = app.login("head_a").await;
    let head_b = app.login("head_b").await;
    let d = app.get(&format!("/api/v1/findings/{f}"), &inspector).await;
    assert_eq!(d.ok()["can_attach"], json!(["evidence"]));
    let at = start(&app, &inspector, f, 3000, "p.png", "evidence").await;
    // An upload is its starter's: others do not find it.
    assert_eq!(tus(&app, &office, Method::HEAD, &at).await.status, 404);
    patch(&app, &office, &at, 0, Body::from(png(2984))).await.expect(404, "not_found");
    // Terminated, it is gone.
    assert_eq!(tus(&app, &inspector, Method::DELETE, &at).await.status, 204);
    assert_eq!(tus(&app, &inspector, Method::HEAD, &at).await.status, 404);
    upload(&app, &inspector, f, &png(3000), "p.png", "evidence").await;
    let url = evidence(&app, &inspector, f).await[0]["content_url"].as_str().unwrap().to_owned();
    // Before notification the department knows nothing: not the finding, not its files.
    create(&app, &head_a, f, 100, "x.png", "appeal").await.expect(404, "not_found");
    app.get(&url, &head_a).await.expect(404, "not_found");
    // Once confirmed, only the office adds evidence.
    app.post(&format!("/api/v1/findings/{f}/steps"), &office, json!({"action": "confirm"})).await.ok();
    create(&app, &inspector, f, 100, "x.png", "evidence").await.expect(409, "invalid_transition");
    assert_eq!(upload(&app, &office, f, &png(1000), "o.png", "evidence").await.status, 204);
    app.post(&format!("/api/v1/findings/{f}/steps"), &office, json!({"action": "notify"})).await.ok();
    create(&app, &office, f, 100, "x.png", "evidence").await.expect(409, "invalid_transition");
    // Notified: the department sees the files, not who took them, and may add appeal files.
    let seen = app.get(&format!("/api/v1/findings/{f}"), &head_a).await;
    assert_eq!(seen.ok()["can_attach"], json!(["appeal"]));
    let ev = seen.json["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e["uploaded_by_name"].is_null()));
    assert_eq!(app.get(&url, &head_a).await.status, 200);
    app.get(&url, &head_b).await.expect(404, "not_found");
    create(&app, &head_b, f, 100, "x.png", "appeal").await.expect(404, "not_found");
    create(&app, &office, f, 100, "x.png", "appeal").await.expect(409, "invalid_transition");
    let doc =
        b"%PDF-1.4\n% appeal statement\n".iter().copied().chain(std::iter::repeat_n(b' ', 500)).collect::<Vec<u8>>();
    assert_eq!(upload(&app, &head_a, f, &doc, "申诉说明.pdf", "appeal").await.status, 204);
    let ev = evidence(&app, &office, f).await;
    let appeal: Vec<&Value> = ev.iter().filter(|e| e["purpose"] == "appeal").collect();
    assert_eq!(appeal.len(), 1);
    assert_eq!(appeal[0]["kind"], "document");
    assert_eq!(appeal[0]["uploaded_by_name"], "head_a");
    // After the appeal deadline, no more appeal files.
    app.clock.advance(chrono::Duration::days(14));
    let head_a = app.login("head_a").await;
    create(&app, &head_a, f, 100, "late.png", "appeal").await.expect(409, "invalid_transition");
});

// ------------------------------------------------------------------ hardening (decision 0026)

/// Changes some of the office's inspection policy.
async fn set_policy(app: &TestApp, change: Value) {
    let office = app.login("office").await;
    let mut p = app.get("/api/v1/settings/inspection-policy", &office).await.ok().clone();
    for (k, v) in change.as_object().unwrap() {
        p[k] = v.clone();
    }
    app.put("/api/v1/settings/inspection-policy", &office, p).await.ok();
}

async fn step(app: &TestApp, s: &Session, f: i64, action: &str) {
    let r = app.post(&format!("/api/v1/findings/{f}/steps"), s, json!({"action": action, "reason": "理由"})).await;
    assert!(r.status.is_success(), "{action}: {}", r.json);
}

/// The files stored under a folder of the object store (none if it does not exist).
fn stored(app: &TestApp, folder: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.path().is_dir() { walk(&e.path(), out) } else { out.push(e.path()) }
        }
    }
    let mut out = Vec::new();
    walk(&app.objects_dir.path().join(folder), &mut out);
    out
}

fn token_of(at: &str) -> &str {
    at.rsplit('/').next().unwrap()
}

both!(an_upload_stops_when_its_finding_no_longer_takes_files, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let office = app.login("office").await;
    let data = video(300 * 1024);
    // Started on a draft, broken off; then the office confirms the finding.
    let at = start(&app, &inspector, f, data.len(), "clip.mp4", "evidence").await;
    patch(&app, &inspector, &at, 0, broken(&data[..100 * 1024])).await;
    assert_eq!(offset_of(&tus(&app, &inspector, Method::HEAD, &at).await), 100 * 1024);
    assert!(!stored(&app, &format!("uploads/{}", token_of(&at))).is_empty());
    step(&app, &office, f, "confirm").await;
    // The rest is refused as the finding's state says, and the upload is gone with its parts.
    let r = patch(&app, &inspector, &at, 100 * 1024, Body::from(data[100 * 1024..].to_vec())).await;
    r.expect(409, "invalid_transition");
    assert_eq!(r.json["details"]["state"], "confirmed", "{}", r.json);
    assert!(r.json["message"].as_str().unwrap().contains("已确认"), "{}", r.json);
    assert_eq!(tus(&app, &inspector, Method::HEAD, &at).await.status, 404);
    assert!(stored(&app, &format!("uploads/{}", token_of(&at))).is_empty());
    assert!(evidence(&app, &office, f).await.is_empty());
    // The office's own upload to the confirmed finding stops once it is notified.
    let at = start(&app, &office, f, data.len(), "o.mp4", "evidence").await;
    patch(&app, &office, &at, 0, broken(&data[..5000])).await;
    step(&app, &office, f, "notify").await;
    patch(&app, &office, &at, 5000, Body::from(data[5000..].to_vec())).await.expect(409, "invalid_transition");
    assert_eq!(tus(&app, &office, Method::HEAD, &at).await.status, 404);
    // An appeal file started in time is refused once the appeal period has passed.
    let head_a = app.login("head_a").await;
    let at = start(&app, &head_a, f, data.len(), "申诉.mp4", "appeal").await;
    patch(&app, &head_a, &at, 0, broken(&data[..5000])).await;
    app.clock.advance(chrono::Duration::days(14));
    let head_a = app.login("head_a").await;
    let r = patch(&app, &head_a, &at, 5000, Body::from(data[5000..].to_vec())).await;
    r.expect(409, "invalid_transition");
    assert_eq!(tus(&app, &head_a, Method::HEAD, &at).await.status, 404);
    assert!(stored(&app, "uploads").is_empty(), "{:?}", stored(&app, "uploads"));
    let office = app.login("office").await;
    assert!(evidence(&app, &office, f).await.is_empty());
});

both!(a_finding_confirmed_while_the_last_bytes_travel_gets_no_file, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let office = app.login("office").await;
    let data = video(200 * 1024);
    let at = start(&app, &inspector, f, data.len(), "clip.mp4", "evidence").await;
    // The whole file in one request whose last bytes wait until the finding has been confirmed.
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (first, rest) = (data[..150 * 1024].to_vec(), data[150 * 1024..].to_vec());
    let body =
        futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(futures::stream::once(async move {
            let _ = wait.await;
            Ok(rest)
        }));
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(&at)
        .header(header::COOKIE, &inspector.cookie)
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from_stream(body))
        .unwrap();
    let router = app.router.clone();
    let sending = tokio::spawn(async move { crate::support::send_to(&router, req).await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    step(&app, &office, f, "confirm").await;
    go.send(()).unwrap();
    let r = sending.await.unwrap();
    r.expect(409, "invalid_transition");
    assert!(evidence(&app, &office, f).await.is_empty(), "a file was added after the finding was confirmed");
    assert_eq!(tus(&app, &inspector, Method::HEAD, &at).await.status, 404);
    assert!(stored(&app, "uploads").is_empty() && stored(&app, "evidence").is_empty());
    let auditor = app.login("auditor").await;
    assert_eq!(app.get("/api/v1/audit?action=evidence.add", &auditor).await.ok()["total"], 0);
});

both!(uploads_are_limited_per_person_per_finding_and_at_once, |app: TestApp| async move {
    let f = draft(&app).await;
    let f2 = draft(&app).await;
    let inspector = app.login("inspector").await;
    let office = app.login("office").await;
    // A quota below the largest file makes no sense.
    let mut p = app.get("/api/v1/settings/inspection-policy", &office).await.ok().clone();
    p["evidence_max_mb"] = json!(2);
    p["finding_quota_mb"] = json!(1);
    let bad = app.put("/api/v1/settings/inspection-policy", &office, p).await;
    bad.expect(422, "validation_failed");
    assert_eq!(bad.json["details"][0]["field"], "finding_quota_mb", "{}", bad.json);
    set_policy(&app, json!({"evidence_max_mb": 1, "finding_quota_mb": 1, "user_quota_mb": 2, "max_open_uploads": 2}))
        .await;
    let k = 1024;
    assert_eq!(upload(&app, &inspector, f, &png(600 * k), "a.png", "evidence").await.status, 204);
    // The finding holds 600 KB: another 600 KB would pass its 1 MB.
    let r = create(&app, &inspector, f, 600 * k, "b.png", "evidence").await;
    r.expect(413, "finding_quota_exceeded");
    assert!(r.json["message"].as_str().unwrap().contains("1 MB"), "{}", r.json);
    assert_eq!(r.headers["tus-resumable"], "1.0.0");
    // Unfinished uploads count at their full length.
    let open = start(&app, &inspector, f, 400 * k, "c.png", "evidence").await;
    create(&app, &inspector, f, 30 * k, "d.png", "evidence").await.expect(413, "finding_quota_exceeded");
    // Two unfinished at once at most: the third waits.
    let _other = start(&app, &inspector, f2, 900 * k, "e.png", "evidence").await;
    let r = create(&app, &inspector, f2, 10 * k, "f.png", "evidence").await;
    r.expect(429, "too_many_uploads");
    let wait: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(wait > 0);
    // Cancelled, the slot and its bytes are free again; the person's 2 MB still holds:
    // 600 KB filed + 900 KB under way + 600 KB asked > 2 MB.
    assert_eq!(tus(&app, &inspector, Method::DELETE, &open).await.status, 204);
    let r = create(&app, &inspector, f2, 600 * k, "g.png", "evidence").await;
    r.expect(413, "user_quota_exceeded");
    assert_eq!(create(&app, &inspector, f, 300 * k, "h.png", "evidence").await.status, 201);
    // Someone else's quota is their own; the finding's is everyone's (900 KB of 1 MB now).
    assert_eq!(create(&app, &office, f, 100 * k, "i.png", "evidence").await.status, 201);
    create(&app, &office, f, 100 * k, "j.png", "evidence").await.expect(413, "finding_quota_exceeded");
});

both!(uploads_started_at_once_on_two_instances_keep_the_limits, |app: TestApp| async move {
    set_policy(&app, json!({"max_open_uploads": 2, "evidence_max_mb": 1, "finding_quota_mb": 1})).await;
    let f = draft(&app).await;
    let f2 = draft(&app).await;
    let inspector = app.login("inspector").await;
    let office = app.login("office").await;
    let (other, _) = app.instance(crate::support::test_config()).await;
    // Six at once for one person, half on each instance: two get in.
    let mut going = Vec::new();
    for i in 0..6 {
        let router = if i % 2 == 0 { app.router.clone() } else { other.clone() };
        let req = create_request(&inspector, f2, 1000, "p.png", "evidence");
        going.push(tokio::spawn(async move { crate::support::send_to(&router, req).await.status.as_u16() }));
    }
    // And for one finding: 600 KB each, of which its 1 MB takes one.
    for i in 0..3 {
        let router = if i % 2 == 0 { other.clone() } else { app.router.clone() };
        let req = create_request(&office, f, 600 * 1024, "q.png", "evidence");
        going.push(tokio::spawn(async move { crate::support::send_to(&router, req).await.status.as_u16() }));
    }
    let mut got = Vec::new();
    for g in going {
        got.push(g.await.unwrap());
    }
    let (person, finding) = got.split_at(6);
    assert_eq!(person.iter().filter(|s| **s == 201).count(), 2, "{person:?}");
    assert!(person.iter().all(|s| [201, 429].contains(s)), "{person:?}");
    assert_eq!(finding.iter().filter(|s| **s == 201).count(), 1, "{finding:?}");
    assert!(finding.iter().all(|s| [201, 413].contains(s)), "{finding:?}");
});

both!(a_stalled_request_is_ended_and_what_arrived_is_kept, |app: TestApp| async move {
    set_policy(&app, json!({"upload_stall_seconds": 5})).await;
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = video(200 * 1024);
    let at = start(&app, &inspector, f, data.len(), "clip.mp4", "evidence").await;
    // 100 KB, then the phone sends nothing more and keeps the connection open.
    let first = data[..100 * 1024].to_vec();
    let body = futures::stream::iter([Ok::<_, std::io::Error>(first)]).chain(futures::stream::pending());
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(&at)
        .header(header::COOKIE, &inspector.cookie)
        .header("tus-resumable", "1.0.0")
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from_stream(body))
        .unwrap();
    let began = std::time::Instant::now();
    let r = tokio::time::timeout(std::time::Duration::from_secs(60), app.send(req))
        .await
        .expect("a stalled request is ended by the server");
    assert!(began.elapsed() >= std::time::Duration::from_secs(5), "ended early: {:?}", began.elapsed());
    r.expect(408, "upload_stalled");
    assert_eq!(offset_of(&r), 100 * 1024);
    assert_eq!(offset_of(&tus(&app, &inspector, Method::HEAD, &at).await), 100 * 1024);
    let r = patch(&app, &inspector, &at, 100 * 1024, Body::from(data[100 * 1024..].to_vec())).await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(evidence(&app, &inspector, f).await[0]["sha256"], sha256sum(&data));
});

both!(each_session_is_audited_once_per_file_whatever_range_it_asks, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = png(10_000);
    upload(&app, &inspector, f, &data, "p.png", "evidence").await;
    let url = evidence(&app, &inspector, f).await[0]["content_url"].as_str().unwrap().to_owned();
    let ranged = |s: &Session, url: String, r: &'static str| {
        Request::builder()
            .uri(url)
            .header(header::COOKIE, &s.cookie)
            .header(header::RANGE, r)
            .body(Body::empty())
            .unwrap()
    };
    let auditor = app.login("auditor").await;
    let total = |action: &'static str| {
        let (app, auditor) = (&app, &auditor);
        async move { app.get(&format!("/api/v1/audit?action={action}"), auditor).await.ok()["total"].as_u64().unwrap() }
    };
    // Everything but the first byte: the whole picture, and it is recorded.
    let r = app.send(ranged(&inspector, url.clone(), "bytes=1-")).await;
    assert_eq!(r.status, 206);
    assert_eq!(total("evidence.view").await, 1);
    for r in ["bytes=0-99", "bytes=5000-", "bytes=-16"] {
        assert_eq!(app.send(ranged(&inspector, url.clone(), r)).await.status, 206);
    }
    assert_eq!(app.get(&url, &inspector).await.status, 200);
    assert_eq!(total("evidence.view").await, 1, "once per session and file");
    // A download is its own entry, also once; from the middle too.
    let dl = format!("{url}?download=true");
    assert_eq!(app.send(ranged(&inspector, dl.clone(), "bytes=300-")).await.status, 206);
    assert_eq!(app.get(&dl, &inspector).await.status, 200);
    assert_eq!(total("evidence.download").await, 1);
    // Another instance knows the session has been recorded.
    let (other, _) = app.instance(crate::support::test_config()).await;
    let r = crate::support::send_to(&other, ranged(&inspector, url.clone(), "bytes=7-")).await;
    assert_eq!(r.status, 206);
    assert_eq!(total("evidence.view").await, 1);
    // A new session is recorded anew.
    let again = app.login("inspector").await;
    assert_eq!(app.send(ranged(&again, url.clone(), "bytes=9000-")).await.status, 206);
    assert_eq!(total("evidence.view").await, 2);
});

/// Local midnight (Asia/Shanghai) of an instant, as the API writes it.
fn day_of(t: &str) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let t: chrono::DateTime<chrono::Utc> = t.parse().unwrap();
    let city = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let d = t.with_timezone(&city).date_naive();
    city.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).unwrap().with_timezone(&chrono::Utc)
}

both!(a_department_learns_nothing_from_plan_filters_or_times, |app: TestApp| async move {
    app.clock.advance(chrono::Duration::minutes(97)); // 10:37 in the city
    let f = draft(&app).await;
    let office = app.login("office").await;
    let inspector = app.login("inspector").await;
    upload(&app, &inspector, f, &png(3000), "IMG_20261102_103712.png", "evidence").await;
    step(&app, &office, f, "confirm").await;
    step(&app, &office, f, "notify").await;
    let plan = app.get(&format!("/api/v1/findings/{f}"), &office).await.ok()["plan_id"].as_i64().unwrap();
    let inside = app.get(&format!("/api/v1/findings?plan_id={plan}"), &office).await;
    assert_eq!(inside.ok()["total"], 1);
    assert_eq!(app.get("/api/v1/findings?plan_id=999999", &office).await.ok()["total"], 0);
    // The department's answer does not depend on the plan asked about.
    let head_a = app.login("head_a").await;
    let leader = app.login("leader").await;
    for s in [&head_a, &leader] {
        let plain = app.get("/api/v1/findings", s).await;
        assert_eq!(plain.ok()["total"], 1);
        for q in [format!("plan_id={plan}"), "plan_id=999999".to_owned(), format!("plan_id={}", plan + 1)] {
            let r = app.get(&format!("/api/v1/findings?{q}"), s).await;
            assert_eq!(r.ok(), plain.ok(), "{q}");
        }
    }
    // When it was recorded and when its files came in: the day, not the time.
    let exact = app.get(&format!("/api/v1/findings/{f}"), &office).await.ok().clone();
    let created = exact["created_at"].as_str().unwrap();
    let uploaded = exact["evidence"][0]["uploaded_at"].as_str().unwrap();
    assert_ne!(day_of(created), created.parse::<chrono::DateTime<chrono::Utc>>().unwrap());
    for s in [&head_a, &leader] {
        let seen = app.get(&format!("/api/v1/findings/{f}"), s).await.ok().clone();
        let got = |v: &Value| v.as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert_eq!(got(&seen["created_at"]), day_of(created), "{seen}");
        assert_eq!(got(&seen["evidence"][0]["uploaded_at"]), day_of(uploaded));
        let listed = app.get("/api/v1/findings", s).await.ok()["items"][0]["created_at"].clone();
        assert_eq!(got(&listed), day_of(created));
        // The inspector's file name (which says when it was taken) is not shown either.
        let name = seen["evidence"][0]["filename"].as_str().unwrap();
        assert!(!name.contains("1037") && !name.contains("IMG_"), "{name}");
    }
    assert_eq!(exact["evidence"][0]["filename"], "IMG_20261102_103712.png");
});

/// A JPEG photo whose Exif says where it was taken and on what.
fn jpeg_with_gps() -> Vec<u8> {
    let seg = |marker: u8, payload: &[u8]| {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    };
    let mut v = vec![0xFF, 0xD8];
    v.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(b"GPSLatitude 31/1 13/1 49/1 N GPSLongitude 121/1 28/1 25/1 E Make HUAWEI Model ALN-AL00");
    v.extend(seg(0xE1, &exif));
    v.extend(seg(0xDB, &[0u8; 65]));
    v.extend(seg(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]));
    v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    v.extend((0..20_000u32).map(|i| (i * 7 % 255) as u8));
    v.extend([0xFF, 0xD9]);
    v
}

/// An MP4 recorded by a phone: the movie header after the media, with the place in `udta/©xyz`.
fn mp4_with_location() -> Vec<u8> {
    let bx = |kind: &[u8; 4], payload: &[u8]| {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    };
    let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let media = video(200 * 1024);
    let mdat = bx(b"mdat", &media[32..]);
    let xyz = bx(b"\xA9xyz", b"\0\x12\x15\xC7+31.2304+121.4737/");
    let udta = bx(b"udta", &[bx(b"\xA9mak", b"\0\x06\0\0Xiaomi"), xyz].concat());
    let moov = bx(b"moov", &[bx(b"mvhd", &[0u8; 100]), udta].concat());
    [ftyp, mdat, moov].concat()
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

both!(photos_and_videos_reach_a_department_without_place_or_device, |app: TestApp| async move {
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let office = app.login("office").await;
    let photo = jpeg_with_gps();
    let movie = mp4_with_location();
    assert_eq!(upload(&app, &inspector, f, &photo, "p.jpg", "evidence").await.status, 204);
    assert_eq!(upload(&app, &inspector, f, &movie, "m.mp4", "evidence").await.status, 204);
    step(&app, &office, f, "confirm").await;
    step(&app, &office, f, "notify").await;
    let head_a = app.login("head_a").await;
    let files = evidence(&app, &head_a, f).await;
    let url =
        |kind: &str| files.iter().find(|e| e["kind"] == kind).unwrap()["content_url"].as_str().unwrap().to_owned();
    for (kind, original, secrets) in [
        ("photo", &photo, vec![&b"GPSLatitude"[..], b"HUAWEI", b"ALN-AL00"]),
        ("video", &movie, vec![&b"+31.2304+121.4737"[..], b"Xiaomi"]),
    ] {
        let url = url(kind);
        // The office and the team get the original, byte for byte.
        for s in [&office, &inspector] {
            let got = app.get(&format!("{url}?download=true"), s).await;
            assert_eq!(got.status, 200);
            assert!(got.bytes == *original, "{kind}: the original is served to the office");
        }
        // The department gets the same length with the place and the device blanked.
        let dept = app.get(&format!("{url}?download=true"), &head_a).await;
        assert_eq!(dept.status, 200);
        assert_eq!(dept.bytes.len(), original.len());
        for secret in &secrets {
            assert!(has(original, secret));
            assert!(!has(&dept.bytes, secret), "{kind}: {} still served", String::from_utf8_lossy(secret));
        }
        let differ = dept.bytes.iter().zip(original.iter()).filter(|(a, b)| a != b).count();
        assert!(differ > 0 && differ < 400, "{kind}: {differ} bytes changed");
        assert_eq!(files.iter().find(|e| e["kind"] == kind).unwrap()["redacted"], true, "the department is told");
        // Any range of it is exactly that range of the blanked file.
        let len = original.len();
        for (a, b) in [(0, 99), (2, 300), (20, 21), (len - 200, len - 1), (len / 2, len - 1)] {
            let req = Request::builder()
                .uri(&url)
                .header(header::COOKIE, &head_a.cookie)
                .header(header::RANGE, format!("bytes={a}-{b}"))
                .body(Body::empty())
                .unwrap();
            let r = app.send(req).await;
            assert_eq!(r.status, 206);
            assert_eq!(r.headers[header::CONTENT_RANGE], format!("bytes {a}-{b}/{len}").as_str());
            assert!(r.bytes == dept.bytes[a..=b], "{kind}: range {a}-{b}");
        }
    }
    // The digests shown are the original's, and what is kept still matches them.
    let shown = evidence(&app, &office, f).await;
    assert!(shown.iter().any(|e| e["sha256"] == sha256sum(&photo)));
    assert!(shown.iter().any(|e| e["sha256"] == sha256sum(&movie)));
    assert!(shown.iter().all(|e| e["corrupt"] == false && e["redacted"] == false));
});

both!(abandoned_uploads_are_swept_with_their_parts_and_counted, |app: TestApp| async move {
    set_policy(&app, json!({"upload_abandon_hours": 2})).await;
    let f = draft(&app).await;
    let inspector = app.login("inspector").await;
    let data = video(300 * 1024);
    let at = start(&app, &inspector, f, data.len(), "clip.mp4", "evidence").await;
    patch(&app, &inspector, &at, 0, broken(&data[..100 * 1024])).await;
    patch(&app, &inspector, &at, 100 * 1024, broken(&data[100 * 1024..130 * 1024])).await;
    assert_eq!(stored(&app, &format!("uploads/{}", token_of(&at))).len(), 2);
    // What an instance that died in the middle of a request left behind, long ago.
    let orphan = app.objects_dir.path().join("uploads/0123456789abcdef0123456789abcdef/000000000000-dead");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, vec![1u8; 5000]).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000); // 2026-09
    std::fs::File::options().write(true).open(&orphan).unwrap().set_modified(old).unwrap();
    // Another upload, still going: touched an hour before the sweep.
    app.clock.advance(chrono::Duration::hours(2));
    let inspector = app.login("inspector").await;
    let going = start(&app, &inspector, f, data.len(), "more.mp4", "evidence").await;
    patch(&app, &inspector, &going, 0, broken(&data[..1000])).await;
    app.clock.advance(chrono::Duration::hours(1));
    let inspector = app.login("inspector").await;
    let runner = xiaoneng_server::jobs::runner(
        app.store.clone(),
        std::sync::Arc::new(app.clock.clone()),
        app.state.objects.clone(),
        xiaoneng_server::notify::Egress::default(),
        "w".into(),
    );
    runner.tick_recurring().await.unwrap();
    while runner.run_one().await.unwrap() {}
    assert_eq!(tus(&app, &inspector, Method::HEAD, &at).await.status, 404);
    assert!(stored(&app, &format!("uploads/{}", token_of(&at))).is_empty(), "the parts are removed");
    assert!(!orphan.exists(), "what no upload owns is removed");
    assert_eq!(offset_of(&tus(&app, &inspector, Method::HEAD, &going).await), 1000);
    assert_eq!(stored(&app, &format!("uploads/{}", token_of(&going))).len(), 1);
    // The office reads the totals, in Prometheus' text format.
    let office = app.login("office").await;
    let m = app.get("/api/v1/metrics", &office).await;
    assert_eq!(m.status, 200);
    assert!(m.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(m.bytes.clone()).unwrap();
    let value = |name: &str| -> u64 {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("xiaoneng_evidence_uploads_swept_total"), 1, "{text}");
    assert_eq!(value("xiaoneng_evidence_upload_bytes_freed_total"), 130 * 1024 + 5000, "{text}");
    assert_eq!(value("xiaoneng_evidence_uploads_unfinished"), 1, "{text}");
    assert!(text.contains("# TYPE xiaoneng_evidence_uploads_swept_total counter"));
    app.get("/api/v1/metrics", &inspector).await.expect(403, "forbidden");
});
