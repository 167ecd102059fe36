//! Incentives and payouts (SPEC §4.8): plans as versioned data, accruals
//! that happen on their own when a deal is won, one append-only ledger,
//! payouts and statements.
//!
//! Every write that touches accruals, payouts or the ledger takes the
//! ledger lock ([`ledger::lock`]) first, before any row lock: on
//! PostgreSQL that serialises them, so a partner's window count, tier
//! period and cap are read and extended by one writer at a time (two deals
//! closing together cannot both take the third fast-start slot), the
//! ledger's `seq` becomes visible in commit order (the finance feed can
//! resume from a plain cursor), and, taken before any row lock, it cannot
//! deadlock. SQLite serialises writers anyway.

pub mod accruals;
pub mod ledger;
pub mod payouts;
pub mod plans;
pub mod preview;
pub mod progress;
