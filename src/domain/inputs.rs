//! Parse, don't validate: raw input becomes these types at the boundary, and
//! everything past the boundary can trust them.

use std::fmt;

use chrono::NaiveDate;

use rust_decimal::Decimal;

/// Why a raw value was refused; the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub String);

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(message: impl Into<String>) -> InvalidInput {
    InvalidInput(message.into())
}

/// A trimmed, non-empty display name of at most 200 characters without
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(invalid(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that uniqueness and search use.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An e-mail address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let address = raw.trim().to_lowercase();
        let problem = || invalid("must be an e-mail address like name@example.com");
        if address.len() > 254 || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(problem());
        }
        let (local, domain) = address.split_once('@').ok_or_else(problem)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(problem());
        }
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A web address with an `http` or `https` scheme and a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebsiteUrl(String);

impl WebsiteUrl {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let problem = || invalid("must be an http or https URL like https://example.com");
        let url = url::Url::parse(raw.trim()).map_err(|_| problem())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(problem());
        }
        if raw.len() > 2048 {
            return Err(invalid("must be at most 2048 characters"));
        }
        Ok(Self(url.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An outside system's name (`salesforce`: trimmed, lower-cased) or a
/// record's id there (trimmed, case kept): 1 to 200 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalKey {
    pub system: String,
    pub external_id: String,
}

impl ExternalKey {
    /// The system part, lower-cased.
    pub fn system(raw: &str) -> Result<String, InvalidInput> {
        key_part(raw).map(|s| s.to_lowercase())
    }

    /// The id part, as given (trimmed).
    pub fn external_id(raw: &str) -> Result<String, InvalidInput> {
        key_part(raw)
    }
}

fn key_part(raw: &str) -> Result<String, InvalidInput> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 {
        return Err(invalid("must be 1 to 200 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Free text such as notes: at most 10,000 characters.
pub fn free_text(raw: String) -> Result<String, InvalidInput> {
    if raw.chars().count() > 10_000 {
        Err(invalid("must be at most 10000 characters"))
    } else {
        Ok(raw)
    }
}

/// An expected close date: today (the caller's clock, UTC) or later.
pub fn close_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, InvalidInput> {
    if date < today {
        Err(invalid("must not be in the past"))
    } else {
        Ok(date)
    }
}

/// A customer NPS: −100 to 100.
pub fn customer_nps(score: i32) -> Result<i32, InvalidInput> {
    if (-100..=100).contains(&score) {
        Ok(score)
    } else {
        Err(invalid("must be between -100 and 100"))
    }
}

/// A percentage from 0 to 100 with at most two decimals, kept in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    basis_points: i32,
}

impl Percent {
    pub fn parse(value: Decimal) -> Result<Self, InvalidInput> {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err(invalid("must be between 0 and 100"));
        }
        let basis_points = value * Decimal::ONE_HUNDRED;
        if !basis_points.fract().is_zero() {
            return Err(invalid("must have at most two decimal places"));
        }
        let basis_points =
            i32::try_from(basis_points.mantissa() / 10i128.pow(basis_points.scale()))
                .map_err(|_| invalid("must be between 0 and 100"))?;
        Ok(Self { basis_points })
    }

    pub fn from_basis_points(basis_points: i32) -> Self {
        Self { basis_points }
    }

    pub fn basis_points(self) -> i32 {
        self.basis_points
    }

    pub fn as_decimal(self) -> Decimal {
        Decimal::new(i64::from(self.basis_points), 2).normalize()
    }
}

/// A weight between 0 and 1 with at most four decimals, kept in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight {
    basis_points: i32,
}

impl Weight {
    pub fn parse(value: Decimal) -> Result<Self, InvalidInput> {
        if value < Decimal::ZERO || value > Decimal::ONE {
            return Err(invalid("must be between 0 and 1"));
        }
        let percent = Percent::parse(value * Decimal::ONE_HUNDRED)
            .map_err(|_| invalid("must have at most four decimal places"))?;
        Ok(Self {
            basis_points: percent.basis_points(),
        })
    }

    pub fn from_basis_points(basis_points: i32) -> Self {
        Self { basis_points }
    }

    pub fn basis_points(self) -> i32 {
        self.basis_points
    }

    pub fn as_decimal(self) -> Decimal {
        Decimal::new(i64::from(self.basis_points), 4).normalize()
    }
}

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyCode(String);

/// The ISO 4217 codes of money in circulation (funds, precious metals and the
/// test and no-currency codes are left out: deals are not priced in them).
#[rustfmt::skip]
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR",
    "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

impl CurrencyCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if ISO_4217.contains(&raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid(
                "must be an ISO 4217 currency code such as USD or EUR",
            ))
        }
    }

    /// A code read back from the database, which only parsed codes reach.
    pub fn stored(code: String) -> Self {
        Self(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn emails() {
        assert_eq!(
            EmailAddress::parse(" Ana@Example.COM ").map(EmailAddress::into_inner),
            Ok("ana@example.com".into())
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@exa..mple.com",
            "ana@.example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn websites() {
        assert!(WebsiteUrl::parse("https://acme.example").is_ok());
        assert!(WebsiteUrl::parse("http://acme.example/path").is_ok());
        for bad in [
            "acme.example",
            "ftp://acme.example",
            "https://",
            "javascript:alert(1)",
            "",
        ] {
            assert!(WebsiteUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            DisplayName::parse("  Acme  ").map(|n| n.key()),
            Ok("acme".into())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(201)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn percents() {
        let p = |s: &str| Percent::parse(Decimal::from_str(s).unwrap_or_default());
        assert_eq!(p("12.5").map(Percent::basis_points), Ok(1250));
        assert_eq!(p("100").map(Percent::basis_points), Ok(10000));
        assert_eq!(p("0").map(Percent::basis_points), Ok(0));
        assert!(p("100.01").is_err());
        assert!(p("-1").is_err());
        assert!(p("1.005").is_err());
        assert_eq!(
            Percent::from_basis_points(1250).as_decimal().to_string(),
            "12.5"
        );
    }

    #[test]
    fn weights() {
        let w = |s: &str| Weight::parse(Decimal::from_str(s).unwrap_or_default());
        assert_eq!(w("0.3").map(Weight::basis_points), Ok(3000));
        assert_eq!(
            Weight::from_basis_points(3000).as_decimal().to_string(),
            "0.3"
        );
        assert!(w("1.5").is_err());
        assert!(w("0.12345").is_err());
    }

    #[test]
    fn currencies() {
        assert!(CurrencyCode::parse("EUR").is_ok());
        assert!(CurrencyCode::parse("eur").is_err());
        assert!(CurrencyCode::parse("EURO").is_err());
    }

    proptest! {
        #[test]
        fn parsed_emails_are_lower_case_and_have_one_at(raw in "\\PC{0,80}") {
            if let Ok(email) = EmailAddress::parse(&raw) {
                let text = email.as_str();
                prop_assert_eq!(text.to_lowercase(), text);
                prop_assert_eq!(text.matches('@').count(), 1);
            }
        }

        #[test]
        fn percent_round_trips(bps in 0i32..=10000) {
            let percent = Percent::from_basis_points(bps);
            prop_assert_eq!(Percent::parse(percent.as_decimal()).map(Percent::basis_points), Ok(bps));
        }

        #[test]
        fn display_names_never_panic_and_stay_trimmed(raw in "\\PC{0,300}") {
            if let Ok(name) = DisplayName::parse(&raw) {
                prop_assert_eq!(name.as_str().trim(), name.as_str());
            }
        }
    }
}
