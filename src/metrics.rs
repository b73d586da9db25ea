//! Prometheus metrics: the registry, every metric family Pforte exports, and the small typed
//! functions the rest of the code calls to record (`login`, `token_issued`, `http_request`,
//! `backchannel`, …). Rendering for `GET /metrics` in the Prometheus text format 0.0.4, or
//! OpenMetrics when the scraper asks for it.
//!
//! The registry is a value held in [`crate::core::Core`] (`prometheus-client` has no global recorder),
//! so two instances in one process (the tests) count separately. Label values are closed enums
//! or route templates, never raw input, so the number of series stays bounded. Names, labels and
//! what each family means are listed in docs/operations.md ("Metrics").

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::assurance::{level::Method, Level};

/// Latency buckets in seconds: from a JWKS answer (sub-millisecond) to a password login that
/// waited for argon2 (seconds).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How a citizen logged in (or tried to).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum LoginMethod {
    Password,
    Totp,
    RecoveryCode,
    Passkey,
    Eid,
    Upstream,
}

impl From<Method> for LoginMethod {
    fn from(m: Method) -> LoginMethod {
        match m {
            Method::Password => LoginMethod::Password,
            Method::Totp => LoginMethod::Totp,
            Method::RecoveryCode => LoginMethod::RecoveryCode,
            Method::Passkey => LoginMethod::Passkey,
            Method::EidPin => LoginMethod::Eid,
            Method::Upstream => LoginMethod::Upstream,
        }
    }
}

impl LoginMethod {
    pub const ALL: [LoginMethod; 6] = [
        LoginMethod::Password,
        LoginMethod::Totp,
        LoginMethod::RecoveryCode,
        LoginMethod::Passkey,
        LoginMethod::Eid,
        LoginMethod::Upstream,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Password => "password",
            LoginMethod::Totp => "totp",
            LoginMethod::RecoveryCode => "recovery_code",
            LoginMethod::Passkey => "passkey",
            LoginMethod::Eid => "eid",
            LoginMethod::Upstream => "upstream",
        }
    }
}

/// The result of a login attempt.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Credentials accepted.
    Success,
    /// Wrong password, code or assertion.
    Failure,
    /// Refused before checking: too many tries, a disabled account.
    Blocked,
    /// The password-hash queue was full (answered "try again shortly").
    Busy,
}

impl LoginOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginOutcome::Success => "success",
            LoginOutcome::Failure => "failure",
            LoginOutcome::Blocked => "blocked",
            LoginOutcome::Busy => "busy",
        }
    }
}

/// The `level` label of a login: the level reached, or `none` (a failure reaches none).
fn level_label(level: Option<Level>) -> &'static str {
    level.map_or("none", Level::as_str)
}

/// The grant a token response was issued for (RFC 6749 `grant_type`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl Grant {
    pub const ALL: [Grant; 3] = [
        Grant::AuthorizationCode,
        Grant::RefreshToken,
        Grant::ClientCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }

    /// The grant named by a `grant_type` value, if Pforte supports it.
    pub fn parse(grant_type: &str) -> Option<Grant> {
        Grant::ALL.into_iter().find(|g| g.as_str() == grant_type)
    }
}

/// What happened to one back-channel logout token delivery attempt.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum BackchannelOutcome {
    /// The relying party answered 200 or 204.
    Delivered,
    /// It failed and will be retried later.
    Retry,
    /// It failed for the last time; the delivery was given up.
    Abandoned,
}

impl BackchannelOutcome {
    pub const ALL: [BackchannelOutcome; 3] = [
        BackchannelOutcome::Delivered,
        BackchannelOutcome::Retry,
        BackchannelOutcome::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BackchannelOutcome::Delivered => "delivered",
            BackchannelOutcome::Retry => "retry",
            BackchannelOutcome::Abandoned => "abandoned",
        }
    }
}

/// An error's kind for `pforte_http_errors_total`: the OAuth error code when a handler sets
/// one (as a response extension), otherwise derived from the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorKind(pub &'static str);

impl ErrorKind {
    /// The kind of an error response that did not name one.
    pub fn of_status(status: u16) -> ErrorKind {
        const NAMED: [(u16, &str); 14] = [
            (400, "bad_request"),
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "not_found"),
            (405, "method_not_allowed"),
            (409, "conflict"),
            (413, "payload_too_large"),
            (415, "unsupported_media_type"),
            (422, "unprocessable"),
            (429, "too_many_requests"),
            (500, "internal"),
            (502, "bad_gateway"),
            (503, "unavailable"),
            (504, "timeout"),
        ];
        let other = if status < 500 {
            "client_other"
        } else {
            "server_other"
        };
        ErrorKind(
            NAMED
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(other, |(_, k)| k),
        )
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    method: &'static str,
    level: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    endpoint: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The argon2 pool's instruments, handed to [`crate::accounts::Hasher`]. The default is
/// unregistered (records into nothing): a hasher built outside an `App` needs no registry.
#[derive(Clone, Debug)]
pub struct Argon2Metrics {
    queue_depth: Gauge,
    wait: Histogram,
}

impl Default for Argon2Metrics {
    fn default() -> Self {
        Argon2Metrics {
            queue_depth: Gauge::default(),
            wait: latency_histogram(),
        }
    }
}

impl Argon2Metrics {
    /// A password check started waiting for a slot.
    pub fn enqueued(&self) {
        self.queue_depth.inc();
    }

    /// A check that waited since `since` got its slot (or gave up waiting).
    pub fn dequeued(&self, since: Instant) {
        self.queue_depth.dec();
        self.wait.observe(since.elapsed().as_secs_f64());
    }
}

/// The mail outbox's instruments, handed to [`crate::mail::outbox::Outbox`]; the default is
/// unregistered.
#[derive(Clone, Debug, Default)]
pub struct MailMetrics {
    deliveries: Family<OutcomeLabels, Counter>,
    pending: Gauge,
    failed: Gauge,
}

impl MailMetrics {
    /// One delivery attempt: `sent`, `retry` (failed, will be tried again) or `failed` (given up).
    pub fn delivery(&self, outcome: &'static str) {
        self.deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Mails waiting and mails given up, as last counted by the worker.
    pub fn outbox(&self, pending: i64, failed: i64) {
        self.pending.set(pending);
        self.failed.set(failed);
    }
}

/// How the database pool is used at scrape time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
}

impl PoolUse {
    /// The pool's state now.
    pub fn of(pool: &sqlx::AnyPool) -> PoolUse {
        let size = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
        PoolUse {
            idle,
            in_use: size - idle,
            max: pool.options().get_max_connections(),
        }
    }
}

/// The registry and every family. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    logins: Family<LoginLabels, Counter>,
    tokens: Family<GrantLabels, Counter>,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily<EndpointLabels>,
    http_errors: Family<ErrorLabels, Counter>,
    argon2: Argon2Metrics,
    db_pool: Family<PoolLabels, Gauge>,
    backchannel: Family<OutcomeLabels, Counter>,
    backchannel_queue: Gauge,
    mail: MailMetrics,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The text formats `/metrics` can answer in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (the default).
    Prometheus,
    /// OpenMetrics 1.0 text, when the scraper's `Accept` asks for it.
    OpenMetrics,
}

impl Format {
    /// Chooses by the `Accept` header: OpenMetrics only when asked for.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

impl Metrics {
    /// A registry with every family registered (names as in docs/operations.md).
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        // Counters are registered without `_total`: the encoder appends it.
        let logins = Family::<LoginLabels, Counter>::default();
        registry.register(
            "pforte_logins",
            "Login attempts by method, level reached and outcome",
            logins.clone(),
        );
        let tokens = Family::<GrantLabels, Counter>::default();
        registry.register(
            "pforte_tokens_issued",
            "Token responses issued by the token endpoint, by grant",
            tokens.clone(),
        );
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "pforte_http_requests",
            "HTTP requests by route template and status class",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<EndpointLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "pforte_http_request_duration_seconds",
            "HTTP request latency by route template",
            http_duration.clone(),
        );
        let http_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "pforte_http_errors",
            "HTTP responses with status 400 or above, by route template and error kind",
            http_errors.clone(),
        );
        let argon2 = Argon2Metrics::default();
        registry.register(
            "pforte_argon2_queue_depth",
            "Password hashes waiting for an argon2 slot",
            argon2.queue_depth.clone(),
        );
        registry.register(
            "pforte_argon2_wait_seconds",
            "Time a password hash waited for an argon2 slot",
            argon2.wait.clone(),
        );
        let db_pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "pforte_db_pool_connections",
            "Main database pool connections: idle, in_use, and the configured max",
            db_pool.clone(),
        );
        let backchannel = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "pforte_backchannel_deliveries",
            "Back-channel logout token delivery attempts by outcome",
            backchannel.clone(),
        );
        let backchannel_queue = Gauge::default();
        registry.register(
            "pforte_backchannel_queue_depth",
            "Back-channel logout deliveries waiting in the database queue",
            backchannel_queue.clone(),
        );
        let mail = MailMetrics::default();
        registry.register(
            "pforte_mail_deliveries",
            "Mail delivery attempts from the outbox by outcome (sent, retry, failed)",
            mail.deliveries.clone(),
        );
        registry.register(
            "pforte_mail_outbox_pending",
            "Mails in the database outbox waiting for delivery",
            mail.pending.clone(),
        );
        registry.register(
            "pforte_mail_outbox_failed",
            "Mails in the database outbox given up after permanent errors or too many attempts",
            mail.failed.clone(),
        );
        for outcome in ["sent", "retry", "failed"] {
            mail.deliveries
                .get_or_create_owned(&OutcomeLabels { outcome });
        }
        // Series that alert rules divide by exist from the start (at 0), so a ratio is
        // defined before the first event.
        for method in LoginMethod::ALL {
            logins.get_or_create_owned(&LoginLabels {
                method: method.as_str(),
                level: level_label(None),
                outcome: LoginOutcome::Failure.as_str(),
            });
        }
        for grant in Grant::ALL {
            tokens.get_or_create_owned(&GrantLabels {
                grant: grant.as_str(),
            });
        }
        for outcome in BackchannelOutcome::ALL {
            backchannel.get_or_create_owned(&OutcomeLabels {
                outcome: outcome.as_str(),
            });
        }
        Metrics {
            inner: Arc::new(Inner {
                registry,
                logins,
                tokens,
                http_requests,
                http_duration,
                http_errors,
                argon2,
                db_pool,
                backchannel,
                backchannel_queue,
                mail,
            }),
        }
    }

    /// A login attempt: `level` is what it reached (`None` for anything but success).
    pub fn login(&self, method: LoginMethod, level: Option<Level>, outcome: LoginOutcome) {
        self.inner
            .logins
            .get_or_create(&LoginLabels {
                method: method.as_str(),
                level: level_label(level),
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// A successful token response.
    pub fn token_issued(&self, grant: Grant) {
        self.inner
            .tokens
            .get_or_create(&GrantLabels {
                grant: grant.as_str(),
            })
            .inc();
    }

    /// One HTTP request: `endpoint` is the matched route template (or `unmatched`), never the
    /// raw path; `error` names the kind of an error response (status ≥ 400).
    pub fn http_request(
        &self,
        endpoint: &str,
        status: u16,
        error: Option<ErrorKind>,
        took: Duration,
    ) {
        let i = &self.inner;
        i.http_requests
            .get_or_create(&RequestLabels {
                endpoint: endpoint.to_owned(),
                status_class: status_class(status),
            })
            .inc();
        i.http_duration
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_owned(),
            })
            .observe(took.as_secs_f64());
        if status >= 400 {
            let kind = error.unwrap_or_else(|| ErrorKind::of_status(status)).0;
            i.http_errors
                .get_or_create(&ErrorLabels {
                    endpoint: endpoint.to_owned(),
                    kind,
                })
                .inc();
        }
    }

    /// The instruments for [`crate::accounts::Hasher`].
    pub fn argon2(&self) -> Argon2Metrics {
        self.inner.argon2.clone()
    }

    /// The instruments for the mail outbox.
    pub fn mail(&self) -> MailMetrics {
        self.inner.mail.clone()
    }

    /// One back-channel logout delivery attempt.
    pub fn backchannel(&self, outcome: BackchannelOutcome) {
        self.inner
            .backchannel
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// How many back-channel deliveries wait in the queue (set by whoever reads the queue).
    pub fn backchannel_queue_depth(&self, depth: i64) {
        self.inner.backchannel_queue.set(depth);
    }

    /// The exposition in `format`, with the pool gauges set to `pool` first (they are sampled
    /// at scrape time, not on every connection change).
    pub fn render(&self, pool: PoolUse, format: Format) -> String {
        let i = &self.inner;
        for (state, v) in [
            ("idle", pool.idle),
            ("in_use", pool.in_use),
            ("max", pool.max),
        ] {
            i.db_pool.get_or_create(&PoolLabels { state }).set(v as i64);
        }
        let mut out = String::new();
        let written = match format {
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &i.registry)
            }
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &i.registry),
        };
        // Writing into a String only fails if a metric's own encoding fails, which the
        // library's types do not; keep what was written rather than answering nothing.
        if let Err(e) = written {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> PoolUse {
        PoolUse {
            idle: 3,
            in_use: 1,
            max: 16,
        }
    }

    #[test]
    fn families_and_labels_render() {
        let m = Metrics::new();
        m.login(
            LoginMethod::Password,
            Some(Level::Low),
            LoginOutcome::Success,
        );
        m.login(LoginMethod::Totp, None, LoginOutcome::Failure);
        m.token_issued(Grant::ClientCredentials);
        m.http_request("/token", 200, None, Duration::from_millis(3));
        m.http_request(
            "/token",
            400,
            Some(ErrorKind("invalid_grant")),
            Duration::from_millis(1),
        );
        m.http_request("unmatched", 404, None, Duration::from_millis(1));
        let text = m.render(pool(), Format::Prometheus);
        for line in [
            "pforte_logins_total{method=\"password\",level=\"low\",outcome=\"success\"} 1",
            "pforte_logins_total{method=\"totp\",level=\"none\",outcome=\"failure\"} 1",
            "pforte_tokens_issued_total{grant=\"client_credentials\"} 1",
            "pforte_tokens_issued_total{grant=\"refresh_token\"} 0",
            "pforte_http_requests_total{endpoint=\"/token\",status_class=\"2xx\"} 1",
            "pforte_http_requests_total{endpoint=\"/token\",status_class=\"4xx\"} 1",
            "pforte_http_errors_total{endpoint=\"/token\",kind=\"invalid_grant\"} 1",
            "pforte_http_errors_total{endpoint=\"unmatched\",kind=\"not_found\"} 1",
            "pforte_http_request_duration_seconds_count{endpoint=\"/token\"} 2",
            "pforte_db_pool_connections{state=\"in_use\"} 1",
            "pforte_db_pool_connections{state=\"max\"} 16",
            "pforte_backchannel_deliveries_total{outcome=\"delivered\"} 0",
            "pforte_argon2_queue_depth 0",
            "pforte_backchannel_queue_depth 0",
            "pforte_logins_total{method=\"passkey\",level=\"none\",outcome=\"failure\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        assert!(text.contains("# TYPE pforte_argon2_wait_seconds histogram"));
    }

    #[test]
    fn argon2_queue_moves_the_gauge() {
        let m = Metrics::new();
        let a = m.argon2();
        a.enqueued();
        a.enqueued();
        let text = m.render(pool(), Format::Prometheus);
        assert!(text.lines().any(|l| l == "pforte_argon2_queue_depth 2"));
        a.dequeued(Instant::now());
        let text = m.render(pool(), Format::Prometheus);
        assert!(text.lines().any(|l| l == "pforte_argon2_queue_depth 1"));
        assert!(text
            .lines()
            .any(|l| l == "pforte_argon2_wait_seconds_count 1"));
    }

    #[test]
    fn openmetrics_on_request_only() {
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(
            Format::from_accept(Some("text/plain;version=0.0.4")),
            Format::Prometheus
        );
        let f = Format::from_accept(Some(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        ));
        assert_eq!(f, Format::OpenMetrics);
        assert!(Metrics::new()
            .render(pool(), f)
            .trim_end()
            .ends_with("# EOF"));
    }

    #[test]
    fn error_kinds_are_bounded() {
        assert_eq!(ErrorKind::of_status(418).0, "client_other");
        assert_eq!(ErrorKind::of_status(599).0, "server_other");
        assert_eq!(ErrorKind::of_status(503).0, "unavailable");
        assert_eq!(Grant::parse("password"), None);
        assert_eq!(Grant::parse("refresh_token"), Some(Grant::RefreshToken));
    }
}
