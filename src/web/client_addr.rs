//! The client's address and scheme, as everything that needs them sees them: the audit trail,
//! brute-force throttling, registration limits, and (for `X-Request-Id`) the request log.
//!
//! Owns the one rule: forwarding headers are believed only when the TCP peer is a configured
//! trusted proxy (`trusted_proxies`, `PFORTE_TRUSTED_PROXIES`). Then the client is the
//! rightmost `X-Forwarded-For` hop that is not itself a trusted proxy (hops to its left were
//! written by the client and prove nothing); otherwise it is the TCP peer.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{request::Parts, HeaderMap},
};
use ipnet::IpNet;

use crate::app::App;

/// Whether `addr` is one of the trusted proxies.
pub fn is_trusted(addr: IpAddr, trusted: &[IpNet]) -> bool {
    let addr = canonical(addr);
    trusted.iter().any(|n| n.contains(&addr))
}

/// Whether the headers of a request from `peer` may be believed (also for `X-Request-Id`).
pub fn believes_headers(peer: Option<IpAddr>, trusted: &[IpNet]) -> bool {
    peer.is_some_and(|p| is_trusted(p, trusted))
}

/// The client's address: the TCP `peer`, or behind trusted proxies the rightmost untrusted
/// `X-Forwarded-For` hop. `None` only without a peer (a router served without connect info).
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(peer?);
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    // Every X-Forwarded-For header in order, each a comma-separated list (RFC 7239 §7.1 for
    // the de-facto header's shape); the rightmost hop was added by the nearest proxy.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip, trusted) {
                    break;
                }
            }
            // Garbage from the left: stop at the last hop a trusted proxy vouched for.
            None => break,
        }
    }
    Some(client)
}

/// Whether the client used https: the issuer's scheme unless a trusted proxy says otherwise
/// through `X-Forwarded-Proto`.
pub fn forwarded_https(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<bool> {
    if !believes_headers(peer, trusted) {
        return None;
    }
    let v = headers.get("x-forwarded-proto")?.to_str().ok()?;
    // The nearest proxy's value is the last one.
    let last = v.rsplit(',').next()?.trim();
    Some(last.eq_ignore_ascii_case("https"))
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address of a request (see the module documentation); the unspecified address
/// when the server runs without connect info (tests of the router alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<App> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(of_parts(parts, &app.config.trusted_proxies)))
    }
}

/// [`client_addr`] for request parts (for middleware that has no extractor).
pub fn of_parts(parts: &Parts, trusted: &[IpNet]) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    client_addr(peer, &parts.headers, trusted)
        .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = xff(&["198.51.100.1"]);
        assert_eq!(
            client_addr(Some(ip("203.0.113.5")), &h, &[]),
            Some(ip("203.0.113.5"))
        );
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_addr(Some(ip("203.0.113.5")), &h, &trusted),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(forwarded_https(Some(ip("203.0.113.5")), &h, &trusted), None);
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.0/24"]);
        let peer = Some(ip("10.0.0.1"));
        // The client forged a first hop; the proxies appended the real one.
        let h = xff(&["1.2.3.4, 198.51.100.9", "192.0.2.3"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("198.51.100.9")));
        // No header: the proxy itself.
        assert_eq!(
            client_addr(peer, &HeaderMap::new(), &trusted),
            Some(ip("10.0.0.1"))
        );
        // Garbage in the chain stops at the last vouched-for hop.
        let h = xff(&["nonsense, 192.0.2.3"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("192.0.2.3")));
        // Ports and mapped addresses.
        let h = xff(&["[2001:db8::1]:4711"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("2001:db8::1")));
        let h = xff(&["::ffff:198.51.100.9"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("198.51.100.9")));
        assert_eq!(
            client_addr(
                Some(ip("::ffff:10.0.0.1")),
                &xff(&["198.51.100.9"]),
                &trusted
            ),
            Some(ip("198.51.100.9"))
        );
    }

    #[test]
    fn forwarded_proto_from_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.1/32"]);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "http, https".parse().unwrap());
        assert_eq!(
            forwarded_https(Some(ip("127.0.0.1")), &h, &trusted),
            Some(true)
        );
        h.insert("x-forwarded-proto", "http".parse().unwrap());
        assert_eq!(
            forwarded_https(Some(ip("127.0.0.1")), &h, &trusted),
            Some(false)
        );
        assert!(believes_headers(Some(ip("127.0.0.1")), &trusted));
        assert!(!believes_headers(None, &trusted));
    }
}
