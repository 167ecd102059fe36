//! One row being imported: its cells by field, and every problem found in
//! it, each naming the row, the column and the value.

use std::fmt;

use super::{columns::Columns, source::RawRow};
use crate::{domain::UserError, service::Failure};

/// `row 7, column "Website", value "htp:/acme": must be an http or https URL…`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub row: usize,
    /// The column's header as the file writes it; `None` for the whole row.
    pub column: Option<String>,
    pub value: String,
    pub reason: String,
}

impl Problem {
    /// The problem without its row number (a reject file's `reason`).
    pub fn without_row(&self) -> String {
        match &self.column {
            Some(column) => format!(
                "column \"{column}\", value \"{}\": {}",
                self.value, self.reason
            ),
            None => self.reason.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}, {}", self.row, self.without_row())
    }
}

pub struct Row<'a> {
    pub number: usize,
    cells: &'a [String],
    columns: &'a Columns,
    problems: Vec<Problem>,
}

impl<'a> Row<'a> {
    pub fn new(raw: &'a RawRow, columns: &'a Columns) -> Self {
        let mut row = Self {
            number: raw.number,
            cells: &raw.cells,
            columns,
            problems: Vec::new(),
        };
        for (index, reason) in &raw.unreadable {
            row.problems.push(Problem {
                row: raw.number,
                column: Some(
                    columns
                        .headers
                        .get(*index)
                        .cloned()
                        .unwrap_or_else(|| super::columns::letter(*index)),
                ),
                value: raw.cells.get(*index).cloned().unwrap_or_default(),
                reason: reason.clone(),
            });
        }
        row
    }

    /// The trimmed, non-empty text of `field`'s cell.
    pub fn text(&self, field: &str) -> Option<&'a str> {
        let cells: &'a [String] = self.cells;
        self.columns
            .index(field)
            .and_then(|i| cells.get(i))
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
    }

    /// Notes a problem with `field`'s cell.
    pub fn problem(&mut self, field: &str, reason: impl Into<String>) {
        self.problems.push(Problem {
            row: self.number,
            column: Some(self.columns.header(field)),
            value: self.text(field).unwrap_or_default().to_owned(),
            reason: reason.into(),
        });
    }

    /// `field`'s value by `parse`; `None` when the cell is empty, or after
    /// noting why it was refused.
    pub fn parse<T, E: fmt::Display>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(field)?;
        match parse(text) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.problem(field, reason.to_string());
                None
            }
        }
    }

    /// Like [`parse`](Self::parse), noting an empty cell as missing.
    pub fn require<T, E: fmt::Display>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if self.text(field).is_none() {
            self.problem(field, "is required");
            return None;
        }
        self.parse(field, parse)
    }

    /// A use case's refusal, on the column of the field it names.
    pub fn failure(&mut self, failure: Failure) -> anyhow::Result<()> {
        match failure {
            Failure::User(errors) => {
                for error in errors {
                    self.user_error(error);
                }
                Ok(())
            }
            Failure::Api(error) => Err(anyhow::anyhow!("row {}: {error:?}", self.number)),
        }
    }

    fn user_error(&mut self, error: UserError) {
        let field = error
            .field
            .as_ref()
            .and_then(|path| path.last())
            .cloned()
            .unwrap_or_default();
        if self.columns.index(&field).is_some() {
            self.problem(&field, error.message);
        } else {
            self.problems.push(Problem {
                row: self.number,
                column: None,
                value: String::new(),
                reason: if field.is_empty() {
                    error.message
                } else {
                    format!("{field} {}", error.message)
                },
            });
        }
    }

    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}
