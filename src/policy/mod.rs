//! THE visibility policy (SPEC §3): which fields partners see
//! ([`partner_view`], one declaration) and which rows a principal may see
//! (here). Default-deny: a partner principal sees only rows of its own
//! partner, and a principal of unknown shape sees nothing.
//!
//! Row scoping is a SQL condition added to the query itself, never a filter
//! after the fetch, so counts and pages reveal nothing.

pub mod partner_view;

use entity::{
    api_client, certification, deal_registration, incentive_accrual, incentive_ledger_entry,
    incentive_payout, opportunity, opportunity_attribution, partner, partner_activity,
    partner_contact, webhook_endpoint,
};
use sea_orm::{sea_query::Expr, ColumnTrait, Condition};

use uuid::Uuid;

use crate::auth::Principal;

/// Which rows a principal sees: the row half of the policy, in one type
/// that queries, loaders, services and the event view all use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowScope {
    /// Staff: every row.
    Everything,
    /// A partner principal: its own partner's rows only.
    Partner(Uuid),
    /// A partner principal bound to no partner: no row at all.
    Nothing,
}

impl From<&Principal> for RowScope {
    fn from(principal: &Principal) -> Self {
        Self::of(principal)
    }
}

impl RowScope {
    pub fn of(principal: &Principal) -> Self {
        match (principal.is_staff(), principal.partner_id) {
            (true, _) => RowScope::Everything,
            (false, Some(partner)) => RowScope::Partner(partner),
            (false, None) => RowScope::Nothing,
        }
    }

    /// The partner whose rows alone are in scope, for partner principals.
    pub fn partner(self) -> Option<Uuid> {
        match self {
            RowScope::Partner(partner) => Some(partner),
            RowScope::Everything | RowScope::Nothing => None,
        }
    }

    /// Rows whose `partner_column` is in scope.
    pub fn on(self, partner_column: impl ColumnTrait) -> Condition {
        match self {
            RowScope::Everything => Condition::all(),
            RowScope::Partner(partner) => Condition::all().add(partner_column.eq(partner)),
            RowScope::Nothing => Condition::all().add(Expr::value(false)),
        }
    }

    /// Opportunities in scope: for partners, those attributed to them.
    pub fn opportunities(self) -> Condition {
        match self {
            RowScope::Everything => Condition::all(),
            RowScope::Partner(partner) => attributed_to(partner),
            RowScope::Nothing => Condition::all().add(Expr::value(false)),
        }
    }
}

/// The partners `principal` may see.
pub fn partner_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(partner::Column::Id)
}

/// The partner contacts `principal` may see.
pub fn contact_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(partner_contact::Column::PartnerId)
}

/// The OAuth2 clients `principal` may see: all for staff, its own partner's for partners.
pub fn api_client_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(api_client::Column::PartnerId)
}

/// The webhook endpoints `principal` may manage: all for staff, its own partner's for partners.
pub fn webhook_endpoint_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(webhook_endpoint::Column::PartnerId)
}

/// The certifications `principal` may see: its own partner's contacts' for partners.
pub fn certification_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(certification::Column::PartnerId)
}

/// The activity records `principal` may see: its own partner's for partners.
pub fn activity_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(partner_activity::Column::PartnerId)
}

/// The accruals `principal` may see: its own partner's for partners.
pub fn accrual_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(incentive_accrual::Column::PartnerId)
}

/// The payouts `principal` may see: its own partner's for partners.
pub fn payout_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(incentive_payout::Column::PartnerId)
}

/// The ledger entries `principal` may see: its own partner's for partners.
pub fn ledger_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(incentive_ledger_entry::Column::PartnerId)
}

/// The deal registrations `principal` may see: its own partner's for partners.
pub fn registration_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().on(deal_registration::Column::PartnerId)
}

/// The opportunities `principal` may see: for partners, those attributed to
/// its own partner (in the query, so counts and pages reveal nothing else).
pub fn opportunity_rows(scope: impl Into<RowScope>) -> Condition {
    scope.into().opportunities()
}

/// Opportunities `partner_id` is credited on.
pub fn attributed_to(partner_id: Uuid) -> Condition {
    let mut attributed = sea_orm::sea_query::Query::select();
    attributed
        .column(opportunity_attribution::Column::OpportunityId)
        .from(opportunity_attribution::Entity)
        .and_where(opportunity_attribution::Column::PartnerId.eq(partner_id));
    Condition::all().add(opportunity::Column::Id.in_subquery(attributed.to_owned()))
}
