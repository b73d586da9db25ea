//! Serving: bind, plain HTTP or HTTPS through rustls, graceful shutdown.

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
/// only: the configuration refuses plain http elsewhere). Runs until SIGINT/SIGTERM.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let addr = app.config.listen_addr().map_err(anyhow::Error::msg)?;
    app.spawn_background();
    let router = web::router(app.clone());
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
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            tracing::info!(%addr, issuer = %app.config.issuer, "Pforte listening (https)");
            axum_server::bind_rustls(addr, tls)
                .handle(handle)
                .serve(router.into_make_service_with_connect_info::<SocketAddr>())
                .await?;
        }
        _ => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("key `listen` ({addr}): {e}"))?;
            tracing::info!(%addr, issuer = %app.config.issuer, "Pforte listening (http)");
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        }
    }
    Ok(())
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
