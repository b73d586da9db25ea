//! The HTTP client `openidconnect` calls upstreams with: Pforte's upstream `reqwest` client
//! (connect and total timeouts, redirects never followed) with the response body read in
//! chunks and refused past a size cap, so a hostile or broken upstream cannot make Pforte wait
//! or buffer without bound.

use std::{future::Future, pin::Pin};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Why a call to an upstream failed before an answer could be read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("the upstream did not answer in time")]
    Timeout,
    #[error("the upstream could not be reached: {0}")]
    Unreachable(String),
    #[error("the upstream's answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("bad request: {0}")]
    Request(String),
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Unreachable(e.to_string())
        }
    }
}

/// Pforte's upstream client with a response size cap.
pub struct Capped<'a> {
    pub http: &'a reqwest::Client,
    pub max_bytes: usize,
}

impl Capped<'_> {
    /// Sends `request` and reads at most `max_bytes` of the body.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let req: reqwest::Request = request
            .try_into()
            .map_err(|e: reqwest::Error| HttpError::Request(e.to_string()))?;
        let mut resp = self.http.execute(req).await?;
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(HttpError::TooLarge(self.max_bytes));
        }
        let mut builder = openidconnect::http::Response::builder().status(resp.status());
        for (name, value) in resp.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(HttpError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body)
            .map_err(|e| HttpError::Request(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for Capped<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
