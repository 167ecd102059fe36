//! THE visibility policy: which rows a principal may see (here) and, with the
//! partner access work, which fields (SPEC §3). Default-deny: a partner
//! principal sees only rows of its own partner, and a principal of unknown
//! shape sees nothing.
//!
//! Row scoping is a SQL condition added to the query itself, never a filter
//! after the fetch, so counts and pages reveal nothing.

use entity::{partner, partner_contact};
use sea_orm::{sea_query::Expr, ColumnTrait, Condition};

use crate::auth::Principal;

/// The partners `principal` may see.
pub fn partner_rows(principal: &Principal) -> Condition {
    own_partner(principal, partner::Column::Id)
}

/// The partner contacts `principal` may see.
pub fn contact_rows(principal: &Principal) -> Condition {
    own_partner(principal, partner_contact::Column::PartnerId)
}

fn own_partner(principal: &Principal, partner_column: impl ColumnTrait) -> Condition {
    if principal.is_staff() {
        return Condition::all();
    }
    match principal.partner_id {
        Some(partner_id) => Condition::all().add(partner_column.eq(partner_id)),
        None => Condition::all().add(Expr::value(false)),
    }
}
