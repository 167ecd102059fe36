//! What a spreadsheet cell's text means: dates, amounts, numbers, yes/no and
//! enum values in the forms people type. Each parser answers the value or
//! the reason it was refused; the caller names the row and column.
//!
//! Rules chosen so that nothing is ever guessed:
//! - Dates: `2026-03-01`, `2026/03/01`, `1 Mar 2026`, `March 1, 2026`,
//!   `01.03.2026` (day first), an RFC 3339 time, or an Excel date serial
//!   (`46082`). `03/01/2026` is read only when one side is above 12
//!   (`13/01/2026`, `01/13/2026`); otherwise it is refused as ambiguous.
//! - Amounts: currency symbols and ISO codes around the number are dropped
//!   (a code must agree with the currency column); spaces and `'` group
//!   thousands; when both `.` and `,` appear the last one is the decimal
//!   mark (`1.200,50`, `1,200.50`); a lone `,` followed by exactly three
//!   digits groups thousands (`1,200`), otherwise it is the decimal mark
//!   (`12,5`).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

/// Day 0 of Excel's (1900) date system, as serials count after Lotus' leap-year bug.
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()
}

/// A calendar date.
pub fn date(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    for format in [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%d %b %Y",
        "%d %B %Y",
        "%b %d, %Y",
        "%B %d, %Y",
        "%d-%b-%Y",
        "%d.%m.%Y",
    ] {
        if let Ok(date) = NaiveDate::parse_from_str(text, format) {
            return Ok(date);
        }
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc).date_naive());
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(time.date());
    }
    if let Some(date) = slashed(text)? {
        return Ok(date);
    }
    if let Ok(serial) = text.parse::<f64>() {
        // 1 = 1900-01-01 … 2958465 = 9999-12-31; a time of day is dropped.
        if (1.0..=2_958_465.0).contains(&serial) {
            let days = serial.trunc() as i64;
            if let Some(date) = excel_epoch().checked_add_signed(chrono::Duration::days(days)) {
                return Ok(date);
            }
        }
    }
    Err("must be a date such as 2026-03-01 or 1 Mar 2026".into())
}

/// `dd/mm/yyyy` or `mm/dd/yyyy`, read only when one side is above 12.
fn slashed(text: &str) -> Result<Option<NaiveDate>, String> {
    let parts: Vec<&str> = text.split('/').collect();
    let [a, b, year] = parts.as_slice() else {
        return Ok(None);
    };
    let (Ok(a), Ok(b), Ok(year)) = (a.parse::<u32>(), b.parse::<u32>(), year.parse::<i32>()) else {
        return Ok(None);
    };
    if year < 1000 {
        return Ok(None);
    }
    let (day, month) = match (a > 12, b > 12) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        (false, false) if a == b => (a, b),
        (false, false) => {
            return Err(format!(
                "is ambiguous: {a}/{b} could be day/month or month/day; write it as {year}-{b:02}-{a:02} or {year}-{a:02}-{b:02}"
            ))
        }
        (true, true) => return Ok(None),
    };
    Ok(NaiveDate::from_ymd_opt(year, month, day))
}

/// An amount of money, and the ISO currency code written beside it, if any.
pub fn amount(text: &str) -> Result<(Decimal, Option<String>), String> {
    let refused = || "must be an amount such as 1200.50, $1,200.50 or 1.200,50 €".to_owned();
    let mut rest = text.trim().to_owned();
    let mut negative = false;
    if rest.starts_with('(') && rest.ends_with(')') {
        negative = true;
        rest = rest[1..rest.len() - 1].to_owned();
    }
    // An ISO code before or after the number.
    let mut code = None;
    let letters: String = rest.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if !letters.is_empty() {
        if letters.len() != 3 || !(rest.starts_with(&letters) || rest.ends_with(&letters)) {
            return Err(refused());
        }
        code = Some(letters.to_uppercase());
        rest = rest.replace(&letters, "");
    }
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '$' | '€' | '£' | '¥' => {}
            '-' if digits.is_empty() => negative = true,
            c if c.is_whitespace() || c == '\'' || c == '\u{202f}' => {}
            '0'..='9' | '.' | ',' => digits.push(c),
            _ => return Err(refused()),
        }
    }
    let plain = decimal_mark(&digits).ok_or_else(refused)?;
    let value = Decimal::from_str(&plain).map_err(|_| refused())?;
    Ok((if negative { -value } else { value }, code))
}

/// The number with `.` as its only mark, grouping removed.
fn decimal_mark(digits: &str) -> Option<String> {
    if digits.is_empty() {
        return None;
    }
    let last_dot = digits.rfind('.');
    let last_comma = digits.rfind(',');
    let decimal = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (None, Some(c)) => {
            let groups: Vec<&str> = digits.split(',').collect();
            let thousands = groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3);
            if thousands {
                None
            } else if groups.len() == 2 {
                Some(c)
            } else {
                return None;
            }
        }
        (Some(d), None) => {
            let groups: Vec<&str> = digits.split('.').collect();
            if groups.len() > 2 {
                // `1.200.000`: dots group thousands.
                if groups[1..].iter().all(|g| g.len() == 3) {
                    None
                } else {
                    return None;
                }
            } else {
                Some(d)
            }
        }
        (None, None) => None,
    };
    let mut plain = String::new();
    for (i, c) in digits.char_indices() {
        match c {
            '0'..='9' => plain.push(c),
            _ if Some(i) == decimal => plain.push('.'),
            _ => {}
        }
    }
    Some(plain)
}

/// A plain number; a trailing `%` is allowed (percentages).
pub fn number(text: &str) -> Result<Decimal, String> {
    let trimmed = text.trim().trim_end_matches('%').trim();
    let (value, code) = amount(trimmed).map_err(|_| "must be a number such as 12.5".to_owned())?;
    if code.is_some() {
        return Err("must be a number such as 12.5".into());
    }
    Ok(value)
}

/// A whole number.
pub fn integer(text: &str) -> Result<i32, String> {
    let value = number(text)?;
    if !value.fract().is_zero() {
        return Err("must be a whole number".into());
    }
    i32::try_from(value.trunc().mantissa() / 10i128.pow(value.trunc().scale()))
        .map_err(|_| "is out of range".into())
}

/// Yes or no.
pub fn flag(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "active" => Ok(true),
        "false" | "no" | "n" | "0" | "inactive" | "deactivated" => Ok(false),
        _ => Err("must be true or false (yes/no)".into()),
    }
}

/// A stored enum by its API name, forgiving case, spaces and dashes
/// (`Systems integrator` → `SYSTEMS_INTEGRATOR`).
pub fn variant<E>(text: &str) -> Result<E, String>
where
    E: FromStr + sea_orm::Iterable + std::fmt::Display,
{
    let name: String = text
        .trim()
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    E::from_str(&name).map_err(|_| {
        let allowed: Vec<String> = E::iter().map(|v| v.to_string()).collect();
        format!("must be one of {}", allowed.join(", "))
    })
}

/// A website as people write it: a bare host name (`acme.com`,
/// `www.acme.com/about`) gets `https://`; anything else is left for the
/// URL check to judge.
pub fn website(text: &str) -> String {
    let trimmed = text.trim();
    let host = trimmed.split('/').next().unwrap_or_default();
    let bare_host = host.contains('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if bare_host {
        format!("https://{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::PartnerType;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_in_common_forms() {
        for (text, expected) in [
            ("2026-03-01", d(2026, 3, 1)),
            (" 2026/03/01 ", d(2026, 3, 1)),
            ("1 Mar 2026", d(2026, 3, 1)),
            ("01 March 2026", d(2026, 3, 1)),
            ("Mar 1, 2026", d(2026, 3, 1)),
            ("March 1, 2026", d(2026, 3, 1)),
            ("1-Mar-2026", d(2026, 3, 1)),
            ("01.03.2026", d(2026, 3, 1)),
            ("13/03/2026", d(2026, 3, 13)),
            ("03/13/2026", d(2026, 3, 13)),
            ("05/05/2026", d(2026, 5, 5)),
            ("2026-03-01T23:30:00-02:00", d(2026, 3, 2)),
            ("2026-03-01 10:00:00", d(2026, 3, 1)),
            ("46082", d(2026, 3, 1)),
            ("46082.75", d(2026, 3, 1)),
        ] {
            assert_eq!(date(text), Ok(expected), "{text}");
        }
        for bad in ["", "tomorrow", "2026-02-30", "31/31/2026", "0", "-3", "1e9"] {
            assert!(date(bad).is_err(), "{bad}");
        }
        assert!(date("03/01/2026").unwrap_err().contains("ambiguous"));
    }

    #[test]
    fn amounts_with_separators_and_currencies() {
        let dec = |s: &str| Decimal::from_str(s).unwrap();
        for (text, value, code) in [
            ("1200.50", "1200.50", None),
            ("$1,200.50", "1200.50", None),
            ("1.200,50 €", "1200.50", None),
            ("1 200,50", "1200.50", None),
            ("1'200.50", "1200.50", None),
            ("1,200", "1200", None),
            ("1,234,567", "1234567", None),
            ("1.234.567", "1234567", None),
            ("12,5", "12.5", None),
            ("0.5", "0.5", None),
            ("USD 1,200.50", "1200.50", Some("USD")),
            ("1.200,50 EUR", "1200.50", Some("EUR")),
            ("-15", "-15", None),
            ("(15.00)", "-15.00", None),
            ("1\u{a0}200", "1200", None),
        ] {
            assert_eq!(
                amount(text),
                Ok((dec(value), code.map(str::to_owned))),
                "{text}"
            );
        }
        for bad in ["", "abc", "12 apples", "1,2,3", "1.2.3", "$", "1e5", "US 5"] {
            assert!(amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_flags_and_enums() {
        assert_eq!(number("12.5%"), Ok(Decimal::new(125, 1)));
        assert!(number("EUR 5").is_err());
        assert_eq!(integer("-40"), Ok(-40));
        assert!(integer("4.5").is_err());
        assert_eq!(flag("Yes"), Ok(true));
        assert_eq!(flag("FALSE"), Ok(false));
        assert!(flag("maybe").is_err());
        assert_eq!(
            variant::<PartnerType>("Systems integrator"),
            Ok(PartnerType::SystemsIntegrator)
        );
        assert_eq!(
            variant::<PartnerType>("reseller"),
            Ok(PartnerType::Reseller)
        );
        assert!(variant::<PartnerType>("vendor")
            .unwrap_err()
            .contains("RESELLER"));
        assert_eq!(website("acme.com"), "https://acme.com");
        assert_eq!(website("http://acme.com"), "http://acme.com");
        assert_eq!(website("www.acme.com/about"), "https://www.acme.com/about");
        assert_eq!(website("htp//nope"), "htp//nope");
    }
}
