//! Reading and writing the .xlsx files that offices exchange rosters in.

use std::io::Cursor;

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{Format, Workbook};

use crate::error::ApiError;

pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A sheet's rows as text, with the spreadsheet row number (1-based) of each.
pub fn read_first_sheet(bytes: &[u8]) -> Result<Vec<(u32, Vec<String>)>, ApiError> {
    let not_xlsx = || {
        ApiError::bad_request(
            "invalid_file",
            "文件不是有效的 Excel 工作簿（.xlsx）",
            "The file is not a valid Excel workbook (.xlsx)",
        )
    };
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(not_xlsx());
    }
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let range = wb.worksheet_range_at(0).ok_or_else(not_xlsx)?.map_err(|_| not_xlsx())?;
    let first = range.start().map(|(r, _)| r).unwrap_or(0);
    let lead = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let mut cells = vec![String::new(); lead];
            cells.extend(row.iter().map(cell_text));
            (first + u32::try_from(i).unwrap_or(u32::MAX) + 1, cells)
        })
        .collect())
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        // Phone numbers and employee numbers typed as numbers come back as floats.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        // Excel counts days from 1899-12-30 (1900 date system).
        Data::DateTime(dt) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(dt.as_f64().floor() as i64)))
            .map(|d| d.to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) => String::new(),
    }
}

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
    let encoded: String = utf8_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, XLSX_MIME.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
