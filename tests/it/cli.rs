//! The real `pforte` binary: migrations, clients, accounts, keys and policy from the command
//! line, on a SQLite file and on PostgreSQL; error messages for bad input and bad configuration;
//! the audit trail of policy changes.

use crate::common::{fresh_db, ops, tempdir, Backend};
use serde_json::Value;
use sqlx::Row;

const ISSUER: &str = "http://127.0.0.1:1";

struct Out {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// The error reason: the one `pforte: …` line on stderr (log lines aside).
    fn reason(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("pforte:") || l.starts_with("error:"))
            .collect();
        assert_eq!(lines.len(), 1, "exactly one reason line: {self:?}");
        let line = lines[0].to_string();
        // The cause is given once, not repeated by every layer that wraps it.
        let parts: Vec<&str> = line.split(": ").filter(|p| p.len() > 12).collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(!parts[i + 1..].contains(p), "repeated `{p}` in: {line}");
        }
        line
    }
}

/// The binary with a clean `PFORTE_*` environment plus `env`.
fn pforte(env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Out {
    let o = ops::run_pforte(env, args, stdin);
    Out {
        ok: o.status.success(),
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// One database, configured through the environment like an operator would.
struct Env {
    db_url: String,
    kek: String,
    _dir: Option<tempdir::Dir>,
}

impl Env {
    async fn new(backend: Backend) -> Env {
        let (db_url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempdir::Dir::new(&format!(
                    "pforte-cli-{}-{}",
                    std::process::id(),
                    pforte::secrets::random_token(6).replace(['-', '_'], "x")
                ));
                (
                    format!("sqlite://{}/pforte.db", dir.path.display()),
                    Some(dir),
                )
            }
            Backend::Postgres => fresh_db(backend).await,
        };
        Env {
            db_url,
            kek: pforte::tokens::keys::Kek::generate_base64(),
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        pforte(
            &[
                ("PFORTE_ISSUER", ISSUER),
                ("PFORTE_DATABASE_URL", &self.db_url),
                ("PFORTE_KEYS_ENCRYPTION_KEY", &self.kek),
            ],
            args,
            stdin,
        )
    }

    /// Runs and expects success.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.ok, "pforte {args:?} failed: {o:?}");
        o.stdout
    }

    /// Runs and expects failure with a one-line reason that says each of `says`.
    fn refuses(&self, args: &[&str], stdin: Option<&str>, says: &[&str]) {
        let reason = self.fails(args, stdin);
        for s in says {
            assert!(reason.contains(s), "`{s}` not in: {reason}");
        }
    }

    /// Runs and expects failure; returns the one-line reason.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let o = self.run_stdin(args, stdin);
        assert!(!o.ok, "pforte {args:?} should fail: {o:?}");
        assert_eq!(o.code, Some(1), "{o:?}");
        o.reason()
    }

    async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.db_url)
            .await
            .unwrap()
    }
}

async fn audit(pool: &sqlx::AnyPool, action: &str) -> Vec<(String, Option<String>, Value)> {
    sqlx::query("SELECT actor, target, detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("actor"),
                r.get::<Option<String>, _>("target"),
                serde_json::from_str(&r.get::<String, _>("detail")).unwrap(),
            )
        })
        .collect()
}

const CLIENT_ADD: &[&str] = &[
    "client",
    "add",
    "--id",
    "rp",
    "--secret",
    "rp-secret-123",
    "--redirect-uri",
    "https://rp.example/cb",
    "--grant-type",
    "authorization_code",
    "--grant-type",
    "client_credentials",
    "--scope",
    "openid",
    "--scope",
    "payment",
    "--name",
    "Sperrmüll",
    "--min-level",
    "substantial",
];

async fn commands(backend: Backend) {
    let env = Env::new(backend).await;

    // migrate (twice: idempotent).
    assert!(env.ok(&["migrate"]).contains("migrations applied"));
    assert!(env.ok(&["migrate"]).contains("migrations applied"));

    // Clients.
    let out = env.ok(CLIENT_ADD);
    assert!(
        out.contains("client rp registered (client_secret_basic)"),
        "{out}"
    );
    let list = env.ok(&["client", "list"]);
    let line = list
        .lines()
        .find(|l| l.starts_with("rp\t"))
        .unwrap_or_else(|| panic!("rp listed: {list}"));
    assert_eq!(
        line,
        "rp\tSperrmüll\tclient_secret_basic\tgrants=authorization_code,client_credentials\tscopes=openid,payment\tmin_level=substantial"
    );
    env.refuses(CLIENT_ADD, None, &["`rp`", "exists already"]);
    env.refuses(
        &[
            "client",
            "add",
            "--id",
            "rp-http",
            "--secret",
            "rp-secret-123",
            "--redirect-uri",
            "http://rp.example/cb",
        ],
        None,
        &["http://rp.example/cb", "loopback"],
    );
    assert!(
        !env.ok(&["client", "list"]).contains("rp-http"),
        "nothing registered"
    );

    // Accounts.
    let out = env.run_stdin(
        &[
            "account",
            "add",
            "--email",
            "anna@example.de",
            "--password-stdin",
            "--given-name",
            "Anna",
        ],
        Some("ein langes Passwort für Anna\n"),
    );
    assert!(out.ok, "{out:?}");
    assert!(
        out.stdout.contains("account anna@example.de created"),
        "{out:?}"
    );
    env.refuses(
        &[
            "account",
            "add",
            "--email",
            "ben@example.de",
            "--password-stdin",
        ],
        Some("kurz\n"),
        &["password too short", "at least 12 characters"],
    );
    env.refuses(
        &[
            "account",
            "add",
            "--email",
            "anna@example.de",
            "--password-stdin",
        ],
        Some("noch ein langes Passwort\n"),
        &["exists already"],
    );
    let list = env.ok(&["account", "list"]);
    assert!(list.contains("anna@example.de\tproofing=low"), "{list}");
    assert!(!list.contains("ben@example.de"), "{list}");

    let out = env.ok(&[
        "account",
        "proof",
        "--email",
        "anna@example.de",
        "--level",
        "substantial",
        "--evidence",
        "Bürgerbüro, Personalausweis geprüft",
    ]);
    assert!(out.contains("proofed at substantial"), "{out}");
    assert!(env
        .ok(&["account", "list"])
        .contains("anna@example.de\tproofing=substantial"));
    env.refuses(
        &[
            "account",
            "proof",
            "--email",
            "nobody@example.de",
            "--level",
            "high",
            "--evidence",
            "x",
        ],
        None,
        &["nobody@example.de", "not found"],
    );

    let out = env.ok(&["account", "disable", "--email", "anna@example.de"]);
    assert!(out.contains("account anna@example.de disabled"), "{out}");
    let list = env.ok(&["account", "list"]);
    assert!(
        list.lines()
            .any(|l| l.contains("anna@example.de") && l.ends_with("\tdisabled")),
        "{list}"
    );

    // Keys.
    let pool = env.db().await;
    let current = |pool: sqlx::AnyPool| async move {
        let mut v: Vec<String> =
            sqlx::query("SELECT kid FROM signing_keys WHERE state = 'current' ORDER BY kid")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("kid"))
                .collect();
        v.sort();
        v
    };
    let next: Vec<String> =
        sqlx::query("SELECT kid FROM signing_keys WHERE state = 'next' ORDER BY kid")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("kid"))
            .collect();
    let before = current(pool.clone()).await;
    assert_eq!(before.len(), 3);
    let out = env.ok(&["keys", "rotate"]);
    let now_signing: Vec<String> = out
        .trim()
        .strip_prefix("rotated; now signing with ")
        .unwrap_or_else(|| panic!("{out}"))
        .split(", ")
        .map(String::from)
        .collect();
    let mut sorted = now_signing.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        current(pool.clone()).await,
        "printed kids are current"
    );
    assert_eq!(sorted, next, "the pre-published next keys were promoted");
    let retired: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM signing_keys WHERE state = 'retired' AND remove_after IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(retired, 3, "old keys retired but still published");
    let rotated = audit(&pool, "keys.rotated").await;
    assert_eq!(rotated.len(), 1);
    assert_eq!(rotated[0].0, "cli");

    // Policy.
    let show = env.ok(&["policy", "show"]);
    assert!(show.contains("levels (max login age):"), "{show}");
    assert!(show.contains("  rp\tsubstantial"), "{show}");
    assert!(!show.contains("  high\t900 s"), "{show}");
    let before_payment = show
        .lines()
        .find(|l| l.starts_with("  payment\t"))
        .map(|l| l.trim().split('\t').nth(1).unwrap().to_string());
    let before_high: u64 = show
        .lines()
        .find(|l| l.starts_with("  high\t") && l.ends_with(" s"))
        .unwrap()
        .trim()
        .split('\t')
        .nth(1)
        .unwrap()
        .trim_end_matches(" s")
        .parse()
        .unwrap();

    let out = env.ok(&[
        "policy",
        "set",
        "scope",
        "payment",
        "--min-level",
        "substantial",
    ]);
    assert!(
        out.contains("scope payment: minimum level substantial"),
        "{out}"
    );
    let out = env.ok(&["policy", "set", "level", "high", "--max-age", "900"]);
    assert!(out.contains("level high: maximum login age 900 s"), "{out}");
    let out = env.ok(&["policy", "set", "client", "rp", "--min-level", "high"]);
    assert!(out.contains("client rp: minimum level high"), "{out}");
    env.refuses(
        &["policy", "set", "client", "nope", "--min-level", "high"],
        None,
        &["nope", "not found"],
    );
    env.refuses(
        &["policy", "set", "level", "high", "--max-age", "0"],
        None,
        &["max age"],
    );
    let o = env.run(&[
        "policy",
        "set",
        "scope",
        "payment",
        "--min-level",
        "extreme",
    ]);
    assert!(!o.ok && o.stderr.contains("extreme"), "{o:?}");

    let show = env.ok(&["policy", "show"]);
    assert!(show.contains("  payment\tsubstantial"), "{show}");
    assert!(show.contains("  high\t900 s"), "{show}");
    assert!(show.contains("  rp\thigh"), "{show}");
    assert!(env.ok(&["client", "list"]).contains("min_level=high"));

    // The audit log has each change with before and after.
    let scope = audit(&pool, "policy.scope_min_level").await;
    assert_eq!(scope.len(), 1, "{scope:?}");
    assert_eq!(scope[0].0, "cli");
    assert_eq!(scope[0].1.as_deref(), Some("payment"));
    assert_eq!(
        scope[0].2["before"],
        before_payment.map(Value::from).unwrap_or(Value::Null)
    );
    assert_eq!(scope[0].2["after"], "substantial");
    let level = audit(&pool, "policy.level_max_age").await;
    assert_eq!(level.len(), 1, "{level:?}");
    assert_eq!(level[0].1.as_deref(), Some("high"));
    assert_eq!(level[0].2["before"], before_high);
    assert_eq!(level[0].2["after"], 900);
    let client = audit(&pool, "policy.client_min_level").await;
    assert_eq!(client.len(), 1, "{client:?}");
    assert_eq!(client[0].1.as_deref(), Some("rp"));
    assert_eq!(client[0].2["before"], "substantial");
    assert_eq!(client[0].2["after"], "high");
    // Other changes are audited too.
    for action in [
        "client.created",
        "account.created",
        "account.proofed",
        "account.disabled",
    ] {
        assert_eq!(audit(&pool, action).await.len(), 1, "{action}");
    }
    let proofed = &audit(&pool, "account.proofed").await[0].2;
    assert_eq!(proofed["before"], "low");
    assert_eq!(proofed["after"], "substantial");
    assert_eq!(proofed["evidence"], "Bürgerbüro, Personalausweis geprüft");
    // The audit log never holds a secret.
    let all: Vec<String> = sqlx::query("SELECT detail FROM audit_log")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect();
    for d in &all {
        assert!(!d.contains("rp-secret-123"), "{d}");
        assert!(!d.contains("langes Passwort"), "{d}");
    }

    // Remove the client.
    let out = env.ok(&["client", "remove", "--id", "rp"]);
    assert!(out.contains("client rp removed"), "{out}");
    assert!(!env
        .ok(&["client", "list"])
        .lines()
        .any(|l| l.starts_with("rp\t")));
    env.refuses(
        &["client", "remove", "--id", "rp"],
        None,
        &["`rp`", "not found"],
    );
    let removed = audit(&pool, "client.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].2["before"]["id"], "rp");
    pool.close().await;
}

#[tokio::test]
async fn commands_sqlite() {
    commands(Backend::Sqlite).await;
}

#[tokio::test]
async fn commands_postgres() {
    commands(Backend::Postgres).await;
}

#[tokio::test]
async fn bad_configuration_names_the_problem() {
    let env = Env::new(Backend::Sqlite).await;
    let db = env.db_url.as_str();
    let kek = env.kek.as_str();

    // Plain http issuer off loopback.
    let o = pforte(
        &[
            ("PFORTE_ISSUER", "http://example.com"),
            ("PFORTE_DATABASE_URL", db),
            ("PFORTE_KEYS_ENCRYPTION_KEY", kek),
        ],
        &["migrate"],
        None,
    );
    assert!(!o.ok, "{o:?}");
    let r = o.reason();
    assert!(r.contains("`issuer`") && r.contains("PFORTE_ISSUER"), "{r}");

    // A config file that does not exist.
    let o = pforte(
        &[
            ("PFORTE_DATABASE_URL", db),
            ("PFORTE_KEYS_ENCRYPTION_KEY", kek),
        ],
        &["--config", "/nonexistent.toml", "migrate"],
        None,
    );
    assert!(!o.ok, "{o:?}");
    let r = o.reason();
    assert!(r.contains("/nonexistent.toml"), "{r}");
    assert_eq!(r.matches("No such file").count(), 1, "{r}");

    // A value of the wrong type.
    let o = pforte(
        &[
            ("PFORTE_ISSUER", ISSUER),
            ("PFORTE_DATABASE_URL", db),
            ("PFORTE_KEYS_ENCRYPTION_KEY", kek),
            ("PFORTE_TOKENS_CODE_TTL", "soon"),
        ],
        &["migrate"],
        None,
    );
    assert!(!o.ok, "{o:?}");
    let r = o.reason();
    assert!(
        r.contains("code_ttl") && r.contains("soon"),
        "names the key and the value: {r}"
    );

    // A malformed key-encryption key.
    let o = pforte(
        &[
            ("PFORTE_ISSUER", ISSUER),
            ("PFORTE_DATABASE_URL", db),
            ("PFORTE_KEYS_ENCRYPTION_KEY", "c2hvcnQ="),
        ],
        &["migrate"],
        None,
    );
    assert!(!o.ok, "{o:?}");
    assert!(o.reason().contains("keys.encryption_key"), "{o:?}");

    // No key-encryption key for a production issuer.
    let o = pforte(
        &[
            ("PFORTE_ISSUER", "https://login.example.de"),
            ("PFORTE_DATABASE_URL", db),
        ],
        &["migrate"],
        None,
    );
    assert!(!o.ok, "{o:?}");
    assert!(o.reason().contains("keys.encryption_key"), "{o:?}");

    // The same database opened with a different key-encryption key.
    assert!(env.ok(&["migrate"]).contains("migrations applied"));
    let other = pforte::tokens::keys::Kek::generate_base64();
    let o = pforte(
        &[
            ("PFORTE_ISSUER", ISSUER),
            ("PFORTE_DATABASE_URL", db),
            ("PFORTE_KEYS_ENCRYPTION_KEY", &other),
        ],
        &["client", "list"],
        None,
    );
    assert!(!o.ok, "{o:?}");
    let r = o.reason();
    assert_eq!(r.matches("cannot decrypt").count(), 1, "{r}");
    assert!(r.contains("key-encryption key"), "{r}");
    assert!(!o.stderr.contains("panicked"), "{o:?}");

    // `keys kek` prints a usable key without touching any database.
    let o = pforte(&[], &["keys", "kek"], None);
    assert!(o.ok, "{o:?}");
    pforte::tokens::keys::Kek::from_base64(o.stdout.trim()).expect("a valid KEK");
}

/// `account add` with the profile flags (issue 9): stored as self-entered, normalised (E.164,
/// `YYYY-MM-DD`, country `DE`); a bad value exits 1 naming the field and the reason, and
/// nothing is created.
#[tokio::test]
async fn account_add_profile_flags() {
    let env = Env::new(Backend::Sqlite).await;
    let out = env.run_stdin(
        &[
            "account",
            "add",
            "--email",
            "anna@example.de",
            "--password-stdin",
            "--given-name",
            "Anna",
            "--family-name",
            "Schmidt",
            "--birthdate",
            "1980-04-23",
            "--street-address",
            "Markt 1",
            "--postal-code",
            "59368",
            "--locality",
            "Werne",
            "--phone-number",
            "+49 2389 123456",
        ],
        Some("ein langes Passwort für Anna\n"),
    );
    assert!(out.ok, "{out:?}");
    let pool = env.db().await;
    let rows: Vec<(String, String, String)> =
        sqlx::query("SELECT name, value, source FROM account_attributes ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("name"), r.get("value"), r.get("source")))
            .collect();
    for (name, value) in [
        ("address.country", "DE"),
        ("address.locality", "Werne"),
        ("address.postal_code", "59368"),
        ("address.street_address", "Markt 1"),
        ("birthdate", "1980-04-23"),
        ("phone_number", "+492389123456"),
    ] {
        assert!(
            rows.contains(&(name.into(), value.into(), "self".into())),
            "{name}={value} in {rows:?}"
        );
    }
    for (flag, value, expect) in [
        (
            "--phone-number",
            "02389 123456",
            "phone_number: the number starts with 0",
        ),
        (
            "--birthdate",
            "2099-01-01",
            "birthdate: the date lies in the future",
        ),
        (
            "--postal-code",
            "5936",
            "address.postal_code: a German postal code has five digits",
        ),
    ] {
        let mut args = vec![
            "account",
            "add",
            "--email",
            "ben@example.de",
            "--password-stdin",
            "--street-address",
            "Markt 2",
            "--locality",
            "Werne",
        ];
        if flag != "--postal-code" {
            args.extend(["--postal-code", "59368"]);
        }
        args.extend([flag, value]);
        env.refuses(&args, Some("ein langes Passwort für Ben\n"), &[expect]);
    }
    let list = env.ok(&["account", "list"]);
    assert!(!list.contains("ben@example.de"), "{list}");
}

// ---- staff roles and bulk import/export (issue 12) ----------------------------------------

async fn staff_roles(backend: Backend) {
    let env = Env::new(backend).await;
    env.run_stdin(
        &[
            "account",
            "add",
            "--email",
            "clerk@example.de",
            "--password-stdin",
        ],
        Some("a long password 123\n"),
    );
    let out = env.ok(&[
        "admin",
        "grant",
        "--email",
        "clerk@example.de",
        "--role",
        "helpdesk",
    ]);
    assert!(out.contains("role helpdesk granted"), "{out}");
    // Granting again changes nothing and says so.
    let out = env.ok(&[
        "admin",
        "grant",
        "--email",
        "clerk@example.de",
        "--role",
        "helpdesk",
    ]);
    assert!(out.contains("already"), "{out}");
    env.ok(&[
        "admin",
        "grant",
        "--email",
        "Clerk@Example.de",
        "--role",
        "auditor",
    ]);
    let list = env.ok(&["admin", "list"]);
    assert!(list.contains("clerk@example.de\tauditor"), "{list}");
    assert!(list.contains("clerk@example.de\thelpdesk"), "{list}");
    // A bad role is a usage error (clap: exit 2) that names the allowed roles.
    let o = env.run(&[
        "admin",
        "grant",
        "--email",
        "clerk@example.de",
        "--role",
        "root",
    ]);
    assert!(!o.ok, "{o:?}");
    assert!(
        o.stderr
            .contains("expected admin, policy, helpdesk or auditor"),
        "{o:?}"
    );
    env.refuses(
        &[
            "admin",
            "grant",
            "--email",
            "nobody@example.de",
            "--role",
            "admin",
        ],
        None,
        &["not found"],
    );
    env.ok(&[
        "admin",
        "revoke",
        "--email",
        "clerk@example.de",
        "--role",
        "helpdesk",
    ]);
    env.refuses(
        &[
            "admin",
            "revoke",
            "--email",
            "clerk@example.de",
            "--role",
            "helpdesk",
        ],
        None,
        &["not found"],
    );
    let list = env.ok(&["admin", "list"]);
    assert!(!list.contains("helpdesk"), "{list}");
    let pool = env.db().await;
    let granted = audit(&pool, "staff.role_granted").await;
    assert_eq!(granted.len(), 2, "a repeated grant is not audited twice");
    assert_eq!(granted[0].0, "cli");
    assert_eq!(granted[0].2["role"], "helpdesk");
    let revoked = audit(&pool, "staff.role_revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        revoked[0].2["before"],
        serde_json::json!(["auditor", "helpdesk"])
    );
    assert_eq!(revoked[0].2["after"], serde_json::json!(["auditor"]));
}

#[tokio::test]
async fn staff_roles_sqlite() {
    staff_roles(Backend::Sqlite).await;
}

#[tokio::test]
async fn staff_roles_postgres() {
    staff_roles(Backend::Postgres).await;
}

async fn client_import_export(backend: Backend) {
    let env = Env::new(backend).await;
    let dir = tempdir::Dir::new(&format!(
        "pforte-import-{}-{}",
        std::process::id(),
        pforte::secrets::random_token(6).replace(['-', '_'], "x")
    ));
    let json_file = dir.path.join("services.json");
    std::fs::write(
        &json_file,
        r#"[
 {"id": "sperrmuell", "name": "Sperrmüll", "redirect_uris": ["https://sperrmuell.example/cb"], "min_level": "substantial"},
 {"id": "hund", "secret": "hund-secret-123", "redirect_uris": ["https://hund.example/cb"], "scopes": ["openid", "email"]},
 {"id": "kita", "redirect_uris": ["https://kita.example/cb"], "subject_type": "public"}
]"#,
    )
    .unwrap();
    let f = json_file.to_str().unwrap();
    let out = env.ok(&["client", "import", "--file", f]);
    assert!(out.contains("created 3, updated 0, unchanged 0"), "{out}");
    // The same file again: nothing changes (the secret is compared with its hash).
    let out = env.ok(&["client", "import", "--file", f]);
    assert!(out.contains("created 0, updated 0, unchanged 3"), "{out}");

    // Export as CSV and import that: unchanged (no secrets exported; the credential stays).
    let csv_file = dir.path.join("export.csv");
    env.ok(&["client", "export", "--file", csv_file.to_str().unwrap()]);
    let csv = std::fs::read_to_string(&csv_file).unwrap();
    assert!(csv.starts_with("id,secret,redirect_uris,"), "{csv}");
    assert!(!csv.contains("hund-secret"), "{csv}");
    let out = env.ok(&["client", "import", "--file", csv_file.to_str().unwrap()]);
    assert!(out.contains("unchanged 3"), "{out}");
    let exported = env.ok(&["client", "export"]);
    let v: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);

    // A file with bad rows names each (by line) and applies nothing, not even the good rows.
    let bad = dir.path.join("bad.csv");
    std::fs::write(
        &bad,
        "id,redirect_uris,min_level\n\
         neu,https://neu.example/cb,\n\
         kaputt,http://insecure.example/cb,\n\
         stufe,https://stufe.example/cb,medium\n\
         neu,https://neu.example/cb2,\n",
    )
    .unwrap();
    let r = env.fails(&["client", "import", "--file", bad.to_str().unwrap()], None);
    assert!(r.contains("3 bad row(s), nothing applied"), "{r}");
    assert!(r.contains("line 3 (row 2) (`kaputt`)"), "{r}");
    assert!(
        r.contains("line 4 (row 3) (`stufe`): min_level `medium`"),
        "{r}"
    );
    assert!(
        r.contains("line 5 (row 4) (`neu`): id `neu` appears already at line 2"),
        "{r}"
    );
    let list = env.ok(&["client", "list"]);
    assert!(!list.contains("neu"), "nothing applied: {list}");

    // A changed row updates exactly that client, audited with before and after.
    std::fs::write(
        &json_file,
        r#"[{"id": "kita", "name": "Kita-Anmeldung", "redirect_uris": ["https://kita.example/cb"]}]"#,
    )
    .unwrap();
    let out = env.ok(&["client", "import", "--file", f]);
    assert!(out.contains("created 0, updated 1, unchanged 0"), "{out}");
    let pool = env.db().await;
    let updated = audit(&pool, "client.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].2["before"]["name"], "kita");
    assert_eq!(updated[0].2["after"]["name"], "Kita-Anmeldung");
    assert_eq!(audit(&pool, "client.imported").await.len(), 2);
}

#[tokio::test]
async fn client_import_export_sqlite() {
    client_import_export(Backend::Sqlite).await;
}

#[tokio::test]
async fn client_import_export_postgres() {
    client_import_export(Backend::Postgres).await;
}
