//! Wunschkennzeichen: reserve a custom licence plate, then pay the fee.
//!
//! - `POST /reservations` `{"plate": "MH-PF 2024"}` — any valid citizen token (low).
//! - `GET /reservations/{id}` — the citizen who made the reservation.
//! - `POST /reservations/{id}/payment` — at least *substantial*; a weaker token gets the
//!   RFC 9470 step-up challenge.
//!
//! Environment: `PFORTE_ISSUER` (required, e.g. `http://127.0.0.1:8080`), `AUDIENCE`
//! (default `wunschkennzeichen`), `LISTEN` (default `127.0.0.1:8090`). State is in memory.
//! See guard/README.md for a walk-through against a running Pforte.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use pforte_guard::{AccessToken, Guard, Level, RequireLevel};
use serde::{Deserialize, Serialize};

/// The fee for a reserved plate, in cents (a typical municipal fee).
const FEE_CENTS: u32 = 1_280;

#[derive(Clone, Serialize)]
struct Reservation {
    id: u64,
    plate: String,
    /// The citizen (`sub`) who reserved it; never shown to anyone else.
    #[serde(skip)]
    owner: String,
    fee_cents: u32,
    paid: bool,
    /// The level of the token that paid, as the audit trail would record it.
    #[serde(skip_serializing_if = "Option::is_none")]
    paid_at_level: Option<String>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    reservations: HashMap<u64, Reservation>,
}

type Shared = Arc<Mutex<Registry>>;

#[derive(Deserialize)]
struct NewReservation {
    plate: String,
}

/// A rough check of the German plate format `XX-YY 1234` (1–3 letters for the district,
/// 1–2 letters, 1–4 digits, optional `E`/`H` suffix).
fn plausible_plate(plate: &str) -> bool {
    let Some((district, rest)) = plate.split_once('-') else {
        return false;
    };
    let Some((letters, digits)) = rest.split_once(' ') else {
        return false;
    };
    let digits = digits.trim_end_matches(['E', 'H']);
    let upper = |s: &str, max| {
        (1..=max).contains(&s.chars().count())
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || "ÄÖÜ".contains(c))
    };
    upper(district, 3)
        && upper(letters, 2)
        && (1..=4).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

async fn reserve(
    token: AccessToken,
    State(registry): State<Shared>,
    Json(body): Json<NewReservation>,
) -> Result<(StatusCode, Json<Reservation>), (StatusCode, &'static str)> {
    let plate = body.plate.trim().to_uppercase();
    if !plausible_plate(&plate) {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a valid plate, e.g. MH-PF 2024",
        ));
    }
    let mut registry = registry.lock().unwrap_or_else(PoisonError::into_inner);
    if registry.reservations.values().any(|r| r.plate == plate) {
        return Err((StatusCode::CONFLICT, "plate already reserved"));
    }
    registry.next_id += 1;
    let reservation = Reservation {
        id: registry.next_id,
        plate,
        owner: token.sub.clone(),
        fee_cents: FEE_CENTS,
        paid: false,
        paid_at_level: None,
    };
    registry
        .reservations
        .insert(reservation.id, reservation.clone());
    Ok((StatusCode::CREATED, Json(reservation)))
}

async fn show(
    token: AccessToken,
    State(registry): State<Shared>,
    Path(id): Path<u64>,
) -> Result<Json<Reservation>, StatusCode> {
    let registry = registry.lock().unwrap_or_else(PoisonError::into_inner);
    match registry.reservations.get(&id) {
        // Someone else's reservation is reported as absent, not as forbidden.
        Some(r) if r.owner == token.sub => Ok(Json(r.clone())),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

/// Only reached with a substantial (or high) token: `RequireLevel` answered everything else.
async fn pay(
    token: AccessToken,
    State(registry): State<Shared>,
    Path(id): Path<u64>,
) -> Result<Json<Reservation>, (StatusCode, &'static str)> {
    let mut registry = registry.lock().unwrap_or_else(PoisonError::into_inner);
    let reservation = match registry.reservations.get_mut(&id) {
        Some(r) if r.owner == token.sub => r,
        _ => return Err((StatusCode::NOT_FOUND, "no such reservation")),
    };
    if reservation.paid {
        return Err((StatusCode::CONFLICT, "already paid"));
    }
    reservation.paid = true;
    reservation.paid_at_level = token.level().map(|l| l.to_string());
    Ok(Json(reservation.clone()))
}

fn app(guard: Guard) -> Router {
    Router::new()
        // Any citizen login counts (low); a token without a recognised acr, such as a
        // client-credentials token, does not: reservations belong to citizens.
        .route(
            "/reservations",
            post(reserve).route_layer(RequireLevel::new(Level::Low)),
        )
        .route("/reservations/{id}", get(show))
        .route(
            "/reservations/{id}/payment",
            post(pay).route_layer(RequireLevel::new(Level::Substantial)),
        )
        .with_state(Shared::default())
        .layer(Extension(guard))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,pforte_guard=debug".into()),
        )
        .init();
    let issuer = std::env::var("PFORTE_ISSUER")
        .map_err(|_| "set PFORTE_ISSUER to Pforte's issuer URL, e.g. http://127.0.0.1:8080")?;
    let audience = std::env::var("AUDIENCE").unwrap_or_else(|_| "wunschkennzeichen".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".into());

    let guard = Guard::builder(issuer.as_str(), audience.as_str())
        .realm("wunschkennzeichen")
        .build()?;
    match guard.prefetch().await {
        Ok(n) => tracing::info!(keys = n, %issuer, "loaded Pforte's signing keys"),
        // Not fatal: the guard retries on the first request.
        Err(e) => tracing::warn!(error = %e, %issuer, "Pforte's keys are not reachable yet"),
    }

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!(%listen, %audience, "Wunschkennzeichen listening");
    axum::serve(listener, app(guard)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plausible_plate;

    #[test]
    fn plates() {
        for ok in ["MH-PF 2024", "M-A 1", "WES-AB 12E", "MÖ-X 99H"] {
            assert!(plausible_plate(ok), "{ok}");
        }
        for bad in [
            "",
            "MH PF 2024",
            "MH-PF2024",
            "MHXX-PF 1",
            "MH-PF 0123",
            "MH-PF 12345",
        ] {
            assert!(!plausible_plate(bad), "{bad}");
        }
    }
}
