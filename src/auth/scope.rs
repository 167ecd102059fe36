//! OAuth2-style scopes that narrow a token below its role's rights.

use std::{collections::BTreeSet, fmt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    PartnersRead,
    PartnersWrite,
    RegistrationsRead,
    RegistrationsWrite,
    PipelineRead,
    PipelineWrite,
    CertificationsRead,
    CertificationsWrite,
    WebhooksManage,
    MetricsRead,
    Admin,
    /// A portal's backend: may exchange its token for one acting as a
    /// contact with portal access (RFC 8693).
    Portal,
}

impl Scope {
    pub const ALL: [Scope; 12] = [
        Scope::PartnersRead,
        Scope::PartnersWrite,
        Scope::RegistrationsRead,
        Scope::RegistrationsWrite,
        Scope::PipelineRead,
        Scope::PipelineWrite,
        Scope::CertificationsRead,
        Scope::CertificationsWrite,
        Scope::WebhooksManage,
        Scope::MetricsRead,
        Scope::Admin,
        Scope::Portal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PartnersRead => "partners:read",
            Scope::PartnersWrite => "partners:write",
            Scope::RegistrationsRead => "registrations:read",
            Scope::RegistrationsWrite => "registrations:write",
            Scope::PipelineRead => "pipeline:read",
            Scope::PipelineWrite => "pipeline:write",
            Scope::CertificationsRead => "certifications:read",
            Scope::CertificationsWrite => "certifications:write",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::MetricsRead => "metrics:read",
            Scope::Admin => "admin",
            Scope::Portal => "portal",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written space-separated as in OAuth2 (`scope` parameter).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    pub fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// Parses scopes separated by spaces or commas; an unknown scope is an
    /// error naming it.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|s| Scope::parse(s).ok_or_else(|| format!("unknown scope `{s}`")))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// This set without `scope`.
    pub fn without(&self, scope: Scope) -> Self {
        Self(self.iter().filter(|s| *s != scope).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        let set = ScopeSet::parse("partners:read,admin partners:write").unwrap_or_default();
        assert_eq!(set.to_string(), "partners:read partners:write admin");
        assert!(ScopeSet::parse("partners:read nope").is_err());
        assert_eq!(ScopeSet::parse("").map(|s| s.iter().count()), Ok(0));
    }
}
