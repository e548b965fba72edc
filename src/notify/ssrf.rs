//! Outbound requests may only reach the public internet (unless the operator allows private networks).
//!
//! A webhook URL comes from a user; without a guard it is a way to make the server call its own admin
//! ports, the cloud metadata service (`169.254.169.254`) or the office network. So every address a
//! webhook would connect to is checked: IP literals before the request, host names inside the HTTP
//! client's resolver ([`GuardedResolver`]), so the address checked is the address connected to (no DNS
//! rebinding between check and use). Redirects are not followed and proxies are not used (see the
//! sender), so nothing else can steer the connection.
//!
//! Refused: loopback, private (RFC 1918), shared (100.64/10), link-local, unique-local (fc00::/7),
//! unspecified, broadcast, multicast, documentation ranges, and IPv4-mapped forms of all of these.
//! `allow_private_webhooks = true` (`FAULTLINE_ALLOW_PRIVATE_WEBHOOKS`) lifts the check (tests, closed
//! networks).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a webhook address was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SsrfError {
    /// The URL could not be used at all.
    #[error("invalid webhook URL")]
    InvalidUrl,
    /// It points at a loopback, private or otherwise internal address.
    #[error("webhook address {0} is loopback, private or link-local (set allow_private_webhooks to allow it)")]
    Private(IpAddr),
    /// The host has no address.
    #[error("webhook host does not resolve")]
    Unresolvable,
}

/// Whether connecting to `ip` could reach something internal.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal_v4(v4),
            None => is_internal_v6(v6),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240 // reserved
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || ip.to_ipv4().is_some_and(|v4| ip.segments()[..6] == [0; 6] && is_internal_v4(v4)) // IPv4-compatible
}

/// Check a webhook URL: an IP literal must be public; a host name must not resolve to an internal
/// address. `localhost` is refused without asking DNS. A name that does not resolve passes here (the
/// resolver checks again at send time).
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), SsrfError> {
    if allow_private {
        return Ok(());
    }
    let url = url::Url::parse(url).map_err(|_| SsrfError::InvalidUrl)?;
    match url.host() {
        Some(url::Host::Ipv4(ip)) => refuse_internal(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => refuse_internal(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(SsrfError::Private(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            }
            match tokio::net::lookup_host((name.as_str(), 443)).await {
                Ok(addrs) => addrs.map(|a| a.ip()).try_for_each(refuse_internal),
                Err(_) => Ok(()),
            }
        }
        None => Err(SsrfError::InvalidUrl),
    }
}

/// The literal IP of a URL's host, if it is one and it is internal while not allowed: refuse before
/// connecting (the resolver never sees IP literals).
pub fn check_literal(url: &reqwest::Url, allow_private: bool) -> Result<(), SsrfError> {
    if allow_private {
        return Ok(());
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => refuse_internal(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => refuse_internal(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
            Err(SsrfError::Private(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        }
        Some(url::Host::Domain(_)) => Ok(()),
        None => Err(SsrfError::InvalidUrl),
    }
}

fn refuse_internal(ip: IpAddr) -> Result<(), SsrfError> {
    if is_internal(ip) { Err(SsrfError::Private(ip)) } else { Ok(()) }
}

/// The HTTP client's resolver: the system's, minus internal addresses (unless allowed).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Let internal addresses through.
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                addrs.iter().copied().filter(|a| allow_private || !is_internal(a.ip())).collect();
            match (allowed.is_empty(), addrs.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
                (true, Some(refused)) => Err(Box::new(SsrfError::Private(refused.ip())) as _),
                (true, None) => Err(Box::new(SsrfError::Unresolvable) as _),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            assert!(is_internal(ip.parse().expect("valid")), "{ip} should be internal");
        }
        for ip in ["1.1.1.1", "34.1.2.3", "2a00:1450:4001::1", "100.128.0.1"] {
            assert!(!is_internal(ip.parse().expect("valid")), "{ip} should be public");
        }
    }

    #[tokio::test]
    async fn urls_to_internal_hosts_are_refused_unless_allowed() {
        assert!(matches!(check_url("http://127.0.0.1:8080/x", false).await, Err(SsrfError::Private(_))));
        assert!(matches!(check_url("http://[::1]/x", false).await, Err(SsrfError::Private(_))));
        assert!(matches!(check_url("http://localhost/x", false).await, Err(SsrfError::Private(_))));
        assert!(check_url("http://127.0.0.1:8080/x", true).await.is_ok());
        assert!(check_url("https://93.184.215.14/x", false).await.is_ok());
    }

    #[tokio::test]
    async fn the_resolver_drops_internal_addresses() {
        use reqwest::dns::Resolve;
        let name = |host: &str| host.parse::<reqwest::dns::Name>().expect("name");
        let refused = GuardedResolver { allow_private: false }.resolve(name("localhost")).await;
        let err = refused.err().expect("localhost resolves only to loopback");
        assert!(err.to_string().contains("loopback"), "{err}");
        let allowed = GuardedResolver { allow_private: true }.resolve(name("localhost")).await.expect("allowed");
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
