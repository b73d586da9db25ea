//! The time source for everything that compares or stamps times: storage (expiry, audit),
//! the protocol (token lifetimes, login ageing), and second factors (TOTP time steps).
//!
//! Owns: [`Clock`], Unix seconds from the system clock in production, or a manual clock that a
//! test moves forward with [`Clock::advance`], so no test sleeps for an expiry or a time step.
//! Code never reads `SystemTime` itself; it asks the clock it was given.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

/// A source of "now" in Unix seconds. Cheap to clone; clones share the same time.
#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The system clock (production).
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that stands still at `start` (Unix seconds) until [`Clock::advance`] moves it.
    pub fn manual(start: i64) -> Clock {
        Clock(Source::Manual(Arc::new(AtomicI64::new(start))))
    }

    /// A manual clock starting at the system's current time.
    pub fn manual_from_system() -> Clock {
        Clock::manual(system_now())
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Source::System => system_now(),
            Source::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward by `secs`; returns the new time.
    ///
    /// # Panics
    /// On the system clock: moving real time is a programming error in a test.
    pub fn advance(&self, secs: i64) -> i64 {
        match &self.0 {
            Source::System => panic!("Clock::advance on the system clock"),
            Source::Manual(t) => t.fetch_add(secs, Ordering::SeqCst) + secs,
        }
    }

    /// Whether this is a manual (test) clock.
    pub fn is_manual(&self) -> bool {
        matches!(self.0, Source::Manual(_))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_stands_still_until_advanced_and_clones_share_it() {
        let c = Clock::manual(1_000);
        let d = c.clone();
        assert_eq!(c.now(), 1_000);
        assert_eq!(d.advance(31), 1_031);
        assert_eq!(c.now(), 1_031);
        assert!(c.is_manual());
    }

    #[test]
    fn system_clock_is_close_to_real_time() {
        let c = Clock::system();
        let real = system_now();
        assert!((c.now() - real).abs() <= 1);
        assert!(!c.is_manual());
    }
}
