//! Brute-force throttling: growing delays per key (an account, a client address), counted in
//! the database so that every instance shares them (`store::throttle`, table `throttles`).
//!
//! Owns: the policies (how many attempts are free, how the delay grows, when a count is
//! forgotten), the keys, and the one rule [`decide`] (pure). An attempt is **reserved before
//! it is checked**: the counter moves first (compare-and-set), so parallel guesses each take
//! their own count and none slips past a lock. A lock never blocks other keys: one address
//! attacking one account slows that account and that address, nobody else.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::store::{throttle::ThrottleRow, Db, Result};

/// How a kind of attempt is throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts allowed without delay. From this attempt on, each one locks the key for the
    /// next delay (so the `free`-th failure is the first lockout).
    pub free: u32,
    /// The first delay in seconds; it doubles with every further attempt …
    pub base_secs: i64,
    /// … up to this cap.
    pub cap_secs: i64,
    /// A count is forgotten this long after its last attempt (unless still locked).
    pub forget_secs: i64,
}

/// Password logins per account (the normalised address, whether or not an account exists):
/// 5 free, then 30 s, 1 min, 2 min … up to 15 min; forgotten after a day without attempts. A
/// successful login resets it. That is at most about 100 guesses a day (NIST SP 800-63B
/// §5.2.2 asks for no more than 100 consecutive failures).
pub const LOGIN_ACCOUNT: Policy = Policy {
    free: 5,
    base_secs: 30,
    cap_secs: 15 * 60,
    forget_secs: 24 * 3600,
};

/// Password logins per client address (many citizens may share one, e.g. an office's NAT, so
/// more are free; a successful login gives its attempt back).
pub const LOGIN_ADDRESS: Policy = Policy {
    free: 30,
    base_secs: 30,
    cap_secs: 15 * 60,
    forget_secs: 3600,
};

/// Failed client authentications at the token, introspection and revocation endpoints per
/// client address (a successful one gives its attempt back).
pub const CLIENT_AUTH_ADDRESS: Policy = Policy {
    free: 100,
    base_secs: 10,
    cap_secs: 5 * 60,
    forget_secs: 3600,
};

/// Valid registration and resend submissions per client address (each costs a mail): 10 in
/// ten minutes, then a minute, two, … up to ten.
pub const REGISTER_ADDRESS: Policy = Policy {
    free: 10,
    base_secs: 60,
    cap_secs: 10 * 60,
    forget_secs: 10 * 60,
};

/// Step-up codes (TOTP, recovery) per account: 20 free within a quarter of an hour, then
/// growing delays.
pub const STEPUP_ACCOUNT: Policy = Policy {
    free: 20,
    base_secs: 60,
    cap_secs: 15 * 60,
    forget_secs: 15 * 60,
};

/// Step-up codes per pending request (or per account for the account pages): the fifth
/// attempt is the last; the request then ends (see `web::stepup`).
pub const STEPUP_REQUEST: Policy = Policy {
    free: 5,
    base_secs: 30 * 60,
    cap_secs: 30 * 60,
    forget_secs: 30 * 60,
};

/// New (anonymous) sessions started at `/authorize` per client address: 100 in ten minutes,
/// then growing delays; together with the short life of anonymous sessions this bounds the
/// session rows one address can create.
pub const ANON_AUTHORIZE_ADDRESS: Policy = Policy {
    free: 100,
    base_secs: 10,
    cap_secs: 5 * 60,
    forget_secs: 10 * 60,
};

/// The longest any policy remembers a key or keeps it locked (rows older are purged).
pub const MAX_MEMORY: i64 = 2 * 24 * 3600;

/// The answer for one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead; this is the `attempt`-th attempt since the count was last forgotten or reset.
    Allowed { attempt: u32, row: ThrottleRow },
    /// Locked: no attempt before `until` (Unix seconds). Not counted.
    Locked { until: i64 },
}

impl Verdict {
    /// This attempt, if it fails, starts the first lockout of its key (the moment for a
    /// notice to the account).
    pub fn starts_lockout(&self, p: &Policy) -> bool {
        matches!(self, Verdict::Allowed { attempt, .. } if *attempt == p.free)
    }

    pub fn locked_until(&self) -> Option<i64> {
        match self {
            Verdict::Locked { until } => Some(*until),
            Verdict::Allowed { .. } => None,
        }
    }
}

/// The delay after the `attempt`-th attempt: none before `free`, then `base · 2^(attempt −
/// free)`, at most `cap`.
pub fn delay(p: &Policy, attempt: u32) -> i64 {
    if attempt < p.free {
        return 0;
    }
    let doublings = (attempt - p.free).min(30);
    p.base_secs
        .saturating_mul(1i64 << doublings)
        .min(p.cap_secs)
}

/// The rule: is an attempt now allowed, and what does the counter become? Pure.
pub fn decide(p: &Policy, row: Option<ThrottleRow>, now: i64) -> Verdict {
    if let Some(r) = row {
        if r.locked_until > now {
            return Verdict::Locked {
                until: r.locked_until,
            };
        }
    }
    let previous = row
        .filter(|r| now - r.last_at < p.forget_secs)
        .map_or(0, |r| r.attempts.max(0));
    let attempt = u32::try_from(previous + 1).unwrap_or(u32::MAX);
    let wait = delay(p, attempt);
    Verdict::Allowed {
        attempt,
        row: ThrottleRow {
            attempts: i64::from(attempt),
            last_at: now,
            locked_until: if wait > 0 { now + wait } else { 0 },
        },
    }
}

/// Reserves an attempt for `key` (atomically, shared by all instances).
pub async fn reserve(db: &Db, p: &Policy, key: &str, now: i64) -> Result<Verdict> {
    for _ in 0..16 {
        let old = db.throttle_get(key).await?;
        let verdict = decide(p, old, now);
        match verdict {
            Verdict::Locked { .. } => return Ok(verdict),
            Verdict::Allowed { row, .. } => {
                if db.throttle_swap(key, old, row).await? {
                    return Ok(verdict);
                }
            }
        }
    }
    // Sixteen lost races in a row: a flood on this key. Refuse for a moment.
    Ok(Verdict::Locked { until: now + 1 })
}

/// When `key` is locked now, until when (a read only: for failures counted afterwards).
pub async fn locked_until(db: &Db, key: &str, now: i64) -> Result<Option<i64>> {
    Ok(db
        .throttle_get(key)
        .await?
        .map(|r| r.locked_until)
        .filter(|u| *u > now))
}

/// The attempt succeeded: forget the key (an account after a successful login).
pub async fn reset(db: &Db, key: &str) -> Result<()> {
    db.throttle_reset(key).await
}

/// The attempt succeeded: give it back (a client address: its successes do not count).
pub async fn refund(db: &Db, key: &str) -> Result<()> {
    db.throttle_refund(key).await
}

/// The key of an account's password logins: a hash of the normalised address (the same for
/// addresses with and without an account, and no address stored for unknown ones).
pub fn account_key(kind: &str, email: &str) -> String {
    let normalised =
        crate::accounts::normalise_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let digest = Sha256::digest(normalised.as_bytes());
    format!("{kind}-account:{}", hex(&digest))
}

/// The key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's usual share).
pub fn address_key(kind: &str, addr: IpAddr) -> String {
    format!("{kind}-address:{}", address_bucket(addr))
}

/// IPv4 (also IPv4-mapped IPv6) as is, other IPv6 addresses by their /64.
pub fn address_bucket(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
        v4 => v4,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = LOGIN_ACCOUNT;

    fn run(p: &Policy, row: &mut Option<ThrottleRow>, now: i64) -> Verdict {
        let v = decide(p, *row, now);
        if let Verdict::Allowed { row: r, .. } = v {
            *row = Some(r);
        }
        v
    }

    #[test]
    fn five_free_then_growing_delays_up_to_the_cap() {
        let mut row = None;
        let t = 1_000_000;
        for i in 1..=4 {
            assert!(
                matches!(run(&P, &mut row, t), Verdict::Allowed { attempt, row } if attempt == i && row.locked_until == 0)
            );
        }
        // The fifth attempt is allowed and locks for 30 s.
        let v = run(&P, &mut row, t);
        assert!(v.starts_lockout(&P));
        assert_eq!(row.unwrap().locked_until, t + 30);
        assert_eq!(decide(&P, row, t + 29), Verdict::Locked { until: t + 30 });
        // Locked attempts are not counted.
        assert_eq!(row.unwrap().attempts, 5);
        let v = run(&P, &mut row, t + 30);
        assert!(!v.starts_lockout(&P));
        assert_eq!(row.unwrap().locked_until, t + 30 + 60);
        assert_eq!(delay(&P, 7), 120);
        assert_eq!(delay(&P, 9), 480);
        assert_eq!(delay(&P, 10), 900);
        assert_eq!(delay(&P, 1000), 900);
        assert_eq!(delay(&P, u32::MAX), 900);
    }

    #[test]
    fn a_quiet_day_forgets_the_count() {
        let mut row = None;
        let t = 1_000_000;
        for _ in 0..5 {
            run(&P, &mut row, t);
        }
        let later = t + P.forget_secs;
        assert!(matches!(
            run(&P, &mut row, later),
            Verdict::Allowed { attempt: 1, .. }
        ));
    }

    #[test]
    fn keys() {
        assert_eq!(
            account_key("login", " Anna@Example.DE "),
            account_key("login", "anna@example.de")
        );
        assert!(!account_key("login", "anna@example.de").contains("anna"));
        let k = |s: &str| address_key("login", s.parse().unwrap());
        assert_eq!(k("::ffff:203.0.113.9"), k("203.0.113.9"));
        assert_eq!(k("2001:db8:1:2:aaaa::1"), k("2001:db8:1:2:bbbb::2"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
    }
}
