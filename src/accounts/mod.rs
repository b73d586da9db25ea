//! Citizens and their credentials.
//!
//! Owns: creating accounts (validated input, hashed password, attributes with provenance),
//! checking a password login without revealing whether the account exists, and disabling and
//! proofing accounts. Storage is `store::accounts`; hashing is [`password`].

pub mod data;
pub mod details;
pub mod login;
pub mod passkey;
pub mod password;
pub mod password_rules;
pub mod profile;
pub mod totp;

use crate::{
    assurance::{
        level::{authentication_strength, Method},
        Level,
    },
    store::{
        self,
        accounts::{Account, Attribute},
        types::CredentialKind,
        Db,
    },
};
pub use password::{HashError, Hasher};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid e-mail address")]
    InvalidEmail,
    #[error("password too short: at least {0} characters")]
    PasswordTooShort(usize),
    #[error("password too long: at most 1024 bytes")]
    PasswordTooLong,
    #[error("an account with this e-mail address exists already")]
    EmailTaken,
    #[error("{0} is too long (at most 200 characters) or contains control characters")]
    InvalidName(&'static str),
    #[error(transparent)]
    Detail(#[from] details::DetailError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Input for a new local account.
#[derive(Default)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email_verified: bool,
}

/// Normalises and checks an e-mail address (deliberately simple: one `@`, a dot in the domain,
/// no spaces or control characters; the confirmation mail is the real check).
pub fn normalise_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split('@').count() == 2
        && email.split('@').all(|p| !p.is_empty())
        && email
            .rsplit('@')
            .next()
            .is_some_and(|d| d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then_some(email).ok_or(AccountError::InvalidEmail)
}

fn check_name(field: &'static str, v: &Option<String>) -> Result<Option<String>, AccountError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > 200 || s.chars().any(char::is_control) => {
            Err(AccountError::InvalidName(field))
        }
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Creates a local account with a password (the operator's `pforte account add`): its
/// identity is proofed at low only.
pub async fn create(
    db: &Db,
    hasher: &Hasher,
    new: NewAccount,
    min_password: usize,
) -> Result<Account, AccountError> {
    create_with_details(
        db,
        hasher,
        new,
        details::DetailsInput::default(),
        min_password,
    )
    .await
}

/// [`create`] with further personal details (birth date, address, phone number; the names of
/// `new` win over those of `details`), all self-entered. Every value is checked first
/// ([`details::check`]); the first refusal is the error.
pub async fn create_with_details(
    db: &Db,
    hasher: &Hasher,
    new: NewAccount,
    details: details::DetailsInput,
    min_password: usize,
) -> Result<Account, AccountError> {
    let email = normalise_email(&new.email)?;
    check_password(&new.password, min_password)?;
    let input = details::DetailsInput {
        given_name: new.given_name.clone().or(details.given_name.clone()),
        family_name: new.family_name.clone().or(details.family_name.clone()),
        ..details
    };
    let today = time::OffsetDateTime::from_unix_timestamp(db.now())
        .map(|t| t.date())
        .unwrap_or(time::Date::MAX);
    let checked = details::check(&input, today).map_err(|mut e| e.remove(0))?;
    if db.account_by_email(&email).await?.is_some() {
        return Err(AccountError::EmailTaken);
    }
    let hash = hasher.hash(new.password).await?;
    insert(db, email, new.email_verified, Some(hash), checked).await
}

/// The length rules for a new password.
pub fn check_password(password: &str, min_password: usize) -> Result<(), AccountError> {
    if password.chars().count() < min_password {
        return Err(AccountError::PasswordTooShort(min_password));
    }
    if password.len() > 1024 {
        return Err(AccountError::PasswordTooLong);
    }
    Ok(())
}

/// Creates a self-registered account whose address nobody has confirmed yet: unverified and
/// without a password, so nothing can log in to it. The password is set by whoever opens the
/// verification link mailed to the address ([`Db::verification_consume`]); docs/registration.md.
pub async fn register_unconfirmed(
    db: &Db,
    email: &str,
    given_name: Option<String>,
    family_name: Option<String>,
) -> Result<Account, AccountError> {
    let email = normalise_email(email)?;
    let names = Names::check(&given_name, &family_name)?;
    let details = [
        (details::GIVEN_NAME, names.given),
        (details::FAMILY_NAME, names.family),
    ]
    .into_iter()
    .filter_map(|(n, v)| v.map(|v| (n, v)))
    .collect();
    insert(db, email, false, None, details).await
}

/// Optional names, checked.
struct Names {
    given: Option<String>,
    family: Option<String>,
}

impl Names {
    fn check(given: &Option<String>, family: &Option<String>) -> Result<Names, AccountError> {
        Ok(Names {
            given: check_name("given_name", given)?,
            family: check_name("family_name", family)?,
        })
    }
}

async fn insert(
    db: &Db,
    email: String,
    email_verified: bool,
    password_hash: Option<String>,
    details: details::Details,
) -> Result<Account, AccountError> {
    let account = Account {
        id: crate::secrets::random_token(16),
        email,
        email_verified,
        password_hash,
        proofing_level: Level::Low,
        proofing_evidence: None,
        proofed_at: None,
        created_at: db.now(),
        disabled_at: None,
    };
    let attrs: Vec<Attribute> = details
        .into_iter()
        .map(|(name, value)| Attribute {
            name: name.into(),
            value,
            source: "self".into(),
            level: Level::Low,
            verified_at: None,
        })
        .collect();
    match db.account_insert(&account, &attrs).await {
        Ok(()) => Ok(account),
        Err(e) if store::is_unique_violation(&e) => Err(AccountError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Checks a password login. `Ok(None)` for every kind of failure (unknown address, wrong
/// password, disabled account, address not confirmed) so that callers show one wording and
/// timing does not differ. An account whose address is unconfirmed is self-registered
/// (operators create verified accounts only) and logs in with nothing: its password counts
/// from the confirmation link on (docs/registration.md).
pub async fn authenticate(
    db: &Db,
    hasher: &Hasher,
    email: &str,
    password: &str,
) -> Result<Option<Account>, AccountError> {
    let account = match normalise_email(email) {
        Ok(e) => db.account_by_email(&e).await?,
        Err(_) => None,
    };
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let ok = hasher.verify(password.to_string(), stored).await?;
    Ok(account.filter(|a| ok && a.email_verified && a.disabled_at.is_none()))
}

/// The outcome of a throttled password login ([`password_login`]).
#[derive(Debug)]
pub enum PasswordLogin {
    Success(Account),
    /// Wrong address or password (one outcome for both). `lockout_started`: this failure
    /// locked the address's logins for the first time (time for a notice to the account).
    Failed {
        lockout_started: bool,
    },
    /// Throttled: no password was checked; the next attempt is possible at `until`.
    Locked {
        until: i64,
    },
}

/// A password login under brute-force throttling (`crate::throttle`): the attempt is reserved
/// per client address and per account address before the password is checked, so parallel
/// guesses each count. A lockout answers the same for known and unknown addresses, without
/// hashing for either; a failure hashes (a dummy for unknown ones) as [`authenticate`] does.
///
/// The attempt runs as a task of its own, so it is settled (reset, given back or left
/// counted) even when the request is dropped half-way: a client that closes its connection
/// while the password is hashed would otherwise leave its reserved attempts counted, and an
/// address many citizens share (an office's NAT) would drift into a lockout without a single
/// wrong password.
pub async fn password_login(
    db: &Db,
    hasher: &Hasher,
    email: &str,
    password: &str,
    client: std::net::IpAddr,
    now: i64,
) -> Result<PasswordLogin, AccountError> {
    let (db, hasher) = (db.clone(), hasher.clone());
    let (email, password) = (email.to_owned(), password.to_owned());
    tokio::spawn(async move { settled_login(&db, &hasher, &email, &password, client, now).await })
        .await
        .map_err(|e| {
            AccountError::Hash(HashError::Internal(format!("the login task failed: {e}")))
        })?
}

/// [`password_login`]'s attempt, from reservation to settlement.
async fn settled_login(
    db: &Db,
    hasher: &Hasher,
    email: &str,
    password: &str,
    client: std::net::IpAddr,
    now: i64,
) -> Result<PasswordLogin, AccountError> {
    use crate::throttle::{self, Verdict, LOGIN_ACCOUNT, LOGIN_ADDRESS};
    let address_key = throttle::address_key("login", client);
    let account_key = throttle::account_key("login", email);
    if let Verdict::Locked { until } =
        throttle::reserve(db, &LOGIN_ADDRESS, &address_key, now).await?
    {
        return Ok(PasswordLogin::Locked { until });
    }
    let verdict = throttle::reserve(db, &LOGIN_ACCOUNT, &account_key, now).await?;
    if let Verdict::Locked { until } = verdict {
        // Nothing was checked: the address's attempt does not count.
        throttle::refund(db, &address_key).await?;
        return Ok(PasswordLogin::Locked { until });
    }
    match authenticate(db, hasher, email, password).await {
        Ok(Some(account)) => {
            throttle::reset(db, &account_key).await?;
            throttle::refund(db, &address_key).await?;
            Ok(PasswordLogin::Success(account))
        }
        Ok(None) => Ok(PasswordLogin::Failed {
            lockout_started: verdict.starts_lockout(&LOGIN_ACCOUNT),
        }),
        Err(e) => {
            // Not checked (busy): neither attempt counts.
            throttle::refund(db, &account_key).await?;
            throttle::refund(db, &address_key).await?;
            Err(e)
        }
    }
}

/// The highest level this citizen could reach now: the proofing ceiling, and the strongest
/// authentication the enrolled methods allow (a password alone: low; with TOTP or a passkey:
/// substantial). A self-registered identity stays at low whatever it enrols.
pub fn reachable_level(account: &Account, enrolled: &[Method]) -> Level {
    authentication_strength(enrolled)
        .unwrap_or(Level::Low)
        .min(account.proofing_level)
}

/// How to address the citizen: given and family name from the attributes, else the e-mail.
pub fn display_name(account: &Account, attributes: &[Attribute]) -> String {
    let effective = profile::effective(attributes);
    let name = ["given_name", "family_name"]
        .iter()
        .filter_map(|n| effective.get(*n).map(|a| a.value.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        account.email.clone()
    } else {
        name
    }
}

/// Methods the citizen could add during a step-up, right on the step-up page: an
/// authenticator app (TOTP) when the account has no second factor yet (`web::stepup`). Counted
/// by the authorization decision as reachable, so that a citizen whose proofing allows a level
/// is asked to step up (and offered the set-up) instead of being refused.
pub fn enrolable_on_step_up(credentials: &[crate::store::credentials::Credential]) -> Vec<Method> {
    let has_second_factor = credentials
        .iter()
        .any(|c| matches!(c.kind, CredentialKind::Totp | CredentialKind::Passkey));
    if has_second_factor {
        Vec::new()
    } else {
        vec![Method::Totp]
    }
}

/// The methods an account can authenticate with now: its password (if it has one) and its
/// enrolled second factors.
pub fn enrolled_methods(
    account: &Account,
    credentials: &[crate::store::credentials::Credential],
) -> Vec<Method> {
    let mut m = Vec::new();
    if account.password_hash.is_some() {
        m.push(Method::Password);
    }
    for c in credentials {
        let method = match c.kind {
            CredentialKind::Totp => Method::Totp,
            CredentialKind::Passkey => Method::Passkey,
        };
        if !m.contains(&method) {
            m.push(method);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        assert_eq!(
            normalise_email(" Anna@Example.DE ").unwrap(),
            "anna@example.de"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.de",
            "a@b@c.de",
            "anna@example",
            "an na@example.de",
            "a@.de",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
