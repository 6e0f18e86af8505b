//! Evidence files: tus uploads that survive broken connections, digests that match `sha256sum`,
//! Range for players, altered objects caught, types told by content, and who may add or see what.

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use base64::Engine;
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

async fn create(app: &TestApp, s: &Session, finding: i64, len: usize, filename: &str, purpose: &str) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/findings/{finding}/uploads"))
        .header(header::COOKIE, &s.cookie)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", len.to_string())
        .header("upload-metadata", format!("filename {},purpose {}", b64(filename), b64(purpose)))
        .body(Body::empty())
        .unwrap();
    app.send(req).await
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
    // Views from the first byte are recorded (two: the first range, the whole file); seeking
    // within one is not; the download is.
    let auditor = app.login("auditor").await;
    let views = app.get("/api/v1/audit?action=evidence.view", &auditor).await;
    assert_eq!(views.ok()["total"], 2, "{}", views.json);
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
