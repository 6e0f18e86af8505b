//! Where a photo or video keeps the place it was taken and the device that took it, so that a
//! department can be served the file without them while the office keeps the original.
//!
//! Nothing is cut out: each piece of metadata is written over in place with bytes of the same
//! length (zeros, a marker or box type that readers skip, a checksum that matches), so every byte
//! offset of the original stays valid — an HTTP range of the blanked file is the same range of
//! the original with the same [`Patch`]es applied, and the file can be blanked as it streams.
//!
//! Finding the metadata needs only the structure at the start of the file (and, for a video,
//! the `moov` box wherever it is): a [`Scan`] asks for the byte ranges it needs, one at a time,
//! and returns the patches. It reads no more than [`MAX_READS`] windows; a file whose structure
//! it cannot follow is blanked as far as it could follow it.
//!
//! Blanked: JPEG `APP1` (Exif with GPS, make, model, serial numbers; XMP), `APP3`–`APP13`,
//! `APP15` and comments, also in the further images an MPF segment lists; PNG `eXIf`, text and
//! `tIME` chunks before the image data; WebP `EXIF` and `XMP ` chunks; ISO base media video
//! (MP4, MOV, 3GP) `udta` and `meta` boxes in `moov` and its tracks, and top-level `udta`, `meta`
//! and `uuid` boxes; HEIF/HEIC Exif and XMP items.

use std::ops::Range;

/// Bytes written over the original, at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub at: u64,
    pub with: Fill,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fill {
    /// This many zero bytes.
    Zeros(u64),
    /// These bytes.
    Bytes(Vec<u8>),
}

impl Patch {
    fn zeros(at: u64, len: u64) -> Self {
        Patch { at, with: Fill::Zeros(len) }
    }

    fn bytes(at: u64, bytes: &[u8]) -> Self {
        Patch { at, with: Fill::Bytes(bytes.to_vec()) }
    }

    pub fn len(&self) -> u64 {
        match &self.with {
            Fill::Zeros(n) => *n,
            Fill::Bytes(b) => b.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of the file it covers.
    pub fn span(&self) -> Range<u64> {
        self.at..self.at.saturating_add(self.len())
    }
}

/// Writes the patches over `chunk`, which holds the file's bytes from offset `start`.
pub fn apply(patches: &[Patch], start: u64, chunk: &mut [u8]) {
    let end = start + chunk.len() as u64;
    for p in patches {
        let span = p.span();
        if span.end <= start || span.start >= end {
            continue;
        }
        let from = span.start.max(start);
        let to = span.end.min(end);
        let dst = &mut chunk[(from - start) as usize..(to - start) as usize];
        match &p.with {
            Fill::Zeros(_) => dst.fill(0),
            Fill::Bytes(b) => dst.copy_from_slice(&b[(from - span.start) as usize..(to - span.start) as usize]),
        }
    }
}

/// What a scan needs next, or what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Read this many bytes from this offset (fewer at the end of the file) and call
    /// [`Scan::next`] with them.
    Read { at: u64, len: u64 },
    /// The patches that blank the file's metadata, in file order.
    Done(Vec<Patch>),
}

/// At most this many reads per file: a file that needs more is blanked as far as they went.
pub const MAX_READS: u32 = 48;
/// Bytes read at a time: most files' metadata structure is in the first window.
const WINDOW: u64 = 64 * 1024;
/// A box read whole to be parsed (a HEIF `meta`) may be at most this large.
const MAX_LOAD: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The file's top level; `video`: a movie (not a HEIF image).
    Top { video: bool },
    /// Inside `moov`, a `trak`, its `mdia` or `minf`.
    Movie,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Task {
    /// JPEG segments from `at`.
    Jpeg { at: u64 },
    /// PNG chunks from `at`.
    Png { at: u64 },
    /// RIFF (WebP) chunks from `at` to `end`.
    Riff { at: u64, end: u64 },
    /// ISO base media boxes from `at` to `end`.
    Boxes { at: u64, end: u64, level: Level },
    /// A HEIF `meta` box, read whole.
    HeifMeta { at: u64, end: u64 },
}

/// A task that cannot go on without bytes that are not at hand.
struct Need {
    task: Task,
    at: u64,
    len: u64,
}

/// Finds where a file's metadata is (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Scan {
    size: u64,
    tasks: Vec<Task>,
    patches: Vec<Patch>,
    /// The bytes last read, and from where.
    window: (u64, Vec<u8>),
    reads: u32,
    /// JPEG images already scanned (an MPF list cannot send the scan round in circles).
    images: Vec<u64>,
}

impl Scan {
    /// A scan of a file of this type and size, or `None` for a type that keeps no metadata this
    /// module knows (or none that says where or on what it was taken).
    pub fn new(mime: &str, size: u64) -> Option<Self> {
        let task = match mime {
            "image/jpeg" => Task::Jpeg { at: 0 },
            "image/png" => Task::Png { at: 8 },
            "image/webp" => Task::Riff { at: 12, end: size },
            "video/mp4" | "video/quicktime" | "video/3gpp" => {
                Task::Boxes { at: 0, end: size, level: Level::Top { video: true } }
            }
            "image/heif" | "image/heic" => Task::Boxes { at: 0, end: size, level: Level::Top { video: false } },
            _ => return None,
        };
        Some(Scan { size, tasks: vec![task], patches: Vec::new(), window: (0, Vec::new()), reads: 0, images: vec![0] })
    }

    /// The first step: always a read.
    pub fn start(&mut self) -> Step {
        self.advance()
    }

    /// Goes on with the bytes read from `at` (as the last [`Step::Read`] asked).
    pub fn next(&mut self, at: u64, bytes: Vec<u8>) -> Step {
        self.window = (at, bytes);
        self.advance()
    }

    fn advance(&mut self) -> Step {
        while let Some(task) = self.tasks.pop() {
            if let Err(need) = self.run(task) {
                if self.reads >= MAX_READS {
                    break;
                }
                self.reads += 1;
                self.tasks.push(need.task);
                let len = need.len.max(WINDOW).min(self.size.saturating_sub(need.at));
                return Step::Read { at: need.at, len };
            }
        }
        self.tasks.clear();
        let mut patches = std::mem::take(&mut self.patches);
        patches.sort_by_key(|p| p.at);
        Step::Done(patches)
    }

    /// `len` bytes from `at` (fewer at the end of the file), if the window holds them.
    fn get(&self, at: u64, len: u64) -> Option<&[u8]> {
        let len = len.min(self.size.saturating_sub(at));
        let (start, bytes) = (&self.window.0, &self.window.1);
        if at < *start || at + len > start + bytes.len() as u64 {
            return if len == 0 { Some(&[]) } else { None };
        }
        let from = (at - start) as usize;
        Some(&bytes[from..from + len as usize])
    }

    fn run(&mut self, task: Task) -> Result<(), Need> {
        match task {
            Task::Jpeg { at } => self.jpeg(at),
            Task::Png { at } => self.png(at),
            Task::Riff { at, end } => self.riff(at, end),
            Task::Boxes { at, end, level } => self.boxes(at, end, level),
            Task::HeifMeta { at, end } => self.heif_meta(at, end),
        }
    }

    // ------------------------------------------------------------------ JPEG

    fn jpeg(&mut self, mut at: u64) -> Result<(), Need> {
        let need = |at: u64, len: u64| Need { task: Task::Jpeg { at }, at, len };
        loop {
            let Some(h) = self.get(at, 4) else { return Err(need(at, 4)) };
            if h.len() < 2 || h[0] != 0xFF {
                return Ok(()); // the end of the file, or not a marker: nothing more to follow
            }
            let marker = h[1];
            match marker {
                0xFF => {
                    at += 1; // a fill byte
                    continue;
                }
                0xD8 | 0x01 | 0xD0..=0xD7 => {
                    at += 2; // markers without a segment
                    continue;
                }
                // The image data begins (or ends): metadata comes before it.
                0xDA | 0xD9 => return Ok(()),
                _ => {}
            }
            if h.len() < 4 {
                return Ok(());
            }
            let len = u64::from(u16::from_be_bytes([h[2], h[3]]));
            if len < 2 {
                return Ok(());
            }
            let end = at + 2 + len;
            let blank = match marker {
                0xE1 | 0xE3..=0xED | 0xEF | 0xFE => true,
                0xE2 => {
                    let Some(id) = self.get(at + 4, 12) else { return Err(need(at, 16)) };
                    if id.starts_with(b"MPF\0") {
                        let Some(seg) = self.get(at, 2 + len) else { return Err(need(at, 2 + len)) };
                        let more = mpf_images(&seg[4..], at + 8);
                        for image in more {
                            if image > at
                                && image < self.size
                                && !self.images.contains(&image)
                                && self.images.len() < 16
                            {
                                self.images.push(image);
                                self.tasks.push(Task::Jpeg { at: image });
                            }
                        }
                        false
                    } else {
                        // ICC profiles stay (colours depend on them); anything else goes.
                        !id.starts_with(b"ICC_PROFILE\0")
                    }
                }
                _ => false,
            };
            if blank {
                // A comment of the same length, holding nothing: readers skip it.
                self.patches.push(Patch::bytes(at + 1, &[0xFE]));
                self.patches.push(Patch::zeros(at + 4, len - 2));
            }
            at = end;
        }
    }

    // ------------------------------------------------------------------ PNG

    fn png(&mut self, mut at: u64) -> Result<(), Need> {
        loop {
            let Some(h) = self.get(at, 8) else { return Err(Need { task: Task::Png { at }, at, len: 8 }) };
            if h.len() < 8 {
                return Ok(());
            }
            let len = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
            let kind: [u8; 4] = [h[4], h[5], h[6], h[7]];
            match &kind {
                b"IDAT" | b"IEND" => return Ok(()),
                b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME" => {
                    // A private ancillary chunk (readers skip it) of zeros, with its checksum.
                    let renamed = *b"nuLl";
                    let mut crc = Crc32::new();
                    crc.update(&renamed);
                    crc.zeros(len);
                    self.patches.push(Patch::bytes(at + 4, &renamed));
                    self.patches.push(Patch::zeros(at + 8, len));
                    self.patches.push(Patch::bytes(at + 8 + len, &crc.finish().to_be_bytes()));
                }
                _ => {}
            }
            at += 12 + len;
        }
    }

    // ------------------------------------------------------------------ WebP

    fn riff(&mut self, mut at: u64, end: u64) -> Result<(), Need> {
        while at + 8 <= end {
            let Some(h) = self.get(at, 9) else { return Err(Need { task: Task::Riff { at, end }, at, len: 9 }) };
            if h.len() < 8 {
                return Ok(());
            }
            let len = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
            match &h[..4] {
                b"EXIF" | b"XMP " => {
                    self.patches.push(Patch::bytes(at, b"JUNK"));
                    self.patches.push(Patch::zeros(at + 8, len));
                }
                // The extended header's flags say whether EXIF and XMP chunks follow: not now.
                b"VP8X" if h.len() > 8 => self.patches.push(Patch::bytes(at + 8, &[h[8] & !0x0C])),
                _ => {}
            }
            at += 8 + len + (len & 1);
        }
        Ok(())
    }

    // ------------------------------------------------------------------ ISO base media

    fn boxes(&mut self, mut at: u64, end: u64, level: Level) -> Result<(), Need> {
        while at + 8 <= end {
            let Some(h) = self.get(at, 16) else {
                return Err(Need { task: Task::Boxes { at, end, level }, at, len: 16 });
            };
            if h.len() < 8 {
                return Ok(());
            }
            let size32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
            let kind: [u8; 4] = [h[4], h[5], h[6], h[7]];
            let (size, header) = match size32 {
                0 => (end - at, 8),
                1 if h.len() >= 16 => (u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]), 16),
                1 => return Ok(()),
                n => (n, 8),
            };
            if size < header || at.saturating_add(size) > end {
                return Ok(()); // not a box: stop following
            }
            let box_end = at + size;
            match (level, &kind) {
                (Level::Top { .. }, b"moov") | (Level::Movie, b"trak" | b"mdia" | b"minf") => {
                    self.tasks.push(Task::Boxes { at: at + header, end: box_end, level: Level::Movie });
                }
                (Level::Top { video: true }, b"udta" | b"meta" | b"uuid") | (Level::Movie, b"udta" | b"meta") => {
                    // Free space of the same size, holding nothing: players skip it.
                    self.patches.push(Patch::bytes(at + 4, b"free"));
                    self.patches.push(Patch::zeros(at + header, size - header));
                }
                (Level::Top { video: false }, b"meta") if size <= MAX_LOAD => {
                    self.tasks.push(Task::HeifMeta { at, end: box_end });
                }
                _ => {}
            }
            at = box_end;
        }
        Ok(())
    }

    /// A HEIF image's `meta`: its Exif and XMP items are zeroed where `iloc` says they are.
    fn heif_meta(&mut self, at: u64, end: u64) -> Result<(), Need> {
        let Some(meta) = self.get(at, end - at) else {
            return Err(Need { task: Task::HeifMeta { at, end }, at, len: end - at });
        };
        let found = heif_metadata_extents(meta, at);
        self.patches.extend(found.into_iter().map(|r| Patch::zeros(r.start, r.end - r.start)));
        Ok(())
    }
}

/// The offsets of the further images an MPF segment lists (`tiff` is its TIFF header, which
/// starts at file offset `base`).
fn mpf_images(payload: &[u8], base: u64) -> Vec<u64> {
    let Some(tiff) = payload.get(4..) else { return Vec::new() };
    let r = Tiff(tiff, tiff.starts_with(b"II"));
    let mut out = Vec::new();
    let Some(ifd) = r.u32(4) else { return out };
    let ifd = ifd as usize;
    let Some(count) = r.u16(ifd) else { return out };
    for i in 0..usize::from(count) {
        let e = ifd + 2 + i * 12;
        if r.u16(e) != Some(0xB002) {
            continue;
        }
        let (Some(n), Some(list)) = (r.u32(e + 4), r.u32(e + 8)) else { break };
        for k in 0..(n as usize / 16).min(16) {
            if let Some(offset) = r.u32(list as usize + k * 16 + 8)
                && offset != 0
            {
                out.push(base + u64::from(offset));
            }
        }
    }
    out
}

/// A TIFF structure, little-endian or big-endian.
struct Tiff<'a>(&'a [u8], bool);

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.0.get(at..at + 2)?.try_into().ok()?;
        Some(if self.1 { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.0.get(at..at + 4)?.try_into().ok()?;
        Some(if self.1 { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }
}

/// Big-endian reads within a box.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    /// An unsigned number of `n` bytes (0, 2, 4 or 8).
    fn uint(&mut self, n: usize) -> Option<u64> {
        let s = self.take(n)?;
        Some(s.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn cstr(&mut self) -> Option<&[u8]> {
        let rest = self.b.get(self.at..)?;
        let n = rest.iter().position(|b| *b == 0)?;
        self.at += n + 1;
        Some(&rest[..n])
    }
}

/// The child boxes of a box's payload: (type, payload start, payload end), relative to `b`.
fn children(b: &[u8], from: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = from;
    while at + 8 <= b.len() {
        let size = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
        let kind = [b[at + 4], b[at + 5], b[at + 6], b[at + 7]];
        let (size, header) = match size {
            0 => (b.len() - at, 8),
            1 => match b.get(at + 8..at + 16).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
                Some(n) => (usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX), 16),
                None => break,
            },
            n => (n, 8),
        };
        if size < header || at.saturating_add(size) > b.len() {
            break;
        }
        out.push((kind, at + header, at + size));
        at += size;
    }
    out
}

/// The file ranges of a HEIF `meta` box's Exif and XMP items. `meta` is the whole box, at file
/// offset `at`.
fn heif_metadata_extents(meta: &[u8], at: u64) -> Vec<Range<u64>> {
    // meta is a full box: 8 bytes of header, 4 of version and flags, then its children.
    let kids = children(meta, 12);
    let mut wanted: Vec<u64> = Vec::new();
    for (kind, from, to) in &kids {
        if kind != b"iinf" {
            continue;
        }
        let mut r = Reader { b: &meta[*from..*to], at: 0 };
        let Some(version) = r.uint(1) else { continue };
        r.at += 3;
        let Some(_count) = r.uint(if version == 0 { 2 } else { 4 }) else { continue };
        for (kind, f, t) in children(&meta[*from..*to], r.at) {
            if &kind != b"infe" {
                continue;
            }
            let mut e = Reader { b: &meta[*from + f..*from + t], at: 0 };
            let Some(v) = e.uint(1) else { continue };
            if v < 2 {
                continue;
            }
            e.at += 3;
            let Some(id) = e.uint(if v == 2 { 2 } else { 4 }) else { continue };
            e.at += 2; // protection index
            let Some(item_type) = e.take(4).map(<[u8]>::to_vec) else { continue };
            let _name = e.cstr();
            let xmp = item_type == b"mime" && e.cstr().is_some_and(|c| c.windows(3).any(|w| w == b"xml"));
            if item_type == b"Exif" || xmp {
                wanted.push(id);
            }
        }
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    let idat = kids.iter().find(|(k, _, _)| k == b"idat").map(|(_, from, _)| at + *from as u64);
    let mut out = Vec::new();
    for (kind, from, to) in &kids {
        if kind != b"iloc" {
            continue;
        }
        let mut r = Reader { b: &meta[*from..*to], at: 0 };
        let mut parse = |r: &mut Reader<'_>| -> Option<()> {
            let version = r.uint(1)?;
            r.at += 3;
            let sizes = r.uint(1)?;
            let (offset_size, length_size) = ((sizes >> 4) as usize, (sizes & 0xF) as usize);
            let sizes = r.uint(1)?;
            let base_size = (sizes >> 4) as usize;
            let index_size = if version >= 1 { (sizes & 0xF) as usize } else { 0 };
            let count = r.uint(if version < 2 { 2 } else { 4 })?;
            for _ in 0..count {
                let id = r.uint(if version < 2 { 2 } else { 4 })?;
                let method = if version >= 1 { r.uint(2)? & 0xF } else { 0 };
                let _data_ref = r.uint(2)?;
                let base = r.uint(base_size)?;
                let extents = r.uint(2)?;
                for _ in 0..extents {
                    let _index = r.uint(index_size)?;
                    let offset = r.uint(offset_size)?;
                    let length = r.uint(length_size)?;
                    if !wanted.contains(&id) || length == 0 {
                        continue;
                    }
                    let start = match method {
                        0 => base.checked_add(offset)?,
                        1 => idat?.checked_add(base)?.checked_add(offset)?,
                        _ => continue,
                    };
                    out.push(start..start.checked_add(length)?);
                }
            }
            Some(())
        };
        let _ = parse(&mut r);
    }
    out
}

/// CRC-32 (ISO 3309, as PNG uses it).
struct Crc32(u32);

impl Crc32 {
    fn new() -> Self {
        Crc32(0xFFFF_FFFF)
    }

    fn byte(&mut self, b: u8) {
        let mut c = (self.0 ^ u32::from(b)) & 0xFF;
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        self.0 = c ^ (self.0 >> 8);
    }

    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.byte(*b);
        }
    }

    fn zeros(&mut self, n: u64) {
        for _ in 0..n {
            self.byte(0);
        }
    }

    fn finish(self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a scan against bytes in memory.
    fn scan(mime: &str, file: &[u8]) -> (Vec<Patch>, u32) {
        let mut s = Scan::new(mime, file.len() as u64).unwrap();
        let mut step = s.start();
        let mut reads = 0;
        loop {
            match step {
                Step::Read { at, len } => {
                    reads += 1;
                    let end = (at + len).min(file.len() as u64) as usize;
                    step = s.next(at, file[at as usize..end].to_vec());
                }
                Step::Done(p) => return (p, reads),
            }
        }
    }

    fn blanked(mime: &str, file: &[u8]) -> Vec<u8> {
        let (patches, _) = scan(mime, file);
        let mut out = file.to_vec();
        apply(&patches, 0, &mut out);
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn jpeg(extra: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        v.extend(segment(0xE1, b"Exif\0\0MM\0*\0\0\0\x08 GPSLatitude 31.2304N Make Huawei"));
        v.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01 sRGB profile"));
        v.extend(segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS</x:xmpmeta>"));
        v.extend_from_slice(extra);
        v.extend(segment(0xDB, &[0u8; 65]));
        v.extend(segment(0xDA, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        v.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn jpeg_exif_and_xmp_become_empty_comments_of_the_same_length() {
        let file = jpeg(&[]);
        let out = blanked("image/jpeg", &file);
        assert_eq!(out.len(), file.len());
        assert!(contains(&file, b"GPSLatitude") && !contains(&out, b"GPSLatitude"));
        assert!(!contains(&out, b"Huawei") && !contains(&out, b"xmpmeta"));
        // The header that makes it a JFIF and the colour profile stay; the image data is untouched.
        assert!(contains(&out, b"JFIF") && contains(&out, b"ICC_PROFILE"));
        assert_eq!(out[out.len() - 30..], file[file.len() - 30..]);
        // The Exif segment is now a comment (FF FE) with the same length.
        let exif_at = file.windows(6).position(|w| w == b"Exif\0\0").unwrap() - 4;
        assert_eq!(&out[exif_at..exif_at + 4], &[0xFF, 0xFE, file[exif_at + 2], file[exif_at + 3]]);
    }

    #[test]
    fn every_range_of_the_blanked_file_is_the_same_range_patched() {
        let file = jpeg(&[]);
        let (patches, _) = scan("image/jpeg", &file);
        let whole = blanked("image/jpeg", &file);
        for start in [0usize, 1, 5, 21, 40, 77, 100] {
            for len in [1usize, 3, 17, 64, 500] {
                let end = (start + len).min(file.len());
                let mut part = file[start..end].to_vec();
                apply(&patches, start as u64, &mut part);
                assert_eq!(part, whole[start..end], "{start}+{len}");
            }
        }
    }

    #[test]
    fn further_images_listed_by_mpf_are_blanked_too() {
        // A second JPEG appended after the first, found through the first one's MPF list.
        let second = jpeg(&[]);
        let mut mpf = b"MPF\0".to_vec();
        let tiff_at = mpf.len();
        mpf.extend_from_slice(b"MM\0*\0\0\0\x08"); // big-endian, IFD at 8
        mpf.extend_from_slice(&1u16.to_be_bytes());
        mpf.extend_from_slice(&0xB002u16.to_be_bytes());
        mpf.extend_from_slice(&7u16.to_be_bytes());
        mpf.extend_from_slice(&32u32.to_be_bytes()); // two entries
        mpf.extend_from_slice(&26u32.to_be_bytes()); // where they are
        mpf.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(mpf.len() - tiff_at, 26);
        let entries_at = mpf.len();
        mpf.extend_from_slice(&[0u8; 32]);
        let mut first = jpeg(&segment(0xE2, &[0u8; 0]));
        // Put the MPF segment in place of the empty APP2 and fix its entry to the second image.
        let seg_len = mpf.len() + 2;
        let empty_app2 = first.windows(4).position(|w| w == [0xFF, 0xE2, 0, 2]).unwrap();
        let mut app2 = vec![0xFF, 0xE2];
        app2.extend_from_slice(&(seg_len as u16).to_be_bytes());
        let tiff_in_file = empty_app2 + 4 + tiff_at;
        let total_first = first.len() - 4 + app2.len() + mpf.len();
        let offset = (total_first - tiff_in_file) as u32;
        mpf[entries_at + 16 + 8..entries_at + 16 + 12].copy_from_slice(&offset.to_be_bytes());
        app2.extend_from_slice(&mpf);
        first.splice(empty_app2..empty_app2 + 4, app2);
        assert_eq!(first.len(), total_first);
        let mut file = first.clone();
        file.extend_from_slice(&second);
        let out = blanked("image/jpeg", &file);
        assert!(!contains(&out[first.len()..], b"GPSLatitude"), "the second image's Exif is blanked");
        assert!(contains(&out, b"MPF\0"));
    }

    #[test]
    fn a_broken_jpeg_is_blanked_as_far_as_it_can_be_followed() {
        let mut file = jpeg(&[]);
        file.truncate(30);
        let out = blanked("image/jpeg", &file);
        assert_eq!(out.len(), 30);
        assert!(blanked("image/jpeg", b"\xFF\xD8\xFF\xE1\x00").len() == 5);
        assert_eq!(scan("image/jpeg", b"").0, vec![]);
    }

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn movie(moov_first: bool) -> Vec<u8> {
        let xyz = bx(b"\xA9xyz", b"\0\x12\x15\xC7+31.2304+121.4737/");
        let udta = bx(b"udta", &[bx(b"\xA9mak", b"\0\x05\0\0Apple").as_slice(), &xyz].concat());
        let keys = bx(b"meta", b"\0\0\0\0 com.apple.quicktime.location.ISO6709 +31.2304+121.4737/ iPhone 15");
        let trak = bx(
            b"trak",
            &[bx(b"tkhd", &[0u8; 84]), bx(b"mdia", &bx(b"mdhd", &[0u8; 24])), bx(b"udta", b"trackname")].concat(),
        );
        let moov = bx(b"moov", &[bx(b"mvhd", &[0u8; 100]), trak, udta, keys].concat());
        let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
        let mdat = bx(b"mdat", &(0..5000u32).map(|i| (i * 31 % 251) as u8).collect::<Vec<_>>());
        if moov_first { [ftyp, moov, mdat].concat() } else { [ftyp, mdat, moov].concat() }
    }

    #[test]
    fn a_movies_location_and_device_become_free_space() {
        for moov_first in [true, false] {
            let file = movie(moov_first);
            let (_, reads) = scan("video/mp4", &file);
            let out = blanked("video/mp4", &file);
            assert_eq!(out.len(), file.len());
            assert!(contains(&file, b"+31.2304+121.4737/"));
            assert!(!contains(&out, b"+31.2304+121.4737/"), "moov first: {moov_first}");
            assert!(!contains(&out, b"Apple") && !contains(&out, b"iPhone") && !contains(&out, b"trackname"));
            // Everything the player needs is as it was.
            for keep in [&b"mvhd"[..], b"tkhd", b"mdhd", b"ftyp", b"mdat", b"moov", b"trak"] {
                assert!(contains(&out, keep), "{}", String::from_utf8_lossy(keep));
            }
            let mdat = file.windows(4).position(|w| w == b"mdat").unwrap();
            assert_eq!(out[mdat..mdat + 5004], file[mdat..mdat + 5004]);
            assert!(reads <= 3, "{reads} reads");
        }
    }

    #[test]
    fn a_movie_with_a_64_bit_box_and_a_box_to_the_end() {
        let mut file = bx(b"ftyp", b"qt  \0\0\0\0qt  ");
        // A 64-bit mdat header.
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&(16u64 + 100).to_be_bytes());
        file.extend_from_slice(&[7u8; 100]);
        // moov "to the end of the file" (size 0).
        let inner = bx(b"udta", bx(b"\xA9xyz", b"+22.5431+114.0579/").as_slice());
        file.extend_from_slice(&0u32.to_be_bytes());
        file.extend_from_slice(b"moov");
        file.extend_from_slice(&inner);
        let out = blanked("video/quicktime", &file);
        assert!(!contains(&out, b"+22.5431") && contains(&out, b"free"));
    }

    #[test]
    fn heif_exif_items_are_zeroed_where_iloc_puts_them() {
        let exif = b"\0\0\0\x06Exif\0\0MM\0* GPS 39.9042N Xiaomi";
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        // iinf with item 1 (hvc1) and 2 (Exif); iloc v0, offsets and lengths of 4 bytes.
        let infe = |id: u16, kind: &[u8; 4]| {
            let mut p = vec![2, 0, 0, 0];
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(&[0, 0]);
            p.extend_from_slice(kind);
            p.push(0);
            bx(b"infe", &p)
        };
        let mut iinf = vec![0, 0, 0, 0, 0, 2];
        iinf.extend(infe(1, b"hvc1"));
        iinf.extend(infe(2, b"Exif"));
        let iinf = bx(b"iinf", &iinf);
        let iloc_len = 8 + 4 + 2 + 2 + 2 * (2 + 2 + 2 + 4 + 4);
        let meta_len = 12 + iinf.len() + iloc_len;
        let data_at = ftyp.len() + meta_len + 8;
        let image = [9u8; 50];
        let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 2];
        for (id, at, len) in [(1u16, data_at, image.len()), (2, data_at + image.len(), exif.len())] {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 1]);
            iloc.extend_from_slice(&(at as u32).to_be_bytes());
            iloc.extend_from_slice(&(len as u32).to_be_bytes());
        }
        let iloc = bx(b"iloc", &iloc);
        assert_eq!(iloc.len(), iloc_len);
        let meta = bx(b"meta", &[vec![0, 0, 0, 0], iinf, iloc].concat());
        let mdat = bx(b"mdat", &[&image[..], exif].concat());
        let file = [ftyp, meta, mdat].concat();
        let out = blanked("image/heic", &file);
        assert!(contains(&file, b"39.9042N") && !contains(&out, b"39.9042N") && !contains(&out, b"Xiaomi"));
        assert!(contains(&out, &image), "the picture itself stays");
    }

    #[test]
    fn png_text_and_exif_chunks_become_skippable_with_matching_checksums() {
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let mut v = (data.len() as u32).to_be_bytes().to_vec();
            v.extend_from_slice(kind);
            v.extend_from_slice(data);
            let mut c = Crc32::new();
            c.update(kind);
            c.update(data);
            v.extend_from_slice(&c.finish().to_be_bytes());
            v
        };
        let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
        file.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        file.extend(chunk(b"eXIf", b"MM\0* GPS 23.1291N"));
        file.extend(chunk(b"tEXt", b"Device\0OPPO Find X7"));
        file.extend(chunk(b"IDAT", &[1, 2, 3]));
        file.extend(chunk(b"IEND", &[]));
        let out = blanked("image/png", &file);
        assert!(!contains(&out, b"23.1291N") && !contains(&out, b"OPPO"));
        // Every chunk's checksum still matches its type and data.
        let mut at = 8;
        while at < out.len() {
            let len = u32::from_be_bytes(out[at..at + 4].try_into().unwrap()) as usize;
            let mut c = Crc32::new();
            c.update(&out[at + 4..at + 8 + len]);
            assert_eq!(c.finish().to_be_bytes(), out[at + 8 + len..at + 12 + len], "chunk at {at}");
            at += 12 + len;
        }
        // The published check value of CRC-32.
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.finish(), 0xCBF4_3926);
    }

    #[test]
    fn webp_metadata_chunks_become_junk() {
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let mut v = kind.to_vec();
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(data);
            if data.len() % 2 == 1 {
                v.push(0);
            }
            v
        };
        let body = [
            chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            chunk(b"VP8 ", &[5u8; 21]),
            chunk(b"EXIF", b"MM\0* GPS 30.5728N"),
            chunk(b"XMP ", b"<x:xmpmeta>Vivo</x:xmpmeta>"),
        ]
        .concat();
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
        file.extend_from_slice(b"WEBP");
        file.extend_from_slice(&body);
        let out = blanked("image/webp", &file);
        assert!(!contains(&out, b"30.5728N") && !contains(&out, b"Vivo") && !contains(&out, b"EXIF"));
        assert_eq!(out[20], 0, "the flags no longer announce EXIF or XMP");
        assert!(contains(&out, &[5u8; 21]));
    }

    #[test]
    fn other_types_are_not_scanned() {
        assert!(Scan::new("application/pdf", 10).is_none());
        assert!(Scan::new("audio/mpeg", 10).is_none());
    }
}
