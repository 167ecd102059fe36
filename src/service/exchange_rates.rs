//! Exchange rates to the program's base currency (SPEC §4.5, §4.6): set by
//! an `ADMIN`, audited, and turned into the [`Converter`] the metrics sum with.

use entity::{exchange_rate, program_settings};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryOrder, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    sql::{Converter, Dialect},
    unit_of_work::{Record, UnitOfWork},
    Caller, Outcome,
};
use crate::{
    domain::{
        exchange::{Conversion, Rate},
        inputs::CurrencyCode,
        EntityType, UserError, UserErrorCode,
    },
    error::ApiError,
};

/// Rates are keyed by currency; their audit entries carry the nil id and
/// name the currency in their changes.
impl Record for exchange_rate::Entity {
    const AUDIT_TYPE: EntityType = EntityType::ExchangeRate;

    fn id(_: &exchange_rate::Model) -> Uuid {
        Uuid::nil()
    }

    fn id_column() -> exchange_rate::Column {
        exchange_rate::Column::Currency
    }

    fn locate(row: &exchange_rate::Model) -> Condition {
        Condition::all().add(exchange_rate::Column::Currency.eq(row.currency.as_str()))
    }

    fn snapshot(row: &exchange_rate::Model) -> Value {
        json!({ "currency": row.currency, "rateToBase": row.rate_to_base })
    }
}

/// Every rate, by currency code.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<exchange_rate::Model>, ApiError> {
    Ok(exchange_rate::Entity::find()
        .order_by_asc(exchange_rate::Column::Currency)
        .all(db)
        .await?)
}

/// The base currency (rate 1) and every currency with a rate.
pub async fn converter(
    db: &impl ConnectionTrait,
    settings: &program_settings::Model,
) -> Result<Converter, ApiError> {
    let base = CurrencyCode::stored(settings.base_currency.clone());
    let mut conversions = vec![Conversion::new(&base, &base, Rate::ONE)];
    for row in list(db).await? {
        if row.currency == settings.base_currency {
            continue;
        }
        let Ok(rate) = row
            .rate_to_base
            .parse()
            .map_err(|_| ())
            .and_then(|d| Rate::parse(d).map_err(|_| ()))
        else {
            continue;
        };
        conversions.push(Conversion::new(
            &CurrencyCode::stored(row.currency),
            &base,
            rate,
        ));
    }
    Ok(Converter {
        dialect: Dialect::of(db),
        conversions,
    })
}

/// Sets (or replaces) the rate of `currency` to the base currency.
pub async fn set(
    db: &DatabaseConnection,
    caller: &Caller<'_>,
    currency: CurrencyCode,
    rate: Rate,
) -> Outcome<exchange_rate::Model> {
    let uow = UnitOfWork::begin(db, caller.actor(), caller.now).await?;
    let settings = super::settings::get(uow.conn()).await?;
    if currency.as_str() == settings.base_currency && rate == Rate::ONE {
        // Saying so changes nothing.
        return Ok(exchange_rate::Model {
            currency: currency.into_inner(),
            rate_to_base: Rate::ONE.as_decimal().to_string(),
            updated_at: settings.updated_at,
        });
    }
    if currency.as_str() == settings.base_currency {
        return Err(UserError::on_field(
            "currency",
            UserErrorCode::InvalidValue,
            format!(
                "{} is the base currency; its rate is always 1",
                settings.base_currency
            ),
        )
        .into());
    }
    const OPERATION: &str = "setExchangeRate";
    let find = || exchange_rate::Entity::find_by_id(currency.as_str().to_owned()).one(uow.conn());
    let mut current = find().await?;
    if current.is_none() {
        let row = exchange_rate::ActiveModel {
            currency: Set(currency.as_str().to_owned()),
            rate_to_base: Set(rate.as_decimal().to_string()),
            updated_at: Set(uow.now()),
        };
        let key = [exchange_rate::Column::Currency];
        if let Some(created) = uow
            .create_unless_exists::<exchange_rate::Entity>(OPERATION, row, key)
            .await?
        {
            uow.commit().await?;
            return Ok(created);
        }
        // A concurrent first rate for this currency won the insert: this
        // one replaces it, the last word as with any later change.
        current = find().await?;
    }
    let current = current.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("the {} rate vanished", currency.as_str()))
    })?;
    let mut changed = current.clone().into_active_model();
    changed.rate_to_base = Set(rate.as_decimal().to_string());
    changed.updated_at = Set(uow.now());
    let after = uow
        .update_unversioned::<exchange_rate::Entity>(OPERATION, &current, changed)
        .await?;
    uow.commit().await?;
    Ok(after)
}
