//! Deals (SPEC §4.2, §4.3): the records and rules the registration and
//! pipeline use cases share, one concept per module. Each depends only on
//! the ones before it, so there is no cycle:
//!
//! 1. `accounts`: which claims and opportunities name the same account.
//! 2. `opportunity`: the opportunity record, its one constructor (approval,
//!    direct creation, CRM upserts, tests and benchmarks build rows with it),
//!    its versioned save and its events.
//! 3. `attribution`: who is credited on an opportunity.
//! 4. `registration`: the registration record and its decisions (approval
//!    creates the opportunity and its `SOURCED` attribution).
//! 5. `conflicts`: detecting competing claims and carrying out a resolution
//!    (the rules are `domain::conflicts` and `domain::registrations`).
//!
//! The use cases are `service::registrations` and `service::opportunities`;
//! nothing here calls them.

pub mod accounts;
pub mod attribution;
pub mod conflicts;
pub mod opportunity;
pub mod registration;
