//! THE visibility policy (SPEC §3): which fields partners see
//! ([`partner_view`], one declaration) and which rows a principal may see
//! (here). Default-deny: a partner principal sees only rows of its own
//! partner, and a principal of unknown shape sees nothing.
//!
//! Row scoping is a SQL condition added to the query itself, never a filter
//! after the fetch, so counts and pages reveal nothing.

pub mod partner_view;

use entity::{api_client, certification, partner, partner_contact};
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

/// The OAuth2 clients `principal` may see: all for staff, its own partner's for partners.
pub fn api_client_rows(principal: &Principal) -> Condition {
    own_partner(principal, api_client::Column::PartnerId)
}

/// The certifications `principal` may see: its own partner's contacts' for partners.
pub fn certification_rows(principal: &Principal) -> Condition {
    own_partner(principal, certification::Column::PartnerId)
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
