//! Serving: bind, plain HTTP or HTTPS through rustls, graceful shutdown (readiness first,
//! then the listener, then requests in flight), certificate reload on SIGHUP.

use std::{net::SocketAddr, time::Duration};

use tokio::net::TcpListener;

use crate::{app::App, web};

/// A running server (for tests and `serve`).
pub struct Running {
    pub addr: SocketAddr,
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.handle.await;
    }
}

/// Starts serving `app` on an already bound listener (plain HTTP).
pub fn spawn(app: App, listener: TcpListener) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = web::router(app);
    let handle = tokio::spawn(async move {
        // The peer address reaches handlers as `ConnectInfo` (registration rate limit).
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
    });
    Ok(Running {
        addr,
        handle,
        shutdown: tx,
    })
}

/// `pforte serve`: HTTPS when `tls.cert`/`tls.key` are set, else plain HTTP (loopback issuers
/// only: the configuration refuses plain http elsewhere). Runs until SIGINT/SIGTERM, then
/// shuts down gracefully: `/readyz` answers 503 at once (the load balancer takes the instance
/// out), requests are still served for `shutdown.drain_secs`, then the listener closes and
/// requests in flight get `shutdown.grace_secs` to finish. SIGHUP reloads the TLS certificate
/// and key from their files; connections already open keep theirs.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let addr = app.config.listen_addr().map_err(anyhow::Error::msg)?;
    app.spawn_background();
    let router = web::router(app.clone());
    let handle = axum_server::Handle::new();
    {
        let (app, handle) = (app.clone(), handle.clone());
        tokio::spawn(async move {
            shutdown_signal().await;
            app.draining.start();
            let drain = Duration::from_secs(app.config.shutdown.drain_secs);
            tracing::info!(
                drain_secs = drain.as_secs(),
                "shutting down: readiness answers 503, still serving"
            );
            tokio::time::sleep(drain).await;
            tracing::info!("shutting down: listener closed, finishing requests in flight");
            handle.graceful_shutdown(Some(Duration::from_secs(app.config.shutdown.grace_secs)));
        });
    }
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    match (&app.config.tls.cert, &app.config.tls.key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "keys `tls.cert`/`tls.key` ({}, {}): {e}",
                        cert.display(),
                        key.display()
                    )
                })?;
            spawn_certificate_reload(tls.clone(), cert.clone(), key.clone());
            tracing::info!(%addr, issuer = %app.config.issuer, "Pforte listening (https)");
            axum_server::bind_rustls(addr, tls)
                .handle(handle)
                .serve(service)
                .await
                .map_err(|e| anyhow::anyhow!("key `listen` ({addr}): {e}"))?;
        }
        _ => {
            ignore_sighup();
            tracing::info!(%addr, issuer = %app.config.issuer, "Pforte listening (http)");
            axum_server::bind(addr)
                .handle(handle)
                .serve(service)
                .await
                .map_err(|e| anyhow::anyhow!("key `listen` ({addr}): {e}"))?;
        }
    }
    tracing::info!("shut down");
    Ok(())
}

/// Plain HTTP: SIGHUP (a service manager's "reload") must not end the process; there is no
/// certificate to reload.
fn ignore_sighup() {
    #[cfg(unix)]
    tokio::spawn(async {
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: no TLS certificate configured, nothing to reload");
            }
        }
    });
}

/// On SIGHUP: reads the certificate chain and key again (new handshakes use them; open
/// connections keep theirs). A file that does not load leaves the current certificate in use.
fn spawn_certificate_reload(
    tls: axum_server::tls_rustls::RustlsConfig,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP: certificates are not reloaded");
            return;
        };
        while hup.recv().await.is_some() {
            match tls.reload_from_pem_file(&cert, &key).await {
                Ok(()) => tracing::info!(cert = %cert.display(), "TLS certificate reloaded"),
                Err(e) => tracing::error!(
                    error = %e,
                    cert = %cert.display(),
                    "reloading the TLS certificate failed; the previous one stays in use"
                ),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (tls, cert, key);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
