//! Opaque global ids (Relay): base64url of `Type:uuid`. Clients must not
//! parse them; we can change the encoding without breaking anyone.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use uuid::Uuid;

use crate::domain::SubjectType;

/// The entity types that have global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    Partner,
    PartnerContact,
    StaffUser,
    ApiClient,
    CertificationTrack,
    Certification,
    DealRegistration,
    Opportunity,
    RegistrationConflict,
    WebhookEndpoint,
    WebhookDelivery,
    PartnerActivity,
    IncentivePlan,
    IncentiveAccrual,
    Payout,
    LedgerEntry,
}

impl NodeType {
    // Keep in step with the enum: `name` below stops compiling when a
    // variant is added, which is the reminder to list it here too.
    const ALL: [NodeType; 16] = [
        NodeType::Partner,
        NodeType::PartnerContact,
        NodeType::StaffUser,
        NodeType::ApiClient,
        NodeType::CertificationTrack,
        NodeType::Certification,
        NodeType::DealRegistration,
        NodeType::Opportunity,
        NodeType::RegistrationConflict,
        NodeType::WebhookEndpoint,
        NodeType::WebhookDelivery,
        NodeType::PartnerActivity,
        NodeType::IncentivePlan,
        NodeType::IncentiveAccrual,
        NodeType::Payout,
        NodeType::LedgerEntry,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NodeType::Partner => "Partner",
            NodeType::PartnerContact => "PartnerContact",
            NodeType::StaffUser => "StaffUser",
            NodeType::ApiClient => "ApiClient",
            NodeType::CertificationTrack => "CertificationTrack",
            NodeType::Certification => "Certification",
            NodeType::DealRegistration => "DealRegistration",
            NodeType::Opportunity => "Opportunity",
            NodeType::RegistrationConflict => "RegistrationConflict",
            NodeType::WebhookEndpoint => "WebhookEndpoint",
            NodeType::WebhookDelivery => "WebhookDelivery",
            NodeType::PartnerActivity => "PartnerActivity",
            NodeType::IncentivePlan => "IncentivePlan",
            NodeType::IncentiveAccrual => "IncentiveAccrual",
            NodeType::Payout => "Payout",
            NodeType::LedgerEntry => "LedgerEntry",
        }
    }
}

/// Every outbox subject is a node, so every subject has a global id.
impl From<SubjectType> for NodeType {
    fn from(subject: SubjectType) -> Self {
        match subject {
            SubjectType::Partner => NodeType::Partner,
            SubjectType::DealRegistration => NodeType::DealRegistration,
            SubjectType::Opportunity => NodeType::Opportunity,
            SubjectType::Certification => NodeType::Certification,
            SubjectType::WebhookEndpoint => NodeType::WebhookEndpoint,
            SubjectType::IncentivePlan => NodeType::IncentivePlan,
            SubjectType::IncentiveAccrual => NodeType::IncentiveAccrual,
            SubjectType::Payout => NodeType::Payout,
        }
    }
}

pub fn encode(node_type: NodeType, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", node_type.name(), id.simple()))
}

/// The type and row id behind a global id, or `None` for anything we did not issue.
pub fn decode(global_id: &str) -> Option<(NodeType, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(global_id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, id) = text.split_once(':')?;
    let node_type = NodeType::ALL.into_iter().find(|t| t.name() == name)?;
    Some((node_type, Uuid::try_parse(id).ok()?))
}

/// The row id of a global id of `expected` type.
pub fn decode_as(expected: NodeType, global_id: &str) -> Option<Uuid> {
    decode(global_id)
        .filter(|(t, _)| *t == expected)
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        for node_type in NodeType::ALL {
            assert_eq!(decode(&encode(node_type, id)), Some((node_type, id)));
        }
        let global = encode(NodeType::Partner, id);
        assert_eq!(decode(&global), Some((NodeType::Partner, id)));
        assert_eq!(decode_as(NodeType::PartnerContact, &global), None);
        for bad in ["", "x", "UGFydG5lcjo", &URL_SAFE_NO_PAD.encode("Nope:123")] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
