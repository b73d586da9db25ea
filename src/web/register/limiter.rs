//! The per-client-address limit on registration and resend submissions.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Valid form submissions (registration and resend together) one client address may make in
/// a burst …
pub const SUBMIT_BURST: u32 = 10;
/// … and the time in which the allowance refills completely.
pub const SUBMIT_PERIOD: Duration = Duration::from_secs(10 * 60);

/// Limits valid submissions of the registration and resend forms per client address: a token
/// bucket of [`SUBMIT_BURST`] that refills over [`SUBMIT_PERIOD`]. In memory, per instance
/// (several instances each allow that much). Cheap to clone; one per router.
///
/// The client address is the TCP peer ([`ConnectInfo`](axum::extract::ConnectInfo)); IPv6 clients count per /64 (one
/// subscriber's usual share), IPv4-mapped addresses as IPv4. `X-Forwarded-For` is not
/// trusted: behind a reverse proxy every client has the proxy's address and shares one
/// allowance. Without a peer address (a router served without connect info) all requests
/// share one allowance too, as do new addresses while [`MAX_TRACKED`] are being tracked.
#[derive(Clone)]
pub struct SubmitLimiter(Arc<Mutex<Buckets>>);

/// Addresses tracked at most; beyond that (after dropping full buckets) new ones share one.
pub const MAX_TRACKED: usize = 50_000;

/// The shared key: no peer address known, or too many tracked.
const SHARED: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

struct Buckets {
    capacity: f64,
    /// Tokens per second.
    rate: f64,
    map: HashMap<IpAddr, Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Buckets {
    fn level(&self, b: &Bucket, now: Instant) -> f64 {
        (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.rate)
            .min(self.capacity)
    }
}

impl Default for SubmitLimiter {
    fn default() -> Self {
        SubmitLimiter::new(SUBMIT_BURST, SUBMIT_PERIOD)
    }
}

impl SubmitLimiter {
    /// `burst` submissions at once, refilled evenly over `period`.
    pub fn new(burst: u32, period: Duration) -> Self {
        let capacity = f64::from(burst.max(1));
        SubmitLimiter(Arc::new(Mutex::new(Buckets {
            capacity,
            rate: capacity / period.as_secs_f64().max(1.0),
            map: HashMap::new(),
        })))
    }

    /// Takes one submission for `key`; `Err(wait)` when none is left.
    pub fn take(&self, key: IpAddr) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = key;
        if !b.map.contains_key(&key) && b.map.len() >= MAX_TRACKED {
            // A full bucket is the same as none.
            let full: Vec<IpAddr> = b
                .map
                .iter()
                .filter(|(_, v)| b.level(v, now) >= b.capacity)
                .map(|(k, _)| *k)
                .collect();
            for k in full {
                b.map.remove(&k);
            }
            if b.map.len() >= MAX_TRACKED {
                key = SHARED;
            }
        }
        let capacity = b.capacity;
        let level = match b.map.get(&key) {
            Some(v) => b.level(v, now),
            None => capacity,
        };
        let rate = b.rate;
        let (tokens, result) = if level >= 1.0 {
            (level - 1.0, Ok(()))
        } else {
            (level, Err(Duration::from_secs_f64((1.0 - level) / rate)))
        };
        b.map.insert(key, Bucket { tokens, at: now });
        if result.is_err() {
            tracing::warn!(
                private_network = is_private(key),
                "registration submissions from one client address exceed the limit{}",
                if is_private(key) {
                    " (a private address: if Pforte runs behind a reverse proxy, all clients share it)"
                } else {
                    ""
                }
            );
        }
        result
    }
}

/// The key a client counts under: IPv4 as is, IPv6 by its /64, unknown as [`SHARED`].
pub fn client_key(peer: Option<SocketAddr>) -> IpAddr {
    match peer.map(|p| p.ip()) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
        Some(v4) => v4,
        None => SHARED,
    }
}

/// Loopback, private (RFC 1918), unique-local or link-local: likely a proxy on the way.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_a_burst_then_refills() {
        let l = SubmitLimiter::new(10, Duration::from_secs(600));
        let a: IpAddr = "198.51.100.7".parse().unwrap();
        let b: IpAddr = "198.51.100.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(l.take_at(a, t0).is_ok());
        }
        let wait = l.take_at(a, t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait < Duration::from_secs(61),
            "{wait:?}"
        );
        // Another address has its own allowance.
        assert!(l.take_at(b, t0).is_ok());
        // One submission back per minute; refused attempts do not cost anything.
        assert!(l.take_at(a, t0 + Duration::from_secs(30)).is_err());
        assert!(l.take_at(a, t0 + Duration::from_secs(61)).is_ok());
        assert!(l.take_at(a, t0 + Duration::from_secs(62)).is_err());
        // After the whole period the full burst again, not more.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..10 {
            assert!(l.take_at(a, later).is_ok());
        }
        assert!(l.take_at(a, later).is_err());
    }

    #[test]
    fn limiter_keys() {
        let key = |s: &str| client_key(Some(s.parse().unwrap()));
        assert_eq!(
            key("203.0.113.9:4711"),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(key("[::ffff:203.0.113.9]:1"), key("203.0.113.9:2"));
        // One /64 is one client.
        assert_eq!(
            key("[2001:db8:1:2:aaaa::1]:1"),
            key("[2001:db8:1:2:bbbb::2]:1")
        );
        assert_ne!(key("[2001:db8:1:2::1]:1"), key("[2001:db8:1:3::1]:1"));
        assert_eq!(client_key(None), SHARED);
        assert!(is_private(key("127.0.0.1:1")) && is_private(key("10.1.2.3:1")));
        assert!(is_private(key("[fd00::1]:1")) && !is_private(key("203.0.113.9:1")));
    }

    #[test]
    fn limiter_memory_is_bounded() {
        let l = SubmitLimiter::new(2, Duration::from_secs(600));
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(l.take_at(ip, t0).is_ok());
        }
        // Full table of half-used buckets: a newcomer shares the one overflow allowance.
        let new = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0xc000_0200 + i));
        assert!(l.take_at(new(1), t0).is_ok());
        assert!(l.take_at(new(2), t0).is_ok());
        assert!(l.take_at(new(3), t0).is_err());
        assert!(l.0.lock().unwrap().map.len() <= MAX_TRACKED + 1);
        // Once the old buckets have refilled they are dropped and newcomers count alone.
        let later = t0 + Duration::from_secs(600);
        assert!(l.take_at(new(4), later).is_ok());
        assert!(l.0.lock().unwrap().map.len() < 10);
    }
}
