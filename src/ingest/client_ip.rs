//! The client's address: the TCP peer, or — when the peer is a trusted proxy — the right-most
//! address in `X-Forwarded-For` that is not itself a trusted proxy.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::Config;

/// The client IP for `{{auto}}` user IPs.
pub fn client_ip(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer?;
    if !config.is_trusted_proxy(peer) {
        return Some(peer);
    }
    let forwarded =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let hops: Vec<IpAddr> = forwarded.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    hops.iter().rev().find(|ip| !config.is_trusted_proxy(**ip)).copied().or(hops.first().copied()).or(Some(peer))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let config = Config { trusted_proxies: vec!["10.0.0.0/8".parse().expect("net")], ..Config::default() };
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 10.0.0.7"));
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.1".parse().expect("ip");
        assert_eq!(client_ip(&config, Some(proxy), &headers), "203.0.113.9".parse().ok());
        assert_eq!(client_ip(&config, Some(stranger), &headers), Some(stranger));
        assert_eq!(client_ip(&config, Some(proxy), &HeaderMap::new()), Some(proxy));
    }
}
