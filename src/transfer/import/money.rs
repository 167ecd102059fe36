//! An amount of money from two cells: the amount (which may carry its ISO
//! code, as in `USD 1,200`) and the currency column; both must agree, and
//! one of them must name the currency.

use rust_decimal::Decimal;

use super::{cells, row::Row};
use crate::domain::{inputs::CurrencyCode, money::Money};

/// The row's money, or `None` after noting why (or when `amount` is empty
/// and `required` is false).
pub fn read(row: &mut Row<'_>, amount: &str, currency: &str, required: bool) -> Option<Money> {
    let value = if required {
        row.require(amount, cells::amount)
    } else {
        row.parse(amount, cells::amount)
    };
    let column = row.parse(currency, |t| CurrencyCode::parse(&t.to_uppercase()));
    let (value, code) = value?;
    let written = code.and_then(|c| CurrencyCode::parse(&c).ok());
    let code = match (written, column) {
        (Some(a), Some(c)) if a != c => {
            row.problem(
                amount,
                format!(
                    "says {} but the currency column says {}",
                    a.as_str(),
                    c.as_str()
                ),
            );
            return None;
        }
        (a, c) => c.or(a),
    };
    let Some(code) = code else {
        row.problem(
            currency,
            "is required (or write the code beside the amount, as in USD 1,200)",
        );
        return None;
    };
    if value <= Decimal::ZERO {
        row.problem(amount, "must be more than zero");
        return None;
    }
    match Money::from_decimal(value, code) {
        Ok(money) => Some(money),
        Err(e) => {
            row.problem(amount, e.0);
            None
        }
    }
}
