//! The running provider as the web layer sees it: the [`Core`] plus the SSO session store,
//! its background duties, and start-up.
//!
//! Owns: [`App`] (what a request handler may use) and the periodic duties of `serve`
//! (key reload and rotation, purges). Protocol code takes `&Core`; handlers pass `&app`,
//! which dereferences to it.

use std::{ops::Deref, time::Duration};

use crate::{
    audit::{self, Actor, Entry, Event},
    clock::Clock,
    config::Config,
    core::Core,
    store::sessions::SsoStore,
};

pub use crate::core::StartError;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub core: Core,
    pub sessions: SsoStore,
}

impl Deref for App {
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
        Ok(App { core, sessions })
    }

    /// Periodic duties: reload keys (rotations by other instances), rotate when due, purge
    /// expired rows and sessions.
    pub fn spawn_background(&self) {
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
                // Registry rows outlive their browser sessions by a day (for the account's
                // activity view), then go.
                let registry_horizon = now - app.config.session.idle_secs as i64 - 86_400;
                if let Err(e) = app.db.sso_sessions_purge(registry_horizon).await {
                    tracing::warn!(error = %e, "purging the session registry failed");
                }
                if let Err(e) = app.sessions.delete_expired().await {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
            }
        });
    }
}
