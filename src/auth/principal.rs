//! The principal a request runs as, and the one table of what each role may do.

use uuid::Uuid;

use super::{Scope, ScopeSet};
use crate::{
    domain::{AttributionRole, PrincipalKind, Role, RoleKind},
    error::ApiError,
};

/// Exactly one per GraphQL request, taken from its bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    pub staff_user_id: Option<Uuid>,
    /// Set for partner principals: the only partner whose rows they see.
    pub partner_id: Option<Uuid>,
    pub token_id: Uuid,
    /// The OAuth2 client the token was issued to, if any.
    pub api_client_id: Option<Uuid>,
    /// The partner contact a portal's token acts as (RFC 8693 token
    /// exchange): what it does is recorded as done by that person.
    pub contact_id: Option<Uuid>,
    pub scopes: ScopeSet,
}

/// Everything a principal can ask to do. Each action needs a role that may do
/// it *and* a scope that allows it (SPEC §2: role rights ∩ scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadPartners,
    WritePartners,
    /// Read deal registrations (a partner: its own).
    ReadRegistrations,
    /// Submit, update and withdraw registrations (a partner: its own; staff: on a partner's behalf).
    SubmitRegistrations,
    /// Approve, reject, extend registrations and resolve conflicts.
    ReviewRegistrations,
    /// Ask for a registration's protection to be extended (its own partner's).
    RequestExtensions,
    /// Read opportunities (a partner: those attributed to it).
    ReadPipeline,
    /// Change and move opportunities (a partner: those it sources, within limits).
    WritePipeline,
    /// Create direct opportunities and sync them from a CRM.
    CreateOpportunities,
    /// Credit partners on opportunities (`SALES`: influence only).
    AttributeOpportunities,
    /// Credit a partner as anything but `INFLUENCED`.
    CreditPartners,
    /// Take a partner's credit off an opportunity.
    RemoveAttribution,
    /// Reopen a closed opportunity.
    ReopenOpportunities,
    /// Read certification tracks and (own partner's, for partners) certifications.
    ReadCertifications,
    /// Manage tracks and award, enroll, revoke certifications.
    WriteCertifications,
    /// Add or change partner contacts (a partner admin: its own partner's).
    WriteContacts,
    /// List, create and revoke OAuth2 clients (a partner admin: its own partner's).
    ManageApiClients,
    /// List, create, change and delete webhook endpoints (a partner admin: its own partner's).
    ManageWebhooks,
    ReadSettings,
    WriteSettings,
    ReadAuditLog,
    /// Record portal logins, downloads, trainings (a partner: its own).
    RecordActivity,
    /// Read activity records (a partner: its own).
    ReadActivity,
    /// Read internal scores: engagement, tier qualification, customer NPS.
    ReadScores,
    /// Read `programMetrics` (KPIs, ROI, rep adoption).
    ReadProgramMetrics,
    /// See CRM links and find records by them (with the read right of the
    /// record's type); making and breaking links needs that type's write
    /// right (`WritePartners`, `CreateOpportunities`). Staff only.
    ReadExternalIds,
    /// Read accruals, statements, payouts (a partner: its own).
    ReadIncentives,
    /// Read incentive plans' terms and preview them.
    ReadIncentivePlans,
    /// Create, change (a new version), activate and archive incentive plans.
    ManageIncentivePlans,
    /// Hold, approve or reject accruals, post adjustments, resolve disputes.
    ReviewAccruals,
    /// Create, approve, pay and fail payouts; read the ledger feed.
    ManagePayouts,
    /// Dispute an accrual (a partner admin: its own partner's).
    DisputeAccruals,
}

impl Action {
    /// The scope a token needs for this action (`None`: any valid token of an
    /// allowed role).
    fn scope(self) -> Option<Scope> {
        match self {
            Action::WritePipeline
            | Action::CreateOpportunities
            | Action::AttributeOpportunities
            | Action::CreditPartners
            | Action::RemoveAttribution
            | Action::ReopenOpportunities => Some(Scope::PipelineWrite),
            Action::ReadRegistrations => Some(Scope::RegistrationsRead),
            Action::SubmitRegistrations
            | Action::ReviewRegistrations
            | Action::RequestExtensions => Some(Scope::RegistrationsWrite),
            Action::ReadPipeline => Some(Scope::PipelineRead),
            Action::ReadCertifications => Some(Scope::CertificationsRead),
            Action::WriteCertifications => Some(Scope::CertificationsWrite),
            Action::ReadPartners => Some(Scope::PartnersRead),
            Action::WritePartners | Action::WriteContacts => Some(Scope::PartnersWrite),
            Action::ManageApiClients => Some(Scope::Admin),
            Action::ManageWebhooks => Some(Scope::WebhooksManage),
            Action::ReadSettings => None,
            Action::WriteSettings | Action::ReadAuditLog => Some(Scope::Admin),
            Action::RecordActivity => Some(Scope::PartnersWrite),
            Action::ReadActivity | Action::ReadScores => Some(Scope::PartnersRead),
            Action::ReadProgramMetrics => Some(Scope::MetricsRead),
            Action::ReadExternalIds => None,
            Action::ReadIncentives | Action::ReadIncentivePlans => Some(Scope::PartnersRead),
            Action::ManageIncentivePlans | Action::ReviewAccruals | Action::DisputeAccruals => {
                Some(Scope::PartnersWrite)
            }
            Action::ManagePayouts => Some(Scope::Admin),
        }
    }

    /// The rights of each role, in one place.
    fn allowed_for(self, role: Role) -> bool {
        use Role::*;
        match self {
            Action::WritePipeline => role != Viewer,
            Action::CreateOpportunities | Action::AttributeOpportunities => {
                matches!(role, Admin | PartnerManager | Sales)
            }
            // Sales may add `INFLUENCED` credit only.
            Action::CreditPartners | Action::RemoveAttribution => {
                matches!(role, Admin | PartnerManager)
            }
            Action::ReopenOpportunities => role == Admin,
            Action::ReadRegistrations | Action::ReadPipeline => true,
            Action::SubmitRegistrations => {
                matches!(role, Admin | PartnerManager | PartnerAdmin | PartnerRep)
            }
            Action::ReviewRegistrations => matches!(role, Admin | PartnerManager),
            // Staff extend directly; the partner asks.
            Action::RequestExtensions => matches!(role, PartnerAdmin | PartnerRep),
            Action::ReadCertifications => true,
            Action::WriteCertifications => matches!(role, Admin | PartnerManager),
            Action::ReadPartners => true,
            Action::WritePartners => matches!(role, Admin | PartnerManager),
            Action::WriteContacts => matches!(role, Admin | PartnerManager | PartnerAdmin),
            Action::ManageApiClients => matches!(role, Admin | PartnerAdmin),
            Action::ManageWebhooks => matches!(role, Admin | PartnerManager | PartnerAdmin),
            Action::ReadSettings => role.kind() == PrincipalKind::Staff,
            Action::WriteSettings | Action::ReadAuditLog => role == Admin,
            Action::RecordActivity => {
                matches!(role, Admin | PartnerManager | PartnerAdmin | PartnerRep)
            }
            Action::ReadActivity => true,
            Action::ReadScores => role.kind() == PrincipalKind::Staff,
            // RevOps and partner operations; sales reps see their own numbers through their manager.
            Action::ReadProgramMetrics => matches!(role, Admin | PartnerManager | Viewer),
            Action::ReadExternalIds => role.kind() == PrincipalKind::Staff,
            Action::ReadIncentives => true,
            Action::ReadIncentivePlans => role.kind() == PrincipalKind::Staff,
            Action::ManageIncentivePlans | Action::ReviewAccruals => {
                matches!(role, Admin | PartnerManager)
            }
            // Money leaves the company: the admin only.
            Action::ManagePayouts => role == Admin,
            Action::DisputeAccruals => role == PartnerAdmin,
        }
    }
}

impl Principal {
    /// Whose budget a request spends: the portal user, else the OAuth2
    /// client, else the person, else the token.
    pub fn budget_key(&self) -> String {
        match (self.contact_id, self.api_client_id, self.staff_user_id) {
            (Some(contact), _, _) => format!("contact:{contact}"),
            (None, Some(client), _) => format!("client:{client}"),
            (None, None, Some(user)) => format!("staff:{user}"),
            (None, None, None) => format!("token:{}", self.token_id),
        }
    }

    pub fn kind(&self) -> PrincipalKind {
        self.role.kind()
    }

    pub fn is_staff(&self) -> bool {
        self.kind() == PrincipalKind::Staff
    }

    pub fn may(&self, action: Action) -> bool {
        action.allowed_for(self.role) && action.scope().is_none_or(|s| self.scopes.contains(s))
    }

    /// Whether this principal may credit a partner as `role` on an opportunity.
    pub fn may_credit(&self, role: AttributionRole) -> bool {
        role == AttributionRole::Influenced || self.may(Action::CreditPartners)
    }

    /// Whether this principal writes internal fields (SPEC §3): the write
    /// side of the visibility policy, staff only. The partner schema has no
    /// such input fields; a partner's value for one is dropped.
    pub fn writes_internal_fields(&self) -> bool {
        self.is_staff()
    }

    /// The partner a change is for: a partner principal's own, whatever it
    /// names; staff name one.
    pub fn partner_for(&self, named: Option<Uuid>) -> Option<Uuid> {
        match self.kind() {
            PrincipalKind::Partner => self.partner_id,
            PrincipalKind::Staff => named,
        }
    }

    /// `FORBIDDEN` unless the role and the token's scopes both allow `action`.
    pub fn authorize(&self, action: Action) -> Result<(), ApiError> {
        if self.may(action) {
            return Ok(());
        }
        let needs = match action.scope() {
            Some(scope) if action.allowed_for(self.role) => format!("the `{scope}` scope"),
            _ => "a role with that right".to_owned(),
        };
        Err(ApiError::Forbidden(format!("this operation needs {needs}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scopes: &str) -> Principal {
        Principal {
            role,
            staff_user_id: None,
            partner_id: None,
            token_id: Uuid::nil(),
            api_client_id: None,
            contact_id: None,
            scopes: ScopeSet::parse(scopes).unwrap_or_default(),
        }
    }

    #[test]
    fn rights_are_role_intersected_with_scopes() {
        let all = "partners:read partners:write admin";
        let cases = [
            (Role::Admin, all, Action::WriteSettings, true),
            (Role::Admin, "partners:read", Action::WriteSettings, false),
            (Role::PartnerManager, all, Action::WritePartners, true),
            (Role::PartnerManager, all, Action::WriteSettings, false),
            (
                Role::PartnerManager,
                "partners:read",
                Action::WritePartners,
                false,
            ),
            (Role::Sales, all, Action::ReadPartners, true),
            (Role::Sales, all, Action::WritePartners, false),
            (Role::Viewer, all, Action::ReadPartners, true),
            (Role::Viewer, all, Action::ReadSettings, true),
            (Role::Viewer, all, Action::ReadAuditLog, false),
            (Role::Viewer, "", Action::ReadPartners, false),
            (Role::PartnerAdmin, all, Action::ReadSettings, false),
            (Role::PartnerAdmin, all, Action::WriteContacts, true),
            (Role::PartnerAdmin, all, Action::WritePartners, false),
            (Role::PartnerRep, all, Action::WriteContacts, false),
            (Role::PartnerRep, all, Action::ManageApiClients, false),
            (Role::PartnerAdmin, all, Action::ManageApiClients, true),
            (Role::PartnerManager, all, Action::ManageApiClients, false),
            (
                Role::PartnerAdmin,
                "webhooks:manage",
                Action::ManageWebhooks,
                true,
            ),
            (Role::PartnerAdmin, all, Action::ManageWebhooks, false),
            (
                Role::PartnerRep,
                "webhooks:manage",
                Action::ManageWebhooks,
                false,
            ),
            (
                Role::Sales,
                "webhooks:manage",
                Action::ManageWebhooks,
                false,
            ),
            (Role::Admin, "webhooks:manage", Action::ManageWebhooks, true),
            (
                Role::PartnerRep,
                "partners:write",
                Action::RecordActivity,
                true,
            ),
            (
                Role::PartnerRep,
                "partners:read",
                Action::RecordActivity,
                false,
            ),
            (Role::Sales, all, Action::RecordActivity, false),
            (
                Role::Sales,
                "pipeline:write",
                Action::AttributeOpportunities,
                true,
            ),
            (Role::Sales, "pipeline:write", Action::CreditPartners, false),
            (
                Role::Sales,
                "pipeline:write",
                Action::RemoveAttribution,
                false,
            ),
            (
                Role::PartnerManager,
                "pipeline:write",
                Action::CreditPartners,
                true,
            ),
            (
                Role::Viewer,
                "metrics:read",
                Action::ReadProgramMetrics,
                true,
            ),
            (Role::Viewer, all, Action::ReadProgramMetrics, false),
            (
                Role::Sales,
                "metrics:read",
                Action::ReadProgramMetrics,
                false,
            ),
            (
                Role::PartnerAdmin,
                "partners:read",
                Action::ReadScores,
                false,
            ),
            (Role::Viewer, "", Action::ReadExternalIds, true),
            (
                Role::PartnerRep,
                "registrations:write",
                Action::RequestExtensions,
                true,
            ),
            (Role::Admin, all, Action::RequestExtensions, false),
            (Role::PartnerAdmin, all, Action::ReadExternalIds, false),
            (
                Role::PartnerRep,
                "partners:read",
                Action::ReadIncentives,
                true,
            ),
            (
                Role::PartnerRep,
                "partners:read",
                Action::ReadIncentivePlans,
                false,
            ),
            (
                Role::PartnerManager,
                "partners:write",
                Action::ManageIncentivePlans,
                true,
            ),
            (Role::Sales, all, Action::ReviewAccruals, false),
            (Role::PartnerManager, all, Action::ManagePayouts, false),
            (Role::Admin, "admin", Action::ManagePayouts, true),
            (
                Role::PartnerAdmin,
                "partners:write",
                Action::DisputeAccruals,
                true,
            ),
            (
                Role::PartnerRep,
                "partners:write",
                Action::DisputeAccruals,
                false,
            ),
        ];
        for (role, scopes, action, expected) in cases {
            assert_eq!(
                principal(role, scopes).may(action),
                expected,
                "{role:?} {scopes:?} {action:?}"
            );
        }
    }
}
