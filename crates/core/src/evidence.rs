//! Evidence files: what kinds the office accepts (judged by content, not by name), and the two
//! digests every file gets while it streams in, resumable across requests and server instances.

pub mod strip;

use sha2::{Digest, Sha256};
use sm3::Sm3;
use sm3::digest::common::hazmat::{SerializableState, SerializedState};

labelled_enum! {
    /// What an evidence file holds.
    EvidenceKind {
        Video = "video", "视频", "video";
        Photo = "photo", "照片", "photo";
        Audio = "audio", "录音", "audio";
        Document = "document", "文档", "document";
    }
}

labelled_enum! {
    /// Why a file was added to a finding: what the inspection saw (`evidence`), or what the
    /// department or the person named offers with an appeal (`appeal`).
    EvidencePurpose {
        Evidence = "evidence", "取证材料", "inspection evidence";
        Appeal = "appeal", "申诉材料", "appeal file";
    }
}

/// Pieces at least this large are hashed on two threads.
pub const PARALLEL_FROM: usize = 256 * 1024;

/// How many leading bytes are enough to tell a file's type.
pub const SNIFF_BYTES: usize = 4096;

/// The types accepted, each with its kind. Anything else is refused, whatever it is named.
const ACCEPTED: &[(&str, EvidenceKind)] = &[
    ("video/mp4", EvidenceKind::Video),
    ("video/quicktime", EvidenceKind::Video),
    ("video/webm", EvidenceKind::Video),
    ("video/x-matroska", EvidenceKind::Video),
    ("video/3gpp", EvidenceKind::Video),
    ("video/x-msvideo", EvidenceKind::Video),
    ("image/jpeg", EvidenceKind::Photo),
    ("image/png", EvidenceKind::Photo),
    ("image/webp", EvidenceKind::Photo),
    ("image/heif", EvidenceKind::Photo),
    ("image/heic", EvidenceKind::Photo),
    ("image/gif", EvidenceKind::Photo),
    ("audio/mpeg", EvidenceKind::Audio),
    ("audio/m4a", EvidenceKind::Audio),
    ("audio/x-m4a", EvidenceKind::Audio),
    ("audio/aac", EvidenceKind::Audio),
    ("audio/x-wav", EvidenceKind::Audio),
    ("audio/ogg", EvidenceKind::Audio),
    ("audio/amr", EvidenceKind::Audio),
    ("audio/x-flac", EvidenceKind::Audio),
    ("application/pdf", EvidenceKind::Document),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", EvidenceKind::Document),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", EvidenceKind::Document),
    ("application/msword", EvidenceKind::Document),
    ("application/vnd.ms-excel", EvidenceKind::Document),
    ("application/vnd.oasis.opendocument.text", EvidenceKind::Document),
];

/// What a file's first bytes say it is: its media type and kind, or `None` for a type the office
/// does not accept (an executable, an archive, plain text, or something unknown).
pub fn sniff(head: &[u8]) -> Option<(&'static str, EvidenceKind)> {
    let t = infer::get(head)?;
    ACCEPTED.iter().find(|(mime, _)| *mime == t.mime_type()).map(|&(mime, kind)| (mime, kind))
}

/// The usual file extension of an accepted type (a name for a file whose own name is not shown).
pub fn extension_of(mime: &str) -> &'static str {
    match mime {
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "video/x-matroska" => "mkv",
        "video/3gpp" => "3gp",
        "video/x-msvideo" => "avi",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heif" => "heif",
        "image/heic" => "heic",
        "image/gif" => "gif",
        "audio/mpeg" => "mp3",
        "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/x-wav" => "wav",
        "audio/ogg" => "ogg",
        "audio/amr" => "amr",
        "audio/x-flac" => "flac",
        "application/pdf" => "pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.oasis.opendocument.text" => "odt",
        _ => "bin",
    }
}

/// SHA-256 and SM3 of a file, fed as it streams in. Its state can be saved between requests and
/// taken up again by any instance, so a resumed upload never reads back what it already stored.
#[derive(Clone, Default)]
pub struct StreamDigest {
    sha256: Sha256,
    sm3: Sm3,
}

/// The finished digests, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub sha256: String,
    pub sm3: String,
}

impl StreamDigest {
    pub fn update(&mut self, bytes: &[u8]) {
        if bytes.len() < PARALLEL_FROM {
            self.sha256.update(bytes);
            self.sm3.update(bytes);
            return;
        }
        // Each digest is sequential, but the two are independent: on a large piece, one thread
        // each (the upload's hashing then costs about the slower of the two, not their sum).
        let Self { sha256, sm3 } = self;
        std::thread::scope(|s| {
            s.spawn(|| sm3.update(bytes));
            sha256.update(bytes);
        });
    }

    /// The state so far, to be stored with the upload.
    pub fn save(&self) -> Vec<u8> {
        let mut out = self.sha256.serialize().to_vec();
        out.extend_from_slice(&self.sm3.serialize());
        out
    }

    /// Takes up a saved state; `None` if the bytes are not one.
    pub fn restore(saved: &[u8]) -> Option<Self> {
        let split = SerializedState::<Sha256>::default().len();
        if saved.len() != split + SerializedState::<Sm3>::default().len() {
            return None;
        }
        let sha256 = Sha256::deserialize(&SerializedState::<Sha256>::try_from(&saved[..split]).ok()?).ok()?;
        let sm3 = Sm3::deserialize(&SerializedState::<Sm3>::try_from(&saved[split..]).ok()?).ok()?;
        Some(Self { sha256, sm3 })
    }

    pub fn finish(self) -> Digests {
        Digests { sha256: hex::encode(self.sha256.finalize()), sm3: hex::encode(self.sm3.finalize()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_published_vectors() {
        let mut d = StreamDigest::default();
        d.update(b"abc");
        let out = d.finish();
        assert_eq!(out.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // GM/T 0004-2012, example 1.
        assert_eq!(out.sm3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn a_saved_state_resumes_to_the_same_digests() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut whole = StreamDigest::default();
        whole.update(&data);
        let whole = whole.finish();
        // Broken off at offsets that fall inside and on block boundaries.
        // (Pieces of 256 KiB and more take the two-thread path.)
        for cut in [0, 1, 63, 64, 65, 4096, 300_000, 599_999, 600_000] {
            let mut first = StreamDigest::default();
            first.update(&data[..cut]);
            let saved = first.save();
            let mut resumed = StreamDigest::restore(&saved).expect("a saved state restores");
            resumed.update(&data[cut..]);
            assert_eq!(resumed.finish(), whole, "cut at {cut}");
        }
        assert!(StreamDigest::restore(b"not a state").is_none());
    }

    #[test]
    fn types_are_told_by_content() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
        assert_eq!(sniff(&png), Some(("image/png", EvidenceKind::Photo)));
        assert_eq!(sniff(b"%PDF-1.4\n%"), Some(("application/pdf", EvidenceKind::Document)));
        let mp4 = [0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0];
        assert_eq!(sniff(&mp4).map(|s| s.1), Some(EvidenceKind::Video));
        // A Windows executable named video.mp4 is still an executable; text is not evidence.
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"), None);
        assert_eq!(sniff(b"just some text"), None);
        assert_eq!(sniff(b""), None);
        assert!(ACCEPTED.iter().all(|(mime, _)| extension_of(mime) != "bin"), "every accepted type has a name");
    }
}
