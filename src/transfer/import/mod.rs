//! `partnergraph import KIND FILE`: a spreadsheet's rows into PartnerGraph
//! through the one write path.
//!
//! The file is streamed (`source`), its headers matched to fields
//! (`columns`), each row parsed with the API's own input types (`cells`
//! and the kind's module), matched to an existing record (by id, external
//! id, normalised domain or company name) and written with the service
//! layer's calls inside one unit of work, audited as `import:<file name>`
//! and emitting the same events as the API. Nothing is committed when any
//! row is bad (unless `--skip-invalid`, which writes the bad rows to a
//! reject file), and a dry run rolls the whole unit back: what it reports is
//! exactly what the import would do.
//!
//! Within one file, a row that matches a record an earlier row already
//! created or changed is a duplicate: it is merged into that record, its
//! cells filling only fields still empty (the first row wins), so importing
//! the same file twice changes nothing the second time. An empty cell never
//! clears a field.

mod cells;
mod certifications;
mod columns;
mod contacts;
mod money;
mod opportunities;
mod partner_ref;
mod partners;
mod progress;
mod registrations;
mod row;
mod source;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sea_orm::DatabaseConnection;

pub use progress::Progress;
use row::{Problem, Row};

use super::Kind;
use crate::{
    auth::{Principal, ScopeSet},
    domain::Role,
    service::Caller,
    unit_of_work::{Actor, UnitOfWork},
};

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The workbook's sheet to read (default: the first).
    pub sheet: Option<String>,
    /// `(header, field)`: a column the aliases do not know.
    pub maps: Vec<(String, String)>,
    /// Report everything, write nothing.
    pub dry_run: bool,
    /// Import the good rows and write the bad ones to `rejects`.
    pub skip_invalid: bool,
    /// Where rejected rows go (default `<file>.rejects.csv`).
    pub rejects: Option<PathBuf>,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows merged into a record an earlier row of the file wrote.
    pub merged: usize,
    pub rejected: usize,
    /// Every problem, in row order.
    pub problems: Vec<String>,
    /// Each duplicate row and what it was merged into.
    pub duplicates: Vec<String>,
    /// Headers that name no field (their cells were not read).
    pub ignored_columns: Vec<String>,
    /// Whether the changes were committed.
    pub committed: bool,
    /// Where the rejected rows were written.
    pub rejects_file: Option<PathBuf>,
}

impl Summary {
    pub fn line(&self) -> String {
        format!(
            "{} created, {} updated, {} unchanged, {} merged, {} rejected",
            self.created, self.updated, self.unchanged, self.merged, self.rejected
        )
    }
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Created,
    Updated,
    Unchanged,
}

/// A good row's result, and the earlier row it duplicates (if any).
struct Written {
    done: Done,
    duplicate_of: Option<(usize, String)>,
}

/// One kind's import: its fields, and how a parsed row is matched and
/// written. The row's problems go into `row`; `None` rejects the row.
trait Importer {
    fn fields() -> &'static [columns::Field];
    async fn write(
        &mut self,
        uow: &UnitOfWork,
        caller: &Caller<'_>,
        row: &mut Row<'_>,
    ) -> anyhow::Result<Option<Written>>;
    /// After the commit (the token cache, for example).
    async fn committed(&self, _db: &DatabaseConnection) {}
}

/// Imports `file` as `kind`.
pub async fn run(
    db: &DatabaseConnection,
    kind: Kind,
    file: &Path,
    options: &Options,
    progress: &mut Progress,
) -> anyhow::Result<Summary> {
    let now = chrono::Utc::now();
    match kind {
        Kind::Partners => {
            let importer = partners::Partners::load(db).await?;
            import(db, importer, file, options, progress, now).await
        }
        Kind::Contacts => {
            let importer = contacts::Contacts::load(db).await?;
            import(db, importer, file, options, progress, now).await
        }
        Kind::Opportunities => {
            let importer = opportunities::Opportunities::load(db).await?;
            import(db, importer, file, options, progress, now).await
        }
        Kind::Certifications => {
            let importer = certifications::Certifications::load(db).await?;
            import(db, importer, file, options, progress, now).await
        }
        Kind::Registrations => {
            let importer = registrations::Registrations::load(db, now).await?;
            import(db, importer, file, options, progress, now).await
        }
        Kind::Payouts => bail!("payouts are exported, never imported: they come from the ledger"),
    }
}

async fn import<I: Importer>(
    db: &DatabaseConnection,
    mut importer: I,
    file: &Path,
    options: &Options,
    progress: &mut Progress,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Summary> {
    let mut source = source::open(file, options.sheet.clone()).await?;
    let columns = columns::Columns::match_headers(I::fields(), &source.headers, &options.maps)
        .map_err(|problems| anyhow::anyhow!("{}", problems.join("\n")))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let principal = Principal {
        role: Role::Admin,
        staff_user_id: None,
        partner_id: None,
        token_id: uuid::Uuid::nil(),
        api_client_id: None,
        contact_id: None,
        scopes: ScopeSet::all(),
    };
    let caller = Caller {
        principal: &principal,
        request_id: Some(format!("import:{file_name}")),
        now,
    };
    let mut summary = Summary {
        ignored_columns: columns.ignored.clone(),
        ..Summary::default()
    };
    let mut rejects = RejectFile::new(
        options
            .rejects
            .clone()
            .unwrap_or_else(|| default_rejects(file)),
        &source.headers,
    );
    let uow = UnitOfWork::begin(db, Actor::import(&file_name), now).await?;
    while let Some(raw) = source.rows.recv().await {
        let raw = raw?;
        let mut row = Row::new(&raw, &columns);
        let written = if row.has_problems() {
            None
        } else {
            importer.write(&uow, &caller, &mut row).await?
        };
        match written {
            Some(written) => {
                if let Some((earlier, what)) = written.duplicate_of {
                    summary.merged += 1;
                    summary.duplicates.push(format!(
                        "row {}: the same {what} as row {earlier}: merged into it (its cells fill only what row {earlier} left empty)",
                        raw.number
                    ));
                } else {
                    match written.done {
                        Done::Created => summary.created += 1,
                        Done::Updated => summary.updated += 1,
                        Done::Unchanged => summary.unchanged += 1,
                    }
                }
            }
            None => {
                summary.rejected += 1;
                let problems = row.into_problems();
                if options.skip_invalid && !options.dry_run {
                    rejects.write(&raw.cells, &problems)?;
                }
                summary
                    .problems
                    .extend(problems.iter().map(Problem::to_string));
            }
        }
        progress.row(raw.number);
    }
    progress.finish();
    let refused = summary.rejected > 0 && !options.skip_invalid;
    if options.dry_run || refused {
        // Dropping the unit rolls every write back.
        drop(uow);
    } else {
        uow.commit().await?;
        summary.committed = true;
        importer.committed(db).await;
        summary.rejects_file = rejects.finish()?;
    }
    Ok(summary)
}

fn default_rejects(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rejects.csv");
    PathBuf::from(name)
}

/// The rejected rows as CSV: the file's own columns and a `reason`.
/// Created with its first row, so a clean import leaves no file behind.
struct RejectFile {
    path: PathBuf,
    headers: Vec<String>,
    writer: Option<csv::Writer<std::fs::File>>,
}

impl RejectFile {
    fn new(path: PathBuf, headers: &[String]) -> Self {
        Self {
            path,
            headers: headers.to_vec(),
            writer: None,
        }
    }

    fn write(&mut self, cells: &[String], problems: &[Problem]) -> anyhow::Result<()> {
        if self.writer.is_none() {
            let mut writer = csv::Writer::from_path(&self.path)
                .with_context(|| format!("cannot write {}", self.path.display()))?;
            let mut headers = self.headers.clone();
            headers.push("reason".into());
            writer.write_record(&headers)?;
            self.writer = Some(writer);
        }
        if let Some(writer) = &mut self.writer {
            let mut record: Vec<String> = cells.to_vec();
            record.resize(self.headers.len().max(cells.len()), String::new());
            record.truncate(self.headers.len().max(1));
            let reasons: Vec<String> = problems.iter().map(Problem::without_row).collect();
            record.push(reasons.join("; "));
            writer.write_record(&record)?;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<Option<PathBuf>> {
        match self.writer {
            Some(mut writer) => {
                writer.flush()?;
                Ok(Some(self.path))
            }
            None => Ok(None),
        }
    }
}
