//! Data in and out in bulk, for spreadsheets: `partnergraph export KIND`
//! writes a kind's rows as CSV or Excel, with the same column names the
//! GraphQL API uses, in the staff view or one partner's view (only the
//! fields and rows the visibility policy gives that partner).

pub mod export;
pub mod import;
pub mod table;

use clap::ValueEnum;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Partners,
    Contacts,
    Certifications,
    Registrations,
    Opportunities,
    /// Incentive payouts (`--period YYYY-MM`: those whose period ends in that month).
    Payouts,
}

/// Narrows an export; each kind uses what concerns it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// Payouts: the first day of the month their period ends in.
    pub period: Option<chrono::NaiveDate>,
}

/// The first day of the month `YYYY-MM`.
pub fn parse_period(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d").ok()
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}
