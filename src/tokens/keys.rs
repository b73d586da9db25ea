//! The signing key ring: generation, encryption at rest, rotation, JWKS.
//!
//! One key family per algorithm (RS256, ES256, EdDSA). Each family has a `current` key that
//! signs and a `next` key that is already published in the JWKS but does not sign yet; a
//! rotation retires the current key (still published until every token it signed has
//! expired), promotes `next` and publishes a fresh `next`. So a verifier that cached the JWKS
//! before a rotation already knows the key that signs after it.
//!
//! Private keys are stored as PKCS#8, encrypted with AES-256-GCM under the key-encryption key
//! (KEK) from the configuration; the key id and algorithm are bound in as associated data.

use std::{collections::HashMap, sync::Arc};

use aws_lc_rs::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    encoding::AsDer,
    rand::{SecureRandom, SystemRandom},
    rsa::KeySize,
    signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
        RSA_PKCS1_SHA256,
    },
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use serde_json::json;
use std::str::FromStr;
use tokio::sync::RwLock;

use crate::store::{keys::KeyRecord, Db};

/// The algorithms are spelled in the store, which reads them from client rows.
pub use crate::store::types::Alg;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key-encryption key: {0}")]
    Kek(String),
    #[error("signing key {kid}: cannot decrypt (wrong key-encryption key?)")]
    Decrypt { kid: String },
    #[error("signing key {kid}: {msg}")]
    Corrupt { kid: String, msg: String },
    #[error("no current signing key for {0}")]
    Missing(&'static str),
    #[error("cryptography failed")]
    Crypto,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The key-encryption key.
#[derive(Clone)]
pub struct Kek {
    aead: Arc<LessSafeKey>,
    /// The KEK's bytes, kept only to derive purpose keys ([`Kek::derive`]).
    root: Arc<[u8; 32]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    /// Parses 32 bytes of base64 (standard or URL-safe, padded or not).
    pub fn from_base64(text: &str) -> Result<Kek, KeyError> {
        let t = text.trim();
        let bytes = STANDARD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
            .map_err(|_| KeyError::Kek("expected 32 bytes in base64".into()))?;
        if bytes.len() != 32 {
            return Err(KeyError::Kek(format!(
                "expected 32 bytes, got {}",
                bytes.len()
            )));
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| KeyError::Crypto)?;
        let mut root = [0u8; 32];
        root.copy_from_slice(&bytes);
        Ok(Kek {
            aead: Arc::new(LessSafeKey::new(key)),
            root: Arc::new(root),
        })
    }

    /// A key for one purpose, derived from the KEK (HMAC-SHA-256 of the purpose label under
    /// the KEK): keyed hashes that a database copy without the KEK cannot recompute.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.root[..])
            .expect("HMAC takes any key length");
        m.update(b"pforte/kek-derive/v1|");
        m.update(purpose.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// A fresh random KEK in base64 (for development set-ups and `pforte keys kek`).
    pub fn generate_base64() -> String {
        let mut b = [0u8; 32];
        SystemRandom::new().fill(&mut b).expect("system randomness");
        STANDARD.encode(b)
    }

    /// Encrypts `plaintext` bound to `aad` (AES-256-GCM, random nonce): base64(nonce‖ct‖tag).
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<String, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyError::Crypto)?;
        let mut buf = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| KeyError::Crypto)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`Kek::seal`] produced with the same `aad`; `kid` names it in errors.
    pub fn open(&self, kid: &str, aad: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let raw = STANDARD
            .decode(sealed)
            .map_err(|_| KeyError::Decrypt { kid: kid.into() })?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(KeyError::Decrypt { kid: kid.into() });
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyError::Decrypt { kid: kid.into() })?;
        let mut buf = ct.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| KeyError::Decrypt { kid: kid.into() })?;
        Ok(plain.to_vec())
    }
}

/// A parsed private key, ready to sign without re-parsing.
pub enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    fn generate(alg: Alg) -> Result<(Signer, Vec<u8>), KeyError> {
        Ok(match alg {
            Alg::RS256 => {
                let k = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Crypto)?;
                let der = k.as_der().map_err(|_| KeyError::Crypto)?.as_ref().to_vec();
                (Signer::Rsa(k), der)
            }
            Alg::ES256 => {
                let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| KeyError::Crypto)?;
                let der = k
                    .to_pkcs8v1()
                    .map_err(|_| KeyError::Crypto)?
                    .as_ref()
                    .to_vec();
                (Signer::Ec(k), der)
            }
            Alg::EdDSA => {
                let k = Ed25519KeyPair::generate().map_err(|_| KeyError::Crypto)?;
                let der = k
                    .to_pkcs8v1()
                    .map_err(|_| KeyError::Crypto)?
                    .as_ref()
                    .to_vec();
                (Signer::Ed(k), der)
            }
        })
    }

    fn from_pkcs8(alg: Alg, der: &[u8]) -> Option<Signer> {
        Some(match alg {
            Alg::RS256 => Signer::Rsa(RsaKeyPair::from_pkcs8(der).ok()?),
            Alg::ES256 => {
                Signer::Ec(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).ok()?)
            }
            Alg::EdDSA => Signer::Ed(Ed25519KeyPair::from_pkcs8(der).ok()?),
        })
    }

    /// The public JWK (RFC 7517/7518/8037).
    fn public_jwk(&self, kid: &str, alg: Alg) -> serde_json::Value {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match self {
            Signer::Rsa(k) => json!({
                "kty": "RSA", "use": "sig", "alg": alg.as_str(), "kid": kid,
                "n": b64(k.public_key().modulus().big_endian_without_leading_zero()),
                "e": b64(k.public_key().exponent().big_endian_without_leading_zero()),
            }),
            Signer::Ec(k) => {
                let point = k.public_key().as_ref(); // 0x04 || x || y
                json!({
                    "kty": "EC", "use": "sig", "alg": alg.as_str(), "kid": kid, "crv": "P-256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
            Signer::Ed(k) => json!({
                "kty": "OKP", "use": "sig", "alg": alg.as_str(), "kid": kid, "crv": "Ed25519",
                "x": b64(k.public_key().as_ref()),
            }),
        }
    }

    /// Signs `msg` with this key's JWS algorithm.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Signer::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
                    .map_err(|_| KeyError::Crypto)?;
                Ok(sig)
            }
            Signer::Ec(k) => Ok(k
                .sign(&SystemRandom::new(), msg)
                .map_err(|_| KeyError::Crypto)?
                .as_ref()
                .to_vec()),
            Signer::Ed(k) => Ok(k.sign(msg).as_ref().to_vec()),
        }
    }
}

/// A signing key: id, algorithm, parsed private key.
pub struct ActiveKey {
    pub kid: String,
    pub alg: Alg,
    pub signer: Signer,
    /// The encoded JOSE headers of access tokens and ID tokens, built once per reload.
    headers: [(&'static str, String); 2],
}

impl ActiveKey {
    fn new(kid: String, alg: Alg, signer: Signer) -> ActiveKey {
        let headers = ["at+jwt", "JWT"].map(|typ| (typ, jose_header(alg, typ, &kid)));
        ActiveKey {
            kid,
            alg,
            signer,
            headers,
        }
    }

    /// base64url of the JOSE header (RFC 7515 §4) for a token of type `typ` signed by this key.
    pub fn header(&self, typ: &str) -> String {
        match self.headers.iter().find(|(t, _)| *t == typ) {
            Some((_, h)) => h.clone(),
            None => jose_header(self.alg, typ, &self.kid),
        }
    }
}

fn jose_header(alg: Alg, typ: &str, kid: &str) -> String {
    let header = json!({ "alg": alg.as_str(), "typ": typ, "kid": kid });
    URL_SAFE_NO_PAD.encode(header.to_string())
}

/// The loaded key ring: what signs now, and what is published.
pub struct Ring {
    current: Vec<Arc<ActiveKey>>,
    /// The JWKS document, serialized once per reload (served as-is on the hot path).
    pub jwks_json: Arc<str>,
    /// Verification keys by `kid`, parsed once per reload.
    verifiers: HashMap<String, (jsonwebtoken::Algorithm, jsonwebtoken::DecodingKey)>,
    /// When the oldest current key started signing (drives automatic rotation).
    pub oldest_current_activation: Option<i64>,
}

/// Shared handle to the key ring.
#[derive(Clone)]
pub struct KeyRing {
    db: Db,
    kek: Kek,
    ring: Arc<RwLock<Arc<Ring>>>,
    /// Access tokens whose signature was already checked (`tokens::verified`).
    pub(super) verified: Arc<super::VerifiedTokens>,
}

impl KeyRing {
    /// Loads the ring; on a fresh database creates a current and a next key per algorithm.
    pub async fn open(db: Db, kek: Kek) -> Result<KeyRing, KeyError> {
        let kr = KeyRing {
            db,
            kek,
            ring: Arc::new(RwLock::new(Arc::new(Ring {
                current: vec![],
                jwks_json: "{\"keys\":[]}".into(),
                verifiers: HashMap::new(),
                oldest_current_activation: None,
            }))),
            verified: Arc::default(),
        };
        kr.ensure_keys().await?;
        kr.reload().await?;
        Ok(kr)
    }

    fn seal_new(&self, alg: Alg, state: &str, t: i64) -> Result<(KeyRecord, Signer), KeyError> {
        let (signer, der) = Signer::generate(alg)?;
        let kid = format!(
            "{}-{}",
            alg.as_str().to_lowercase(),
            crate::secrets::random_token(9)
        );
        let record = KeyRecord {
            private_key: self.kek.seal(&format!("{kid}|{}", alg.as_str()), &der)?,
            public_jwk: signer.public_jwk(&kid, alg).to_string(),
            kid,
            alg: alg.as_str().into(),
            state: state.into(),
            created_at: t,
            activated_at: (state == "current").then_some(t),
            retired_at: None,
            remove_after: None,
        };
        Ok((record, signer))
    }

    /// Makes sure every algorithm has a current and a next key (first start).
    async fn ensure_keys(&self) -> Result<(), KeyError> {
        let t = self.db.now();
        let existing = self.db.keys_published(t).await?;
        for alg in Alg::ALL {
            for state in ["current", "next"] {
                if !existing
                    .iter()
                    .any(|k| k.alg == alg.as_str() && k.state == state)
                {
                    let (rec, _) = self.seal_new(alg, state, t)?;
                    // Skipped when another instance created it at the same moment.
                    self.db.key_insert_if_missing(&rec).await?;
                }
            }
        }
        Ok(())
    }

    /// Re-reads the ring from the database (keys rotated by another instance or the CLI).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let t = self.db.now();
        let records = self.db.keys_published(t).await?;
        let mut current = Vec::new();
        let mut keys = Vec::new();
        let mut oldest = None::<i64>;
        let mut verifiers = HashMap::new();
        for r in &records {
            let corrupt = |msg: String| KeyError::Corrupt {
                kid: r.kid.clone(),
                msg,
            };
            let jwk: serde_json::Value =
                serde_json::from_str(&r.public_jwk).map_err(|e| corrupt(e.to_string()))?;
            let parsed: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(jwk.clone()).map_err(|e| corrupt(e.to_string()))?;
            let alg =
                jsonwebtoken::Algorithm::from_str(&r.alg).map_err(|e| corrupt(e.to_string()))?;
            let key =
                jsonwebtoken::DecodingKey::from_jwk(&parsed).map_err(|e| corrupt(e.to_string()))?;
            verifiers.insert(r.kid.clone(), (alg, key));
            keys.push(jwk);
            if r.state == "current" {
                let alg = Alg::parse(&r.alg).ok_or_else(|| KeyError::Corrupt {
                    kid: r.kid.clone(),
                    msg: format!("unknown alg {}", r.alg),
                })?;
                // Newest current key per algorithm wins if a race left two.
                let der = self
                    .kek
                    .open(&r.kid, &format!("{}|{}", r.kid, r.alg), &r.private_key)?;
                let signer = Signer::from_pkcs8(alg, &der).ok_or_else(|| KeyError::Corrupt {
                    kid: r.kid.clone(),
                    msg: "not a valid PKCS#8 key".into(),
                })?;
                current.retain(|k: &Arc<ActiveKey>| k.alg != alg);
                current.push(Arc::new(ActiveKey::new(r.kid.clone(), alg, signer)));
                let act = r.activated_at.unwrap_or(r.created_at);
                oldest = Some(oldest.map_or(act, |o: i64| o.min(act)));
            }
        }
        let jwks = json!({ "keys": keys });
        let ring = Ring {
            current,
            jwks_json: jwks.to_string().into(),
            verifiers,
            oldest_current_activation: oldest,
        };
        *self.ring.write().await = Arc::new(ring);
        Ok(())
    }

    /// A snapshot of the ring (cheap: an `Arc` clone).
    pub async fn snapshot(&self) -> Arc<Ring> {
        self.ring.read().await.clone()
    }

    /// Rotates every algorithm's key. `keep_secs`: how long retired keys stay published (the
    /// longest lifetime of a token they may have signed).
    pub async fn rotate(&self, keep_secs: i64) -> Result<Vec<String>, KeyError> {
        self.ensure_keys().await?;
        let t = self.db.now();
        let records = self.db.keys_published(t).await?;
        let mut promoted = Vec::new();
        for alg in Alg::ALL {
            let cur = records
                .iter()
                .find(|k| k.alg == alg.as_str() && k.state == "current")
                .map(|k| k.kid.as_str());
            let next = records
                .iter()
                .find(|k| k.alg == alg.as_str() && k.state == "next")
                .map(|k| k.kid.clone());
            let (rec, _) = self.seal_new(alg, "next", t)?;
            if self
                .db
                .keys_rotate(alg.as_str(), cur, &rec, t, t + keep_secs)
                .await?
            {
                promoted.extend(next);
            }
        }
        self.db.keys_delete_removed(t).await?;
        self.reload().await?;
        Ok(promoted)
    }
}

impl Ring {
    /// The key that signs for `alg` now.
    pub fn signer(&self, alg: Alg) -> Result<Arc<ActiveKey>, KeyError> {
        self.current
            .iter()
            .find(|k| k.alg == alg)
            .cloned()
            .ok_or(KeyError::Missing(alg.as_str()))
    }

    /// The published verification key with this `kid`.
    pub fn verifier(
        &self,
        kid: &str,
    ) -> Option<&(jsonwebtoken::Algorithm, jsonwebtoken::DecodingKey)> {
        self.verifiers.get(kid)
    }
}

/// The key-encryption key from config, environment or file. A loopback development issuer
/// without one gets a generated key file next to the database; anything else must configure it.
pub fn load_kek(config: &crate::config::Config) -> Result<Kek, String> {
    if let Some(k) = &config.keys.encryption_key {
        return Kek::from_base64(k).map_err(|e| format!("key `keys.encryption_key`: {e}"));
    }
    let file = match &config.keys.encryption_key_file {
        Some(f) => f.clone(),
        None if config.is_development() => dev_kek_path(config),
        None => {
            return Err(
                "key `keys.encryption_key` (PFORTE_KEYS_ENCRYPTION_KEY) or `keys.encryption_key_file` is required \
                 for a non-development issuer: 32 random bytes in base64, e.g. from `pforte keys kek`"
                    .into(),
            )
        }
    };
    if !file.exists() && config.keys.encryption_key_file.is_none() {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        write_private(&file, &Kek::generate_base64())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        tracing::warn!(path = %file.display(), "generated a development key-encryption key; configure keys.encryption_key in production");
    }
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("key `keys.encryption_key_file` ({}): {e}", file.display()))?;
    Kek::from_base64(&text)
        .map_err(|e| format!("key `keys.encryption_key_file` ({}): {e}", file.display()))
}

fn dev_kek_path(config: &crate::config::Config) -> std::path::PathBuf {
    let db_file = config
        .database
        .url
        .strip_prefix("sqlite:")
        .map(|p| p.trim_start_matches("//").split('?').next().unwrap_or(""));
    match db_file.and_then(|f| std::path::Path::new(f).parent().map(|p| p.to_path_buf())) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("pforte.kek"),
        _ => std::path::PathBuf::from("data/pforte.kek"),
    }
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kek_seal_open_and_tamper() {
        let kek = Kek::from_base64(&Kek::generate_base64()).unwrap();
        let sealed = kek.seal("kid|ES256", b"secret key").unwrap();
        assert_eq!(
            kek.open("kid", "kid|ES256", &sealed).unwrap(),
            b"secret key"
        );
        assert!(
            kek.open("kid", "other|ES256", &sealed).is_err(),
            "associated data is bound"
        );
        let other = Kek::from_base64(&Kek::generate_base64()).unwrap();
        assert!(other.open("kid", "kid|ES256", &sealed).is_err());
        assert!(Kek::from_base64("c2hvcnQ=").is_err());
        assert!(Kek::from_base64("not base64!").is_err());
    }

    #[test]
    fn generated_keys_round_trip_and_sign() {
        for alg in Alg::ALL {
            let (signer, der) = Signer::generate(alg).unwrap();
            let again = Signer::from_pkcs8(alg, &der).expect("pkcs8 parses");
            let jwk = again.public_jwk("k1", alg);
            assert_eq!(jwk["alg"], alg.as_str());
            assert!(!signer.sign(b"msg").unwrap().is_empty());
        }
    }
}
