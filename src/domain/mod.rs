//! Pure rules: the product's vocabulary, status moves and input parsing.
//! No I/O here; everything is unit-tested.

pub mod accounts;
pub mod activation;
pub mod certifications;
pub mod conflicts;
pub mod enums;
pub mod exchange;
pub mod incentives;
pub mod inputs;
pub mod money;
pub mod partner_status;
pub mod pipeline;
pub mod registrations;
pub mod scores;
pub mod user_error;

pub use activation::{MilestoneKind, MilestoneRules};
pub use certifications::{CertificationKind, CertificationLevel, CertificationStatus};
pub use enums::*;
pub use pipeline::{
    AttributionRole, ConflictKind, OpportunitySource, OpportunityStage, StageRules,
};
pub use registrations::{ConflictResolution, DealRegistrationStatus};
pub use user_error::{UserError, UserErrorCode};
