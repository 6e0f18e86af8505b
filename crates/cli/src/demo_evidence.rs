//! Small evidence files for the demo city, made here (nothing is downloaded): a photo of the
//! window as the inspector found it (PNG), a recording of the hall (WAV), and the office's
//! written record of the visit (PDF, in Chinese with a standard CJK font every viewer has).

use anyhow::Context;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};
use rand::{Rng, rngs::StdRng};
use sea_orm::DatabaseTransaction;
use xiaoneng_core::evidence::{EvidenceKind, EvidencePurpose, StreamDigest};
use xiaoneng_server::auth::Act;
use xiaoneng_store::{entity::finding, evidence as store};

use crate::demo::Cast;

/// Attaches the files an inspector would have brought back from the visit of `f`.
pub async fn attach(
    tx: &DatabaseTransaction,
    cast: &mut Cast,
    objects: &dyn ObjectStore,
    rng: &mut StdRng,
    f: &finding::Model,
    category: &str,
) -> anyhow::Result<usize> {
    let by = f.recorded_by;
    let when = f.created_at;
    let mut files = vec![(
        "photo",
        "image/png",
        format!("现场照片-{}.png", f.id),
        photo(rng, !matches!(category, "RUDE" | "SLOW" | "HARD")),
    )];
    if rng.random_bool(0.35) {
        files.push(("audio", "audio/x-wav", format!("现场录音-{}.wav", f.id), recording(rng)));
    }
    if rng.random_bool(0.25) {
        let lines = [
            format!("效能暗访记录（第 {} 号问题）", f.id),
            format!("记录时间：{}", when.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y年%m月%d日 %H:%M")),
            "情况：".to_owned(),
            f.description.chars().take(36).collect(),
            "附：现场照片、录像各一份。".to_owned(),
            "市效能办暗访组".to_owned(),
        ];
        files.push(("document", "application/pdf", format!("暗访记录-{}.pdf", f.id), record(&lines)));
    }
    for (i, (kind, mime, filename, bytes)) in files.iter().enumerate() {
        let recorder = cast.user(tx, by).await?;
        put(tx, cast.act(&recorder, when), objects, f, i, (kind, mime, filename), bytes.clone()).await?;
    }
    Ok(files.len())
}

#[allow(clippy::too_many_arguments)]
async fn put(
    tx: &DatabaseTransaction,
    act: Act<'_>,
    objects: &dyn ObjectStore,
    f: &finding::Model,
    n: usize,
    (kind, mime, filename): (&str, &str, &str),
    bytes: Vec<u8>,
) -> anyhow::Result<()> {
    let finding = f.id;
    let mut d = StreamDigest::default();
    d.update(&bytes);
    let d = d.finish();
    let key = format!("evidence/{finding}/demo-{n}");
    let path = ObjectPath::from(key.as_str());
    let size = i64::try_from(bytes.len()).context("size")?;
    objects.put(&path, PutPayload::from(bytes)).await.context("storing a demo evidence file")?;
    let tag = objects.head(&path).await?.e_tag;
    let e = store::NewEvidence {
        finding_id: finding,
        purpose: EvidencePurpose::Evidence,
        kind: EvidenceKind::parse(kind).unwrap_or(EvidenceKind::Document),
        mime: mime.into(),
        filename: filename.into(),
        bytes: size,
        sha256: d.sha256,
        sm3: d.sm3,
        object_key: key,
        uploaded_by: act.user.id,
        verified_tag: tag,
    };
    xiaoneng_server::inspections::evidence::file(tx, act, f, e, None).await?;
    Ok(())
}

// ------------------------------------------------------------------ photo (PNG)

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib with stored (uncompressed) blocks: valid, and simple.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    while let Some(b) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A service window seen from the hall: wall, window frame, counter, a chair — empty when the
/// post was left, with someone behind it otherwise.
fn photo(rng: &mut StdRng, empty: bool) -> Vec<u8> {
    const W: usize = 160;
    const H: usize = 120;
    let wall = [rng.random_range(190..230u8), rng.random_range(190..225u8), rng.random_range(170..210u8)];
    let mut px = vec![[0u8; 3]; W * H];
    for (i, p) in px.iter_mut().enumerate() {
        let (x, y) = (i % W, i / W);
        let shade = u8::try_from(y / 6).unwrap_or(0);
        *p = if (30..130).contains(&x) && (15..70).contains(&y) {
            // the window: glass, framed
            if (33..=126).contains(&x) && (18..=66).contains(&y) { [200, 222, 235] } else { [90, 90, 95] }
        } else if y >= 78 {
            [120 - shade, 85 - shade / 2, 55] // the counter
        } else {
            [wall[0] - shade, wall[1] - shade, wall[2] - shade]
        };
        // the chair behind the glass
        if (70..90).contains(&x) && (48..66).contains(&y) {
            *p = [60, 60, 70];
        }
        if !empty {
            let (dx, dy) = (x.abs_diff(80), y.abs_diff(36));
            if dx * dx + dy * dy < 64 || ((68..93).contains(&x) && (45..66).contains(&y)) {
                *p = [40, 55, 95]; // someone in uniform
            }
        }
        let noise = rng.random_range(0..6u8);
        *p = p.map(|c| c.saturating_add(noise));
    }
    let mut raw = Vec::with_capacity(H * (W * 3 + 1));
    for row in px.chunks(W) {
        raw.push(0);
        raw.extend(row.iter().flatten());
    }
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&u32::try_from(W).unwrap_or(0).to_be_bytes());
    ihdr.extend_from_slice(&u32::try_from(H).unwrap_or(0).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

// ------------------------------------------------------------------ recording (WAV)

/// Three seconds of a service hall: a low hum, murmur, and the ticket machine's chime.
fn recording(rng: &mut StdRng) -> Vec<u8> {
    const RATE: u32 = 8000;
    let n = RATE * 3;
    let chime_at = rng.random_range(0..RATE);
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t = f64::from(i) / f64::from(RATE);
        let mut v = 0.08 * (2.0 * std::f64::consts::PI * 100.0 * t).sin() + rng.random_range(-0.06..0.06);
        if (chime_at..chime_at + RATE / 2).contains(&i) {
            let k = f64::from(i - chime_at) / f64::from(RATE);
            v += 0.4 * (-6.0 * k).exp() * (2.0 * std::f64::consts::PI * 880.0 * t).sin();
        }
        // 8-bit PCM is unsigned, centred on 128.
        samples.push((128.0 + v.clamp(-1.0, 1.0) * 127.0) as u8);
    }
    let mut out = Vec::with_capacity(44 + samples.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + n).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes()); // bytes per second
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

// ------------------------------------------------------------------ record (PDF)

/// A one-page A4 PDF of `lines`, set in STSong-Light (a standard Chinese font of PDF viewers).
fn record(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("BT /F1 16 Tf 72 770 Td 24 TL\n");
    for line in lines {
        let hex: String = line.encode_utf16().map(|u| format!("{u:04X}")).collect();
        text.push_str(&format!("<{hex}> Tj T*\n"));
    }
    text.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 7 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>"
            .to_owned(),
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 6 0 R >>"
            .to_owned(),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] \
         /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use xiaoneng_core::evidence::{EvidenceKind, sniff};

    use super::*;

    #[test]
    fn the_made_files_are_what_they_claim_to_be() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(sniff(&photo(&mut rng, true)).map(|s| s.1), Some(EvidenceKind::Photo));
        assert_eq!(sniff(&recording(&mut rng)).map(|s| s.1), Some(EvidenceKind::Audio));
        assert_eq!(sniff(&record(&["效能".to_owned()])), Some(("application/pdf", EvidenceKind::Document)));
        // The PNG's checksum of "IEND" is the one every PNG ends with.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
