//! Request ids, and the envelope every request is served in.
//!
//! Owns: where the id comes from ([`assign`]: an incoming `X-Request-Id` is taken only from a
//! trusted proxy, otherwise replaced by a fresh random id), the `request` span every request
//! is served in (method, route path without the query, id), the one log line per answered
//! request (status and latency), and [`Envelope`]: the one tower service around the router
//! that does all of this and adds the security headers (`web::security_headers`) and the
//! `X-Request-Id` answer header.
//!
//! One hand-written service instead of a stack of middleware: tower-http's request-id and
//! trace layers and two `from_fn` layers cost about a quarter of a token request's CPU
//! (every `from_fn` layer clones the rest of the stack and boxes two values per request,
//! docs/performance.md). The envelope boxes its future once.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    response::Response,
};
use tracing::Instrument;

/// `X-Request-Id`.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether an incoming `X-Request-Id` may be kept: only when the TCP peer is a trusted reverse
/// proxy (`trusted_proxies`, `PFORTE_TRUSTED_PROXIES`; the one rule of `web::client_addr`).
pub fn trust_incoming(req: &Request, trusted: &[ipnet::IpNet]) -> bool {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(a)| a.ip());
    super::client_addr::believes_headers(peer, trusted)
}

/// Whether a value is acceptable as a request id from a trusted proxy: 1 to 128 characters of
/// `[A-Za-z0-9._:-]` (UUIDs, trace ids), so a log line cannot be forged through it.
pub fn well_formed(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// The request's id, in its `X-Request-Id` header from here on: the incoming one when
/// [`trust_incoming`] and [`well_formed`] accept it, otherwise a fresh random one (16 URL-safe
/// characters, 96 bits).
pub fn assign(req: &mut Request, trusted: &[ipnet::IpNet]) -> HeaderValue {
    if let Some(v) = req.headers().get(&HEADER) {
        if well_formed(v) && trust_incoming(req, trusted) {
            return v.clone();
        }
    }
    let fresh = HeaderValue::from_str(&crate::secrets::random_token(12))
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
    req.headers_mut().insert(HEADER.clone(), fresh.clone());
    fresh
}

fn span(req: &Request, id: &str) -> tracing::Span {
    // The path only: the query carries codes, tokens and states.
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    )
}

/// The [`Envelope`] layer: wraps the whole router (see the module doc).
#[derive(Clone)]
pub struct EnvelopeLayer {
    trusted: Arc<Vec<ipnet::IpNet>>,
    hsts: bool,
}

impl EnvelopeLayer {
    /// `trusted`: the proxies whose `X-Request-Id` is kept; `hsts`: send
    /// `Strict-Transport-Security` (an https issuer).
    pub fn new(trusted: Vec<ipnet::IpNet>, hsts: bool) -> EnvelopeLayer {
        EnvelopeLayer {
            trusted: Arc::new(trusted),
            hsts,
        }
    }
}

impl<S> tower::Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Envelope<S> {
        Envelope {
            inner,
            layer: self.clone(),
        }
    }
}

/// Serves a request inside its `request` span with its id as the task's request id
/// (`crate::logging::request_id`), logs the answer, and adds `X-Request-Id` and the security
/// headers to it.
#[derive(Clone)]
pub struct Envelope<S> {
    inner: S,
    layer: EnvelopeLayer,
}

impl<S> tower::Service<Request> for Envelope<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = assign(&mut req, &self.layer.trusted);
        let id_text = id.to_str().unwrap_or_default().to_owned();
        let span = span(&req, &id_text);
        let hsts = self.layer.hsts;
        let start = Instant::now();
        let answer = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        Box::pin(async move {
            let Ok(mut resp) = crate::logging::with_request_id(id_text, answer)
                .instrument(span.clone())
                .await;
            span.in_scope(|| {
                tracing::info!(
                    status = resp.status().as_u16(),
                    latency_ms = start.elapsed().as_secs_f64() * 1000.0,
                    "answered"
                )
            });
            let h = resp.headers_mut();
            h.entry(&HEADER).or_insert(id);
            super::security_headers::apply(h, hsts);
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, id: Option<&'static str>) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        let addr: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        if let Some(id) = id {
            req.headers_mut()
                .insert(HEADER.clone(), HeaderValue::from_static(id));
        }
        req
    }

    #[test]
    fn an_incoming_id_is_kept_only_from_a_trusted_proxy_and_only_when_plain() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // From the trusted proxy, well formed: kept.
        let mut req = request("10.1.2.3", Some("trace-42"));
        assert_eq!(assign(&mut req, &trusted), "trace-42");
        // From anyone else: replaced, and the request carries the new id.
        let mut req = request("192.0.2.7", Some("forged"));
        let id = assign(&mut req, &trusted);
        assert_ne!(id, "forged");
        assert_eq!(id.len(), 16);
        assert_eq!(req.headers()[&HEADER], id);
        // From the trusted proxy but not plain: replaced.
        let mut req = request("10.1.2.3", Some("a b"));
        assert_ne!(assign(&mut req, &trusted), "a b");
        // None at all: a fresh one, different each time.
        let (mut a, mut b) = (request("10.1.2.3", None), request("10.1.2.3", None));
        assert_ne!(assign(&mut a, &trusted), assign(&mut b, &trusted));
    }

    #[test]
    fn only_plain_ids_are_well_formed() {
        for ok in ["abc", "0f8e2b4c-1d2e-4f00-9a1b-2c3d4e5f6a7b", "trace:1.2_3"] {
            assert!(well_formed(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in ["", "a b", "x\"y", "line\tfeed", &"a".repeat(129)] {
            assert!(!well_formed(&HeaderValue::from_str(bad).unwrap()), "{bad}");
        }
    }
}
