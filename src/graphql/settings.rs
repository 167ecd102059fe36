//! Program settings (SPEC §4.6): read by staff, changed by `ADMIN`.

use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::program_settings;

use super::{
    context,
    payload::{mutate, InputCheck},
    scalars::{CurrencyCode, Decimal},
};
use crate::{
    auth::Action,
    domain::{
        exchange::Rate,
        inputs::{self, Weight},
        UserError,
    },
    error::ApiResult,
    service::{
        exchange_rates,
        settings::{self as service, SettingsChanges},
    },
};

/// The program's rules of the game, in one record.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProgramSettings {
    /// Days of protection an approved deal registration gets.
    pub protection_days: i32,
    /// How often an approved registration may be extended.
    pub max_extensions: i32,
    /// The most days one extension may add.
    pub extension_max_days: i32,
    /// Hours within which a registration should be decided.
    pub review_sla_hours: i32,
    /// Days before protection ends that `deal_registration.expiring` is sent.
    pub registration_expiring_days: i32,
    /// Days before a certification expires that `certification.expiring` is sent.
    pub certification_expiring_days: i32,
    /// Whether partners (except referral partners) need a certified seller to register deals.
    pub certification_gating: bool,
    /// Credit weight of an `INFLUENCED` attribution, between 0 and 1.
    pub influence_weight: Decimal,
    /// Contacts with an active `SALES` certification needed for `CERTIFICATION_COMPLETE`.
    pub required_sales_certifications: i32,
    /// Contacts with an active `TECHNICAL` certification needed for `CERTIFICATION_COMPLETE`.
    pub required_technical_certifications: i32,
    /// Days from signing by which a partner should be live.
    pub activation_days: i32,
    /// The currency program amounts are reported in.
    pub base_currency: CurrencyCode,
    /// Whether partners see their own `tierProgress`.
    pub show_tier_progress_to_partners: bool,
    /// Days after an accrual is earned in which its partner may dispute it.
    pub incentive_dispute_days: i32,
    /// Bumped by every change; pass it as `expectedVersion` when updating.
    pub version: i32,
    /// When the settings last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<program_settings::Model> for ProgramSettings {
    fn from(s: program_settings::Model) -> Self {
        Self {
            protection_days: s.protection_days,
            max_extensions: s.max_extensions,
            extension_max_days: s.extension_max_days,
            review_sla_hours: s.review_sla_hours,
            registration_expiring_days: s.registration_expiring_days,
            certification_expiring_days: s.certification_expiring_days,
            certification_gating: s.certification_gating,
            influence_weight: Decimal(
                Weight::from_basis_points(s.influence_weight_bps).as_decimal(),
            ),
            required_sales_certifications: s.required_sales_certifications,
            required_technical_certifications: s.required_technical_certifications,
            activation_days: s.activation_days,
            base_currency: CurrencyCode(inputs::CurrencyCode::stored(s.base_currency)),
            show_tier_progress_to_partners: s.show_tier_progress_to_partners,
            incentive_dispute_days: s.incentive_dispute_days,
            version: s.version,
            updated_at: s.updated_at,
        }
    }
}

/// The rate of one currency to the base currency.
#[derive(SimpleObject)]
pub struct ExchangeRate {
    /// The currency.
    pub currency: CurrencyCode,
    /// One unit of it in base-currency units.
    pub rate_to_base: Decimal,
    /// When the rate was last set.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::exchange_rate::Model> for ExchangeRate {
    fn from(m: entity::exchange_rate::Model) -> Self {
        Self {
            currency: CurrencyCode(inputs::CurrencyCode::stored(m.currency)),
            rate_to_base: Decimal(m.rate_to_base.parse().unwrap_or_default()),
            updated_at: m.updated_at,
        }
    }
}

#[ComplexObject]
impl ProgramSettings {
    /// Rates of other currencies to the base currency (whose own rate is 1);
    /// amounts in a currency without one are left out of program sums.
    async fn exchange_rates(&self, ctx: &Context<'_>) -> ApiResult<Vec<ExchangeRate>> {
        Ok(exchange_rates::list(context::db(ctx)?)
            .await?
            .into_iter()
            .map(ExchangeRate::from)
            .collect())
    }
}

/// A currency's rate to the base currency.
#[derive(InputObject)]
pub struct SetExchangeRateInput {
    /// ISO 4217 code, e.g. `EUR`; not the base currency.
    pub currency: String,
    /// One unit of it in base-currency units, greater than 0, at most 8 decimals.
    pub rate_to_base: Decimal,
}

/// The result of `setExchangeRate`.
#[derive(SimpleObject)]
pub struct SetExchangeRatePayload {
    /// The rate as set, unless `userErrors` says why not.
    pub exchange_rate: Option<ExchangeRate>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// The program settings. Any staff principal may read them.
    async fn settings(&self, ctx: &Context<'_>) -> ApiResult<ProgramSettings> {
        let request = context::request(ctx)?;
        request.principal.authorize(Action::ReadSettings)?;
        Ok(service::get(context::db(ctx)?).await?.into())
    }
}

/// New setting values; absent fields stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateSettingsInput {
    /// The `version` you read, if you want the change refused when the settings changed since.
    pub expected_version: Option<i32>,
    /// Days of protection, 1 to 365.
    pub protection_days: Option<i32>,
    /// Extensions allowed per registration, 0 to 10.
    pub max_extensions: Option<i32>,
    /// Most days per extension, 1 to 365.
    pub extension_max_days: Option<i32>,
    /// Review SLA in hours, 1 to 720.
    pub review_sla_hours: Option<i32>,
    /// Registration expiry reminder lead in days, 1 to 365.
    pub registration_expiring_days: Option<i32>,
    /// Certification expiry reminder lead in days, 1 to 365.
    pub certification_expiring_days: Option<i32>,
    /// Whether deal registration needs a certified seller.
    pub certification_gating: Option<bool>,
    /// Influence credit weight, 0 to 1.
    pub influence_weight: Option<Decimal>,
    /// Contacts with active `SALES` certifications needed, 0 to 100.
    pub required_sales_certifications: Option<i32>,
    /// Contacts with active `TECHNICAL` certifications needed, 0 to 100.
    pub required_technical_certifications: Option<i32>,
    /// Days from signing to be live, 1 to 730.
    pub activation_days: Option<i32>,
    /// Base currency, an ISO 4217 code such as `EUR`. Taken as a string so a
    /// bad code comes back as a user error naming this field.
    pub base_currency: Option<String>,
    /// Whether partners see their own `tierProgress`.
    pub show_tier_progress_to_partners: Option<bool>,
    /// Days after an accrual is earned in which its partner may dispute it, 0 to 365.
    pub incentive_dispute_days: Option<i32>,
}

/// The result of `updateSettings`.
#[derive(SimpleObject)]
pub struct UpdateSettingsPayload {
    /// The settings after the change, unless `userErrors` says why not.
    pub settings: Option<ProgramSettings>,
    /// Why the input was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    /// Changes program settings; every change is audited. Needs `ADMIN` and the `admin` scope.
    async fn update_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new values.")] input: UpdateSettingsInput,
    ) -> ApiResult<UpdateSettingsPayload> {
        let (settings, user_errors) = mutate(ctx, Action::WriteSettings, |request| async move {
            let changes = InputCheck::parse(|check| {
                let influence_weight =
                    check.optional("influenceWeight", input.influence_weight, |d| {
                        Weight::parse(d.0)
                    });
                let base_currency = check.optional("baseCurrency", input.base_currency, |c| {
                    inputs::CurrencyCode::parse(&c)
                });

                let changes = SettingsChanges {
                    protection_days: input.protection_days,
                    max_extensions: input.max_extensions,
                    extension_max_days: input.extension_max_days,
                    review_sla_hours: input.review_sla_hours,
                    registration_expiring_days: input.registration_expiring_days,
                    certification_expiring_days: input.certification_expiring_days,
                    certification_gating: input.certification_gating,
                    influence_weight,
                    required_sales_certifications: input.required_sales_certifications,
                    required_technical_certifications: input.required_technical_certifications,
                    activation_days: input.activation_days,
                    base_currency,
                    show_tier_progress_to_partners: input.show_tier_progress_to_partners,
                    incentive_dispute_days: input.incentive_dispute_days,
                };
                for error in changes.range_errors() {
                    check.reject(error);
                }
                Some(changes)
            })?;
            service::update(
                context::db(ctx)?,
                &request.caller(),
                input.expected_version,
                changes,
            )
            .await
        })
        .await?;
        Ok(UpdateSettingsPayload {
            settings: settings.map(Into::into),
            user_errors,
        })
    }

    /// Sets the rate of a currency to the base currency; audited. Needs
    /// `ADMIN` and the `admin` scope.
    async fn set_exchange_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The currency and its rate.")] input: SetExchangeRateInput,
    ) -> ApiResult<SetExchangeRatePayload> {
        let (rate, user_errors) = mutate(ctx, Action::WriteSettings, |request| async move {
            let (currency, rate) = InputCheck::parse(|check| {
                let currency =
                    check.field("currency", inputs::CurrencyCode::parse(&input.currency));
                let rate = check.field("rateToBase", Rate::parse(input.rate_to_base.0));
                Some((currency?, rate?))
            })?;
            exchange_rates::set(context::db(ctx)?, &request.caller(), currency, rate).await
        })
        .await?;
        Ok(SetExchangeRatePayload {
            exchange_rate: rate.map(Into::into),
            user_errors,
        })
    }
}
