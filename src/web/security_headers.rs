//! Security headers on every response (one place, like kanidm's middleware/security_headers),
//! applied to every answer by the request envelope (`web::request_id::Envelope`).

use axum::http::{header, HeaderMap, HeaderValue};

/// Adds CSP, framing, sniffing, referrer and caching headers; HSTS when served over https.
/// An answer's own `Content-Security-Policy` and `Cache-Control` are kept.
pub fn apply(h: &mut HeaderMap, hsts: bool) {
    // Pages need only our own stylesheet, images and script (static/passkey.js, which calls our
    // own JSON endpoints: `connect-src 'self'`); the form_post page sets its own CSP with a
    // script nonce. No `form-action`: browsers apply it to the redirect to the client after login.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    ));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_and_an_answers_own_policy_and_caching_stay() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        apply(&mut h, false);
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert!(h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert!(!h.contains_key(header::STRICT_TRANSPORT_SECURITY));
        let mut h = HeaderMap::new();
        apply(&mut h, true);
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");
    }
}
