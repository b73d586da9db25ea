//! The pages every footer links (BITV 2.0): `GET /barrierefreiheit` (the accessibility
//! statement with the feedback contact from `site.accessibility_contact`) and
//! `GET /leichte-sprache` (Pforte explained in Leichte Sprache; in English, plain language).
//! `?ui_locales=` chooses the language, as on the other pages.

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::Html,
};
use serde::Deserialize;

use super::{authorize::lang, pages};
use crate::app::App;

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub ui_locales: Option<String>,
}

/// `GET /barrierefreiheit`.
pub async fn accessibility(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Html<String> {
    let lang = lang(&headers, q.ui_locales.as_deref());
    Html(pages::AccessibilityPage { lang }.render(&app.config.site))
}

/// `GET /leichte-sprache`.
pub async fn easy_language(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Html<String> {
    let lang = lang(&headers, q.ui_locales.as_deref());
    Html(pages::EasyLanguagePage { lang }.render(&app.config.site))
}
