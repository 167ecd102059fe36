//! Exchange rates (SPEC §4.5): an amount in another currency is multiplied
//! by that currency's rate to the base and rounded half away from zero to
//! the base currency's minor unit. Rates carry at most eight decimals, so a
//! conversion is exact integer arithmetic: `minor × numerator / denominator`.

use rust_decimal::Decimal;

use super::{
    inputs::{CurrencyCode, InvalidInput},
    money::{div_round_half_away, minor_digits},
};

/// Decimal places a rate may have.
pub const RATE_DECIMALS: u32 = 8;

/// How many base units one unit of a currency is worth; positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(Decimal);

impl Rate {
    pub fn parse(raw: Decimal) -> Result<Self, InvalidInput> {
        if raw <= Decimal::ZERO {
            return Err(InvalidInput("must be greater than 0".into()));
        }
        if raw.normalize().scale() > RATE_DECIMALS {
            return Err(InvalidInput(format!(
                "may have at most {RATE_DECIMALS} decimal places"
            )));
        }
        if raw > Decimal::from(1_000_000_000) {
            return Err(InvalidInput("must be at most 1000000000".into()));
        }
        Ok(Self(raw.normalize()))
    }

    pub const ONE: Rate = Rate(Decimal::ONE);

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// The rate in units of 10⁻⁸.
    fn scaled(self) -> i64 {
        let scaled = self.0 * Decimal::from(10i64.pow(RATE_DECIMALS));
        i64::try_from(scaled.trunc()).unwrap_or(i64::MAX)
    }
}

/// Converting minor units of one currency to minor units of the base:
/// `round_half_away(minor × numerator / denominator)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub currency: String,
    pub numerator: i64,
    pub denominator: i64,
}

impl Conversion {
    pub fn new(currency: &CurrencyCode, base: &CurrencyCode, rate: Rate) -> Self {
        let (from, to) = (minor_digits(currency), minor_digits(base));
        let mut numerator = rate.scaled();
        let mut denominator = 10i64.pow(RATE_DECIMALS);
        if to > from {
            numerator = numerator.saturating_mul(10i64.pow(to - from));
        } else {
            denominator *= 10i64.pow(from - to);
        }
        // Smaller factors keep the SQL arithmetic further from overflow.
        let common = gcd(numerator, denominator);
        Self {
            currency: currency.as_str().to_owned(),
            numerator: numerator / common,
            denominator: denominator / common,
        }
    }

    /// `minor` converted, rounded half away from zero (what the SQL computes too).
    pub fn apply(&self, minor: i64) -> i64 {
        div_round_half_away(
            i128::from(minor) * i128::from(self.numerator),
            i128::from(self.denominator),
        )
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn code(c: &str) -> CurrencyCode {
        CurrencyCode::parse(c).unwrap_or_else(|_| unreachable!())
    }

    fn rate(text: &str) -> Rate {
        Rate::parse(Decimal::from_str(text).unwrap_or_default()).unwrap_or(Rate::ONE)
    }

    #[test]
    fn rates_are_positive_with_at_most_eight_decimals() {
        assert!(Rate::parse(Decimal::ZERO).is_err());
        assert!(Rate::parse(Decimal::from(-1)).is_err());
        assert!(Rate::parse(Decimal::from_str("0.000000001").unwrap_or_default()).is_err());
        assert!(Rate::parse(Decimal::from_str("0.00000001").unwrap_or_default()).is_ok());
        assert!(Rate::parse(Decimal::from_str("1.10000000000").unwrap_or_default()).is_ok());
    }

    #[test]
    fn conversion_rounds_half_away_from_zero_to_the_base_minor_unit() {
        let eur = Conversion::new(&code("EUR"), &code("USD"), rate("1.1"));
        assert_eq!(eur.apply(100_000), 110_000); // 1,000.00 EUR → 1,100.00 USD
        let half = Conversion::new(&code("EUR"), &code("USD"), rate("1.5"));
        assert_eq!(half.apply(1), 2); // 0.015 → 0.02
        assert_eq!(half.apply(-1), -2);
        let jpy = Conversion::new(&code("JPY"), &code("USD"), rate("0.0067"));
        assert_eq!(jpy.apply(1_000_000), 670_000); // 1,000,000 JPY → 6,700.00 USD
        let to_jpy = Conversion::new(&code("USD"), &code("JPY"), rate("150.25"));
        assert_eq!(to_jpy.apply(1_050), 1578); // 10.50 USD → 1,577.625 → 1,578 JPY
        let kwd = Conversion::new(&code("KWD"), &code("USD"), rate("3.25"));
        assert_eq!(kwd.apply(1_005), 327); // 1.005 KWD → 3.26625 → 3.27 USD
        let same = Conversion::new(&code("USD"), &code("USD"), Rate::ONE);
        assert_eq!((same.numerator, same.denominator), (1, 1));
    }
}
