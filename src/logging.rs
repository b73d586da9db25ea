//! Logging: the subscriber (`logging.format` = `text` or `json`) and the request id of the
//! request being served.
//!
//! Owns: how log lines look and which request they belong to. Every request runs inside a
//! `request` span carrying its `request_id` (set up by `web::request_id`), so every line logged
//! while serving it names the request; in JSON each line is one object with the span's fields
//! under `span`. The id is also reachable as a task-local ([`request_id`]) so that error
//! references shown to a citizen or client (`web::error::PageError::internal`,
//! `oidc::error::OAuthError::internal`) are the same id the logs and the `X-Request-Id`
//! response header carry.
//!
//! What never enters a log line: passwords, tokens, codes, client secrets, keys. Requests are
//! logged by method, route path (never the query string, which carries codes and tokens) and
//! status; `tests/it/operations.rs` runs whole flows and searches the JSON log for every
//! secret used.

use serde::Deserialize;

/// The format of log lines on standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields.message`, `target`, `span`).
    Json,
}

/// The default filter when `PFORTE_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber (once, at the start of the binary). The filter comes from
/// `PFORTE_LOG` (`tracing_subscriber::EnvFilter` syntax), default [`DEFAULT_FILTER`].
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PFORTE_LOG")
        .unwrap_or_else(|_| DEFAULT_FILTER.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `fut` with `id` as the current request id (see [`request_id`]).
pub async fn with_request_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The id of the request being served by this task, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A reference for an internal error: the request id when serving a request, else a new
/// random one (background duties).
pub fn error_reference() -> String {
    request_id().unwrap_or_else(|| crate::secrets::random_token(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_reference_is_the_request_id_inside_a_request() {
        assert_eq!(request_id(), None);
        let inside = with_request_id("abc123".into(), async { error_reference() }).await;
        assert_eq!(inside, "abc123");
        assert_ne!(error_reference(), error_reference());
    }

    #[test]
    fn format_parses_lowercase() {
        #[derive(Deserialize)]
        struct T {
            f: LogFormat,
        }
        let t: T = toml::from_str("f = \"json\"").unwrap();
        assert_eq!(t.f, LogFormat::Json);
        assert!(toml::from_str::<T>("f = \"xml\"").is_err());
    }
}
