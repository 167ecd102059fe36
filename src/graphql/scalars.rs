//! Custom scalars. `DateTime` (RFC 3339, UTC) comes from async-graphql.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD` (ISO 8601), without a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date, `YYYY-MM-DD` (ISO 8601), without a time zone.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date like 2026-12-31")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A decimal number written as a string, e.g. `"12.5"`, so no precision is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal(pub rust_decimal::Decimal);

/// A decimal number written as a string, e.g. `"12.5"`, so no precision is lost.
#[Scalar(name = "Decimal")]
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

    fn to_value(&self) -> Value {
        Value::String(self.0.normalize().to_string())
    }
}
