//! Matching customer accounts for conflict detection (SPEC §4.2): by
//! normalised domain or by normalised company name.

/// Legal-form suffixes dropped from company names before matching.
const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "bv",
    "sa",
    "sas",
    "ag",
    "plc",
    "corp",
    "corporation",
    "co",
];

/// `https://www.Acme.com/about` → `acme.com`: lower-case, no scheme, no
/// `www.`, no path, query, port, whitespace or trailing dot.
pub fn normalize_domain(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    let without_scheme = lower
        .split_once("://")
        .map_or(lower.as_str(), |(_, rest)| rest);
    let host = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    // A host holds no whitespace; dropping it all (not just at the ends)
    // keeps the result stable when normalised again.
    let host: String = host
        .split(':')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut host = host.trim_end_matches('.');
    while let Some(rest) = host.strip_prefix("www.") {
        host = rest;
    }
    host.to_owned()
}

/// `Acme, Inc.` → `acme`: lower-case, punctuation and legal suffixes removed,
/// spaces collapsed.
pub fn normalize_company_name(raw: &str) -> String {
    // Dots and apostrophes join (`B.V.` → `bv`); other punctuation separates.
    let cleaned: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '.' | '\'' | '’'))
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// Whether two accounts are the same customer.
pub fn same_account(domain_a: &str, name_a: &str, domain_b: &str, name_b: &str) -> bool {
    let (da, db) = (normalize_domain(domain_a), normalize_domain(domain_b));
    let (na, nb) = (
        normalize_company_name(name_a),
        normalize_company_name(name_b),
    );
    (!da.is_empty() && da == db) || (!na.is_empty() && na == nb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domains_as_the_spec_says() {
        for (raw, expected) in [
            ("acme.com", "acme.com"),
            ("https://www.Acme.com/about?x=1", "acme.com"),
            ("HTTP://WWW.ACME.COM:8080/", "acme.com"),
            ("www.acme.co.uk.", "acme.co.uk"),
            ("  sub.acme.com  ", "sub.acme.com"),
            ("A .?", "a"),
            ("www.www.acme.com", "acme.com"),
        ] {
            assert_eq!(normalize_domain(raw), expected, "{raw}");
        }
    }

    #[test]
    fn company_names_as_the_spec_says() {
        for (raw, expected) in [
            ("Acme, Inc.", "acme"),
            ("ACME  LLC", "acme"),
            ("Acme Holding GmbH", "acme holding"),
            ("Müller & Söhne AG", "müller söhne"),
            ("Globex Corp.", "globex"),
            ("Initech B.V.", "initech"),
            ("Umbrella S.A.S.", "umbrella"),
            ("O'Reilly Media, Inc.", "oreilly media"),
            ("Ltd", "ltd"),
        ] {
            assert_eq!(normalize_company_name(raw), expected, "{raw}");
        }
        assert!(same_account(
            "https://acme.com",
            "Acme Inc",
            "www.acme.com",
            "Something else"
        ));
        assert!(same_account(
            "acme.io",
            "Acme, Inc.",
            "acme.com",
            "ACME LLC"
        ));
        assert!(!same_account("acme.io", "Acme", "acme.com", "Acme Labs"));
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(domain in "\\PC{0,60}", name in "\\PC{0,60}") {
            let d = normalize_domain(&domain);
            prop_assert_eq!(normalize_domain(&d), d.clone());
            let n = normalize_company_name(&name);
            prop_assert_eq!(normalize_company_name(&n), n.clone());
            prop_assert_eq!(n.trim(), n.as_str());
            prop_assert!(!n.contains("  "));
        }

        #[test]
        fn scheme_www_and_path_never_matter(host in "[a-z]{1,12}\\.(com|io|de)", path in "[a-z/]{0,10}") {
            prop_assert_eq!(normalize_domain(&format!("https://www.{host}/{path}")), host.clone());
            prop_assert_eq!(normalize_domain(&host.to_uppercase()), host);
        }
    }
}
