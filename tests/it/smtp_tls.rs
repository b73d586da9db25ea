//! SMTP with TLS and authentication against a real server process (aiosmtpd,
//! tests/peers/smtp_sink.py) whose certificate comes from a CA made for the test and trusted
//! through `mail.smtp_ca_file` (`PFORTE_MAIL_SMTP_CA_FILE`), with `pforte serve` as a separate
//! process whose log is read: STARTTLS with AUTH delivers (`smtp://`, RFC 3207 and 4954);
//! implicit TLS delivers (`smtps://`, RFC 8314); a wrong password keeps the mail queued and
//! retried, the log without the password, and delivers it once the server accepts the
//! credentials; a server that does not offer STARTTLS gets neither the credentials nor the
//! message in plain text; a server that never answers does not hold the worker past the
//! timeout; a CA file that holds no certificate stops the start naming the key.

use crate::common::{
    account::{outbox_state, scratch, wait_until_retried, Eml, SmtpSink, TestCa},
    child::Child,
    *,
};
use crate::register::register;

const USER: &str = "pforte";
const SECRET: &str = "Kennwort-des-Postfachs-4711";

/// `pforte serve` on `seed`'s database, delivering mail through `smtp_url` (trusting `ca`),
/// retrying every second.
async fn serve(seed: &TestServer, smtp_url: &str, ca: &TestCa) -> Child {
    let ca_file = ca.ca_file().display().to_string();
    Child::spawn(
        seed,
        &[
            ("PFORTE_SMTP_URL", smtp_url),
            ("PFORTE_MAIL_SMTP_CA_FILE", &ca_file),
            ("PFORTE_MAIL_RETRY_BASE_SECS", "1"),
            ("PFORTE_MAIL_RETRY_MAX_SECS", "1"),
            ("PFORTE_MAIL_POLL_SECS", "1"),
            ("PFORTE_MAIL_SMTP_TIMEOUT_SECS", "5"),
        ],
    )
    .await
}

/// Registers `email` through the pages of `child`: the verification mail goes into the
/// outbox.
async fn registration_mail(seed: &TestServer, child: &Child, email: &str) {
    let server = seed.as_child(child);
    let out = register(&server, &Browser::new(&server), &[("email", email)], None).await;
    assert!(out.is_page("/register/done"), "{out:?}");
}

/// The one message `sink` received: for `to`, over TLS, authenticated as [`USER`].
async fn assert_delivered_over_tls(sink: &SmtpSink, to: &str) {
    let files = sink.wait_for(1).await;
    assert_eq!(files.len(), 1);
    let mail = Eml::read(&files[0]);
    assert_eq!(mail.header("X-Sink-Rcpt-To"), to);
    assert!(
        mail.header("X-Sink-TLS").starts_with("TLSv1."),
        "{}",
        mail.header("X-Sink-TLS")
    );
    assert_eq!(mail.header("X-Sink-Auth"), USER);
    assert!(mail
        .subject()
        .contains("Bitte bestätigen Sie Ihre E-Mail-Adresse"));
}

fn assert_no_secret_in_log(child: &Child) {
    let log = child.log_text();
    assert!(!log.is_empty(), "the child logs");
    assert!(
        !log.contains(SECRET),
        "the SMTP password in the log:\n{log}"
    );
}

#[tokio::test]
async fn starttls_with_auth_delivers() {
    let ca = TestCa::new();
    let mut sink = SmtpSink::new().starttls(&ca).auth(USER, SECRET);
    sink.start().await;
    let seed = TestServer::start(Backend::Sqlite).await;
    let url = format!("smtp://{USER}:{SECRET}@localhost:{}", sink.port);
    let child = serve(&seed, &url, &ca).await;
    registration_mail(&seed, &child, "anna@example.de").await;
    assert_delivered_over_tls(&sink, "anna@example.de").await;
    assert_eq!(sink.log("auth.log"), vec![format!("{USER} ok")]);
    assert_no_secret_in_log(&child);
}

#[tokio::test]
async fn implicit_tls_with_auth_delivers() {
    let ca = TestCa::new();
    let mut sink = SmtpSink::new().smtps(&ca).auth(USER, SECRET);
    sink.start().await;
    let seed = TestServer::start(Backend::Sqlite).await;
    let url = format!("smtps://{USER}:{SECRET}@localhost:{}", sink.port);
    let child = serve(&seed, &url, &ca).await;
    registration_mail(&seed, &child, "bernd@example.de").await;
    assert_delivered_over_tls(&sink, "bernd@example.de").await;
    assert_no_secret_in_log(&child);
}

/// The server refuses the password (535): the mail is not given up but waits and is retried,
/// the log says why without the password, and once the server accepts the credentials (its
/// account fixed) the same mail arrives, once.
#[tokio::test]
async fn wrong_password_keeps_the_mail_queued() {
    let ca = TestCa::new();
    let mut sink = SmtpSink::new()
        .starttls(&ca)
        .auth(USER, "what-the-server-expects");
    sink.start().await;
    let seed = TestServer::start(Backend::Postgres).await;
    let url = format!("smtp://{USER}:{SECRET}@localhost:{}", sink.port);
    let child = serve(&seed, &url, &ca).await;
    registration_mail(&seed, &child, "carla@example.de").await;
    wait_until_retried(&seed, 2).await;
    assert!(sink.received().is_empty());
    let tries = sink.log("auth.log");
    assert!(
        !tries.is_empty() && tries.iter().all(|l| l == "pforte refused"),
        "{tries:?}"
    );
    let log = child.log_text();
    assert!(log.contains("will retry") && log.contains("535"), "{log}");
    assert_no_secret_in_log(&child);
    let errors: Vec<String> = sqlx::query_scalar("SELECT last_error FROM mail_outbox")
        .fetch_all(&seed.app.db.pool)
        .await
        .unwrap();
    assert!(errors.iter().all(|e| !e.contains(SECRET)), "{errors:?}");
    let audit = serde_json::to_string(&seed.app.db.audit_list(None, 100).await.unwrap()).unwrap();
    assert!(!audit.contains(SECRET));

    // The mail server's account is fixed: the waiting mail goes out.
    sink.stop();
    let mut fixed = SmtpSink::on_port(sink.port)
        .starttls(&ca)
        .auth(USER, SECRET);
    fixed.start().await;
    assert_delivered_over_tls(&fixed, "carla@example.de").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(fixed.received().len(), 1, "delivered once");
    assert_eq!(outbox_state(&seed).await.0, 0);
}

/// `smtp://` demands STARTTLS. A server that does not offer it (and would even take AUTH in
/// plain text) sees no AUTH and no MAIL: the mail waits in the outbox instead.
#[tokio::test]
async fn no_plain_text_when_starttls_is_missing() {
    let ca = TestCa::new();
    let mut sink = SmtpSink::new().auth(USER, SECRET).auth_in_plain_text();
    sink.start().await;
    let seed = TestServer::start(Backend::Sqlite).await;
    let url = format!("smtp://{USER}:{SECRET}@localhost:{}", sink.port);
    let child = serve(&seed, &url, &ca).await;
    registration_mail(&seed, &child, "dora@example.de").await;
    wait_until_retried(&seed, 2).await;
    assert!(sink.log("auth.log").is_empty(), "no AUTH in plain text");
    assert!(
        sink.log("mail-from.log").is_empty(),
        "no MAIL in plain text"
    );
    assert!(sink.received().is_empty());
    let log = child.log_text();
    assert!(log.contains("STARTTLS"), "{log}");
    assert_no_secret_in_log(&child);
}

/// A server that accepts the connection and then never answers: the attempt ends after
/// `mail.smtp_timeout_secs` and the mail waits for the next one (the worker is not held).
#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            keep.lock().unwrap().push(conn);
        }
    });
    let seed = TestServer::start(Backend::Sqlite).await;
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let child = Child::spawn(
        &seed,
        &[
            ("PFORTE_SMTP_URL", url.as_str()),
            ("PFORTE_MAIL_RETRY_BASE_SECS", "1"),
            ("PFORTE_MAIL_RETRY_MAX_SECS", "1"),
            ("PFORTE_MAIL_POLL_SECS", "1"),
            ("PFORTE_MAIL_SMTP_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    registration_mail(&seed, &child, "emil@example.de").await;
    wait_until_retried(&seed, 2).await;
    assert!(
        held.lock().unwrap().len() >= 2,
        "a new connection per attempt"
    );
    let log = child.log_text();
    assert!(log.contains("within 1 s"), "{log}");
}

/// A CA file that is missing or holds no certificate stops the start with the key's name.
#[tokio::test]
async fn ca_file_errors_name_the_key() {
    let dir = scratch("pforte-ca-file");
    let not_pem = dir.path.join("not.pem");
    std::fs::write(&not_pem, "no certificate here\n").unwrap();
    for path in [not_pem, dir.path.join("missing.pem")] {
        let db = format!("sqlite://{}/db.sqlite", dir.path.display());
        let kek = pforte::tokens::keys::Kek::generate_base64();
        let mut cfg = config("http://127.0.0.1:9", &db, &kek);
        cfg.mail.smtp_url = Some("smtps://mail.example.de".into());
        cfg.mail.smtp_ca_file = Some(path.clone());
        let err = pforte::mail::Mailer::from_config(&cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mail.smtp_ca_file"), "{path:?}: {err}");
    }
    // Not with `tls=none`: there is no certificate to check.
    let err = pforte::config::Config::load_from(
        None,
        vec![
            (
                "PFORTE_SMTP_URL".to_string(),
                "smtp://127.0.0.1:2525?tls=none".to_string(),
            ),
            (
                "PFORTE_MAIL_SMTP_CA_FILE".to_string(),
                "/etc/ssl/ca.pem".to_string(),
            ),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("mail.smtp_ca_file"), "{err}");
}
