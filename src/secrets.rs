//! Small primitives for secrets: random tokens, their storage hashes, constant-time comparison.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `bytes` bytes from a CSPRNG, base64url without padding.
///
/// The generator is rand's `ThreadRng`: ChaCha12 per thread, seeded from the operating
/// system and reseeded from it every 64 KiB of output. Asking the kernel for every token
/// (`OsRng`: one `getrandom` system call each) cost two system calls per token request, 7 % of
/// its CPU (docs/performance.md). Long-lived keys (signing keys, salts, TOTP seeds) still come
/// from the operating system directly.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A 256-bit opaque secret (authorization codes, refresh tokens, CSRF tokens).
pub fn new_secret() -> String {
    random_token(32)
}

/// The storage form of a high-entropy secret: base64url(SHA-256). The secret itself is never
/// stored, so a database leak does not yield usable codes or refresh tokens.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality for secrets of any length (length is not secret here).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// PKCE S256 transform (RFC 7636 §4.2): base64url(SHA-256(verifier)).
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_distinct_and_hashes_stable() {
        let a = new_secret();
        assert_ne!(a, new_secret());
        assert_eq!(a.len(), 43);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }
}
