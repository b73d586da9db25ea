//! Time-based one-time passwords (RFC 6238) and single-use recovery codes.
//!
//! - TOTP: HMAC-SHA-1, 6 digits, 30-second steps, one step of clock skew either way: what every
//!   authenticator app (Google Authenticator, FreeOTP, Aegis, Microsoft Authenticator…) does
//!   by default. A seed is 160 random bits (RFC 4226 §4 recommends 160) and is stored only
//!   encrypted with the key-encryption key, bound to its credential id
//!   (`kek.seal("totp|{credential_id}", seed)`). A code is accepted once: the matched time
//!   step is recorded and no step at or before it is accepted again for that credential
//!   (RFC 6238 §5.2, [`Db::credential_use_step`]).
//! - Recovery codes: 10 codes of 10 characters from a readable alphabet (no 0/o, 1/l/i),
//!   shown as `xxxxx-xxxxx` once, stored as `hash_secret("{account_id}|{code}")`, each usable
//!   once ([`Db::recovery_code_use`]). About 49 bits each.
//!
//! Neither seeds nor codes are ever logged or audited.

use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, Rng, RngCore};
use sha1::Sha1;
use sha2::Sha256;

use crate::{
    secrets,
    store::{self, credentials::Credential, types::CredentialKind, Db},
    tokens::keys::{Kek, KeyError},
};

/// Digits of a code.
pub const DIGITS: usize = 6;
/// Seconds per time step.
pub const PERIOD: i64 = 30;
/// Accepted clock skew, in steps either way.
pub const SKEW: i64 = 1;
/// Seed length in bytes (160 bits).
pub const SEED_LEN: usize = 20;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Pforte";
/// The `kind` of a TOTP credential.
pub const KIND: CredentialKind = CredentialKind::Totp;
/// How many recovery codes a set has.
pub const RECOVERY_CODES: usize = 10;
/// Readable alphabet of recovery codes (31 characters, nothing easily confused).
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const RECOVERY_LEN: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("second-factor secret: {0}")]
    Key(#[from] KeyError),
}

/// A fresh random seed.
pub fn new_seed() -> Vec<u8> {
    let mut seed = vec![0u8; SEED_LEN];
    OsRng.fill_bytes(&mut seed);
    seed
}

/// The time step of a Unix time.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(PERIOD)
}

/// The code for one time step (RFC 4226 §5.3 dynamic truncation, RFC 6238 §4).
pub fn code_at(seed: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(seed).expect("HMAC takes keys of any length");
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:0width$}", bin % 10u32.pow(DIGITS as u32), width = DIGITS)
}

/// What a citizen typed, as six digits (spaces and dashes dropped), or `None`.
pub fn normalise_code(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The time step within the skew window whose code is `code`, checked in constant time per
/// step. Does not consult the replay guard.
pub fn matching_step(seed: &[u8], code: &str, now: i64) -> Option<i64> {
    let code = normalise_code(code)?;
    let now_step = step_of(now);
    // Check every step of the window (no early exit) and keep the latest match.
    let mut found = None;
    for step in now_step - SKEW..=now_step + SKEW {
        if secrets::ct_eq(code_at(seed, step).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding (what authenticator apps expect in `secret=`).
pub fn base32(bytes: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(A[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes RFC 4648 base32 (case-insensitive; spaces and padding ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// The secret for manual entry: base32 in groups of four.
pub fn display_secret(seed: &[u8]) -> String {
    let b = base32(seed);
    b.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Key Uri Format URI authenticator apps read from the QR code:
/// `otpauth://totp/Pforte:{email}?secret=…&issuer=Pforte&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(seed: &[u8], email: &str) -> String {
    format!(
        "otpauth://totp/{issuer}:{label}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
        issuer = pct(ISSUER),
        label = pct(email),
        secret = base32(seed),
    )
}

/// A QR code as SVG path data (one unit per module, quiet zone not included) and its width in
/// modules, for inline SVG without any markup built from strings. `None` if the text does not
/// fit (it always does for an otpauth URI with a sane e-mail address).
pub fn qr_path(text: &str) -> Option<(String, usize)> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let mut d = String::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if colors[y * width + x] == qrcode::Color::Dark {
                let start = x;
                while x < width && colors[y * width + x] == qrcode::Color::Dark {
                    x += 1;
                }
                d.push_str(&format!("M{start} {y}h{}v1H{start}z", x - start));
            } else {
                x += 1;
            }
        }
    }
    Some((d, width))
}

/// The AAD a TOTP seed is sealed with: binds the ciphertext to its credential.
fn aad(credential_id: &str) -> String {
    format!("totp|{credential_id}")
}

/// Stores a confirmed TOTP credential. `confirmed_step` is the step of the code the citizen
/// confirmed the set-up with: that code cannot be used again.
pub async fn enrol(
    db: &Db,
    kek: &Kek,
    account_id: &str,
    label: &str,
    seed: &[u8],
    confirmed_step: i64,
    now: i64,
) -> Result<Credential, TotpError> {
    let id = secrets::random_token(16);
    let cred = Credential {
        secret: kek.seal(&aad(&id), seed)?,
        id,
        account_id: account_id.to_string(),
        kind: KIND,
        label: label.to_string(),
        created_at: now,
        last_used_at: None,
        last_step: Some(confirmed_step),
    };
    db.credential_insert(&cred).await?;
    Ok(cred)
}

/// The result of checking a TOTP code against an account's authenticator apps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Accepted (and now used up).
    Accepted { credential_id: String, step: i64 },
    /// A right code, but it (or a later one) was used already.
    Replayed,
    /// Not six digits.
    Malformed,
    /// Wrong code (or the account has no authenticator app).
    Wrong,
}

/// Checks a code against every TOTP credential of the account; a matching code is used up.
pub async fn verify(
    db: &Db,
    kek: &Kek,
    account_id: &str,
    code: &str,
    now: i64,
) -> Result<Check, TotpError> {
    if normalise_code(code).is_none() {
        return Ok(Check::Malformed);
    }
    let mut replayed = false;
    for cred in db.credentials_of(account_id).await? {
        if cred.kind != KIND {
            continue;
        }
        let seed = kek.open(&cred.id, &aad(&cred.id), &cred.secret)?;
        let Some(step) = matching_step(&seed, code, now) else {
            continue;
        };
        if db.credential_use_step(&cred.id, step, now).await? {
            return Ok(Check::Accepted {
                credential_id: cred.id,
                step,
            });
        }
        replayed = true;
    }
    Ok(if replayed {
        Check::Replayed
    } else {
        Check::Wrong
    })
}

// --- Recovery codes ----------------------------------------------------------------------

/// A new set of recovery codes, formatted `xxxxx-xxxxx`.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_LEN)
                .map(|_| RECOVERY_ALPHABET[OsRng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// What a citizen typed as a recovery code, normalised (lower case, separators dropped), or
/// `None` if it cannot be one.
pub fn normalise_recovery_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == RECOVERY_LEN && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then_some(code)
}

/// The stored form of a recovery code: an HMAC-SHA-256 under a key derived from the KEK
/// (`k1:` + hex), bound to the account so equal codes of two accounts differ. A copy of the
/// database alone cannot test guesses against it (issue 10: recovery codes were unkeyed).
pub fn recovery_code_hash(kek: &Kek, account_id: &str, code: &str) -> Option<String> {
    let c = normalise_recovery_code(code)?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&kek.derive(RECOVERY_KEY_PURPOSE))
        .expect("HMAC takes any key length");
    m.update(account_id.as_bytes());
    m.update(b"|");
    m.update(c.as_bytes());
    let mac = m.finalize().into_bytes();
    Some(format!(
        "k1:{}",
        mac.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// The purpose label of the recovery-code key derived from the KEK.
const RECOVERY_KEY_PURPOSE: &str = "recovery-codes";

/// The unkeyed SHA-256 form that sets made before keyed hashing were stored in; still
/// accepted until they are used or replaced.
fn legacy_recovery_code_hash(account_id: &str, code: &str) -> Option<String> {
    normalise_recovery_code(code).map(|c| secrets::hash_secret(&format!("{account_id}|{c}")))
}

/// Replaces the account's recovery codes with a new set and returns it (to be shown once).
pub async fn regenerate_recovery_codes(
    db: &Db,
    kek: &Kek,
    account_id: &str,
    now: i64,
) -> Result<Vec<String>, TotpError> {
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery_code_hash(kek, account_id, c))
        .collect();
    db.recovery_codes_replace(account_id, &hashes, now).await?;
    Ok(codes)
}

/// Uses a recovery code once. `false` if it is malformed, unknown or already used.
pub async fn use_recovery_code(
    db: &Db,
    kek: &Kek,
    account_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, TotpError> {
    let (Some(keyed), Some(legacy)) = (
        recovery_code_hash(kek, account_id, code),
        legacy_recovery_code_hash(account_id, code),
    ) else {
        return Ok(false);
    };
    if db.recovery_code_use(account_id, &keyed, now).await? {
        return Ok(true);
    }
    Ok(db.recovery_code_use(account_id, &legacy, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B (SHA-1 seed), last six digits of the eight-digit values.
    #[test]
    fn totp_rfc6238_vectors() {
        let seed = b"12345678901234567890";
        for (t, want) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
            (20000000000, "353130"),
        ] {
            assert_eq!(code_at(seed, step_of(t)), want, "t={t}");
        }
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0..9.
    #[test]
    fn totp_hotp_rfc4226_vectors() {
        let seed = b"12345678901234567890";
        let want = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(code_at(seed, i as i64), *w);
        }
    }

    #[test]
    fn totp_window_and_input() {
        let seed = new_seed();
        assert_eq!(seed.len(), 20);
        let now = 1_700_000_015;
        let s = step_of(now);
        for d in -1..=1 {
            assert_eq!(
                matching_step(&seed, &code_at(&seed, s + d), now),
                Some(s + d)
            );
        }
        for d in [-3, -2, 2, 3] {
            let c = code_at(&seed, s + d);
            // (a collision with a code in the window is possible but one in a million)
            if (-1..=1).all(|w| code_at(&seed, s + w) != c) {
                assert_eq!(matching_step(&seed, &c, now), None);
            }
        }
        let c = code_at(&seed, s);
        let spaced = format!("{} {}", &c[..3], &c[3..]);
        assert_eq!(matching_step(&seed, &spaced, now), Some(s));
        assert_eq!(normalise_code("12345"), None);
        assert_eq!(normalise_code("12345a"), None);
        assert_eq!(normalise_code("1234567"), None);
        assert_eq!(normalise_code(" 123-456 ").as_deref(), Some("123456"));
    }

    #[test]
    fn totp_base32_and_uri() {
        // RFC 4648 §10
        for (raw, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(raw.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), raw.as_bytes());
        }
        let seed = new_seed();
        assert_eq!(base32(&seed).len(), 32);
        assert_eq!(base32_decode(&display_secret(&seed)).unwrap(), seed);
        assert_eq!(base32_decode("not base32!"), None);
        let uri = otpauth_uri(b"12345678901234567890", "anna+x@example.de");
        assert_eq!(
            uri,
            "otpauth://totp/Pforte:anna%2Bx%40example.de?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Pforte&algorithm=SHA1&digits=6&period=30"
        );
        let (path, width) = qr_path(&uri).unwrap();
        assert!(width >= 21 && path.starts_with("M0 0h7v1H0z"), "{path}");
        assert!(path
            .chars()
            .all(|c| c.is_ascii_digit() || "MhvHz ".contains(c)));
    }

    #[test]
    fn totp_recovery_codes() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            assert!(normalise_recovery_code(c).is_some());
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let c = &codes[0];
        let kek = Kek::from_base64(&Kek::generate_base64()).unwrap();
        let h = recovery_code_hash(&kek, "acc", c).unwrap();
        assert_eq!(
            recovery_code_hash(
                &kek,
                "acc",
                &format!(" {} ", c.to_uppercase().replace('-', " "))
            ),
            Some(h.clone())
        );
        assert_ne!(recovery_code_hash(&kek, "other", c), Some(h.clone()));
        // Keyed: another KEK gives another hash, and it is not the unkeyed SHA-256.
        let other = Kek::from_base64(&Kek::generate_base64()).unwrap();
        assert_ne!(recovery_code_hash(&other, "acc", c), Some(h.clone()));
        assert_ne!(legacy_recovery_code_hash("acc", c), Some(h));
        assert_eq!(normalise_recovery_code("abcde-fgh0i"), None);
        assert_eq!(normalise_recovery_code("abcde"), None);
    }

    #[tokio::test]
    async fn recovery_codes_are_stored_keyed_and_old_unkeyed_sets_still_work_once() {
        let core = crate::core::testing::memory_core("https://pforte.example").await;
        let account = crate::accounts::create(
            &core.db,
            &core.hasher,
            crate::accounts::NewAccount {
                email: "rc@example.de".into(),
                password: "a long password!".into(),
                email_verified: true,
                ..Default::default()
            },
            12,
        )
        .await
        .unwrap();
        let id = &account.id;
        let codes = regenerate_recovery_codes(&core.db, &core.kek, id, 1)
            .await
            .unwrap();
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT code_hash FROM recovery_codes WHERE account_id = $1")
                .bind(id)
                .fetch_all(&core.db.pool)
                .await
                .unwrap();
        assert!(stored.iter().all(|h| h.starts_with("k1:")), "{stored:?}");
        assert!(!stored.contains(&legacy_recovery_code_hash(id, &codes[0]).unwrap()));
        assert!(use_recovery_code(&core.db, &core.kek, id, &codes[0], 2)
            .await
            .unwrap());
        assert!(!use_recovery_code(&core.db, &core.kek, id, &codes[0], 3)
            .await
            .unwrap());
        // A set stored before keyed hashing: accepted once, then used up.
        let old = "abcde-fghjk";
        let legacy = legacy_recovery_code_hash(id, old).unwrap();
        core.db
            .recovery_codes_replace(id, &[legacy], 4)
            .await
            .unwrap();
        assert!(use_recovery_code(&core.db, &core.kek, id, old, 5)
            .await
            .unwrap());
        assert!(!use_recovery_code(&core.db, &core.kek, id, old, 6)
            .await
            .unwrap());
    }
}
