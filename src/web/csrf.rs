//! The CSRF check of the citizen pages' forms: the extractor [`CsrfForm`].
//!
//! Owns: reading an `application/x-www-form-urlencoded` body and comparing its `csrf` field
//! with the session's token in constant time ([`session::csrf_ok`]). A handler that takes
//! `CsrfForm<T>` only runs for a form of this session; otherwise the rejection answers with
//! the "form expired" error page. A handler that shows its form again instead (registration)
//! takes `Result<CsrfForm<T>, CsrfRejection<T>>` and gets the parsed form back in
//! [`CsrfRejection::Expired`].

use axum::{
    extract::{rejection::FormRejection, FromRequest, FromRequestParts, Request},
    response::{IntoResponse, Response},
    Form,
};
use serde::{de::DeserializeOwned, Deserialize};
use tower_sessions::Session;

use super::{error::PageError, session};

/// A form that carries the session's CSRF token.
pub trait HasCsrf {
    /// The submitted token (empty when missing).
    fn csrf(&self) -> &str;
}

/// A form with nothing but the CSRF token (buttons such as logout or remove).
#[derive(Deserialize, Default)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

impl HasCsrf for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A form of `T` whose CSRF token matched this session's.
pub struct CsrfForm<T>(pub T);

/// Why a [`CsrfForm`] was not accepted.
pub enum CsrfRejection<T> {
    /// The form was read, but its token is not this session's.
    Expired(T),
    /// The body is not a readable form (answered as axum's `Form` would).
    Unreadable(FormRejection),
    /// The session store failed.
    Session(session::SessionError),
}

impl<T> IntoResponse for CsrfRejection<T> {
    fn into_response(self) -> Response {
        match self {
            CsrfRejection::Expired(_) => PageError::form_expired().into_response(),
            CsrfRejection::Unreadable(r) => r.into_response(),
            CsrfRejection::Session(e) => PageError::from(e).into_response(),
        }
    }
}

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
    S: Send + Sync,
{
    type Rejection = CsrfRejection<T>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let s = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(|(_, msg)| {
                CsrfRejection::Session(session::SessionError::missing_layer(msg))
            })?;
        let req = Request::from_parts(parts, body);
        let Form(form) = Form::<T>::from_request(req, state)
            .await
            .map_err(CsrfRejection::Unreadable)?;
        match session::csrf_ok(&s, form.csrf()).await {
            Ok(true) => Ok(CsrfForm(form)),
            Ok(false) => Err(CsrfRejection::Expired(form)),
            Err(e) => Err(CsrfRejection::Session(e)),
        }
    }
}
