//! Personal data at rest with the national algorithms (decision 0030): a master key, the keys it
//! derives, SM4-GCM envelopes for values and HMAC-SM3 blind indexes for looking them up.
//!
//! - **Master key**: 16 to 64 random bytes, kept outside the database (a file or an environment
//!   variable), written as hex or base64. It is never used directly: HMAC-SM3 under it derives
//!   the SM4 key (first 16 bytes of one output), the blind-index key (another output) and the key
//!   id (the first 4 bytes of a third, in hex), so one secret serves all three without reusing a
//!   key for two purposes.
//! - **Envelope**: `sm4gcm:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, SM4 in GCM mode
//!   (GB/T 36624, RFC 8998) with a 96-bit nonce the caller draws at random for every value and a
//!   128-bit tag. The associated data names the field (`xiaoneng/v1/people.mobile`), so a value
//!   moved into another column does not open. The key id says which key opens it, which is what
//!   lets a rotation proceed while old and new values sit side by side.
//! - **Blind index**: HMAC-SM3 under the index key of a domain and the normalised value, in hex:
//!   equal values give equal indexes under one key, and without the key a 10-digit search space
//!   cannot be walked, as it could with a plain hash.
//!
//! Pure: the nonce comes in as a parameter, like time does elsewhere; the store draws it.

use aes_gcm::{
    AesGcm, KeyInit,
    aead::{Aead, Payload, consts::U12},
};
use base64::Engine;
use hmac::{Hmac, Mac};
use sm3::Sm3;
use sm4::Sm4;
use zeroize::Zeroize;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag.
pub type Sm4Gcm = AesGcm<Sm4, U12>;

/// The shortest master key accepted: SM4's own key size.
pub const KEY_MIN_BYTES: usize = 16;
pub const KEY_MAX_BYTES: usize = 64;
/// What [`MasterKey::generate_text`] is given: 256 bits.
pub const NEW_KEY_BYTES: usize = 32;
pub const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const ENVELOPE_PREFIX: &str = "sm4gcm";

/// HMAC-SM3 (GB/T 15852.2 with SM3).
pub fn hmac_sm3(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length: new_from_slice cannot fail for it.
    let mut mac = match <Hmac<Sm3> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[allow(clippy::panic)]
fn unreachable_hmac() -> ! {
    panic!("HMAC accepts keys of every length")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is empty")]
    Empty,
    #[error("the key is neither hex nor base64")]
    Encoding,
    #[error(
        "the key is {0} bytes; it must be {KEY_MIN_BYTES} to {KEY_MAX_BYTES} (generate one with `xiaoneng crypto new-key`)"
    )]
    Length(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not an encrypted value")]
    Malformed,
    #[error("the value was encrypted under key {0}, which is not one of the configured keys")]
    UnknownKey(String),
    #[error("the value under key {0} does not authenticate: altered, moved from another field, or a wrong key")]
    Inauthentic(String),
}

/// A master key and what it derives. Shown only by its id; zeroed when dropped.
pub struct MasterKey {
    enc: [u8; 16],
    index: [u8; 32],
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.enc.zeroize();
        self.index.zeroize();
    }
}

impl MasterKey {
    /// A key as written in a key file or variable: hex (tried first) or base64, spaces and line
    /// breaks around it ignored.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut bytes = if t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).map_err(|_| KeyError::Encoding)?
        } else {
            let b64 = base64::engine::general_purpose::STANDARD;
            let b64url = base64::engine::general_purpose::URL_SAFE;
            let padded = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
            let p = padded(t.trim_end_matches('='));
            b64.decode(&p).or_else(|_| b64url.decode(&p)).map_err(|_| KeyError::Encoding)?
        };
        let k = Self::from_bytes(&bytes);
        bytes.zeroize();
        k
    }

    pub fn from_bytes(master: &[u8]) -> Result<Self, KeyError> {
        if !(KEY_MIN_BYTES..=KEY_MAX_BYTES).contains(&master.len()) {
            return Err(KeyError::Length(master.len()));
        }
        let mut enc_full = hmac_sm3(master, &[b"xiaoneng/v1/sm4-gcm"]);
        let mut enc = [0u8; 16];
        enc.copy_from_slice(&enc_full[..16]);
        enc_full.zeroize();
        let index = hmac_sm3(master, &[b"xiaoneng/v1/blind-index"]);
        let id = hex::encode(&hmac_sm3(master, &[b"xiaoneng/v1/key-id"])[..4]);
        Ok(Self { enc, index, id })
    }

    /// A new key's text (hex) from random bytes the caller drew.
    pub fn generate_text(random: &[u8; NEW_KEY_BYTES]) -> String {
        hex::encode(random)
    }

    /// Eight hex digits naming the key in envelopes, logs and the database; reveals nothing of it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Sm4Gcm {
        Sm4Gcm::new(&self.enc.into())
    }

    /// Encrypts `clear` for `domain` (the field it belongs to) into an envelope. `nonce` must be
    /// fresh random bytes for every call: GCM under one key must never see a nonce twice.
    pub fn seal(&self, domain: &str, nonce: [u8; NONCE_BYTES], clear: &[u8]) -> String {
        let aad = aad(domain);
        let ct = match self.cipher().encrypt(&nonce.into(), Payload { msg: clear, aad: aad.as_bytes() }) {
            Ok(ct) => ct,
            // GCM refuses only messages past 64 GB.
            Err(_) => unreachable_gcm(),
        };
        let mut body = Vec::with_capacity(NONCE_BYTES + ct.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&ct);
        format!("{ENVELOPE_PREFIX}:{}:{}", self.id, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body))
    }

    /// Decrypts an envelope sealed under this key for `domain`.
    pub fn open(&self, domain: &str, envelope: &str) -> Result<Vec<u8>, OpenError> {
        let (kid, body) = split_envelope(envelope)?;
        if kid != self.id {
            return Err(OpenError::UnknownKey(kid.to_owned()));
        }
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).map_err(|_| OpenError::Malformed)?;
        if body.len() < NONCE_BYTES + TAG_BYTES {
            return Err(OpenError::Malformed);
        }
        let (nonce, ct) = body.split_at(NONCE_BYTES);
        let mut n = [0u8; NONCE_BYTES];
        n.copy_from_slice(nonce);
        let aad = aad(domain);
        self.cipher()
            .decrypt(&n.into(), Payload { msg: ct, aad: aad.as_bytes() })
            .map_err(|_| OpenError::Inauthentic(kid.to_owned()))
    }

    /// The blind index of a normalised value in an index domain (`mobile`: every phone number,
    /// whatever table holds it, so that one number can be found wherever it is).
    pub fn blind_index(&self, index_domain: &str, normalised: &str) -> String {
        hex::encode(hmac_sm3(&self.index, &[index_domain.as_bytes(), &[0], normalised.as_bytes()]))
    }
}

#[allow(clippy::panic)]
fn unreachable_gcm() -> ! {
    panic!("SM4-GCM refused a short message")
}

fn aad(domain: &str) -> String {
    format!("xiaoneng/v1/{domain}")
}

fn split_envelope(envelope: &str) -> Result<(&str, &str), OpenError> {
    let mut parts = envelope.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ENVELOPE_PREFIX), Some(kid), Some(body)) if kid.len() == 8 => Ok((kid, body)),
        _ => Err(OpenError::Malformed),
    }
}

/// The id of the key an envelope was sealed under.
pub fn envelope_key_id(envelope: &str) -> Option<&str> {
    split_envelope(envelope).ok().map(|(k, _)| k)
}

/// What every envelope sealed under key `id` starts with (for a `LIKE 'prefix%'` match).
pub fn envelope_prefix(id: &str) -> String {
    format!("{ENVELOPE_PREFIX}:{id}:")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use sm3::Digest;
    use sm4::cipher::{BlockCipherDecrypt, BlockCipherEncrypt};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    /// GM/T 0004-2012 (GB/T 32905-2016), appendix A, example 1: "abc".
    #[test]
    fn sm3_standard_example_1() {
        assert_eq!(
            hex::encode(Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    /// GM/T 0004-2012, appendix A, example 2: "abcd" sixteen times (64 bytes, two blocks once padded).
    #[test]
    fn sm3_standard_example_2() {
        assert_eq!(
            hex::encode(Sm3::digest("abcd".repeat(16).as_bytes())),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    const SM4_KEY: &str = "0123456789abcdeffedcba9876543210";

    /// GM/T 0002-2012 (GB/T 32907-2016), appendix A, example 1: one block, key = plaintext.
    #[test]
    fn sm4_standard_example_1() {
        let c = Sm4::new_from_slice(&h(SM4_KEY)).unwrap();
        let mut block = sm4::cipher::Block::<Sm4>::try_from(&h(SM4_KEY)[..]).unwrap();
        c.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
        c.decrypt_block(&mut block);
        assert_eq!(hex::encode(block), SM4_KEY);
    }

    /// GM/T 0002-2012, appendix A, example 2: the same block encrypted 1,000,000 times.
    #[test]
    fn sm4_standard_example_2_a_million_times() {
        let c = Sm4::new_from_slice(&h(SM4_KEY)).unwrap();
        let mut block = sm4::cipher::Block::<Sm4>::try_from(&h(SM4_KEY)[..]).unwrap();
        for _ in 0..1_000_000 {
            c.encrypt_block(&mut block);
        }
        assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
    }

    /// The mode: RFC 8998 appendix A.1 (SM4-GCM), which GB/T 36624 also gives.
    #[test]
    fn sm4_gcm_rfc8998_example() {
        let c = Sm4Gcm::new_from_slice(&h(SM4_KEY)).unwrap();
        let nonce: [u8; 12] = h("00001234567800000000ABCD").try_into().unwrap();
        let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let pt = h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
                    EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA");
        let expected = h("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
                          D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D\
                          83DE3541E4C2B58177E065A9BF7B62EC");
        let ct = c.encrypt(&nonce.into(), Payload { msg: &pt, aad: &aad }).unwrap();
        assert_eq!(hex::encode(&ct), hex::encode(&expected));
        assert_eq!(c.decrypt(&nonce.into(), Payload { msg: &ct, aad: &aad }).unwrap(), pt);
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(c.decrypt(&nonce.into(), Payload { msg: &bad, aad: &aad }).is_err());
    }

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_under_its_key_and_its_field() {
        let k = key(1);
        let e = k.seal("people.mobile", [7; 12], b"13812345678");
        assert!(e.starts_with(&envelope_prefix(k.id())), "{e}");
        assert!(!e.contains("13812345678"));
        assert_eq!(envelope_key_id(&e), Some(k.id()));
        assert_eq!(k.open("people.mobile", &e).unwrap(), b"13812345678");
        assert_eq!(k.open("supervisors.mobile", &e), Err(OpenError::Inauthentic(k.id().to_owned())));
        let other = key(2);
        assert_ne!(other.id(), k.id());
        assert_eq!(other.open("people.mobile", &e), Err(OpenError::UnknownKey(k.id().to_owned())));
        // Another key that claims the same id (a forged prefix) still fails the tag.
        let forged = e.replacen(k.id(), other.id(), 1);
        assert_eq!(other.open("people.mobile", &forged), Err(OpenError::Inauthentic(other.id().to_owned())));
        assert_eq!(k.open("people.mobile", "13812345678"), Err(OpenError::Malformed));
        // A fresh nonce gives another envelope for the same value.
        assert_ne!(k.seal("people.mobile", [8; 12], b"13812345678"), e);
    }

    #[test]
    fn blind_indexes_are_keyed_and_stable() {
        let (a, b) = (key(1), key(2));
        assert_eq!(a.blind_index("mobile", "13812345678"), a.blind_index("mobile", "13812345678"));
        assert_ne!(a.blind_index("mobile", "13812345678"), a.blind_index("mobile", "13812345679"));
        assert_ne!(a.blind_index("mobile", "13812345678"), b.blind_index("mobile", "13812345678"));
        assert_ne!(a.blind_index("mobile", "13812345678"), hex::encode(Sm3::digest(b"13812345678")));
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        let raw = [0xabu8; 32];
        let hex_text = hex::encode(raw);
        let b64_text = base64::engine::general_purpose::STANDARD.encode(raw);
        let id = MasterKey::from_bytes(&raw).unwrap().id().to_owned();
        assert_eq!(MasterKey::parse(&format!("  {hex_text}\n")).unwrap().id(), id);
        assert_eq!(MasterKey::parse(&b64_text).unwrap().id(), id);
        assert_eq!(MasterKey::parse(b64_text.trim_end_matches('=')).unwrap().id(), id);
        assert_eq!(MasterKey::parse("").unwrap_err(), KeyError::Empty);
        assert_eq!(MasterKey::parse("abcd").unwrap_err(), KeyError::Length(2));
        assert_eq!(MasterKey::parse("not a key!").unwrap_err(), KeyError::Encoding);
        assert_eq!(format!("{:?}", MasterKey::parse(&hex_text).unwrap()), format!("MasterKey({id})"));
        assert_eq!(MasterKey::generate_text(&raw), hex_text);
    }
}
