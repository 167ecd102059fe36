//! The one program settings record (SPEC §4.6).

use entity::program_settings;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    unit_of_work::{Record, UnitOfWork, UpdateError, Versioned},
    Caller, Outcome,
};
use crate::{
    domain::{
        inputs::{CurrencyCode, Weight},
        EntityType, UserError, UserErrorCode,
    },
    error::ApiError,
};

/// The settings record always has this id.
const SETTINGS_ID: i32 = 1;

pub async fn get(db: &impl ConnectionTrait) -> Result<program_settings::Model, ApiError> {
    program_settings::Entity::find_by_id(SETTINGS_ID)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("the program settings record is missing"))
        })
}

/// New values; `None` leaves a setting as it is. Integers are checked here
/// against their ranges, so every setting's limits live in one place.
#[derive(Default)]
pub struct SettingsChanges {
    pub protection_days: Option<i32>,
    pub max_extensions: Option<i32>,
    pub extension_max_days: Option<i32>,
    pub review_sla_hours: Option<i32>,
    pub registration_expiring_days: Option<i32>,
    pub certification_expiring_days: Option<i32>,
    pub certification_gating: Option<bool>,
    pub influence_weight: Option<Weight>,
    pub required_sales_certifications: Option<i32>,
    pub required_technical_certifications: Option<i32>,
    pub activation_days: Option<i32>,
    pub base_currency: Option<CurrencyCode>,
    pub show_tier_progress_to_partners: Option<bool>,
    pub incentive_dispute_days: Option<i32>,
}

/// The range of each integer setting, in one place.
const RANGES: &[(&str, i32, i32)] = &[
    ("protectionDays", 1, 365),
    ("maxExtensions", 0, 10),
    ("extensionMaxDays", 1, 365),
    ("reviewSlaHours", 1, 24 * 30),
    ("registrationExpiringDays", 1, 365),
    ("certificationExpiringDays", 1, 365),
    ("requiredSalesCertifications", 0, 100),
    ("requiredTechnicalCertifications", 0, 100),
    ("activationDays", 1, 730),
    ("incentiveDisputeDays", 0, 365),
];

impl SettingsChanges {
    fn integers(&self) -> [(&'static str, Option<i32>); 10] {
        [
            ("protectionDays", self.protection_days),
            ("maxExtensions", self.max_extensions),
            ("extensionMaxDays", self.extension_max_days),
            ("reviewSlaHours", self.review_sla_hours),
            ("registrationExpiringDays", self.registration_expiring_days),
            (
                "certificationExpiringDays",
                self.certification_expiring_days,
            ),
            (
                "requiredSalesCertifications",
                self.required_sales_certifications,
            ),
            (
                "requiredTechnicalCertifications",
                self.required_technical_certifications,
            ),
            ("activationDays", self.activation_days),
            ("incentiveDisputeDays", self.incentive_dispute_days),
        ]
    }

    /// A user error for every integer setting outside its range.
    pub fn range_errors(&self) -> Vec<UserError> {
        self.integers()
            .into_iter()
            .filter_map(|(field, value)| {
                let value = value?;
                let (_, min, max) = RANGES.iter().find(|(name, _, _)| *name == field)?;
                (!(min..=max).contains(&&value)).then(|| {
                    UserError::on_field(
                        field,
                        UserErrorCode::InvalidValue,
                        format!("must be between {min} and {max}"),
                    )
                })
            })
            .collect()
    }
}

fn snapshot(s: &program_settings::Model) -> Value {
    json!({
        "protectionDays": s.protection_days,
        "maxExtensions": s.max_extensions,
        "extensionMaxDays": s.extension_max_days,
        "reviewSlaHours": s.review_sla_hours,
        "registrationExpiringDays": s.registration_expiring_days,
        "certificationExpiringDays": s.certification_expiring_days,
        "certificationGating": s.certification_gating,
        "influenceWeight": Weight::from_basis_points(s.influence_weight_bps).as_decimal().to_string(),
        "requiredSalesCertifications": s.required_sales_certifications,
        "requiredTechnicalCertifications": s.required_technical_certifications,
        "activationDays": s.activation_days,
        "baseCurrency": s.base_currency,
        "showTierProgressToPartners": s.show_tier_progress_to_partners,
        "incentiveDisputeDays": s.incentive_dispute_days,
        "version": s.version,
    })
}

/// The one settings row, audited as `ProgramSettings` with the nil id.
impl Record for program_settings::Entity {
    const AUDIT_TYPE: EntityType = EntityType::ProgramSettings;

    fn id(_: &program_settings::Model) -> Uuid {
        Uuid::nil()
    }

    fn id_column() -> program_settings::Column {
        program_settings::Column::Id
    }

    fn locate(row: &program_settings::Model) -> Condition {
        Condition::all().add(program_settings::Column::Id.eq(row.id))
    }

    fn snapshot(row: &program_settings::Model) -> Value {
        snapshot(row)
    }
}

impl Versioned for program_settings::Entity {
    fn version(row: &program_settings::Model) -> i32 {
        row.version
    }

    fn version_column() -> program_settings::Column {
        program_settings::Column::Version
    }

    fn updated_at_column() -> program_settings::Column {
        program_settings::Column::UpdatedAt
    }
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    expected_version: Option<i32>,
    changes: SettingsChanges,
) -> Outcome<program_settings::Model> {
    let errors = changes.range_errors();
    if !errors.is_empty() {
        return Err(super::Failure::User(errors));
    }

    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let current = get(uow.conn()).await?;
    let stale = |version: i32| {
        UserError::on_field(
            "expectedVersion",
            UserErrorCode::StaleVersion,
            format!("the settings changed since you read them; they are now at version {version}"),
        )
    };
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(stale(current.version).into());
    }
    let mut changed = current.clone().into_active_model();
    let set = |field: &mut sea_orm::ActiveValue<i32>, value: Option<i32>| {
        if let Some(value) = value {
            *field = Set(value);
        }
    };
    set(&mut changed.protection_days, changes.protection_days);
    set(&mut changed.max_extensions, changes.max_extensions);
    set(&mut changed.extension_max_days, changes.extension_max_days);
    set(&mut changed.review_sla_hours, changes.review_sla_hours);
    set(
        &mut changed.registration_expiring_days,
        changes.registration_expiring_days,
    );
    set(
        &mut changed.certification_expiring_days,
        changes.certification_expiring_days,
    );
    set(
        &mut changed.required_sales_certifications,
        changes.required_sales_certifications,
    );
    set(
        &mut changed.required_technical_certifications,
        changes.required_technical_certifications,
    );
    set(&mut changed.activation_days, changes.activation_days);
    set(
        &mut changed.incentive_dispute_days,
        changes.incentive_dispute_days,
    );
    set(
        &mut changed.influence_weight_bps,
        changes.influence_weight.map(Weight::basis_points),
    );
    if let Some(gating) = changes.certification_gating {
        changed.certification_gating = Set(gating);
    }
    if let Some(show) = changes.show_tier_progress_to_partners {
        changed.show_tier_progress_to_partners = Set(show);
    }
    if let Some(currency) = changes.base_currency {
        changed.base_currency = Set(currency.into_inner());
    }
    let updated = uow
        .update::<program_settings::Entity>("updateSettings", &current, changed)
        .await
        .map_err(|error| -> super::Failure {
            match error {
                UpdateError::Stale(version) => stale(version.unwrap_or(current.version)).into(),
                UpdateError::Db(error) => error.into(),
            }
        })?;
    uow.commit().await?;
    Ok(updated)
}
