//! Money: an amount in integer minor units of an ISO 4217 currency, so sums
//! never drift. The API shows it as a decimal string.

use rust_decimal::Decimal;

use super::inputs::{CurrencyCode, InvalidInput};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub minor_units: i64,
    pub currency: CurrencyCode,
}

/// Digits after the decimal point of `currency` (ISO 4217 minor unit).
pub fn minor_digits(currency: &CurrencyCode) -> u32 {
    match currency.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

impl Money {
    /// `amount` in `currency`; more decimals than the currency has is an error.
    pub fn from_decimal(amount: Decimal, currency: CurrencyCode) -> Result<Self, InvalidInput> {
        let digits = minor_digits(&currency);
        let scaled = amount * Decimal::from(10i64.pow(digits));
        if !scaled.fract().is_zero() {
            return Err(InvalidInput(format!(
                "{} allows at most {digits} decimal places",
                currency.as_str()
            )));
        }
        let minor_units =
            i64::try_from(scaled.trunc()).map_err(|_| InvalidInput("is too large".into()))?;
        Ok(Self {
            minor_units,
            currency,
        })
    }

    pub fn amount(&self) -> Decimal {
        Decimal::new(self.minor_units, minor_digits(&self.currency))
    }
}

/// `numerator / denominator` (denominator > 0) rounded half away from zero:
/// how amounts are converted, averaged and weighted (SPEC §4.5).
pub fn div_round_half_away(numerator: i128, denominator: i128) -> i64 {
    let half = denominator / 2;
    let quotient = if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        -((-numerator + half) / denominator)
    };
    i64::try_from(quotient).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn code(c: &str) -> CurrencyCode {
        CurrencyCode::parse(c).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn money_keeps_minor_units_by_currency() {
        let usd = Money::from_decimal(Decimal::from_str("1234.5").unwrap_or_default(), code("USD"));
        assert_eq!(usd.as_ref().map(|m| m.minor_units), Ok(123450));
        assert_eq!(usd.map(|m| m.amount().to_string()), Ok("1234.50".into()));
        assert!(
            Money::from_decimal(Decimal::from_str("1.234").unwrap_or_default(), code("EUR"))
                .is_err()
        );
        assert!(
            Money::from_decimal(Decimal::from_str("1.5").unwrap_or_default(), code("JPY")).is_err()
        );
        assert_eq!(
            Money::from_decimal(Decimal::from_str("1.234").unwrap_or_default(), code("KWD"))
                .map(|m| m.minor_units),
            Ok(1234)
        );
    }
}
