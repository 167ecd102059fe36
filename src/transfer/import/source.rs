//! A file as a stream of rows of text cells: CSV (UTF-8, `,` `;` or tab
//! separated) or one sheet of an Excel `.xlsx` workbook (the first, or the
//! one named). A reader thread sends rows through a bounded channel, so
//! memory stays flat whatever the file's size.
//!
//! Rows are numbered as a spreadsheet shows them (the header is row 1 of a
//! CSV file). Rows whose cells are all empty are skipped.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context};
use calamine::{DataRef, Reader, Xlsx};
use tokio::sync::mpsc;

/// One row of the file.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub number: usize,
    pub cells: Vec<String>,
    /// Cells that could not be read as text (column index, reason).
    pub unreadable: Vec<(usize, String)>,
}

/// The header row and a stream of the rows below it.
pub struct Source {
    pub headers: Vec<String>,
    pub rows: mpsc::Receiver<anyhow::Result<RawRow>>,
}

enum Format {
    Csv,
    Xlsx,
}

/// Opens `path`, reads its header row and starts streaming the rest.
pub async fn open(path: &Path, sheet: Option<String>) -> anyhow::Result<Source> {
    let format = detect(path)?;
    let (sender, mut receiver) = mpsc::channel(1024);
    let path = path.to_owned();
    std::thread::spawn(move || {
        let result = match format {
            Format::Csv => read_csv(&path, &sender),
            Format::Xlsx => read_xlsx(&path, sheet.as_deref(), &sender),
        };
        if let Err(error) = result {
            // The receiver is gone only when the import stopped anyway.
            let _ = sender.blocking_send(Err(error));
        }
    });
    let headers = match receiver.recv().await {
        Some(Ok(row)) => {
            if let Some((column, reason)) = row.unreadable.first() {
                bail!("the header row, column {}: {reason}", column + 1);
            }
            row.cells
        }
        Some(Err(error)) => return Err(error),
        None => bail!("the file has no header row (it is empty)"),
    };
    Ok(Source {
        headers,
        rows: receiver,
    })
}

/// CSV or XLSX, by name and by content: a mislabelled file gets a message
/// saying what it is.
fn detect(path: &Path) -> anyhow::Result<Format> {
    let mut head = [0u8; 8];
    let read = File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .read(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let head = &head[..read];
    let zip = head.starts_with(b"PK\x03\x04");
    let ole = head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "xlsx" | "xlsm" if zip => Ok(Format::Xlsx),
        "xlsx" | "xlsm" => bail!("{} is not an Excel .xlsx workbook (it is not a zip archive)", path.display()),
        "xls" => bail!("{} is an old Excel .xls workbook: save it as .xlsx or CSV", path.display()),
        "csv" | "txt" | "tsv" if zip || ole => bail!(
            "{} is a binary file (an Excel workbook?), not CSV text: give it the .xlsx name, or save it as CSV UTF-8",
            path.display()
        ),
        "csv" | "txt" | "tsv" => Ok(Format::Csv),
        _ => bail!(
            "{} is neither CSV nor Excel: import reads .csv and .xlsx files",
            path.display()
        ),
    }
}

fn send(sender: &mpsc::Sender<anyhow::Result<RawRow>>, row: RawRow) -> anyhow::Result<()> {
    if row.cells.iter().all(|c| c.trim().is_empty()) && row.unreadable.is_empty() {
        return Ok(());
    }
    sender
        .blocking_send(Ok(row))
        .map_err(|_| anyhow!("the import stopped reading"))
}

/// The separator the header line uses most: `,`, `;` (Excel in many
/// European locales) or a tab.
fn separator(first_line: &[u8]) -> u8 {
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|s| first_line.iter().filter(|b| *b == s).count())
        .unwrap_or(b',')
}

fn read_csv(path: &PathBuf, sender: &mpsc::Sender<anyhow::Result<RawRow>>) -> anyhow::Result<()> {
    let mut first = Vec::new();
    File::open(path)?.take(64 * 1024).read_to_end(&mut first)?;
    if first.starts_with(&[0xFF, 0xFE]) || first.starts_with(&[0xFE, 0xFF]) {
        bail!("{} is UTF-16 text: save it as CSV UTF-8", path.display());
    }
    if first.contains(&0) {
        bail!("{} is a binary file, not CSV text", path.display());
    }
    let line_end = first
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(first.len());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator(&first[..line_end]))
        .from_reader(BufReader::new(File::open(path)?));
    let mut record = csv::ByteRecord::new();
    let mut number = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => bail!("row {}: cannot be read as CSV: {error}", number + 1),
        }
        // A spreadsheet's row number: a quoted cell's line breaks do not count.
        number += 1;
        let mut row = RawRow {
            number,
            cells: Vec::with_capacity(record.len()),
            unreadable: Vec::new(),
        };
        for (column, bytes) in record.iter().enumerate() {
            // A byte-order mark starts a file "saved as CSV UTF-8" by Excel.
            let bytes = if number == 1 && column == 0 {
                bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
            } else {
                bytes
            };
            match std::str::from_utf8(bytes) {
                Ok(text) => row.cells.push(text.to_owned()),
                Err(_) => {
                    row.cells.push(String::from_utf8_lossy(bytes).into_owned());
                    row.unreadable.push((
                        column,
                        "is not UTF-8 text (the file is in another encoding: save it as CSV UTF-8)"
                            .to_owned(),
                    ));
                }
            }
        }
        send(sender, row)?;
    }
    Ok(())
}

fn read_xlsx(
    path: &PathBuf,
    sheet: Option<&str>,
    sender: &mpsc::Sender<anyhow::Result<RawRow>>,
) -> anyhow::Result<()> {
    let mut workbook: Xlsx<_> = calamine::open_workbook(path)
        .map_err(|e| anyhow!("cannot read {} as an Excel workbook: {e}", path.display()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(wanted))
            .cloned()
            .ok_or_else(|| {
                anyhow!(
                    "no sheet named `{wanted}`; the workbook has: {}",
                    names.join(", ")
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| anyhow!("the workbook has no sheets"))?,
    };
    let mut cells = workbook
        .worksheet_cells_reader(&name)
        .map_err(|e| anyhow!("cannot read sheet `{name}`: {e}"))?;
    let mut row: Option<RawRow> = None;
    while let Some(cell) = cells
        .next_cell_with_formula()
        .map_err(|e| anyhow!("cannot read sheet `{name}`: {e}"))?
    {
        let (r, column) = (cell.pos.0 as usize + 1, cell.pos.1 as usize);
        if row.as_ref().is_some_and(|current| current.number != r) {
            if let Some(done) = row.take() {
                send(sender, done)?;
            }
        }
        let current = row.get_or_insert_with(|| RawRow {
            number: r,
            cells: Vec::new(),
            unreadable: Vec::new(),
        });
        if current.cells.len() <= column {
            current.cells.resize(column + 1, String::new());
        }
        let (text, problem) = match cell.formula {
            Some(formula) if !formula.is_empty() => (
                format!("={formula}"),
                Some(
                    "is a formula: import reads values only (paste the column as values)"
                        .to_owned(),
                ),
            ),
            _ => excel_text(&cell.value),
        };
        current.cells[column] = text;
        if let Some(problem) = problem {
            current.unreadable.push((column, problem));
        }
    }
    if let Some(done) = row {
        send(sender, done)?;
    }
    Ok(())
}

/// A cell's value as the text a CSV export of it would hold: dates as
/// `YYYY-MM-DD` (or with their time), numbers without a trailing `.0`.
fn excel_text(value: &DataRef<'_>) -> (String, Option<String>) {
    match value {
        DataRef::Empty => (String::new(), None),
        DataRef::String(s) => (s.clone(), None),
        DataRef::SharedString(s) => ((*s).to_owned(), None),
        DataRef::Int(i) => (i.to_string(), None),
        DataRef::Float(f) => (float_text(*f), None),
        DataRef::Bool(b) => (b.to_string(), None),
        DataRef::DateTime(moment) => match moment.as_datetime() {
            Some(time) if moment.is_datetime() => {
                if time.time() == chrono::NaiveTime::MIN {
                    (time.date().format("%Y-%m-%d").to_string(), None)
                } else {
                    (time.format("%Y-%m-%dT%H:%M:%SZ").to_string(), None)
                }
            }
            _ => (
                float_text(moment.as_f64()),
                Some("is a duration, not a date or a number".to_owned()),
            ),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => (s.clone(), None),
        DataRef::Error(error) => (
            format!("{error}"),
            Some(format!("holds the Excel error {error}")),
        ),
    }
}

fn float_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
