//! Which column holds which field: headers are matched by a key that
//! ignores case, spaces and punctuation (`Company Name`, `company_name` and
//! `companyName` are one key), against each field's own name, the header
//! `export` writes, and its documented aliases; `--map HEADER=FIELD` names
//! the rest.

use std::collections::HashMap;

/// A field a kind's rows may have.
pub struct Field {
    /// The API's name, which `export` writes as the header.
    pub name: &'static str,
    /// Other headers people use for it.
    pub aliases: &'static [&'static str],
    /// A row cannot be imported without it.
    pub required: bool,
}

/// `Account Name` → `accountname`.
pub fn key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The columns of one file, by field.
#[derive(Debug)]
pub struct Columns {
    /// The file's headers, as written.
    pub headers: Vec<String>,
    by_field: HashMap<&'static str, usize>,
    /// Headers that name no field, so their cells are not imported.
    pub ignored: Vec<String>,
}

impl Columns {
    /// Matches `headers` to `fields`. Every problem is reported at once:
    /// a mapping to an unknown field, two columns for one field, a
    /// required field without a column.
    pub fn match_headers(
        fields: &'static [Field],
        headers: &[String],
        maps: &[(String, String)],
    ) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut names: HashMap<String, &'static Field> = HashMap::new();
        for field in fields {
            names.insert(key(field.name), field);
            for alias in field.aliases {
                names.insert(key(alias), field);
            }
        }
        for (header, target) in maps {
            match fields.iter().find(|f| key(f.name) == key(target)) {
                Some(field) => {
                    names.insert(key(header), field);
                }
                None => problems.push(format!(
                    "--map {header}={target}: no field `{target}`; the fields are {}",
                    fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                )),
            }
        }
        let mut by_field: HashMap<&'static str, usize> = HashMap::new();
        let mut ignored = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            if header.trim().is_empty() {
                continue;
            }
            let Some(field) = names.get(&key(header)) else {
                ignored.push(header.clone());
                continue;
            };
            if let Some(first) = by_field.insert(field.name, index) {
                problems.push(format!(
                    "columns {} (\"{}\") and {} (\"{header}\") both hold `{}`: remove one, or --map one of them to another field",
                    letter(first),
                    headers[first],
                    letter(index),
                    field.name
                ));
            }
        }
        for field in fields.iter().filter(|f| f.required) {
            if !by_field.contains_key(field.name) {
                let mut accepted = vec![field.name];
                accepted.extend(field.aliases);
                problems.push(format!(
                    "missing the required column `{}` (headers accepted for it: {}; or --map YOUR_HEADER={})",
                    field.name,
                    accepted.join(", "),
                    field.name
                ));
            }
        }
        if problems.is_empty() {
            Ok(Self {
                headers: headers.to_vec(),
                by_field,
                ignored,
            })
        } else {
            Err(problems)
        }
    }

    /// The column holding `field`, if the file has one.
    pub fn index(&self, field: &str) -> Option<usize> {
        self.by_field.get(field).copied()
    }

    /// The header of `field`'s column, as the file writes it.
    pub fn header(&self, field: &str) -> String {
        self.index(field)
            .and_then(|i| self.headers.get(i).cloned())
            .unwrap_or_else(|| field.to_owned())
    }
}

/// A spreadsheet's column letter: 0 → `A`, 27 → `AB`.
pub fn letter(index: usize) -> String {
    let mut n = index + 1;
    let mut text = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        text.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    text.reverse();
    String::from_utf8(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIELDS: &[Field] = &[
        Field {
            name: "name",
            aliases: &["Company", "Account Name", "Partner Name"],
            required: true,
        },
        Field {
            name: "website",
            aliases: &["URL", "Domain"],
            required: false,
        },
    ];

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_match_by_name_alias_and_map() {
        for (given, name_at) in [
            (vec!["name", "website"], 0),
            (vec![" Account-Name ", "url"], 0),
            (vec!["Notes", "COMPANY"], 1),
        ] {
            let columns = Columns::match_headers(FIELDS, &headers(&given), &[]).unwrap();
            assert_eq!(columns.index("name"), Some(name_at), "{given:?}");
        }
        let columns = Columns::match_headers(
            FIELDS,
            &headers(&["Firma", "Web"]),
            &[
                ("Firma".into(), "name".into()),
                ("web".into(), "Website".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            (columns.index("name"), columns.index("website")),
            (Some(0), Some(1))
        );
        assert!(columns.ignored.is_empty());
    }

    #[test]
    fn duplicate_missing_and_unknown_are_all_named() {
        let problems = Columns::match_headers(
            FIELDS,
            &headers(&["Company", "Website", "Account Name", "URL"]),
            &[("x".into(), "nope".into())],
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("no field `nope`"));
        assert!(problems[1].contains("columns A (\"Company\") and C (\"Account Name\")"));
        assert!(problems[2].contains("columns B"));
        let problems = Columns::match_headers(FIELDS, &headers(&["url"]), &[]).unwrap_err();
        assert!(problems[0].contains("missing the required column `name`"));
    }

    #[test]
    fn letters() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
    }
}
