//! The typed values stored in text columns that are not assurance levels or acr vocabularies
//! (those are `crate::assurance::{Level, AcrVocabulary}`): OAuth grant types, token-endpoint
//! authentication methods, ID-token signing algorithms, the login methods a client may offer,
//! and the kinds of second-factor credential.
//!
//! Owns: the one spelling of each value (`as_str`) and its parser (`parse`). They live here,
//! below `oidc`, `tokens` and `accounts`, so that the store can hand out typed rows without
//! depending upwards; those modules use (and `tokens` re-exports) them. Serde uses the same
//! spellings, so the admin API and the audit log show what the database holds.

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum with one spelling per variant: `ALL`, `as_str`, `parse`,
/// `Display`, and serde under the same spelling.
macro_rules! spelled {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text,)+].len()] = [$($name::$variant,)+];

            /// The stored (and protocol) spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value spelled `s`, exactly as [`Self::as_str`] writes it.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        /// The OpenAPI schema: a string, one of the spellings (the admin API's documents).
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text,)+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled! {
    /// Which `sub` a client sees (OIDC Core §8): the account id, or a pairwise identifier
    /// per sector (`oidc::subject`).
    SubjectType {
        Public = "public",
        Pairwise = "pairwise",
    }
}

spelled! {
    /// An OAuth 2.0 grant type a client may use (RFC 6749 §4).
    GrantType {
        AuthorizationCode = "authorization_code",
        RefreshToken = "refresh_token",
        ClientCredentials = "client_credentials",
    }
}

spelled! {
    /// How a client authenticates at the token endpoint (OIDC Core §9).
    AuthMethod {
        ClientSecretBasic = "client_secret_basic",
        ClientSecretPost = "client_secret_post",
        PrivateKeyJwt = "private_key_jwt",
        /// A public client: no authentication, PKCE instead (RFC 7636).
        None = "none",
    }
}

spelled! {
    /// A JWS algorithm Pforte signs with (ID tokens, access tokens, its key ring).
    Alg {
        RS256 = "RS256",
        ES256 = "ES256",
        EdDSA = "EdDSA",
    }
}

spelled! {
    /// A local login method an admin may allow per client (the policy names of
    /// `assurance::level::Method`).
    LoginMethod {
        Password = "password",
        Totp = "totp",
        Passkey = "passkey",
    }
}

spelled! {
    /// The kind of a stored second-factor credential.
    CredentialKind {
        Totp = "totp",
        Passkey = "passkey",
    }
}

/// The OpenAPI schema of `assurance::Level` (from `pforte-levels`, which knows no utoipa): its
/// serde spelling. Only for `#[schema(value_type = LevelName)]` in the admin API's types.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelName {
    Low,
    Substantial,
    High,
}

/// The OpenAPI schema of `assurance::AcrVocabulary`, as [`LevelName`].
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AcrVocabularyName {
    Eidas,
    Bsi,
    Stork,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value reads back from its spelling, in text and in JSON, and nothing else reads.
    macro_rules! round_trip {
        ($name:ident) => {
            for v in &$name::ALL {
                assert_eq!($name::parse(v.as_str()), Some(*v));
                assert_eq!(v.to_string(), v.as_str());
                let json = serde_json::to_string(v).unwrap();
                assert_eq!(json, format!("\"{}\"", v.as_str()));
                assert_eq!(serde_json::from_str::<$name>(&json).unwrap(), *v);
            }
            assert_eq!($name::parse(""), None);
            assert_eq!($name::parse("superhigh"), None);
        };
    }

    #[test]
    fn every_value_round_trips() {
        round_trip!(GrantType);
        round_trip!(AuthMethod);
        round_trip!(Alg);
        round_trip!(LoginMethod);
        round_trip!(CredentialKind);
    }

    #[test]
    fn spellings_are_exact() {
        assert_eq!(GrantType::parse("Authorization_Code"), None);
        assert_eq!(AuthMethod::parse("none"), Some(AuthMethod::None));
        assert_eq!(Alg::parse("rs256"), None);
        assert_eq!(Alg::parse("EdDSA"), Some(Alg::EdDSA));
        assert_eq!(LoginMethod::ALL.len(), 3);
    }
}
