//! Who is asking and what they may do: bearer tokens, principals, roles and
//! scopes (SPEC §2). Which *fields and rows* a principal sees is the
//! visibility policy's job (`crate::policy`), not this module's.

pub mod cache;
pub mod clients;
pub mod principal;
pub mod scope;
pub mod token;

pub use principal::{Action, Principal};
pub use scope::{Scope, ScopeSet};
