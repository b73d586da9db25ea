//! The login in a real browser: Debian's Chromium, headless, driven over WebDriver
//! (`chromedriver`, started here as a child process), against a real Pforte on SQLite.
//!
//! With JavaScript switched off (a Chrome content-setting policy), a citizen opens an
//! authorization request (PKCE) of a third-party service, sees the German login page (every
//! input labelled, `lang="de"`, a sensible focus order), gets the error summary and
//! `aria-invalid` for a wrong password, logs in, allows the consent, and the browser lands on
//! the service's redirect URI with `code`, `state` and `iss`; the code is then exchanged at
//! the token endpoint. `ui_locales=en` gives the English pages in the same browser, and an
//! unknown client gets the readable error page (no redirect).
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them); `PFORTE_TEST_CHROMEDRIVER`
//! and `PFORTE_TEST_CHROME` override the binaries.
//!
//! `screenshots` (alone: `cargo test --test it browser::screenshots`) walks every
//! citizen page with JavaScript on, in German and English at 1280 px and 390 px, and saves
//! full-page PNGs into `PFORTE_SHOTS` (default `/tmp/shots`) for a person to look at.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use pforte::{admin::NewClient, web::i18n::Lang};
use reqwest::StatusCode;
use serde_json::json;

// --- chromedriver and Chromium ------------------------------------------------------------

/// A `chromedriver` child process in its own process group; on drop the whole group (the
/// driver and the browsers it started) is killed, so a failing test leaves nothing running.
pub(crate) struct ChromeDriver {
    child: Child,
    url: String,
    dir: tempdir::Dir,
}

fn find_binary(env: &str, candidates: &[&str]) -> Option<String> {
    if let Ok(p) = std::env::var(env) {
        return Some(p);
    }
    candidates
        .iter()
        .find(|c| std::path::Path::new(c).exists())
        .map(|c| c.to_string())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ChromeDriver {
    pub(crate) async fn start() -> ChromeDriver {
        use std::os::unix::process::CommandExt;
        let bin = find_binary(
            "PFORTE_TEST_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        )
        .expect(
            "chromedriver not found: install Debian's chromium and chromium-driver \
             (apt-get install -y chromium chromium-driver, as .ci/run does) \
             or set PFORTE_TEST_CHROMEDRIVER",
        );
        let dir = tempdir::Dir::new(&format!(
            "pforte-browser-{}-{}",
            std::process::id(),
            pforte::secrets::random_token(4).replace(['-', '_'], "x")
        ));
        let port = free_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.path.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    /// A new headless Chromium with a fresh profile. `accept_language` is what the browser
    /// sends as Accept-Language; `javascript: false` blocks scripts on every page.
    pub(crate) async fn browser(
        &self,
        accept_language: &str,
        javascript: bool,
        width: u32,
    ) -> Client {
        let chrome = find_binary(
            "PFORTE_TEST_CHROME",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        )
        .expect("chromium not found (apt-get install -y chromium chromium-driver)");
        let profile = self
            .dir
            .path
            .join(format!("profile-{}", pforte::secrets::random_token(6)));
        let primary = accept_language.split(',').next().unwrap_or("de");
        let mut prefs = json!({ "intl.accept_languages": accept_language });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--hide-scrollbars",
                    format!("--window-size={width},900"),
                    format!("--lang={primary}"),
                    format!("--accept-lang={accept_language}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": prefs,
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        // Both rustls crypto providers are in the tree (sqlx brings ring): pick one, as
        // the server does.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        ClientBuilder::rustls()
            .expect("rustls for the WebDriver client")
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(self.dir.path.join("chromedriver.log"))
                    .unwrap_or_default();
                let tail: String = log
                    .lines()
                    .rev()
                    .take(30)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                panic!("new Chromium session: {e}\nchromedriver log:\n{tail}")
            })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group id is the driver's pid (process_group(0)); Chromium inherits it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- page helpers ---------------------------------------------------------------------------

pub(crate) async fn url(c: &Client) -> url::Url {
    c.current_url().await.expect("current URL")
}

pub(crate) async fn path(c: &Client) -> String {
    url(c).await.path().to_string()
}

pub(crate) async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
        .trim()
        .to_string()
}

async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .unwrap()
}

pub(crate) async fn page_lang(c: &Client) -> String {
    attr(c, "html", "lang").await.unwrap_or_default()
}

/// Types `value` into the field, replacing what it had, and checks that it arrived.
pub(crate) async fn fill(c: &Client, css: &str, value: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    for _ in 0..3 {
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
        if e.prop("value").await.unwrap().as_deref() == Some(value) {
            return;
        }
    }
    panic!("could not type into {css}");
}

/// Clicks what submits a form or follows a link, and waits until the next page replaced this
/// one (the old document's root goes stale); WebDriver does not always wait for a navigation
/// that a click starts.
pub(crate) async fn click(c: &Client, css: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(15);
    while old.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "no new page after clicking {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every visible input has an id and exactly one visible, non-empty `label[for=id]`.
pub(crate) async fn assert_inputs_labelled(c: &Client) {
    let inputs = c
        .find_all(Locator::Css("input:not([type=hidden])"))
        .await
        .unwrap();
    assert!(!inputs.is_empty(), "no inputs on {}", url(c).await);
    for input in inputs {
        let id = input.attr("id").await.unwrap().unwrap_or_default();
        let name = input.attr("name").await.unwrap().unwrap_or_default();
        assert!(
            !id.is_empty(),
            "input {name} without id on {}",
            url(c).await
        );
        let labels = c
            .find_all(Locator::Css(&format!("label[for=\"{id}\"]")))
            .await
            .unwrap();
        assert_eq!(labels.len(), 1, "label[for={id}] on {}", url(c).await);
        assert!(labels[0].is_displayed().await.unwrap(), "label of {id}");
        assert!(!labels[0].text().await.unwrap().trim().is_empty());
    }
}

/// What has focus, as `tag#id` or `tag.class` or `tag[href]`.
async fn focused(c: &Client) -> String {
    let e = c.active_element().await.unwrap();
    let tag = e.tag_name().await.unwrap().to_lowercase();
    if let Some(id) = e.attr("id").await.unwrap().filter(|s| !s.is_empty()) {
        return format!("{tag}#{id}");
    }
    if let Some(href) = e.attr("href").await.unwrap() {
        return format!("{tag}[{href}]");
    }
    let class = e.attr("class").await.unwrap().unwrap_or_default();
    format!("{tag}.{}", class.replace(' ', "."))
}

/// The order the Tab key walks through the page, from the top.
async fn tab_order(c: &Client, n: usize) -> Vec<String> {
    const TAB: &str = "\u{E004}";
    let mut out = Vec::new();
    for _ in 0..n {
        c.active_element()
            .await
            .unwrap()
            .send_keys(TAB)
            .await
            .unwrap();
        out.push(focused(c).await);
    }
    out
}

/// A third-party service (consent asked), secret `{id}-secret-123`, redirect [`redirect`].
async fn third_party(server: &TestServer, id: &str, name: &str) {
    server
        .add_client(NewClient {
            id: id.into(),
            name: Some(name.into()),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            grant_types: vec!["authorization_code".into()],
            scopes: ["openid", "profile", "email"].map(String::from).to_vec(),
            first_party: false,
            ..Default::default()
        })
        .await;
}

pub(crate) fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// --- the test -------------------------------------------------------------------------------

#[tokio::test]
async fn login_without_javascript_in_chromium() {
    let started = Instant::now();
    let server = TestServer::start(Backend::Sqlite).await;
    third_party(&server, "rp", "Hundesteuer Musterstadt").await;
    let erika = "erika@example.de";
    server.citizen(erika, PASSWORD).await;
    let max = "max@example.de";
    server.citizen(max, PASSWORD).await;
    let de = Lang::De.texts();
    let en = Lang::En.texts();

    let driver = ChromeDriver::start().await;
    let c = driver.browser("de-DE,de", false, 1280).await;

    // --- JavaScript is really off: a page's script does not run.
    c.goto("data:text/html,<title>off</title><script>document.title='on'</script>")
        .await
        .unwrap();
    assert_eq!(
        c.title().await.unwrap(),
        "off",
        "JavaScript must be disabled"
    );

    // --- The German login page for a third-party service.
    let (auth_url, verifier) = authorize_url(&server, "rp", &[]);
    c.goto(&auth_url).await.unwrap();
    assert_eq!(path(&c).await, "/login", "{}", url(&c).await);
    assert_eq!(page_lang(&c).await, "de");
    assert_eq!(text(&c, "h1").await, de.login_title);
    assert!(
        text(&c, ".lead").await.contains("Hundesteuer Musterstadt"),
        "the service is named"
    );
    assert!(c.title().await.unwrap().starts_with(de.login_title));
    assert_inputs_labelled(&c).await;
    assert_eq!(
        attr(&c, "#email", "autocomplete").await.as_deref(),
        Some("username")
    );
    assert_eq!(
        attr(&c, "#password", "autocomplete").await.as_deref(),
        Some("current-password")
    );
    assert_eq!(text(&c, ".lang-switch a").await, "English");
    // The stylesheet and the icon the page links are there.
    for link in c.find_all(Locator::Css("link[href]")).await.unwrap() {
        let href = link.attr("href").await.unwrap().unwrap();
        let r = reqwest::get(server.url(&href)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{href}");
    }
    assert!(c
        .find_all(Locator::Css(".error-summary"))
        .await
        .unwrap()
        .is_empty());
    // Focus order: skip link, language switch, e-mail, password, the button, then the links to
    // "Passwort vergessen?" and to the registration.
    let req = param(&url(&c).await, "req").expect("req");
    let order = tab_order(&c, 7).await;
    assert_eq!(
        order[..5],
        [
            "a[#main]".to_string(),
            format!("a[/login?req={req}&ui_locales=en]"),
            "input#email".into(),
            "input#password".into(),
            "button.button".into(),
        ]
    );
    assert!(order[5].starts_with("a[/password/forgot"), "{order:?}");
    assert!(order[6].starts_with("a[/register"), "{order:?}");

    // --- A wrong password: the error summary (focused), both fields invalid, German texts.
    fill(&c, "#email", erika).await;
    fill(&c, "#password", "not the password").await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/login");
    assert_eq!(page_lang(&c).await, "de");
    let summary = text(&c, ".error-summary").await;
    assert!(summary.contains(de.error_summary_title), "{summary}");
    assert!(summary.contains(de.login_failed), "{summary}");
    assert_eq!(
        attr(&c, ".error-summary", "role").await.as_deref(),
        Some("alert")
    );
    assert_eq!(focused(&c).await, "div.error-summary", "summary has focus");
    for f in ["#email", "#password"] {
        assert_eq!(
            attr(&c, f, "aria-invalid").await.as_deref(),
            Some("true"),
            "{f}"
        );
        assert_eq!(
            attr(&c, f, "aria-describedby").await.as_deref(),
            Some("credentials-error")
        );
    }
    assert!(text(&c, "#credentials-error")
        .await
        .contains(de.login_failed));
    assert!(c.title().await.unwrap().starts_with(de.error_prefix));
    // The summary's link leads to the e-mail field, which keeps what was typed.
    assert_eq!(
        attr(&c, ".error-summary a", "href").await.as_deref(),
        Some("#email")
    );
    assert_eq!(
        c.find(Locator::Css("#email"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(erika)
    );
    assert_inputs_labelled(&c).await;

    // --- The right password: the consent page, in German, naming the service and the data.
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/consent", "{}", url(&c).await);
    assert_eq!(page_lang(&c).await, "de");
    assert_eq!(text(&c, "h1").await, de.consent_title);
    assert!(text(&c, ".lead").await.contains("Hundesteuer Musterstadt"));
    let scopes = c.find_all(Locator::Css(".scope-list__item")).await.unwrap();
    assert_eq!(scopes.len(), 3, "openid, profile, email");
    assert_eq!(
        text(&c, "button[value=allow]").await,
        de.consent_allow,
        "allow button"
    );

    // --- Allow: the browser goes to the service's redirect URI (nothing listens there).
    click(&c, "button[value=allow]").await;
    let cb = url(&c).await;
    assert_eq!(
        format!("{}://{}{}", cb.scheme(), cb.authority(), cb.path()),
        redirect("rp"),
        "{cb}"
    );
    assert_eq!(param(&cb, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&cb, "iss").as_deref(), Some(server.issuer.as_str()));
    assert!(param(&cb, "error").is_none(), "{cb}");
    let code = param(&cb, "code").expect("code");

    // --- The code is valid: the token endpoint gives an ID token for Erika.
    let (status, body) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["id_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(body["access_token"].as_str().is_some());
    // Once only.
    let (status, _) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // --- ui_locales=en: the same browser (Accept-Language German) gets English pages.
    // (A new session: cookies are deleted for the page's host, so go back to Pforte first.)
    c.goto(&server.url("/healthz")).await.unwrap();
    c.delete_all_cookies().await.unwrap();
    let (auth_url, verifier) = authorize_url(&server, "rp", &[("ui_locales", "en")]);
    c.goto(&auth_url).await.unwrap();
    assert_eq!(path(&c).await, "/login");
    assert_eq!(page_lang(&c).await, "en");
    assert_eq!(text(&c, "h1").await, en.login_title);
    assert_eq!(text(&c, "label[for=email]").await, en.email_label);
    assert_eq!(text(&c, ".lang-switch a").await, "Deutsch");
    assert_eq!(
        attr(&c, ".lang-switch a", "lang").await.as_deref(),
        Some("de")
    );
    assert_inputs_labelled(&c).await;
    fill(&c, "#email", max).await;
    fill(&c, "#password", "wrong").await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(page_lang(&c).await, "en");
    assert!(text(&c, ".error-summary").await.contains(en.login_failed));
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/consent");
    assert_eq!(page_lang(&c).await, "en");
    assert_eq!(text(&c, "h1").await, en.consent_title);
    assert_eq!(text(&c, "button[value=allow]").await, en.consent_allow);
    click(&c, "button[value=allow]").await;
    let cb = url(&c).await;
    let code = param(&cb, "code").unwrap_or_else(|| panic!("no code: {cb}"));
    assert_eq!(param(&cb, "iss").as_deref(), Some(server.issuer.as_str()));
    let (status, body) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // --- An unknown client: the readable error page on Pforte, never a redirect.
    let bad = format!(
        "{}?client_id=nobody&redirect_uri={}&response_type=code&scope=openid&state=s",
        server.url("/authorize"),
        "http%3A%2F%2F127.0.0.1%3A9999%2Fnobody%2Fcb"
    );
    c.goto(&bad).await.unwrap();
    let here = url(&c).await;
    assert_eq!(
        here.origin(),
        url::Url::parse(&server.issuer).unwrap().origin()
    );
    assert_eq!(here.path(), "/authorize");
    assert_eq!(page_lang(&c).await, "de");
    assert!(!text(&c, "h1").await.is_empty());
    assert_eq!(text(&c, ".support code").await, "invalid_request");
    assert!(text(&c, "main").await.contains(de.error_what_now));

    c.close().await.unwrap();
    drop(driver);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

// --- screenshots for a person to look at ----------------------------------------------------

const ESSENTIAL_SUBSTANTIAL: &str = r#"{"id_token":{"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/substantial"]}}}"#;

/// The server's current TOTP time step.
fn time_step(server: &TestServer) -> u64 {
    server.app.clock.now() as u64 / 30
}

/// A Chrome DevTools command through chromedriver's `goog/cdp/execute` endpoint.
async fn cdp(
    c: &Client,
    driver: &ChromeDriver,
    cmd: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let session = c.session_id().await.unwrap().expect("session id");
    let r = reqwest::Client::new()
        .post(format!("{}/session/{session}/goog/cdp/execute", driver.url))
        .json(&json!({ "cmd": cmd, "params": params }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    body["value"].clone()
}

/// Saves full-page screenshots of the current page at each width into `dir` (a 390 px one as
/// a phone: touch, mobile viewport). The headless window is only as tall as its virtual screen,
/// so the viewport is set through DevTools to the page's whole height.
pub(crate) async fn shoot(
    c: &Client,
    driver: &ChromeDriver,
    dir: &std::path::Path,
    lang: &str,
    name: &str,
) {
    use base64::Engine;
    for width in [1280u32, 390] {
        let mobile = width < 600;
        let mut height = 800u64;
        for _ in 0..3 {
            cdp(
                c,
                driver,
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
            )
            .await;
            let m = cdp(c, driver, "Page.getLayoutMetrics", json!({})).await;
            let h = m["cssContentSize"]["height"]
                .as_f64()
                .unwrap_or(800.0)
                .ceil() as u64;
            if h == height {
                break;
            }
            height = h.clamp(400, 8000);
        }
        let m = cdp(c, driver, "Page.getLayoutMetrics", json!({})).await;
        let content_width = m["cssContentSize"]["width"].as_f64().unwrap_or(0.0);
        assert!(
            content_width <= width as f64,
            "{lang} {name}: the page is {content_width} px wide at {width} px (horizontal scrolling)"
        );
        let shot = cdp(
            c,
            driver,
            "Page.captureScreenshot",
            json!({ "format": "png" }),
        )
        .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .unwrap();
        std::fs::write(dir.join(format!("{lang}-{width}-{name}.png")), png).unwrap();
    }
    cdp(c, driver, "Emulation.clearDeviceMetricsOverride", json!({})).await;
}

/// Walks every citizen page with JavaScript on, in German and English, at 1280 px and 390 px:
/// fails if a page scrolls sideways, and saves screenshots into `PFORTE_SHOTS` (default
/// `/tmp/shots`) for a person to look at.
#[tokio::test]
async fn screenshots() {
    let dir = std::path::PathBuf::from(
        std::env::var("PFORTE_SHOTS").unwrap_or_else(|_| "/tmp/shots".into()),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let outbox = tempdir::Dir::new(&format!("pforte-shots-outbox-{}", std::process::id()));
    let outbox_path = outbox.path.clone();
    let server = TestServer::start_with(Backend::Sqlite, |cfg| {
        cfg.mail.outbox = Some(outbox_path.clone());
    })
    .await;
    third_party(&server, "rp", "Hundesteuer Musterstadt").await;
    let driver = ChromeDriver::start().await;

    for (lang, accept, email) in [
        ("de", "de-DE,de;q=0.9", "erika.mustermann@example.de"),
        ("en", "en-GB,en;q=0.9", "john.doe@example.org"),
    ] {
        server.citizen(email, PASSWORD).await;
        let c = driver.browser(accept, true, 1280).await;

        // Error page (unknown client).
        c.goto(&format!(
            "{}?client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb&response_type=code&scope=openid",
            server.url("/authorize")
        ))
        .await
        .unwrap();
        shoot(&c, &driver, &dir, lang, "01-error").await;

        // Registration: empty, with errors, done.
        c.goto(&server.url("/register")).await.unwrap();
        shoot(&c, &driver, &dir, lang, "02-register").await;
        fill(&c, "#email", "not-an-address").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "03-register-errors").await;
        fill(&c, "#email", &format!("new.{email}")).await;
        fill(&c, "#given_name", "Lena").await;
        fill(&c, "#family_name", "Müller-Lüdenscheidt").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "04-register-done").await;
        // The link from the mail: the password is chosen there (a too short one first).
        let sent = crate::register::mails(&outbox_path);
        let link = crate::register::link_in(&server, sent.last().unwrap());
        c.goto(&link).await.unwrap();
        shoot(&c, &driver, &dir, lang, "04a-register-confirm").await;
        fill(&c, "#password", "short").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "04b-register-confirm-error").await;
        fill(&c, "#password", "ein langes gutes Passwort").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "04c-register-verified").await;

        // Login at Pforte itself, a wrong password first.
        c.goto(&server.url("/login")).await.unwrap();
        shoot(&c, &driver, &dir, lang, "05-login").await;
        // Keyboard focus: the skip link, the language switch, a field, the button.
        let order = tab_order(&c, 1).await;
        assert_eq!(order, ["a[#main]"]);
        shoot(&c, &driver, &dir, lang, "05a-focus-skip-link").await;
        tab_order(&c, 1).await;
        shoot(&c, &driver, &dir, lang, "05b-focus-language").await;
        tab_order(&c, 1).await;
        shoot(&c, &driver, &dir, lang, "05c-focus-email").await;
        tab_order(&c, 2).await;
        shoot(&c, &driver, &dir, lang, "05d-focus-button").await;
        fill(&c, "#email", email).await;
        fill(&c, "#password", "falsch").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "06-login-error").await;
        fill(&c, "#password", PASSWORD).await;
        click(&c, "form button[type=submit]").await;
        assert_eq!(path(&c).await, "/account");
        shoot(&c, &driver, &dir, lang, "07-account").await;

        // Security page, TOTP set-up (a wrong code first), recovery codes.
        click(&c, "a[href=\"/account/security\"]").await;
        shoot(&c, &driver, &dir, lang, "08-security").await;
        // A link styled as a button, hovered and focused.
        let (x, y, w, h) = c
            .find(Locator::Css("a.button"))
            .await
            .unwrap()
            .rectangle()
            .await
            .unwrap();
        cdp(
            &c,
            &driver,
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": x + w / 2.0, "y": y + h / 2.0 }),
        )
        .await;
        shoot(&c, &driver, &dir, lang, "08a-hover-link-button").await;
        cdp(
            &c,
            &driver,
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": 0, "y": 0 }),
        )
        .await;
        click(&c, "a[href=\"/account/security/totp\"]").await;
        shoot(&c, &driver, &dir, lang, "09-totp-setup").await;
        let secret = text(&c, "#totp-secret").await;
        let key = base32_decode(&secret);
        fill(&c, "#totp-code", "12345").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "10-totp-setup-error").await;
        let step = time_step(&server);
        fill(&c, "#totp-code", &hotp(&key, step)).await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "11-recovery-codes").await;
        click(&c, ".actions a.button").await;
        shoot(&c, &driver, &dir, lang, "12-security-with-totp").await;

        // Proofed at substantial (as `pforte account proof` does), the service asks for it.
        pforte::admin::proof_account(
            &server.app.db,
            &pforte::audit::Actor::Cli,
            email,
            pforte::assurance::Level::Substantial,
            "Bürgerbüro, Personalausweis vorgelegt",
        )
        .await
        .unwrap();
        let (auth, _) = authorize_url(&server, "rp", &[("claims", ESSENTIAL_SUBSTANTIAL)]);
        c.goto(&auth).await.unwrap();
        assert_eq!(path(&c).await, "/stepup", "{}", url(&c).await);
        shoot(&c, &driver, &dir, lang, "13-stepup").await;
        fill(&c, "#totp-code", "000000").await;
        click(&c, "form[action=\"/stepup/totp\"] button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "14-stepup-error").await;
        // The next step (the set-up used this one); the server accepts one step ahead.
        let step = (step + 1).max(time_step(&server));
        fill(&c, "#totp-code", &hotp(&key, step)).await;
        click(&c, "form[action=\"/stepup/totp\"] button[type=submit]").await;
        assert_eq!(path(&c).await, "/consent", "{}", url(&c).await);
        shoot(&c, &driver, &dir, lang, "15-consent").await;
        click(&c, "button[value=allow]").await;
        assert!(param(&url(&c).await, "code").is_some());

        // The account with the consent, the confirmed security page, logging out.
        c.goto(&server.url("/account")).await.unwrap();
        shoot(&c, &driver, &dir, lang, "16-account-with-consent").await;
        c.goto(&server.url("/account/security")).await.unwrap();
        shoot(&c, &driver, &dir, lang, "17-security-confirmed").await;
        c.goto(&server.url("/account")).await.unwrap();
        click(&c, "form[action=\"/account/logout\"] button").await;
        shoot(&c, &driver, &dir, lang, "18-logged-out").await;
        c.close().await.unwrap();
    }
    drop(driver);
}

// --- The admin console in Chromium (issue 12) ------------------------------------------------

/// Signs in to the console in the browser: password, then a TOTP code at the step-up page.
pub(crate) async fn console_sign_in(c: &Client, server: &TestServer, email: &str, seed: &[u8]) {
    use pforte::accounts::totp;
    c.goto(&server.url("/admin/")).await.unwrap();
    if path(c).await == "/login" {
        fill(c, "#email", email).await;
        fill(c, "#password", PASSWORD).await;
        click(c, "form button[type=submit]").await;
    }
    assert_eq!(path(c).await, "/stepup", "{}", url(c).await);
    server.app.clock.advance(30);
    fill(
        c,
        "#totp-code",
        &totp::code_at(seed, totp::step_of(server.app.clock.now())),
    )
    .await;
    click(c, "form[action=\"/stepup/totp\"] button[type=submit]").await;
}

pub(crate) async fn page_text(c: &Client) -> String {
    text(c, "main").await
}

/// Without JavaScript: an admin signs in at substantial, registers a service with minimum
/// substantial, and a citizen's login through it is then held to substantial; the help desk
/// sees no services or policy (403), an auditor can change nothing, a citizen without a role
/// gets 403. With `PFORTE_SHOTS` set, every console page is saved in German and English.
#[tokio::test]
async fn admin_console_in_chromium() {
    use pforte::admin::roles::Role;
    let server = TestServer::start_manual_clock(Backend::Sqlite, |_| {}).await;
    let admin_seed =
        crate::common::admin_kit::staff(&server, "admin@stadt.example", &[Role::Admin]).await;
    let help_seed =
        crate::common::admin_kit::staff(&server, "help@stadt.example", &[Role::Helpdesk]).await;
    let audit_seed =
        crate::common::admin_kit::staff(&server, "audit@stadt.example", &[Role::Auditor]).await;
    let citizen_seed = crate::common::admin_kit::staff(&server, "buerger@example.de", &[]).await;
    let driver = ChromeDriver::start().await;
    let shots = std::env::var("PFORTE_SHOTS")
        .ok()
        .map(std::path::PathBuf::from);

    // The admin: sign in, register a service held to substantial.
    let c = driver.browser("de-DE,de;q=0.9", false, 1280).await;
    console_sign_in(&c, &server, "admin@stadt.example", &admin_seed).await;
    assert_eq!(path(&c).await, "/admin/", "{}", url(&c).await);
    assert_eq!(page_lang(&c).await, "de");
    c.goto(&server.url("/admin/services/new")).await.unwrap();
    assert_inputs_labelled(&c).await;
    fill(&c, "#id", "sperrmuell").await;
    fill(&c, "#name", "Sperrmüll anmelden").await;
    fill(&c, "#redirect_uris", "http://127.0.0.1:9999/sperrmuell/cb").await;
    c.find(Locator::Css("#min_level option[value=substantial]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "form.admin-form button[type=submit]").await;
    assert_eq!(
        path(&c).await,
        "/admin/services/sperrmuell",
        "{}",
        page_text(&c).await
    );
    let client = server
        .app
        .db
        .client_get("sperrmuell")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        client.min_level,
        Some(pforte::assurance::Level::Substantial)
    );

    // A citizen's login through that service: the password is not enough.
    let citizen = driver.browser("de-DE,de;q=0.9", false, 1280).await;
    let (auth, _verifier) = authorize_url(&server, "sperrmuell", &[]);
    citizen.goto(&auth).await.unwrap();
    fill(&citizen, "#email", "buerger@example.de").await;
    fill(&citizen, "#password", PASSWORD).await;
    click(&citizen, "form button[type=submit]").await;
    assert_eq!(
        path(&citizen).await,
        "/stepup",
        "held to substantial: {}",
        url(&citizen).await
    );
    citizen.close().await.unwrap();

    if let Some(dir) = &shots {
        std::fs::create_dir_all(dir).unwrap();
        let cid = server
            .app
            .db
            .account_by_email("buerger@example.de")
            .await
            .unwrap()
            .unwrap()
            .id;
        for (lang, other) in [("de", "de"), ("en", "en")] {
            for (name, p) in [
                ("admin-01-home", "/admin/".to_string()),
                ("admin-02-services", "/admin/services".to_string()),
                ("admin-03-service-new", "/admin/services/new".to_string()),
                (
                    "admin-04-service-edit",
                    "/admin/services/sperrmuell".to_string(),
                ),
                ("admin-05-import", "/admin/services/import".to_string()),
                (
                    "admin-06-policy",
                    "/admin/policy?client=sperrmuell&scope=openid&level=low&age=0".to_string(),
                ),
                ("admin-07-keys", "/admin/keys".to_string()),
                ("admin-08-citizens", "/admin/citizens?q=example".to_string()),
                ("admin-09-citizen", format!("/admin/citizens/{cid}")),
                ("admin-10-audit", "/admin/audit".to_string()),
            ] {
                let sep = if p.contains('?') { '&' } else { '?' };
                c.goto(&server.url(&format!("{p}{sep}lang={other}")))
                    .await
                    .unwrap();
                assert_eq!(page_lang(&c).await, lang, "{p}");
                shoot(&c, &driver, dir, lang, name).await;
            }
        }
    }
    c.close().await.unwrap();

    // The help desk: no services, no policy; citizens yes.
    let h = driver.browser("de-DE,de;q=0.9", false, 1280).await;
    console_sign_in(&h, &server, "help@stadt.example", &help_seed).await;
    assert_eq!(path(&h).await, "/admin/");
    for p in [
        "/admin/services",
        "/admin/services/sperrmuell",
        "/admin/policy",
        "/admin/keys",
    ] {
        h.goto(&server.url(p)).await.unwrap();
        assert!(
            page_text(&h).await.contains("Kein Zugriff"),
            "{p}: {}",
            page_text(&h).await
        );
    }
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url("/admin/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "no session: to the sign-in"
    );
    h.goto(&server.url("/admin/citizens?q=buerger"))
        .await
        .unwrap();
    assert!(page_text(&h).await.contains("buerger@example.de"));
    h.close().await.unwrap();

    // The auditor: reads, but every change is refused.
    let a = driver.browser("en-GB,en;q=0.9", false, 1280).await;
    console_sign_in(&a, &server, "audit@stadt.example", &audit_seed).await;
    a.goto(&server.url("/admin/services/sperrmuell?lang=en"))
        .await
        .unwrap();
    a.find(Locator::Css("#confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&a, "form.admin-form button[type=submit]").await;
    assert!(
        page_text(&a).await.contains("No access"),
        "{}",
        page_text(&a).await
    );
    a.goto(&server.url("/admin/audit")).await.unwrap();
    assert!(page_text(&a).await.contains("client.created"));
    a.close().await.unwrap();

    // A citizen without a role: 403.
    let b = driver.browser("de-DE,de;q=0.9", false, 1280).await;
    console_sign_in(&b, &server, "buerger@example.de", &citizen_seed).await;
    assert!(
        page_text(&b).await.contains("Kein Zugriff"),
        "{}",
        page_text(&b).await
    );
    b.close().await.unwrap();
}
