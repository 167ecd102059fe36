//! The SSRF guard: where a webhook may be sent. `https` only, and never to
//! an internal address (loopback, private, link-local, CGNAT, unique-local,
//! documentation, multicast, …), checked when an endpoint is registered and
//! again at every delivery *after* DNS resolution, by [`GuardedResolver`],
//! so a name that later resolves inward (DNS rebinding) is refused too.
//! `--webhook-allow-private` lifts both rules (tests, private networks).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use url::{Host, Url};

/// Whether a webhook may reach internal addresses and plain `http`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

/// Why a URL is refused; the message is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// IPv4 ranges that are not the public internet (IANA special-purpose registry).
const INTERNAL_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, and broadcast
];

/// IPv6 ranges that are not the public internet.
const INTERNAL_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::UNSPECIFIED, 128),
    (Ipv6Addr::LOCALHOST, 128),
    (Ipv6Addr::new(0x0100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (Teredo, …)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),  // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),  // multicast
];

fn in_v4(ip: Ipv4Addr, (net, bits): (Ipv4Addr, u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, bits): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The IPv4 address an IPv6 address carries, for the forms that reach an
/// IPv4 host: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64
/// (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low32),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low32),
        [0x2002, high, low, ..] => Some(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))),
        _ => None,
    }
}

/// Whether `ip` is anything but a public unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => INTERNAL_V4.iter().any(|range| in_v4(v4, *range)),
        IpAddr::V6(v6) => {
            INTERNAL_V6.iter().any(|range| in_v6(v6, *range))
                || embedded_v4(v6).is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

impl TargetPolicy {
    /// The URL's own rules, without DNS: a well-formed absolute URL, `https`
    /// (or `http` when private targets are allowed), no credentials, and a
    /// literal IP only if it is public.
    pub fn check_url(self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw.trim())
            .map_err(|e| Refused(format!("is not a valid absolute URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => return Err(Refused("must use https".into())),
            other => return Err(Refused(format!("must use https, not `{other}`"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused("must not carry credentials".into()));
        }
        if raw.len() > 2048 {
            return Err(Refused("is longer than 2048 characters".into()));
        }
        let ip = match url.host() {
            None => return Err(Refused("needs a host".into())),
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(Host::Domain(_)) => None,
        };
        if let Some(ip) = ip {
            self.check_ip(ip)?;
        }
        Ok(url)
    }

    fn check_ip(self, ip: IpAddr) -> Result<(), Refused> {
        if !self.allow_private && is_internal(ip) {
            return Err(Refused(format!(
                "points at {ip}, an internal address (loopback, private, link-local or reserved)"
            )));
        }
        Ok(())
    }

    /// What registration checks: [`Self::check_url`], then every address the
    /// host resolves to now. A name that does not resolve yet is accepted;
    /// each delivery resolves again through [`GuardedResolver`].
    pub async fn check_registration(self, raw: &str) -> Result<Url, Refused> {
        let url = self.check_url(raw)?;
        if self.allow_private {
            return Ok(url);
        }
        if let (Some(Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default()) {
            if let Ok(addresses) = tokio::net::lookup_host((name, port)).await {
                for address in addresses {
                    self.check_ip(address.ip()).map_err(|_| {
                        Refused(format!(
                            "resolves to {}, an internal address (loopback, private, link-local or reserved)",
                            address.ip()
                        ))
                    })?;
                }
            }
        }
        Ok(url)
    }
}

/// reqwest's DNS resolver for deliveries: resolves with the system resolver
/// and refuses internal addresses, so the address connected to is the one
/// checked (no window for a rebinding between check and connect).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver(pub TargetPolicy);

impl GuardedResolver {
    pub async fn lookup(self, name: &str) -> Result<Vec<SocketAddr>, Refused> {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name, 0))
            .await
            .map_err(|e| Refused(format!("cannot resolve {name}: {e}")))?
            .collect();
        let allowed: Vec<SocketAddr> = addresses
            .iter()
            .copied()
            .filter(|address| self.0.check_ip(address.ip()).is_ok())
            .collect();
        if allowed.is_empty() {
            return Err(Refused(format!(
                "{name} resolves only to internal addresses; refused"
            )));
        }
        Ok(allowed)
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = *self;
        Box::pin(async move {
            let addresses = resolver.lookup(name.as_str()).await?;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// The resolver as reqwest takes it.
pub fn resolver(policy: TargetPolicy) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver(policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_private: false,
    };

    #[test]
    fn internal_addresses_are_recognised() {
        let internal = [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.10",
            "198.51.100.1",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
        ];
        for ip in internal {
            assert!(is_internal(ip.parse().unwrap()), "{ip} must be internal");
        }
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ];
        for ip in public {
            assert!(!is_internal(ip.parse().unwrap()), "{ip} must be public");
        }
    }

    #[test]
    fn urls_need_https_and_a_public_literal_address() {
        assert!(STRICT.check_url("https://hooks.example.com/in").is_ok());
        assert!(STRICT.check_url("https://8.8.8.8/in").is_ok());
        for refused in [
            "http://hooks.example.com/in",
            "ftp://hooks.example.com/in",
            "https://127.0.0.1/in",
            "https://10.0.0.1/in",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/in",
            "https://[::ffff:127.0.0.1]/in",
            "https://user:pw@hooks.example.com/in",
            "not a url",
            "https://2130706433/in",
        ] {
            assert!(
                STRICT.check_url(refused).is_err(),
                "{refused} must be refused"
            );
        }
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.check_url("http://127.0.0.1:9000/in").is_ok());
    }

    #[tokio::test]
    async fn names_resolving_inward_are_refused() {
        assert!(STRICT
            .check_registration("https://localhost/in")
            .await
            .is_err());
        assert!(GuardedResolver(STRICT).lookup("localhost").await.is_err());
        let open = GuardedResolver(TargetPolicy {
            allow_private: true,
        });
        assert!(!open.lookup("localhost").await.unwrap().is_empty());
    }
}
