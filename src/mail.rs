//! Outgoing e-mail: building messages and handing them to the configured transport.
//!
//! Owns: the [`Mail`] a feature wants sent, the message built from it with `lettre` (RFC 5322
//! headers, RFC 2047 encoded-words where they are not ASCII, a UTF-8 `text/plain` body in
//! quoted-printable, `Auto-Submitted: auto-generated` per RFC 3834), address checks, and the
//! transports behind [`Mailer::deliver`]:
//! - **SMTP** (`mail.smtp_url`, `PFORTE_SMTP_URL`): submission through lettre's tokio client,
//!   STARTTLS required for `smtp://` (RFC 3207), implicit TLS for `smtps://` (RFC 8314), no TLS
//!   only for `smtp://<loopback>?tls=none`; AUTH with the configured credentials; one deadline
//!   for connecting and one for the whole delivery (`mail.smtp_timeout_secs`), so a server that
//!   stops answering cannot hold the outbox worker; the system's trust store plus
//!   `mail.smtp_ca_file`; a refused login (530, 534, 535, 538) is retried like an outage, not
//!   given up like a refused recipient;
//! - the **folder** (`mail.outbox`, `PFORTE_MAIL_OUTBOX`): a development mailer that writes each
//!   message as `<timestamp>-<random>.eml` into a folder (created when missing) instead of
//!   sending it. Files appear atomically (written under a temporary name, then renamed) and are
//!   readable by the owner only, since they carry single-use links;
//! - **none configured**: the message is not delivered; a warning says so.
//!
//! Features do not call the transport themselves: they put mail into the durable outbox in
//! the database ([`outbox`]), whose worker delivers it with retries.

pub mod outbox;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use lettre::{
    message::{
        header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue},
        Mailbox, SinglePart,
    },
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
};

use crate::config::{Config, SmtpSecurity, SmtpSettings};

/// A plain-text message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address (`addr-spec`, no display name).
    pub to: String,
    pub subject: String,
    /// Plain text; `\n` or `\r\n` line ends.
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("key `mail.from`: {0}")]
    InvalidFrom(String),
    #[error("not a deliverable e-mail address")]
    InvalidRecipient,
    #[error("mail header contains a line break")]
    InvalidHeader,
    #[error("building the message: {0}")]
    Build(String),
    #[error("{0}")]
    Config(String),
    #[error("writing to the mail outbox {path}: {source}")]
    Outbox {
        path: String,
        source: std::io::Error,
    },
    /// The SMTP server or the connection failed; `permanent` for a 5xx answer (retrying will
    /// not help), otherwise worth another attempt.
    #[error("SMTP: {message}")]
    Smtp { message: String, permanent: bool },
}

impl MailError {
    /// Whether another attempt could succeed (connection trouble, 4xx, full disk).
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Smtp { permanent, .. } => !permanent,
            MailError::Outbox { .. } => true,
            _ => false,
        }
    }
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the SMTP server.
    Smtp,
    /// Written into the outbox folder as this file.
    Outbox(PathBuf),
    /// No transport is configured; the message was dropped (a warning was logged).
    NotConfigured,
}

/// The sender of outgoing mail: display name (may be non-ASCII) and address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub name: Option<String>,
    pub address: String,
}

#[derive(Clone)]
enum Transport {
    /// The client and the deadline of one delivery (lettre's own timeout covers only the
    /// connect, not the server's answers).
    Smtp(AsyncSmtpTransport<Tokio1Executor>, Duration),
    Folder(PathBuf),
    None,
}

/// Builds and delivers mail through the configured transport. Cheap to clone (the SMTP
/// client's connection pool is shared).
#[derive(Clone)]
pub struct Mailer {
    from: Sender,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .field("transport", &self.transport_name())
            .finish()
    }
}

impl Mailer {
    /// The mailer `config` describes: SMTP when `mail.smtp_url` is set, else the outbox
    /// folder when `mail.outbox` is set, else none. Errors name the key.
    pub fn from_config(config: &Config) -> Result<Mailer, MailError> {
        let from = match &config.mail.from {
            Some(raw) if !raw.trim().is_empty() => parse_sender(raw)?,
            _ => default_sender(config),
        };
        let transport = match config.mail.smtp().map_err(MailError::Config)? {
            Some(smtp) => {
                let tls = match smtp.security {
                    SmtpSecurity::StartTls => Tls::Required(tls_parameters(&smtp)?),
                    SmtpSecurity::Implicit => Tls::Wrapper(tls_parameters(&smtp)?),
                    SmtpSecurity::None => Tls::None,
                };
                let timeout = Duration::from_secs(config.mail.smtp_timeout_secs);
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                        .port(smtp.port)
                        .tls(tls)
                        .timeout(Some(timeout));
                if let Some((user, password)) = smtp.credentials {
                    builder = builder.credentials(Credentials::new(user, password));
                }
                Transport::Smtp(builder.build(), timeout)
            }
            None => match &config.mail.outbox {
                Some(dir) if !dir.as_os_str().is_empty() => Transport::Folder(dir.clone()),
                _ => Transport::None,
            },
        };
        Ok(Mailer { from, transport })
    }

    /// A mailer writing into `dir` (for tests and tools).
    pub fn outbox(from: Sender, dir: impl Into<PathBuf>) -> Mailer {
        Mailer {
            from,
            transport: Transport::Folder(dir.into()),
        }
    }

    pub fn sender(&self) -> &Sender {
        &self.from
    }

    /// `smtp`, `outbox` or `none` (for logs and metrics).
    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(..) => "smtp",
            Transport::Folder(_) => "outbox",
            Transport::None => "none",
        }
    }

    /// Whether messages are written to the development folder (delivered at once, in the
    /// request, so that the file is there when the answer is).
    pub fn is_folder(&self) -> bool {
        matches!(self.transport, Transport::Folder(_))
    }

    /// A `Message-ID` for a new mail: the same one on every attempt, so that a receiver can
    /// recognise a message delivered twice after a lost answer.
    pub fn new_message_id(&self) -> String {
        let domain = self
            .from
            .address
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("localhost");
        format!("<{}@{}>", crate::secrets::random_token(18), domain)
    }

    /// The message for `mail`.
    pub fn message(
        &self,
        mail: &Mail,
        message_id: &str,
        date: std::time::SystemTime,
    ) -> Result<lettre::Message, MailError> {
        let to = ascii_address(&mail.to).ok_or(MailError::InvalidRecipient)?;
        if mail.subject.contains(['\r', '\n']) {
            return Err(MailError::InvalidHeader);
        }
        let to: Mailbox = to.parse().map_err(|_| MailError::InvalidRecipient)?;
        let from_address = ascii_address(&self.from.address)
            .unwrap_or_else(|| self.from.address.clone())
            .parse()
            .map_err(|e| MailError::InvalidFrom(format!("{e}")))?;
        let from = Mailbox::new(self.from.name.clone(), from_address);
        let body = mail.body.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .date(date)
            .message_id(Some(message_id.to_string()))
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(body),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        // RFC 3834: an automatic message; auto-responders should not answer it.
        let name = HeaderName::new_from_ascii("Auto-Submitted".into())
            .map_err(|e| MailError::Build(e.to_string()))?;
        message
            .headers_mut()
            .insert_raw(HeaderValue::new(name, "auto-generated".into()));
        Ok(message)
    }

    /// Builds and delivers one message.
    pub async fn deliver(&self, mail: &Mail, message_id: &str) -> Result<Delivery, MailError> {
        let message = self.message(mail, message_id, std::time::SystemTime::now())?;
        match &self.transport {
            Transport::None => {
                tracing::warn!(
                    "mail delivery is not configured (set PFORTE_SMTP_URL, or mail.outbox / \
                     PFORTE_MAIL_OUTBOX for development): message not sent"
                );
                Ok(Delivery::NotConfigured)
            }
            Transport::Smtp(smtp, timeout) => {
                match tokio::time::timeout(*timeout, smtp.send(message)).await {
                    Ok(Ok(_)) => Ok(Delivery::Smtp),
                    Ok(Err(e)) => Err(MailError::Smtp {
                        message: e.to_string(),
                        permanent: e.is_permanent()
                            && !e.status().is_some_and(|c| is_setup_refusal(&c.to_string())),
                    }),
                    Err(_) => Err(MailError::Smtp {
                        message: format!(
                            "the server did not finish the delivery within {} s",
                            timeout.as_secs()
                        ),
                        permanent: false,
                    }),
                }
            }
            Transport::Folder(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                let path = tokio::task::spawn_blocking(move || write_outbox(&dir, &bytes))
                    .await
                    .map_err(|e| MailError::Outbox {
                        path: String::new(),
                        source: std::io::Error::other(e),
                    })??;
                tracing::info!(file = %path.display(), "mail written to the outbox folder");
                Ok(Delivery::Outbox(path))
            }
        }
    }
}

/// TLS towards `smtp.host`: the system's trust store, plus the CA certificates of
/// `mail.smtp_ca_file` when set. Errors name the key.
fn tls_parameters(smtp: &SmtpSettings) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(path) = &smtp.ca_file {
        let key = "key `mail.smtp_ca_file`";
        let pem = std::fs::read(path)
            .map_err(|e| MailError::Config(format!("{key}: reading {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .ok()
            .filter(|_| pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----"))
            .ok_or_else(|| {
                MailError::Config(format!(
                    "{key}: {} holds no PEM certificate",
                    path.display()
                ))
            })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| MailError::Config(format!("key `mail.smtp_url`: TLS set-up: {e}")))
}

/// Whether an SMTP reply code refuses the session rather than this message: authentication
/// required (530), a temporary password problem (534), wrong credentials (535), encryption
/// required (538; RFC 4954 §6, RFC 3207). Those are the operator's to fix; the mail stays
/// queued and is tried again instead of being given up like a refused recipient.
fn is_setup_refusal(code: &str) -> bool {
    matches!(code, "530" | "534" | "535" | "538")
}

/// `Pforte <noreply@HOST>` with the issuer's host name (`localhost` for an IP-address issuer).
fn default_sender(config: &Config) -> Sender {
    let host = config
        .issuer_url()
        .ok()
        .and_then(|u| match u.host() {
            Some(url::Host::Domain(d)) => Some(d.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "localhost".into());
    Sender {
        name: Some("Pforte".into()),
        address: format!("noreply@{host}"),
    }
}

/// Parses `mail.from`: `addr@example.de` or `Display Name <addr@example.de>`.
pub fn parse_sender(raw: &str) -> Result<Sender, MailError> {
    let raw = raw.trim();
    if raw.chars().any(char::is_control) {
        return Err(MailError::InvalidFrom("contains control characters".into()));
    }
    let (name, address) = match raw.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, addr)) => {
            let name = name.trim();
            let name = name
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .unwrap_or(name)
                .trim();
            ((!name.is_empty()).then(|| name.to_string()), addr.trim())
        }
        None => (None, raw),
    };
    if !is_valid_address(address) {
        return Err(MailError::InvalidFrom(format!(
            "expected `address@domain` or `Name <address@domain>`, got `{raw}`"
        )));
    }
    Ok(Sender {
        name,
        address: address.to_string(),
    })
}

/// Whether this mailer can deliver to `addr`: an ASCII dot-atom local part (RFC 5322 §3.4.1)
/// and a domain of letter/digit/hyphen labels, internationalised labels allowed (they are
/// written in their ASCII form, RFC 5890). Stricter than RFC 5322 on purpose: no quoted local
/// parts, no address literals, and no UTF-8 local parts (those need SMTPUTF8, RFC 6531, which
/// many mail servers still lack).
pub fn is_valid_address(addr: &str) -> bool {
    ascii_address(addr).is_some()
}

/// `addr` with its domain in ASCII (IDNA), if [`is_valid_address`].
pub fn ascii_address(addr: &str) -> Option<String> {
    let (local, domain) = addr.rsplit_once('@')?;
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |s: &str, ok: &dyn Fn(char) -> bool| {
        !s.is_empty()
            && s.split('.')
                .all(|part| !part.is_empty() && part.chars().all(ok))
    };
    let label_ok = |label: &str| {
        label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
            })
    };
    let plausible = addr.len() <= 254
        && local.len() <= 64
        && !addr.chars().any(|c| c.is_control() || c.is_whitespace())
        && dot_atom(local, &atext)
        && domain.contains('.')
        && dot_atom(domain, &|c| c.is_alphanumeric() || c == '-')
        && domain.split('.').all(label_ok);
    if !plausible {
        return None;
    }
    let domain = match url::Host::parse(domain).ok()? {
        url::Host::Domain(d) => d,
        _ => return None,
    };
    // A numeric top-level label would make it an IP address, not a mail domain.
    let tld = domain.rsplit('.').next()?;
    if tld.bytes().all(|b| b.is_ascii_digit()) || local.len() + 1 + domain.len() > 254 {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

fn write_outbox(dir: &Path, message: &[u8]) -> Result<PathBuf, MailError> {
    use std::io::Write;
    let err = |path: &Path| {
        let path = path.display().to_string();
        move |source| MailError::Outbox { path, source }
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(err(dir))?;
    let now = time::OffsetDateTime::now_utc();
    let name = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z-{}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond(),
        crate::secrets::random_token(9)
    );
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(format!("{name}.eml"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(message)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(&tmp)(e));
    }
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(&path)(e)
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "anna@example.de",
            "a.b+c@sub.example.de",
            "joerg@müller.de",
            "o'neil@x-y.org",
        ] {
            assert!(is_valid_address(ok), "{ok}");
        }
        assert_eq!(
            ascii_address("joerg@müller.de").unwrap(),
            "joerg@xn--mller-kva.de"
        );
        for bad in [
            "anna",
            "a@b",
            "a@@b.de",
            "a b@c.de",
            "a,b@c.de",
            "\"a\"@c.de",
            "a@c.de>",
            "<a@c.de",
            "a..b@c.de",
            ".a@c.de",
            "a@-c.de",
            "a@c..de",
            "a@c.de\r\nBcc: x@y.de",
            "a;b@c.de",
            "a(b)@c.de",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "jörg@example.de",
        ] {
            assert!(!is_valid_address(bad), "{bad}");
        }
    }

    #[test]
    fn refused_sessions_are_retried_refused_messages_not() {
        for code in ["530", "534", "535", "538"] {
            assert!(is_setup_refusal(code), "{code}");
        }
        for code in ["550", "551", "553", "554"] {
            assert!(!is_setup_refusal(code), "{code}");
        }
    }

    #[test]
    fn senders() {
        assert_eq!(
            parse_sender("Bürgerbüro Musterstadt <noreply@musterstadt.de>").unwrap(),
            Sender {
                name: Some("Bürgerbüro Musterstadt".into()),
                address: "noreply@musterstadt.de".into()
            }
        );
        assert_eq!(parse_sender("noreply@x.de").unwrap().name, None);
        assert!(parse_sender("Evil <a@x.de>\r\nBcc: b@y.de").is_err());
        assert!(parse_sender("nonsense").is_err());
    }

    #[test]
    fn message_headers() {
        let m = Mailer::outbox(
            parse_sender("Bürgerbüro <noreply@musterstadt.de>").unwrap(),
            "/nonexistent",
        );
        let date = std::time::UNIX_EPOCH + Duration::from_secs(1_795_415_830);
        let mail = Mail {
            to: "anna@müller.de".into(),
            subject: "Grüße".into(),
            body: "Hallo\nWelt = schön".into(),
        };
        let id = m.new_message_id();
        assert!(id.starts_with('<') && id.ends_with("@musterstadt.de>"));
        let raw = String::from_utf8(m.message(&mail, &id, date).unwrap().formatted()).unwrap();
        assert!(raw.is_ascii());
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("From: =?utf-8?b?") || head.contains("From: =?utf-8?B?"),
            "{head}"
        );
        assert!(head.contains("\r\nTo: anna@xn--mller-kva.de\r\n"), "{head}");
        assert!(
            head.contains("Date: Mon, 23 Nov 2026 06:37:10 +0000"),
            "{head}"
        );
        assert!(head.contains(&format!("Message-ID: {id}")), "{head}");
        assert!(
            head.contains("Content-Type: text/plain; charset=utf-8"),
            "{head}"
        );
        assert!(
            head.contains("Content-Transfer-Encoding: quoted-printable"),
            "{head}"
        );
        assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
        assert!(body.starts_with("Hallo\r\nWelt =3D sch=C3=B6n"), "{body}");
        let bad = Mail {
            to: "a@b.de\r\nBcc: c@d.de".into(),
            ..mail.clone()
        };
        assert!(m.message(&bad, &id, date).is_err());
        let bad = Mail {
            subject: "x\r\nBcc: c@d.de".into(),
            ..mail
        };
        assert!(m.message(&bad, &id, date).is_err());
    }

    #[tokio::test]
    async fn folder_writes_eml_files() {
        let dir = std::env::temp_dir().join(format!(
            "pforte-mail-{}-{}",
            std::process::id(),
            crate::secrets::random_token(4)
        ));
        let m = Mailer::outbox(parse_sender("x@y.de").unwrap(), dir.join("nested"));
        let mail = Mail {
            to: "anna@example.de".into(),
            subject: "Hallo".into(),
            body: "Text".into(),
        };
        let Delivery::Outbox(a) = m.deliver(&mail, "<1@y.de>").await.unwrap() else {
            panic!()
        };
        let Delivery::Outbox(b) = m.deliver(&mail, "<2@y.de>").await.unwrap() else {
            panic!()
        };
        assert_ne!(a, b);
        assert!(a.extension().is_some_and(|e| e == "eml"));
        assert!(std::fs::read_to_string(&a)
            .unwrap()
            .contains("Subject: Hallo\r\n"));
        let files = std::fs::read_dir(dir.join("nested")).unwrap().count();
        assert_eq!(files, 2, "no temporary files left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
