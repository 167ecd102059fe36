//! Pipeline vocabulary (SPEC §4.3).

pub use entity::enums::{AttributionRole, ConflictKind, OpportunitySource, OpportunityStage};

/// Whether a stage is final.
pub trait StageRules {
    fn is_closed(&self) -> bool;
}

impl StageRules for OpportunityStage {
    fn is_closed(&self) -> bool {
        matches!(
            self,
            OpportunityStage::ClosedWon | OpportunityStage::ClosedLost
        )
    }
}
