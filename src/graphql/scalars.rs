//! Custom scalars, each with `@specifiedBy` the format it follows (SPEC §5).
//! `DateTime` (RFC 3339, UTC) comes from async-graphql, already specified by
//! RFC 3339.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};
use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD` (ISO 8601), without a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date, `YYYY-MM-DD` (ISO 8601), without a time zone.
#[Scalar(
    name = "Date",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date like 2026-12-31")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    // Checked during validation too, so a bad value is reported with the
    // argument path that holds it (e.g. `input.marginPercent`).
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        // `NaiveDate`'s Display is `%Y-%m-%d`, without parsing a format string.
        Value::String(self.0.to_string())
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn dates_are_written_as_iso_dates() {
        let date = Date(NaiveDate::from_ymd_opt(2027, 1, 5).expect("a date"));
        assert_eq!(date.to_value(), Value::String("2027-01-05".into()));
        assert!(matches!(Date::parse(date.to_value()), Ok(Date(d)) if d == date.0));
    }
}

/// A decimal number written as a string, e.g. `"12.5"`, so no precision is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal(pub rust_decimal::Decimal);

/// A decimal number written as a string, e.g. `"12.5"`, so no precision is lost.
/// Its grammar is a JSON number (RFC 8259 §6) without an exponent:
/// `["-"] ("0" / digit1-9 *DIGIT) ["." 1*DIGIT]`. Input may also be a JSON number.
#[Scalar(
    name = "Decimal",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc8259#section-6"
)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let parsed = match &value {
            Value::String(s) => s.trim().parse::<rust_decimal::Decimal>().ok(),
            Value::Number(n) => n.to_string().parse::<rust_decimal::Decimal>().ok(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        parsed
            .map(Decimal)
            .ok_or_else(|| InputValueError::custom("expected a decimal number like \"12.5\""))
    }

    // Checked during validation too, so a bad value is reported with the
    // argument path that holds it (e.g. `input.marginPercent`).
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An ISO 4217 currency code: three upper-case letters such as `USD` or `EUR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyCode(pub crate::domain::inputs::CurrencyCode);

/// An ISO 4217 currency code: three upper-case letters such as `USD` or `EUR`.
#[Scalar(
    name = "CurrencyCode",
    specified_by_url = "https://www.iso.org/iso-4217-currency-codes.html"
)]
impl ScalarType for CurrencyCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => crate::domain::inputs::CurrencyCode::parse(s)
                .map(CurrencyCode)
                .map_err(|e| InputValueError::custom(e.0)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    // Checked during validation too, so a bad value is reported with the
    // argument path that holds it (e.g. `input.marginPercent`).
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.as_str().to_owned())
    }
}

/// An amount of money in one currency.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(serial)]
pub struct Money {
    /// The amount, e.g. `"1250.00"`; as many decimals as the currency has.
    pub amount: Decimal,
    /// The currency.
    pub currency: CurrencyCode,
}

impl From<crate::domain::money::Money> for Money {
    fn from(money: crate::domain::money::Money) -> Self {
        Self {
            amount: Decimal(money.amount()),
            currency: CurrencyCode(money.currency),
        }
    }
}
