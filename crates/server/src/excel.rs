//! Reading and writing the .xlsx files that offices exchange rosters in, and opening Office
//! packages (zips) without trusting what they say about themselves.
//!
//! An upload is hostile until read. A 5 KB workbook can declare a sheet reaching XFD1048576 (17
//! billion cells), and a zip of a few hundred KB can inflate to gigabytes; a reader that sizes
//! anything from either claim takes the whole server down. So every import reads through
//! [`read_sheet_guarded`], off the async workers, within the import's [`Limits`]:
//!
//! - [`Package::open`] adds up every part's declared size before anything is inflated, and a part
//!   is read through [`Capped`], which stops at the size the part declared (a declared size can
//!   lie, so what actually inflates is counted too);
//! - the sheet is streamed cell by cell: its declared `<dimension>` and every cell reference are
//!   checked against the import's rows and columns as they come, and nothing is allocated from a
//!   claim — a row holds only the columns its cells reach, and only rows with values are kept;
//! - shared strings and styles are read after the sheet, keeping only the entries its cells use.

use std::{
    collections::{BTreeSet, HashMap},
    io::{self, BufReader, Cursor, Read},
};

use axum::{
    body::Bytes,
    http::header,
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, TimeDelta};
use quick_xml::{
    Reader, XmlVersion,
    escape::resolve_predefined_entity,
    events::{BytesStart, Event},
};
use rust_xlsxwriter::{Format, Workbook};
use zip::ZipArchive;

use crate::{api::attachment_disposition, error::ApiError};

pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How much of a workbook an import reads. A file that needs more is refused (422), naming what
/// was too big.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The last row (1-based) a cell may be on.
    pub max_rows: u32,
    /// The last column (1-based: 26 is Z) a cell may be in.
    pub max_cols: u32,
    /// What all the package's parts together may inflate to, in bytes.
    pub max_uncompressed: u64,
}

/// A sheet's rows that hold any value, each with its spreadsheet row number (1-based) and its
/// cells as text from column A.
pub type Rows = Vec<(u32, Vec<String>)>;

/// Reads the first sheet of an .xlsx upload within `limits`, on a blocking thread.
pub async fn read_sheet_guarded(bytes: Bytes, limits: Limits) -> Result<Rows, ApiError> {
    tokio::task::spawn_blocking(move || read_sheet(&bytes, limits).map_err(ApiError::from))
        .await
        .map_err(|e| ApiError::Internal(format!("reading a workbook: {e}")))?
}

/// Why an upload was not read.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// Not a zip, not a workbook, or a part that does not parse.
    NotXlsx,
    TooManyParts,
    /// The parts together declare more than the import reads.
    TooLarge {
        limit: u64,
    },
    /// A part inflated past the size it declared (or, at that size, did not match its checksum).
    Overran {
        part: String,
    },
    /// A cell (or, `declared`, the sheet's stated range) below the last row an import reads.
    Rows {
        at: String,
        max: u32,
        declared: bool,
    },
    /// A cell (or the stated range) right of the last column an import reads.
    Columns {
        at: String,
        max: u32,
        declared: bool,
    },
}

/// More parts than any workbook or document an office writes.
const MAX_PARTS: usize = 1000;

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotXlsx => ApiError::bad_request(
                "invalid_file",
                "文件不是有效的 Excel 工作簿（.xlsx）",
                "The file is not a valid Excel workbook (.xlsx)",
            ),
            Refusal::TooManyParts => ApiError::invalid(
                "file",
                "too_many_parts",
                format!("工作簿包含的部件超过 {MAX_PARTS} 个，超出本导入的上限"),
                format!("The workbook holds more than {MAX_PARTS} parts, more than this import reads"),
            ),
            Refusal::TooLarge { limit } => {
                let mb = limit / (1024 * 1024);
                ApiError::invalid(
                    "file",
                    "file_too_large",
                    format!("工作簿解压后超过 {mb} MB，超出本导入的上限"),
                    format!("The workbook unpacks to more than {mb} MB, more than this import reads"),
                )
            }
            Refusal::Overran { part } => ApiError::invalid(
                "file",
                "size_mismatch",
                format!("工作簿中的 {part} 与它声明的大小或校验值不符：文件已损坏或被改动过"),
                format!(
                    "{part} in the workbook does not match the size or checksum it declares: the file is damaged or was altered"
                ),
            ),
            Refusal::Rows { at, max, declared } => {
                let (zh, en) = if declared {
                    (format!("工作表声明的范围 {at}"), format!("The sheet declares the range {at}, which goes"))
                } else {
                    (format!("工作表在 {at} 有单元格"), format!("The sheet has a cell at {at},"))
                };
                ApiError::invalid(
                    "file",
                    "too_many_rows",
                    format!("{zh}，超出了本导入最多读取的 {max} 行"),
                    format!("{en} past the {max} rows this import reads"),
                )
            }
            Refusal::Columns { at, max, declared } => {
                let last = column_name(max);
                let (zh, en) = if declared {
                    (format!("工作表声明的范围 {at}"), format!("The sheet declares the range {at}, which goes"))
                } else {
                    (format!("工作表在 {at} 有单元格"), format!("The sheet has a cell at {at},"))
                };
                ApiError::invalid(
                    "file",
                    "too_many_columns",
                    format!("{zh}，超出了本导入最多读取的 {max} 列（A 到 {last} 列）"),
                    format!("{en} past the {max} columns (A to {last}) this import reads"),
                )
            }
        }
    }
}

// ------------------------------------------------------------------ the package

/// An Office package (a zip) opened within a budget: the parts' declared sizes were added up
/// before anything was inflated, and each part is read no further than it declared.
pub struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> Package<'a> {
    pub fn open(bytes: &'a [u8], max_uncompressed: u64) -> Result<Self, Refusal> {
        if !bytes.starts_with(b"PK\x03\x04") {
            return Err(Refusal::NotXlsx);
        }
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| Refusal::NotXlsx)?;
        if zip.len() > MAX_PARTS {
            return Err(Refusal::TooManyParts);
        }
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            let declared = zip.by_index_data(i).map_err(|_| Refusal::NotXlsx)?.size();
            total = total.saturating_add(declared);
            if total > max_uncompressed {
                return Err(Refusal::TooLarge { limit: max_uncompressed });
            }
        }
        Ok(Self { zip })
    }

    /// The parts' names, as stored.
    pub fn names(&self) -> Vec<String> {
        self.zip.file_names().filter_map(Result::ok).map(|n| n.into_owned()).collect()
    }

    /// A part's bytes as they inflate, capped at its declared size; `None` when there is no such
    /// part. Names are matched exactly, then ignoring case (OPC part names are case-insensitive).
    pub fn part(&mut self, name: &str) -> Result<Option<Capped<impl Read + '_>>, Refusal> {
        let index = match self.zip.index_for_name(name) {
            Some(i) => Some(i),
            None => self.zip.file_names().position(|n| n.is_ok_and(|n| n.eq_ignore_ascii_case(name))),
        };
        let Some(index) = index else { return Ok(None) };
        let file = self.zip.by_index(index).map_err(|_| Refusal::NotXlsx)?;
        let left = file.size();
        Ok(Some(Capped { inner: file, left, overran: false, name: name.to_owned() }))
    }

    /// A small part as text, refused past `max` bytes.
    pub fn text(&mut self, name: &str, max: u64) -> Result<Option<String>, Refusal> {
        let Some(part) = self.part(name)? else { return Ok(None) };
        let mut out = String::new();
        let mut limited = part.take(max.saturating_add(1));
        let read = limited.read_to_string(&mut out);
        let part = limited.into_inner();
        match read {
            Err(_) if part.overran => Err(Refusal::Overran { part: part.name }),
            Err(_) => Err(Refusal::NotXlsx),
            Ok(n) if n as u64 > max => Err(Refusal::TooLarge { limit: max }),
            Ok(_) => Ok(Some(out)),
        }
    }
}

/// A part's bytes, never more than it declared: one byte past that is an error, and marks the
/// part as overrun.
pub struct Capped<R> {
    inner: R,
    left: u64,
    overran: bool,
    name: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // The declared size is used up: the part must end here, with the checksum it
            // declared. (The zip reader refuses to inflate past the declared size itself, as an
            // error on this probe; either way, nothing more comes out.)
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe) {
                Ok(0) => Ok(0),
                Ok(_) | Err(_) => {
                    self.overran = true;
                    Err(io::Error::new(io::ErrorKind::InvalidData, "the part does not match its declared size"))
                }
            };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

type Xml<R> = Reader<BufReader<Capped<R>>>;

fn xml<R: Read>(part: Capped<R>) -> Xml<R> {
    Reader::from_reader(BufReader::new(part))
}

/// The next event of a part; an error is the part overrunning its size or not being XML.
fn next<'b, R: Read>(r: &mut Xml<R>, buf: &'b mut Vec<u8>) -> Result<Event<'b>, Refusal> {
    match r.read_event_into(buf) {
        Ok(e) => Ok(e),
        Err(_) => {
            let part = r.get_ref().get_ref();
            Err(if part.overran { Refusal::Overran { part: part.name.clone() } } else { Refusal::NotXlsx })
        }
    }
}

/// An attribute's value by its local name (`r:id` is `id`).
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

/// Character data, or an entity or character reference, appended to `out`.
fn push_text(e: &Event<'_>, out: &mut String) -> Result<(), Refusal> {
    match e {
        Event::Text(t) => out.push_str(&t.xml10_content()),
        Event::CData(t) => out.push_str(&t.xml10_content()),
        Event::GeneralRef(r) => match r.resolve_char_ref() {
            Ok(Some(c)) => out.push(c),
            Ok(None) => out.push_str(resolve_predefined_entity(&r.xml10_content()).ok_or(Refusal::NotXlsx)?),
            Err(_) => return Err(Refusal::NotXlsx),
        },
        _ => {}
    }
    Ok(())
}

// ------------------------------------------------------------------ the workbook

/// One relationship of a part: `Id`, `Type` and the part it points to.
struct Rel {
    id: String,
    kind: String,
    target: String,
}

/// Where a relationship's target is, from the folder of the part that names it.
fn resolve(folder: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') { Vec::new() } else { folder.split('/').collect() };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.retain(|s| !s.is_empty());
    parts.join("/")
}

fn rels(pkg: &mut Package<'_>, name: &str, folder: &str) -> Result<Vec<Rel>, Refusal> {
    let Some(part) = pkg.part(name)? else { return Ok(Vec::new()) };
    let mut r = xml(part);
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    loop {
        match next(&mut r, &mut buf)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let external = attr(&e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("external"));
                if let (Some(id), Some(kind), Some(target)) = (attr(&e, "Id"), attr(&e, "Type"), attr(&e, "Target"))
                    && !external
                {
                    out.push(Rel { id, kind, target: resolve(folder, &target) });
                }
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
        buf.clear();
    }
}

/// The parts a workbook's first sheet is read from.
struct Book {
    sheet: String,
    strings: Option<String>,
    styles: Option<String>,
    /// Day 0 of the workbook's dates: 1899-12-30, or 1904-01-01 for the Mac's old system.
    epoch: NaiveDate,
}

fn book(pkg: &mut Package<'_>) -> Result<Book, Refusal> {
    let main = rels(pkg, "_rels/.rels", "")?
        .into_iter()
        .find(|r| r.kind.ends_with("/officeDocument"))
        .map_or_else(|| "xl/workbook.xml".to_owned(), |r| r.target);
    let (folder, file) = main.rsplit_once('/').unwrap_or(("", main.as_str()));
    let (folder, file) = (folder.to_owned(), file.to_owned());
    let (mut first, mut date1904) = (None, false);
    {
        let part = pkg.part(&main)?.ok_or(Refusal::NotXlsx)?;
        let mut r = xml(part);
        let mut buf = Vec::new();
        loop {
            match next(&mut r, &mut buf)? {
                Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                    "workbookPr" => date1904 = attr(&e, "date1904").is_some_and(|v| v == "1" || v == "true"),
                    "sheet" if first.is_none() => first = attr(&e, "id"),
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
    }
    let first = first.ok_or(Refusal::NotXlsx)?;
    let rels = rels(pkg, &format!("{folder}/_rels/{file}.rels"), &folder)?;
    let find = |suffix: &str| rels.iter().find(|r| r.kind.ends_with(suffix)).map(|r| r.target.clone());
    let sheet = rels.iter().find(|r| r.id == first).map(|r| r.target.clone()).ok_or(Refusal::NotXlsx)?;
    let epoch = if date1904 { NaiveDate::from_ymd_opt(1904, 1, 1) } else { NaiveDate::from_ymd_opt(1899, 12, 30) };
    Ok(Book { sheet, strings: find("/sharedStrings"), styles: find("/styles"), epoch: epoch.ok_or(Refusal::NotXlsx)? })
}

// ------------------------------------------------------------------ the sheet

/// A cell's value as the sheet holds it, before shared strings and styles are looked up.
enum Cell {
    Empty,
    Text(String),
    /// An index into the shared strings.
    Shared(usize),
    /// A number and its style (a date is a number with a date format).
    Number(f64, usize),
}

/// `A` is 1, `Z` 26, `AA` 27.
fn column_name(mut n: u32) -> String {
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A cell reference (`B7`) as (row, column), both from 1. Numbers too big for a sheet saturate,
/// so that they are refused as too far rather than as malformed.
fn parse_ref(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().trim_start_matches('$');
    let split = s.find(|c: char| !c.is_ascii_alphabetic())?;
    let (letters, digits) = s.split_at(split);
    let digits = digits.trim_start_matches('$');
    if letters.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let col = letters
        .bytes()
        .fold(0u32, |n, b| n.saturating_mul(26).saturating_add(u32::from(b.to_ascii_uppercase() - b'A' + 1)));
    let row = digits.bytes().fold(0u32, |n, b| n.saturating_mul(10).saturating_add(u32::from(b - b'0')));
    (row > 0).then_some((row, col))
}

/// Refuses a cell (or the far corner of a declared range) beyond the limits.
fn check(at: &str, (row, col): (u32, u32), limits: &Limits, declared: bool) -> Result<(), Refusal> {
    if col > limits.max_cols {
        return Err(Refusal::Columns { at: at.to_owned(), max: limits.max_cols, declared });
    }
    if row > limits.max_rows {
        return Err(Refusal::Rows { at: at.to_owned(), max: limits.max_rows, declared });
    }
    Ok(())
}

/// The kinds of cell value (`t`).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Shared,
    Inline,
    /// A formula's text, a bool, an error, an ISO date: each as the text in `<v>`.
    Str,
    Bool,
    Error,
}

fn sheet_cells(pkg: &mut Package<'_>, name: &str, limits: &Limits) -> Result<Vec<(u32, Vec<Cell>)>, Refusal> {
    let part = pkg.part(name)?.ok_or(Refusal::NotXlsx)?;
    let mut r = xml(part);
    let mut buf = Vec::new();
    let mut rows: Vec<(u32, Vec<Cell>)> = Vec::new();
    // The row being read: its number and its cells so far.
    let mut row: Option<(u32, Vec<Cell>)> = None;
    let mut last_row = 0u32;
    let mut next_col = 1u32;
    // Rows and cells count only inside `<sheetData>`.
    let mut in_data = false;
    // The cell being read: column, kind, style, and its text so far.
    let mut cell: Option<(u32, Kind, usize)> = None;
    let (mut value, mut inline) = (String::new(), String::new());
    let (mut in_v, mut in_t, mut in_is, mut phonetic) = (false, false, false, 0u32);
    loop {
        let ev = next(&mut r, &mut buf)?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.local_name().as_ref() {
                    "dimension" => {
                        if let Some(range) = attr(e, "ref") {
                            // The far corner of `A1:D20`; a single cell is its own.
                            let corner = range.rsplit(':').next().unwrap_or_default();
                            if let Some(at) = parse_ref(corner) {
                                check(&range, at, limits, true)?;
                            }
                        }
                    }
                    "sheetData" => in_data = !empty,
                    "row" if in_data => {
                        let n = match attr(e, "r") {
                            Some(v) => v.trim().parse::<u32>().map_err(|_| Refusal::NotXlsx)?,
                            None => last_row.saturating_add(1),
                        };
                        // Rows come in order (ECMA-376 §18.3.1.73): one number seen twice would
                        // let a small file hold more rows than the limit.
                        if n <= last_row {
                            return Err(Refusal::NotXlsx);
                        }
                        last_row = n;
                        next_col = 1;
                        row = (!empty).then(|| (n, Vec::new()));
                    }
                    "c" if in_data => {
                        let Some((n, _)) = row.as_ref() else { return Err(Refusal::NotXlsx) };
                        let (at, rc) = match attr(e, "r") {
                            Some(v) => {
                                let rc = parse_ref(&v).ok_or(Refusal::NotXlsx)?;
                                (v, rc)
                            }
                            None => (format!("{}{n}", column_name(next_col)), (*n, next_col)),
                        };
                        check(&at, rc, limits, false)?;
                        next_col = rc.1.saturating_add(1);
                        let kind = match attr(e, "t").as_deref() {
                            None | Some("n") => Kind::Number,
                            Some("s") => Kind::Shared,
                            Some("inlineStr") => Kind::Inline,
                            Some("b") => Kind::Bool,
                            Some("e") => Kind::Error,
                            Some(_) => Kind::Str,
                        };
                        let style = attr(e, "s").and_then(|s| s.trim().parse().ok()).unwrap_or(0);
                        value.clear();
                        inline.clear();
                        cell = (!empty).then_some((rc.1, kind, style));
                    }
                    "v" if cell.is_some() && !empty => in_v = true,
                    "is" if cell.is_some() && !empty => in_is = true,
                    "rPh" if in_is && !empty => phonetic += 1,
                    "t" if in_is && !empty => in_t = true,
                    _ => {}
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                if in_v {
                    push_text(&ev, &mut value)?;
                } else if in_t && phonetic == 0 {
                    push_text(&ev, &mut inline)?;
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "sheetData" => in_data = false,
                "v" => in_v = false,
                "t" => in_t = false,
                "rPh" => phonetic = phonetic.saturating_sub(1),
                "is" => in_is = false,
                "c" => {
                    if let (Some((col, kind, style)), Some((_, cells))) = (cell.take(), row.as_mut()) {
                        let v = value.trim();
                        let got = match kind {
                            Kind::Inline => Cell::Text(inline.trim().to_owned()),
                            _ if v.is_empty() => Cell::Empty,
                            Kind::Number => {
                                v.parse().map_or_else(|_| Cell::Text(v.to_owned()), |f| Cell::Number(f, style))
                            }
                            Kind::Shared => Cell::Shared(v.parse().map_err(|_| Refusal::NotXlsx)?),
                            Kind::Bool => Cell::Text(if v == "1" || v == "true" { "是" } else { "否" }.to_owned()),
                            Kind::Error => Cell::Empty,
                            Kind::Str => Cell::Text(v.to_owned()),
                        };
                        if !matches!(got, Cell::Empty) && !matches!(&got, Cell::Text(t) if t.is_empty()) {
                            // `col` was checked against the limit: the row grows no wider.
                            let i = (col as usize).saturating_sub(1);
                            if cells.len() <= i {
                                cells.resize_with(i + 1, || Cell::Empty);
                            }
                            cells[i] = got;
                        }
                    }
                    (in_v, in_t, in_is, phonetic) = (false, false, false, 0);
                }
                "row" => {
                    if let Some((n, cells)) = row.take().filter(|(_, cells)| !cells.is_empty()) {
                        rows.push((n, cells));
                    }
                }
                _ => {}
            },
            Event::Eof => return Ok(rows),
            _ => {}
        }
        buf.clear();
    }
}

/// The shared strings at `wanted`, by index; the others are read past, not kept.
fn shared_strings(
    pkg: &mut Package<'_>,
    name: &str,
    wanted: &BTreeSet<usize>,
) -> Result<HashMap<usize, String>, Refusal> {
    let mut out = HashMap::new();
    let (Some(&last), Some(part)) = (wanted.last(), pkg.part(name)?) else { return Ok(out) };
    let mut r = xml(part);
    let (mut buf, mut text) = (Vec::new(), String::new());
    let (mut index, mut in_si, mut in_t, mut phonetic) = (0usize, false, false, 0u32);
    loop {
        let ev = next(&mut r, &mut buf)?;
        match &ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => {
                    in_si = true;
                    text.clear();
                }
                "rPh" => phonetic += 1,
                "t" if in_si => in_t = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => {
                if wanted.contains(&index) {
                    out.insert(index, String::new());
                }
                index += 1;
                if index > last {
                    return Ok(out);
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)
                if in_t && phonetic == 0 && wanted.contains(&index) =>
            {
                push_text(&ev, &mut text)?;
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_t = false,
                "rPh" => phonetic = phonetic.saturating_sub(1),
                "si" => {
                    if wanted.contains(&index) {
                        out.insert(index, text.trim().to_owned());
                    }
                    in_si = false;
                    index += 1;
                    if index > last {
                        return Ok(out);
                    }
                }
                _ => {}
            },
            Event::Eof => return Ok(out),
            _ => {}
        }
        buf.clear();
    }
}

/// Of the cell styles at `wanted`, those whose number format shows a date.
fn date_styles(pkg: &mut Package<'_>, name: &str, wanted: &BTreeSet<usize>) -> Result<BTreeSet<usize>, Refusal> {
    let mut out = BTreeSet::new();
    let (Some(_), Some(part)) = (wanted.last(), pkg.part(name)?) else { return Ok(out) };
    let mut r = xml(part);
    let mut buf = Vec::new();
    let mut custom: HashMap<u32, bool> = HashMap::new();
    // Cell styles (`cellXfs`) by index, with their format, for the wanted ones.
    let mut formats: Vec<(usize, u32)> = Vec::new();
    let (mut in_xfs, mut index) = (false, 0usize);
    loop {
        let ev = next(&mut r, &mut buf)?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    if let (Some(id), Some(code)) = (attr(e, "numFmtId"), attr(e, "formatCode"))
                        && let Ok(id) = id.trim().parse()
                    {
                        custom.insert(id, is_date_format(&code));
                    }
                }
                "cellXfs" if matches!(ev, Event::Start(_)) => in_xfs = true,
                "xf" if in_xfs => {
                    if wanted.contains(&index) {
                        let id = attr(e, "numFmtId").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                        formats.push((index, id));
                    }
                    index += 1;
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_xfs = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    for (index, id) in formats {
        // A custom format may reuse a built-in id; it wins.
        if custom.get(&id).copied().unwrap_or_else(|| is_builtin_date(id)) {
            out.insert(index);
        }
    }
    Ok(out)
}

/// The built-in formats that show a date or time (ECMA-376 §18.8.30, with the East Asian ones).
fn is_builtin_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// Whether a format code shows a date or time: a d, m, y, h or s outside quotes, brackets and
/// escapes, in its first section.
fn is_date_format(code: &str) -> bool {
    let (mut quoted, mut bracket, mut escaped) = (false, false, false);
    for c in code.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' | '_' | '*' if !quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if quoted => {}
            '[' => bracket = true,
            ']' => bracket = false,
            ';' if !bracket => return false,
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' if !bracket => return true,
            _ => {}
        }
    }
    false
}

/// A number as the import reads it: a day when its style is a date's (with the time of day,
/// `2026-12-04 09:30:00`, when it has one), a whole number without `.0` (phone and employee
/// numbers typed as numbers come back as floats).
fn number_text(v: f64, date: bool, epoch: NaiveDate) -> String {
    if date {
        let day = TimeDelta::try_days(v.floor() as i64).and_then(|d| epoch.checked_add_signed(d));
        if let Some(day) = day {
            let seconds = (((v - v.floor()) * 86_400.0).round() as u32).min(86_399);
            return match chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0) {
                Some(t) if seconds > 0 => format!("{day} {}", t.format("%H:%M:%S")),
                _ => day.to_string(),
            };
        }
    }
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { v.to_string() }
}

/// The first sheet's rows, read within `limits` (see the module's documentation).
pub fn read_sheet(bytes: &[u8], limits: Limits) -> Result<Rows, Refusal> {
    let mut pkg = Package::open(bytes, limits.max_uncompressed)?;
    let book = book(&mut pkg)?;
    let cells = sheet_cells(&mut pkg, &book.sheet, &limits)?;
    let mut strings_wanted = BTreeSet::new();
    let mut styles_wanted = BTreeSet::new();
    for c in cells.iter().flat_map(|(_, cells)| cells) {
        match c {
            Cell::Shared(i) => {
                strings_wanted.insert(*i);
            }
            Cell::Number(_, s) if *s > 0 => {
                styles_wanted.insert(*s);
            }
            _ => {}
        }
    }
    let strings = match &book.strings {
        Some(name) => shared_strings(&mut pkg, name, &strings_wanted)?,
        None => HashMap::new(),
    };
    if strings.len() < strings_wanted.len() {
        // A cell names a shared string the workbook does not have.
        return Err(Refusal::NotXlsx);
    }
    let dates = match &book.styles {
        Some(name) => date_styles(&mut pkg, name, &styles_wanted)?,
        None => BTreeSet::new(),
    };
    Ok(cells
        .into_iter()
        .map(|(n, cells)| {
            let text = cells
                .into_iter()
                .map(|c| match c {
                    Cell::Empty => String::new(),
                    Cell::Text(t) => t,
                    Cell::Shared(i) => strings.get(&i).cloned().unwrap_or_default(),
                    Cell::Number(v, s) => number_text(v, dates.contains(&s), book.epoch),
                })
                .collect();
            (n, text)
        })
        .collect())
}

// ------------------------------------------------------------------ writing

/// A one-sheet workbook: a bold, frozen header row and the rows as text.
pub fn write_sheet(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let e = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(e)?;
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, c, *h, &bold).map_err(e)?;
        ws.set_column_width(c, 16).map_err(e)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, u16::try_from(c).unwrap_or(u16::MAX), v).map_err(e)?;
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    wb.save_to_buffer().map_err(e)
}

/// A download: the workbook with a file name that keeps its Chinese in every browser.
pub fn attachment(bytes: Vec<u8>, ascii_name: &str, utf8_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, XLSX_MIME.to_owned()),
            (header::CONTENT_DISPOSITION, attachment_disposition(utf8_name, ascii_name)),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_columns() {
        assert_eq!(parse_ref("A1"), Some((1, 1)));
        assert_eq!(parse_ref("Z20000"), Some((20_000, 26)));
        assert_eq!(parse_ref("XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(parse_ref("$B$7"), Some((7, 2)));
        // Too far for a sheet saturates, to be refused as too far.
        assert_eq!(parse_ref("A99999999999"), Some((u32::MAX, 1)));
        for bad in ["", "A", "7", "A0", "A-1", "1A", "A1B"] {
            assert_eq!(parse_ref(bad), None, "{bad}");
        }
        assert_eq!([1, 26, 27, 52, 16_384].map(column_name), ["A", "Z", "AA", "AZ", "XFD"]);
    }

    #[test]
    fn date_formats() {
        for code in ["yyyy-mm-dd", "yyyy\"年\"m\"月\"d\"日\"", "[$-804]yyyy/m/d", "h:mm", "mm:ss.0"] {
            assert!(is_date_format(code), "{code}");
        }
        for code in ["0.00", "#,##0", "\"days\" 0", "0;[Red]-0", "@", "General", "0_);\\(0\\)"] {
            assert!(!is_date_format(code), "{code}");
        }
        let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
        assert_eq!(number_text(46_447.0, true, epoch), "2027-03-01");
        assert_eq!(number_text(46_447.0, false, epoch), "46447");
        assert_eq!(number_text(46_447.395_833_333, true, epoch), "2027-03-01 09:30:00");
        assert_eq!(number_text(13_800_000_000.0, false, epoch), "13800000000");
        // A day too far for the calendar stays a number rather than panicking.
        assert!(number_text(1e300, true, epoch).starts_with("1000000"));
    }

    #[test]
    fn relationship_targets() {
        assert_eq!(resolve("xl", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/worksheets", "../sharedStrings.xml"), "xl/sharedStrings.xml");
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
    }
}
