//! Official documents (公文): a bulletin as a Word file and as a PDF, laid out the way a Chinese
//! government office lays out its documents (red masthead and rule, number, title, body, a table
//! of findings, issuer and date).
//!
//! Kept in a crate of its own because typesetting PDF pulls in typst, a large build: everyday
//! changes elsewhere do not recompile it.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use docx_rs::{
    AlignmentType, BorderType, Docx, PageMargin, Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders,
    Run, RunFonts, SpecialIndentType, Table, TableCell, TableRow, WidthType,
};
use typst::foundations::{Array, Dict, IntoValue, Value};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

/// What an official document says. All text is data: none of it is read as markup.
#[derive(Debug, Clone, Default)]
pub struct OfficialDocument {
    /// The red masthead: the issuing office, e.g. 市机关效能建设领导小组办公室.
    pub masthead: String,
    /// 效能通报〔2026〕12号
    pub number: String,
    pub title: String,
    /// Set on a correction: which bulletin it corrects.
    pub corrects: Option<String>,
    /// The body; paragraphs are separated by line breaks.
    pub body: String,
    /// Rows of the table of findings.
    pub findings: Vec<FindingRow>,
    /// What departments must do, and by when.
    pub requirement: String,
    /// The signature under the text.
    pub issuer: String,
    /// The date in words: 2026年11月29日.
    pub date: String,
}

#[derive(Debug, Clone, Default)]
pub struct FindingRow {
    pub department: String,
    /// Window and person, as the bulletin shows them (masked where the office says so).
    pub where_who: String,
    pub category: String,
    pub description: String,
    pub occurred: String,
}

const HEADERS: [&str; 6] = ["序号", "单位", "窗口 / 人员", "问题类别", "问题情况", "发现时间"];
const TABLE_TITLE: &str = "暗访发现问题一览表";

impl OfficialDocument {
    fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.body.lines().map(str::trim).filter(|l| !l.is_empty())
    }

    fn row_cells(&self) -> Vec<[String; 6]> {
        self.findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                [
                    (i + 1).to_string(),
                    f.department.clone(),
                    f.where_who.clone(),
                    f.category.clone(),
                    f.description.clone(),
                    f.occurred.clone(),
                ]
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("no Chinese font found under {0}: install fonts-noto-cjk (or point documents.fonts_dir at CJK fonts)")]
    NoFonts(String),
    #[error("typesetting failed: {0}")]
    Typeset(String),
    #[error("writing the Word file failed: {0}")]
    Docx(String),
}

// ------------------------------------------------------------------ Word

/// The eastAsia font names a Word or WPS user has: 仿宋 for the body, 黑体 for headings.
fn run(text: &str, font: &str, half_points: usize) -> Run {
    Run::new().add_text(text).size(half_points).fonts(RunFonts::new().east_asia(font).ascii(font).hi_ansi(font))
}

/// A .docx of the document.
pub fn docx(doc: &OfficialDocument) -> Result<Vec<u8>, DocumentError> {
    let red = "C00000";
    let mut d = Docx::new().page_margin(
        // Twips (1/20 pt): 37 mm top, 35 mm bottom, 28 mm left, 26 mm right.
        PageMargin::new().top(2098).bottom(1984).left(1587).right(1474),
    );
    d = d.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_run(run(&doc.masthead, "方正小标宋简体", 60).color(red).bold()),
    );
    let rule =
        ParagraphBorder::new(ParagraphBorderPosition::Bottom).val(BorderType::Single).size(18).space(4).color(red);
    d = d.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .set_borders(ParagraphBorders::with_empty().set(rule))
            .add_run(run(&doc.number, "仿宋", 32)),
    );
    d = d.add_paragraph(Paragraph::new());
    d = d.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run(&doc.title, "黑体", 44).bold()));
    d = d.add_paragraph(Paragraph::new());
    let body = |text: &str| {
        let p = Paragraph::new().align(AlignmentType::Both);
        // A salutation (各部门：) stands flush left; other paragraphs indent two characters.
        let p = if text.ends_with('：') {
            p
        } else {
            p.indent(None, Some(SpecialIndentType::FirstLine(640)), None, None).first_line_chars(200)
        };
        p.add_run(run(text, "仿宋", 32))
    };
    if let Some(c) = &doc.corrects {
        d = d.add_paragraph(body(c));
    }
    for p in doc.paragraphs() {
        d = d.add_paragraph(body(p));
    }
    let rows = doc.row_cells();
    if !rows.is_empty() {
        d = d.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run(TABLE_TITLE, "黑体", 32)));
        let widths = [600usize, 1500, 1500, 1200, 2700, 1300];
        let cell = |text: &str, w: usize, bold: bool| {
            let r = run(text, if bold { "黑体" } else { "仿宋" }, 21);
            TableCell::new().width(w, WidthType::Dxa).add_paragraph(Paragraph::new().add_run(r))
        };
        let mut table_rows = vec![TableRow::new(HEADERS.iter().zip(widths).map(|(h, w)| cell(h, w, true)).collect())];
        for r in &rows {
            table_rows.push(TableRow::new(r.iter().zip(widths).map(|(t, w)| cell(t, w, false)).collect()));
        }
        d = d.add_table(Table::new(table_rows).set_grid(widths.to_vec()));
    }
    if !doc.requirement.is_empty() {
        d = d.add_paragraph(Paragraph::new());
        d = d.add_paragraph(body(&doc.requirement));
    }
    d = d.add_paragraph(Paragraph::new());
    d = d.add_paragraph(Paragraph::new().align(AlignmentType::Right).add_run(run(&doc.issuer, "仿宋", 32)));
    d = d.add_paragraph(Paragraph::new().align(AlignmentType::Right).add_run(run(&doc.date, "仿宋", 32)));
    let mut out = std::io::Cursor::new(Vec::new());
    d.build().pack(&mut out).map_err(|e| DocumentError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

// ------------------------------------------------------------------ PDF

static TEMPLATE: &str = include_str!("templates/bulletin.typ");

/// Typesets PDFs. Built once (fonts read from disk then) and shared; each document takes tens of
/// milliseconds.
#[derive(Clone)]
pub struct Typesetter {
    engine: Arc<TypstEngine<TypstTemplateMainFile>>,
    serif: String,
    sans: String,
}

/// The CJK faces looked for, best first: Noto (Debian's fonts-noto-cjk), then WenQuanYi. One file
/// of each list is loaded — the template sets the body in the regular serif and headings in the
/// bold sans — since each collection costs its size in memory (20–27 MB).
const SERIF_FILES: &[&str] = &["NotoSerifCJK-Regular.ttc", "wqy-microhei.ttc", "wqy-zenhei.ttc"];
const SANS_FILES: &[&str] = &["NotoSansCJK-Bold.ttc", "NotoSansCJK-Regular.ttc", "wqy-microhei.ttc", "wqy-zenhei.ttc"];

fn find_files(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| names.contains(&n)) {
                found.push(p);
            }
        }
    }
    found.sort_by_key(|p| names.iter().position(|n| p.file_name().and_then(|f| f.to_str()) == Some(n)));
    found
}

impl Typesetter {
    /// Loads the CJK fonts found under `fonts_dir` (searched recursively).
    pub fn new(fonts_dir: &Path) -> Result<Self, DocumentError> {
        let mut files: Vec<PathBuf> = [SERIF_FILES, SANS_FILES]
            .iter()
            .filter_map(|names| find_files(fonts_dir, names).into_iter().next())
            .collect();
        files.dedup();
        let mut fonts = Vec::new();
        for f in &files {
            match std::fs::read(f) {
                Ok(bytes) => fonts.extend(typst::text::Font::iter(typst::foundations::Bytes::new(bytes))),
                Err(e) => tracing::warn!(file = %f.display(), error = %e, "cannot read font"),
            }
        }
        let families: Vec<String> = fonts.iter().map(|f| f.info().family.clone()).collect();
        let pick = |want: &[&str]| want.iter().find(|w| families.iter().any(|f| f == *w)).map(|s| (*s).to_owned());
        let serif = pick(&["Noto Serif CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC"]);
        let sans = pick(&["Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Serif CJK SC"]);
        let (Some(serif), Some(sans)) = (serif, sans) else {
            return Err(DocumentError::NoFonts(fonts_dir.display().to_string()));
        };
        tracing::info!(fonts = fonts.len(), %serif, %sans, "typesetter ready");
        let engine = TypstEngine::builder().main_file(TEMPLATE).fonts(fonts).build();
        Ok(Self { engine: Arc::new(engine), serif, sans })
    }

    /// A PDF of the document.
    pub fn pdf(&self, doc: &OfficialDocument) -> Result<Vec<u8>, DocumentError> {
        let mut inputs = Dict::new();
        let mut put = |k: &str, v: Value| inputs.insert(k.into(), v);
        put("serif", self.serif.as_str().into_value());
        put("sans", self.sans.as_str().into_value());
        put("masthead", doc.masthead.as_str().into_value());
        put("number", doc.number.as_str().into_value());
        put("title", doc.title.as_str().into_value());
        put("corrects", doc.corrects.as_deref().unwrap_or_default().into_value());
        put("paragraphs", doc.paragraphs().map(IntoValue::into_value).collect::<Array>().into_value());
        put("table_title", TABLE_TITLE.into_value());
        put("headers", HEADERS.iter().map(|h| h.into_value()).collect::<Array>().into_value());
        let rows: Array = doc
            .row_cells()
            .into_iter()
            .map(|r| r.into_iter().map(IntoValue::into_value).collect::<Array>().into_value())
            .collect();
        put("rows", rows.into_value());
        put("requirement", doc.requirement.as_str().into_value());
        put("issuer", doc.issuer.as_str().into_value());
        put("date", doc.date.as_str().into_value());
        let compiled: typst_layout::PagedDocument =
            self.engine.compile_with_input(inputs).output.map_err(|e| DocumentError::Typeset(format!("{e:?}")))?;
        typst_pdf::pdf(&compiled, &typst_pdf::PdfOptions::default())
            .map_err(|e| DocumentError::Typeset(format!("{e:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OfficialDocument {
        OfficialDocument {
            masthead: "市机关效能建设领导小组办公室".into(),
            number: "效能通报〔2026〕3号".into(),
            title: "关于2026年第三季度机关效能暗访情况的通报".into(),
            corrects: None,
            body: "各部门：\n近期，市效能办对部分窗口单位进行了暗访。\n\n现将有关情况通报如下。".into(),
            findings: vec![FindingRow {
                department: "市行政审批局".into(),
                where_who: "3号窗口 / 张*".into(),
                category: "脱岗离岗".into(),
                description: "工作时间窗口无人，群众等候二十分钟。".into(),
                occurred: "2026-09-14".into(),
            }],
            requirement: "请于2026年12月20日前将整改情况书面报送市效能办。".into(),
            issuer: "市效能办".into(),
            date: "2026年11月29日".into(),
        }
    }

    #[test]
    fn word_file_is_a_zip_with_the_text() {
        let bytes = docx(&sample()).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        // docx-rs stores its parts uncompressed, so the XML is readable in the bytes.
        assert!(text.contains("效能通报〔2026〕3号"));
        assert!(text.contains("w:pBdr"));
        assert!(text.contains("仿宋"));
    }

    #[test]
    fn pdf_typesets_chinese_when_fonts_are_installed() {
        let dir = Path::new("/usr/share/fonts");
        let t = match Typesetter::new(dir) {
            Ok(t) => t,
            Err(DocumentError::NoFonts(_)) if std::env::var("CI").is_err() => return,
            Err(e) => panic!("{e}"),
        };
        let pdf = t.pdf(&sample()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        if let Ok(p) = std::env::var("XN_PDF_OUT") {
            std::fs::write(p, &pdf).unwrap();
        }
    }
}
