//! Exchange rates to the program's base currency (SPEC §4.5, §4.6): set by
//! an `ADMIN`, audited, and turned into the [`Converter`] the metrics sum with.

use entity::{exchange_rate, program_settings};
use sea_orm::{
    sea_query::OnConflict, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    sql::{Converter, Dialect},
    unit_of_work::{Change, UnitOfWork},
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
    let before = exchange_rate::Entity::find_by_id(currency.as_str().to_owned())
        .one(uow.conn())
        .await?;
    let row = exchange_rate::ActiveModel {
        currency: Set(currency.as_str().to_owned()),
        rate_to_base: Set(rate.as_decimal().to_string()),
        updated_at: Set(uow.now()),
    };
    exchange_rate::Entity::insert(row)
        .on_conflict(
            OnConflict::column(exchange_rate::Column::Currency)
                .update_columns([
                    exchange_rate::Column::RateToBase,
                    exchange_rate::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(uow.conn())
        .await?;
    let snapshot =
        |m: &exchange_rate::Model| json!({ "currency": m.currency, "rateToBase": m.rate_to_base });
    let after = exchange_rate::Model {
        currency: currency.into_inner(),
        rate_to_base: rate.as_decimal().to_string(),
        updated_at: uow.now(),
    };
    uow.audit(Change {
        operation: "setExchangeRate",
        entity_type: EntityType::ExchangeRate,
        // Rates are keyed by currency; the audit entry names it in its changes.
        entity_id: Uuid::nil(),
        before: before.as_ref().map(snapshot).as_ref(),
        after: Some(&snapshot(&after)),
    })
    .await?;
    uow.commit().await?;
    Ok(after)
}
