//! The running provider as the web layer sees it: the [`Core`] plus the SSO session store,
//! its background duties, and start-up.
//!
//! Owns: [`App`] (what a request handler may use) and the periodic duties of `serve`
//! (key reload and rotation, purges). Protocol code takes `&Core`; handlers pass `&app`,
//! which dereferences to it.

use std::{
    ops::Deref,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::{
    audit::{self, Actor, Entry, Event},
    clock::Clock,
    config::Config,
    core::Core,
    store::sessions::SsoStore,
};

pub use crate::core::StartError;

/// The lease under which one instance rotates keys and purges (store::backchannel::lease_acquire).
pub const DUTIES_LEASE: &str = "duties";

/// How often the back-channel worker looks for due deliveries.
pub const BACKCHANNEL_INTERVAL: Duration = Duration::from_secs(1);

/// Everything a request handler may need: one shared [`AppState`]. Cloning it (axum does, for
/// every extractor and layer of every request) is one reference count, not one per part.
#[derive(Clone)]
pub struct App(Arc<AppState>);

/// What [`App`] shares: the [`Core`], the SSO session store and the instance's own state.
pub struct AppState {
    pub core: Core,
    pub sessions: SsoStore,
    /// Set when the instance begins shutting down: `/readyz` answers 503 from then on.
    pub draining: Draining,
    /// This instance's name in leases and delivery claims (random per start).
    pub instance: String,
}

/// Whether this instance is shutting down (graceful shutdown, docs/operations.md).
#[derive(Clone, Debug, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl Deref for AppState {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl App {
    /// Connects, migrates and loads keys, on the system clock.
    pub async fn open(config: Config) -> Result<App, StartError> {
        App::open_with_clock(config, Clock::system()).await
    }

    /// As [`App::open`], with the given clock (a manual clock in tests).
    pub async fn open_with_clock(config: Config, clock: Clock) -> Result<App, StartError> {
        let core = Core::open(config, clock).await?;
        let sessions = SsoStore::open(&core.db).await?;
        Ok(App(Arc::new(AppState {
            core,
            sessions,
            draining: Draining::default(),
            instance: crate::secrets::random_token(12),
        })))
    }

    /// The back-channel logout worker: every [`BACKCHANNEL_INTERVAL`], claims and delivers
    /// due logout tokens; purges delivered ones after a week.
    fn spawn_backchannel_worker(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(BACKCHANNEL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = crate::backchannel::deliver_due(&app.core, &app.instance).await {
                    tracing::warn!(error = %e, "back-channel logout round failed");
                }
            }
        });
    }

    /// Periodic duties: reload keys (rotations by other instances), rotate when due, purge
    /// expired rows and sessions (rotation and purges under the lease [`DUTIES_LEASE`], so with
    /// several instances on one database one of them does it), and deliver back-channel
    /// logout tokens (rows claimed per instance, [`crate::backchannel`]).
    pub fn spawn_background(&self) {
        // Mail: deliver the outbox (on every instance; rows are claimed, never sent twice).
        self.outbox.spawn_worker();
        self.spawn_backchannel_worker();
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(app.config.keys.reload_secs));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = app.keys.reload().await {
                    tracing::error!(error = %e, "reloading signing keys failed");
                }
                let now = app.clock.now();
                // The lease outlives one tick, so its holder keeps it while it runs.
                let until = now + 3 * app.config.keys.reload_secs as i64;
                match app
                    .db
                    .lease_acquire(DUTIES_LEASE, &app.instance, now, until)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "taking the duties lease failed");
                        continue;
                    }
                }
                let ring = app.keys.snapshot().await;
                if ring
                    .oldest_current_activation
                    .is_some_and(|t| now - t >= app.config.keys.rotate_after_secs as i64)
                {
                    match app.keys.rotate(app.max_token_lifetime()).await {
                        Ok(kids) => {
                            tracing::info!(?kids, "signing keys rotated (scheduled)");
                            audit::record_or_log(
                                &app.db,
                                Entry::new(Event::KeysRotated, Actor::System).after(&kids),
                            )
                            .await;
                        }
                        Err(e) => tracing::error!(error = %e, "scheduled key rotation failed"),
                    }
                }
                if let Err(e) = app.db.purge_expired(now).await {
                    tracing::warn!(error = %e, "purging expired tokens failed");
                }
                if let Err(e) = app
                    .db
                    .purge_recovery(now, crate::web::recovery::RESET_MAIL_WINDOW)
                    .await
                {
                    tracing::warn!(error = %e, "purging expired recovery links failed");
                }
                if let Err(e) = app.db.outbox_purge_sent(now - 7 * 24 * 3600).await {
                    tracing::warn!(error = %e, "purging sent mails failed");
                }
                // Registry rows outlive their browser sessions by a day (for the account's
                // activity view), then go.
                let registry_horizon = now - app.config.session.idle_secs as i64 - 86_400;
                if let Err(e) = app.db.sso_sessions_purge(registry_horizon).await {
                    tracing::warn!(error = %e, "purging the session registry failed");
                }
                if let Err(e) = app.db.backchannel_purge(now - 7 * 86_400).await {
                    tracing::warn!(error = %e, "purging back-channel deliveries failed");
                }
                if let Err(e) = app.sessions.delete_expired().await {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
            }
        });
    }
}
