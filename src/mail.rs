//! Outgoing e-mail.
//!
//! Owns: composing an RFC 5322 message (RFC 2047 encoded headers where they are not ASCII,
//! a UTF-8 `text/plain` body in quoted-printable, CRLF line ends) and handing it to the
//! configured transport.
//!
//! Transports:
//! - the **outbox** (`mail.outbox`, `PFORTE_MAIL_OUTBOX`): a development mailer that writes each
//!   message as `<timestamp>-<random>.eml` into a folder (created when missing) instead of
//!   sending it. Files appear atomically (written under a temporary name, then renamed) and are
//!   readable by the owner only, since they carry single-use links;
//! - **none configured**: the message is not delivered; a warning says that mail delivery is
//!   not configured. Callers carry on (registration does not fail because of it).
//!
//! SMTP delivery (submission with STARTTLS/implicit TLS and authentication) is planned as a
//! further transport behind the same [`Mailer::send`]; the messages composed here are already
//! suitable for it (CRLF, 7-bit clean through quoted-printable, lines ≤ 76 characters).

use std::path::{Path, PathBuf};

use base64::{engine::general_purpose::STANDARD, Engine};

use crate::config::Config;

/// A plain-text message to one recipient.
#[derive(Clone, Debug)]
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
    #[error("writing to the mail outbox {path}: {source}")]
    Outbox {
        path: String,
        source: std::io::Error,
    },
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Written into the outbox as this file.
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

#[derive(Clone, Debug)]
enum Transport {
    Outbox(PathBuf),
    None,
}

/// Sends mail through the configured transport. Cheap to build from the configuration.
#[derive(Clone, Debug)]
pub struct Mailer {
    from: Sender,
    transport: Transport,
}

impl Mailer {
    /// The mailer `config` describes. Errors when `mail.from` is not a usable address.
    pub fn from_config(config: &Config) -> Result<Mailer, MailError> {
        let from = match &config.mail.from {
            Some(raw) if !raw.trim().is_empty() => parse_sender(raw)?,
            _ => default_sender(config),
        };
        let transport = match &config.mail.outbox {
            Some(dir) if !dir.as_os_str().is_empty() => Transport::Outbox(dir.clone()),
            _ => Transport::None,
        };
        Ok(Mailer { from, transport })
    }

    /// A mailer writing into `dir` (for tests and tools).
    pub fn outbox(from: Sender, dir: impl Into<PathBuf>) -> Mailer {
        Mailer {
            from,
            transport: Transport::Outbox(dir.into()),
        }
    }

    pub fn sender(&self) -> &Sender {
        &self.from
    }

    /// Composes and delivers `mail`.
    pub async fn send(&self, mail: &Mail) -> Result<Delivery, MailError> {
        let message = compose(&self.from, mail, time::OffsetDateTime::now_utc())?;
        match &self.transport {
            Transport::None => {
                tracing::warn!(
                    subject = %mail.subject,
                    "mail delivery is not configured (set mail.outbox / PFORTE_MAIL_OUTBOX; SMTP is \
                     not available yet): message not sent"
                );
                Ok(Delivery::NotConfigured)
            }
            Transport::Outbox(dir) => {
                let dir = dir.clone();
                let path = tokio::task::spawn_blocking(move || write_outbox(&dir, &message))
                    .await
                    .map_err(|e| MailError::Outbox {
                        path: String::new(),
                        source: std::io::Error::other(e),
                    })??;
                tracing::info!(file = %path.display(), "mail written to the outbox");
                Ok(Delivery::Outbox(path))
            }
        }
    }
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

/// The complete message, CRLF line ends.
pub fn compose(
    from: &Sender,
    mail: &Mail,
    date: time::OffsetDateTime,
) -> Result<String, MailError> {
    let to = ascii_address(&mail.to).ok_or(MailError::InvalidRecipient)?;
    if mail.subject.contains(['\r', '\n']) {
        return Err(MailError::InvalidHeader);
    }
    let domain = from
        .address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("localhost");
    let message_id = format!("<{}@{}>", crate::secrets::random_token(18), domain);
    let from_header = match &from.name {
        // Encoded-words end their line: the address goes on a folded line of its own.
        Some(name) if !name.is_ascii() => format!("{}\r\n <{}>", encode_phrase(name), from.address),
        Some(name) => format!("{} <{}>", encode_phrase(name), from.address),
        None => from.address.clone(),
    };
    let mut out = String::new();
    for (name, value) in [
        ("From", from_header),
        ("To", to),
        ("Subject", encode_unstructured(&mail.subject)),
        ("Date", rfc5322_date(date)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0".into()),
        ("Content-Type", "text/plain; charset=utf-8".into()),
        ("Content-Transfer-Encoding", "quoted-printable".into()),
        // RFC 3834: an automatic message; auto-responders should not answer it.
        ("Auto-Submitted", "auto-generated".into()),
    ] {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&quoted_printable(&mail.body));
    out.push_str("\r\n");
    Ok(out)
}

/// `Mon, 23 Nov 2026 06:37:10 +0000` (RFC 5322 §3.3).
pub fn rfc5322_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let weekday = t.weekday().to_string();
    let month = t.month().to_string();
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        &weekday[..3],
        t.day(),
        &month[..3],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Encoded-words (RFC 2047 `B` encoding, UTF-8) for non-ASCII text; ASCII text as-is.
/// Lines with encoded-words stay within 76 characters (RFC 2047 §2) behind a header name of
/// up to 16 characters.
fn encode_unstructured(text: &str) -> String {
    if text.is_ascii() {
        return fold(text, "Subject: ".len());
    }
    // "=?utf-8?B?" + base64 + "?=" is 12 + 4·⌈n/3⌉ characters; 36 bytes give 60. A chunk never
    // splits a character, so every word decodes on its own.
    let max_bytes = 36;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > max_bytes {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?B?{}?=", STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        // Folding white space between encoded-words is not part of the decoded text.
        .join("\r\n ")
}

/// ASCII header text folded at spaces so that lines stay within 78 characters where the words
/// allow (RFC 5322 §2.1.1, §3.2.2); `used` is what the header name takes on the first line.
fn fold(text: &str, used: usize) -> String {
    let mut out = String::new();
    let mut width = used;
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            if width + 1 + word.len() > 78 && !word.is_empty() {
                out.push_str("\r\n ");
                width = 1;
            } else {
                out.push(' ');
                width += 1;
            }
        }
        out.push_str(word);
        width += word.len();
    }
    out
}

/// A display name: an atom sequence as-is, otherwise a quoted string, or encoded-words when
/// it is not ASCII.
fn encode_phrase(name: &str) -> String {
    if !name.is_ascii() {
        return encode_unstructured(name);
    }
    let atom_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~ ".contains(c);
    if name.chars().all(atom_char) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends and soft breaks keeping every line
/// within 76 characters.
pub fn quoted_printable(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut width = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal = match b {
                b'=' => false,
                b' ' | b'\t' => !last, // trailing white space would be lost in transport
                33..=126 => true,
                _ => false,
            };
            let token = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            // Room for the token plus a soft break "=" unless this is the line's end.
            let limit = if last { 76 } else { 75 };
            if width + token.len() > limit {
                out.push_str("=\r\n");
                width = 0;
            }
            out.push_str(&token);
            width += token.len();
        }
    }
    out
}

fn write_outbox(dir: &Path, message: &str) -> Result<PathBuf, MailError> {
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
        f.write_all(message.as_bytes())?;
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

    fn decode_qp(s: &str) -> Vec<u8> {
        let s = s.replace("=\r\n", "");
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
                );
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn quoted_printable_round_trips_and_keeps_lines_short() {
        let text = "Grüße aus Köln = schön\nhttp://127.0.0.1:8080/register/verify?token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\nend with space \n\nÄÖÜß€ ".repeat(3);
        let qp = quoted_printable(&text);
        for line in qp.split("\r\n") {
            assert!(line.len() <= 76, "{line:?}");
            assert!(line.is_ascii());
            assert!(!line.ends_with(' ') && !line.ends_with('\t'));
        }
        assert_eq!(
            String::from_utf8(decode_qp(&qp)).unwrap(),
            text.replace('\n', "\r\n")
        );
    }

    #[test]
    fn subject_encoded_words() {
        let s = "Bitte bestätigen Sie Ihre E-Mail-Adresse / Please confirm your email address";
        let enc = encode_unstructured(s);
        let mut decoded = Vec::new();
        for (i, line) in enc.split("\r\n").enumerate() {
            let used = if i == 0 { 9 } else { 0 };
            assert!(line.len() + used <= 76, "{line:?}");
            let w = line.trim_start();
            let b64 = w
                .strip_prefix("=?utf-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            decoded.extend(STANDARD.decode(b64).unwrap());
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), s);
        assert_eq!(encode_unstructured("plain"), "plain");
        let long = "Registrierungsversuch mit Ihrer E-Mail-Adresse / Registration attempt with your email address";
        let folded = encode_unstructured(long);
        assert_eq!(folded.replace("\r\n ", " "), long);
        assert!(folded
            .split("\r\n")
            .enumerate()
            .all(|(i, l)| l.len() + if i == 0 { 9 } else { 0 } <= 78));
    }

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
        assert!(encode_phrase("Stadt Köln, Amt 32").starts_with("=?utf-8?B?"));
        assert_eq!(encode_phrase("Pforte, Stadt"), "\"Pforte, Stadt\"");
        assert_eq!(encode_phrase("Pforte"), "Pforte");
    }

    #[test]
    fn message_headers() {
        let from = parse_sender("Bürgerbüro <noreply@musterstadt.de>").unwrap();
        let date = time::OffsetDateTime::from_unix_timestamp(1_795_415_830).unwrap();
        let msg = compose(
            &from,
            &Mail {
                to: "anna@example.de".into(),
                subject: "Grüße".into(),
                body: "Hallo\nWelt".into(),
            },
            date,
        )
        .unwrap();
        let (head, body) = msg.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("From: =?utf-8?B?"), "{head}");
        assert!(head.contains("\r\nTo: anna@example.de\r\n"));
        assert!(
            head.contains("\r\nSubject: =?utf-8?B?R3LDvMOfZQ==?=\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nDate: "), "{head}");
        assert!(head.contains("\r\nMessage-ID: <") && head.contains("@musterstadt.de>"));
        assert!(head.contains("\r\nMIME-Version: 1.0\r\n"));
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(head.contains("Content-Transfer-Encoding: quoted-printable"));
        assert_eq!(body, "Hallo\r\nWelt\r\n");
        assert!(msg.is_ascii());
        assert_eq!(rfc5322_date(date), "Mon, 23 Nov 2026 06:37:10 +0000");
        let bad = Mail {
            to: "a@b.de\r\nBcc: c@d.de".into(),
            subject: "x".into(),
            body: String::new(),
        };
        assert!(compose(&from, &bad, date).is_err());
    }

    #[tokio::test]
    async fn outbox_writes_eml_files() {
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
        let Delivery::Outbox(a) = m.send(&mail).await.unwrap() else {
            panic!()
        };
        let Delivery::Outbox(b) = m.send(&mail).await.unwrap() else {
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
