//! usage: argon2-bench [THREADS=2] [SECONDS=10]
//! Runs argon2id verify_password (m = 19456 KiB, t = 2, p = 1, as in Pforte's
//! src/accounts/password.rs) in THREADS OS threads for SECONDS and prints one JSON line.
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use argon2::{
    password_hash::SaltString, Algorithm, Argon2, Params, PasswordHash, PasswordHasher,
    PasswordVerifier, Version,
};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let salt = SaltString::encode_b64(b"bench-salt-16byt").unwrap();
    let phc = argon2()
        .hash_password(b"correct horse battery staple", &salt)
        .unwrap()
        .to_string();
    let phc = Arc::new(phc);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (phc, stop, count) = (phc.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let h = PasswordHash::new(&phc).unwrap();
                    assert!(argon2()
                        .verify_password(b"correct horse battery staple", &h)
                        .is_ok());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let el = start.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    println!(
        "{{\"impl\":\"rust argon2 0.5.3\",\"threads\":{threads},\"verifies\":{n},\"seconds\":{el:.2},\"per_s\":{:.1},\"ms_each_per_thread\":{:.1}}}",
        n as f64 / el,
        el * 1000.0 * threads as f64 / n as f64
    );
}
