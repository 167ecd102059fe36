//! Data in and out in bulk, for spreadsheets: `partnergraph export KIND`
//! writes a kind's rows as CSV or Excel, with the same column names the
//! GraphQL API uses, in the staff view or one partner's view (only the
//! fields and rows the visibility policy gives that partner).

pub mod export;
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
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}
