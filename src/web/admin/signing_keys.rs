//! The signing keys page: list and rotate.

use super::*;

#[derive(Template)]
#[template(path = "admin/keys.html")]
pub(super) struct KeysPage {
    c: C,
    keys: Vec<(String, String, String)>,
}

pub(super) async fn keys_page(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewKeys).await {
        return r;
    }
    let keys = match app.db.keys_published(app.clock.now()).await {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    page(
        StatusCode::OK,
        KeysPage {
            c: staff.c("keys", staff.t.get("keys")),
            keys: keys.into_iter().map(|k| (k.kid, k.alg, k.state)).collect(),
        }
        .render(),
    )
}

pub(super) async fn keys_rotate(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let back = "/admin/keys";
    if let Err(r) = staff
        .require_change(&app, Action::RotateKeys, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    match app.keys.rotate(app.max_token_lifetime()).await {
        Ok(kids) => {
            if let Err(e) = audit::record(
                &app.db,
                Entry::new(Event::KeysRotated, staff.actor()).after(&kids),
            )
            .await
            {
                return internal(e);
            }
            done(back)
        }
        Err(e) => internal(e),
    }
}
