//! The command line (docs/contract.md, "Commands"). Every command reads the same configuration,
//! so it reaches the same database as `serve`.

use std::{io::Read, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};

use crate::{
    accounts::NewAccount,
    admin::{self, NewClient},
    app::App,
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    config::Config,
};

#[derive(Parser)]
#[command(
    name = "pforte",
    version,
    about = "Pforte: citizen-account single sign-on (OpenID Connect) with assurance levels"
)]
pub struct Cli {
    /// TOML configuration file (every key can be overridden by PFORTE_<SECTION>_<KEY>).
    #[arg(long, global = true, env = "PFORTE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the provider (applies pending migrations first).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Relying parties.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Citizen accounts.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// The assurance policy.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Upstream identity sources (Servicekonto.NRW, eID services, other OpenID providers).
    #[command(subcommand)]
    Upstream(UpstreamCmd),
    /// Staff roles for the admin console and API.
    #[command(subcommand)]
    Admin(AdminCmd),
}

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Grant a staff role: admin, policy, helpdesk or auditor.
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: admin::roles::Role,
    },
    /// Revoke a staff role (effective at the account's next console request).
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: admin::roles::Role,
    },
    /// List staff and their roles.
    List,
}

fn parse_role(s: &str) -> Result<admin::roles::Role, String> {
    admin::roles::Role::parse(s)
        .ok_or_else(|| format!("`{s}`: expected admin, policy, helpdesk or auditor"))
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum UpstreamCmd {
    /// Register an upstream; Pforte's redirect URI at it is {issuer}/upstream/{ID}/callback.
    Add {
        #[arg(long)]
        id: String,
        /// servicekonto-nrw, eid or oidc.
        #[arg(long)]
        profile: String,
        #[arg(long)]
        issuer: String,
        #[arg(long = "client-id")]
        client_id: String,
        /// The client secret at the upstream (not needed with `--auth-method private_key_jwt`).
        #[arg(long = "client-secret")]
        client_secret: Option<String>,
        /// The highest level a login through it can count at (default by profile).
        #[arg(long = "max-level", value_parser = parse_level)]
        max_level: Option<Level>,
        /// Shown on the login page: "Mit {NAME} anmelden".
        #[arg(long)]
        name: Option<String>,
        /// How its acr values map to levels: VALUE=LEVEL (repeatable).
        #[arg(long = "acr-map")]
        acr_map: Vec<String>,
        /// Scopes to ask for (repeatable; default by profile).
        #[arg(long = "scope")]
        scope: Vec<String>,
        /// Upstream claim to Pforte attribute: UPSTREAM=PFORTE (repeatable; default by profile).
        #[arg(long = "claim")]
        claim: Vec<String>,
        /// Client authentication at the upstream's token endpoint: client_secret_basic
        /// (default), client_secret_post or private_key_jwt (Pforte's signing key, {issuer}/jwks).
        #[arg(long = "auth-method")]
        auth_method: Option<String>,
        /// Also read the upstream's userinfo endpoint.
        #[arg(long)]
        userinfo: bool,
        /// Logging out at Pforte also ends the session at the upstream (its end_session_endpoint).
        #[arg(long = "end-session")]
        end_session: bool,
    },
    /// List upstreams.
    List,
    /// Remove an upstream.
    Remove {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum ClientCmd {
    /// Register a relying party (no secret: a public client with PKCE).
    Add(ClientAdd),
    /// List relying parties.
    List,
    /// Remove a relying party and everything issued to it.
    Remove {
        #[arg(long)]
        id: String,
    },
    /// Register or update many relying parties from a JSON or CSV file (`.csv`: CSV);
    /// idempotent by id; nothing is applied if any row is bad.
    Import {
        #[arg(long)]
        file: PathBuf,
    },
    /// Write every relying party in the import format (JSON, or CSV for a `.csv` file);
    /// secrets are never exported.
    Export {
        #[arg(long)]
        file: Option<PathBuf>,
        /// json or csv (default: by the file name, else json).
        #[arg(long)]
        format: Option<String>,
    },
}

#[derive(Args)]
pub struct ClientAdd {
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub secret: Option<String>,
    #[arg(long = "redirect-uri")]
    pub redirect_uri: Vec<String>,
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uri: Vec<String>,
    /// authorization_code, refresh_token or client_credentials (default: the first two).
    #[arg(long = "grant-type")]
    pub grant_type: Vec<String>,
    /// What the client may ask for (default: openid profile email address).
    #[arg(long)]
    pub scope: Vec<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long = "min-level", value_parser = parse_level)]
    pub min_level: Option<Level>,
    /// private_key_jwt: the client's JSON Web Key Set (inline JSON).
    #[arg(long)]
    pub jwks: Option<String>,
    /// private_key_jwt: where the client publishes its keys.
    #[arg(long = "jwks-uri")]
    pub jwks_uri: Option<String>,
    /// ID token algorithm: RS256 (default), ES256 or EdDSA.
    #[arg(long = "id-token-alg")]
    pub id_token_alg: Option<String>,
    /// acr spelling in this client's tokens: eidas (default), bsi or stork.
    #[arg(long = "acr-vocabulary")]
    pub acr_vocabulary: Option<String>,
    /// A service of the municipality itself: no consent screen.
    #[arg(long = "first-party")]
    pub first_party: bool,
    /// A resource server: may introspect tokens issued to any client (others only their own).
    #[arg(long = "introspect")]
    pub introspect: bool,
    /// A legacy confidential client that cannot send PKCE (RFC 9700 §2.1.1 requires it of
    /// every other client).
    #[arg(long = "pkce-optional")]
    pub pkce_optional: bool,
    /// Back-channel logout endpoint of the relying party (OpenID Connect Back-Channel Logout).
    #[arg(long = "backchannel-logout-uri")]
    pub backchannel_logout_uri: Option<String>,
    /// The relying party requires `sid` in logout tokens.
    #[arg(long = "backchannel-logout-session-required")]
    pub backchannel_logout_session_required: bool,
    /// May receive verified_claims (OpenID Connect for Identity Assurance): attributes
    /// proofed by the eID or in person, when it asks for them and the citizen consents.
    #[arg(long = "verified-claims")]
    pub verified_claims: bool,
    /// public or pairwise sub (OIDC Core §8; default: tokens.default_subject_type).
    #[arg(long = "subject-type")]
    pub subject_type: Option<String>,
    /// Pairwise clients with redirect URIs on several hosts: an https URL whose JSON array
    /// lists them all; its host is the sector.
    #[arg(long = "sector-identifier-uri")]
    pub sector_identifier_uri: Option<String>,
}

#[derive(Subcommand)]
pub enum AccountCmd {
    /// Create a verified local citizen account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long = "password-stdin", required = true)]
        password_stdin: bool,
        #[arg(long = "given-name")]
        given_name: Option<String>,
        #[arg(long = "family-name")]
        family_name: Option<String>,
        /// Birth date, YYYY-MM-DD.
        #[arg(long)]
        birthdate: Option<String>,
        /// Street and house number of the postal address.
        #[arg(long = "street-address")]
        street_address: Option<String>,
        #[arg(long = "postal-code")]
        postal_code: Option<String>,
        /// Town or city.
        #[arg(long)]
        locality: Option<String>,
        /// ISO 3166-1 two-letter country code (default DE when an address is given).
        #[arg(long)]
        country: Option<String>,
        /// Phone number in international form (E.164), e.g. +49 2389 123456.
        #[arg(long = "phone-number")]
        phone_number: Option<String>,
    },
    /// List accounts.
    List,
    /// Disable an account and revoke everything issued for it.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Record that the citizen's identity was verified up to LEVEL (audited).
    Proof {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_level)]
        level: Level,
        #[arg(long)]
        evidence: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Create the next signing keys and schedule the current ones out.
    Rotate,
    /// Print a fresh key-encryption key (for keys.encryption_key).
    Kek,
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Print the assurance policy.
    Show,
    /// Change the policy.
    #[command(subcommand)]
    Set(PolicySet),
}

#[derive(Subcommand)]
pub enum PolicySet {
    /// A client's minimum level, and which login methods and upstreams it may offer.
    Client {
        id: String,
        #[arg(long = "min-level", value_parser = parse_level)]
        min_level: Option<Level>,
        /// Local login methods the client may offer: password, totp, passkey (repeatable).
        #[arg(long = "method")]
        method: Vec<String>,
        /// Upstreams the client may offer (repeatable).
        #[arg(long = "upstream")]
        upstream: Vec<String>,
        /// Allow every method and upstream again.
        #[arg(long = "all-methods", conflicts_with_all = ["method", "upstream"])]
        all_methods: bool,
        /// Whether the client may receive verified_claims: true or false.
        #[arg(long = "verified-claims")]
        verified_claims: Option<bool>,
    },
    /// How far an upstream is trusted and how its acr values map to levels.
    Upstream {
        id: String,
        #[arg(long = "max-level", value_parser = parse_level)]
        max_level: Option<Level>,
        /// VALUE=LEVEL (repeatable); replaces the whole mapping.
        #[arg(long = "acr-map")]
        acr_map: Vec<String>,
    },
    /// A scope's minimum level.
    Scope {
        name: String,
        #[arg(long = "min-level", value_parser = parse_level)]
        min_level: Level,
    },
    /// How old a login may be and still count at LEVEL.
    Level {
        #[arg(value_parser = parse_level)]
        level: Level,
        #[arg(long = "max-age")]
        max_age: u64,
    },
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The log format is configuration (`logging.format`); a configuration that does not load
    // is reported by `run` below, in the default format.
    let format = Config::load(cli.config.as_deref())
        .map(|c| c.logging.format)
        .unwrap_or_default();
    crate::logging::init(format);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pforte: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pforte: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line. Most of our errors already print their cause
/// (`"database: {0}"`), so a cause whose text is already there is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
    }
    msg.replace('\n', " ")
}

const ACTOR: &Actor = &Actor::Cli;

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Keys(KeysCmd::Kek) = cli.command {
        println!("{}", crate::tokens::keys::Kek::generate_base64());
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    let app = App::open(config).await?;
    match cli.command {
        Command::Serve => {
            let issuer = app.config.issuer.clone();
            // JSON logs: every line on standard error is one JSON object, so no banner.
            if app.config.logging.format == crate::logging::LogFormat::Text {
                eprintln!(
                "Pforte runs at {issuer}\n  discovery: {issuer}/.well-known/openid-configuration\n  add a client:  pforte client add --id demo --secret demo-secret-123 --redirect-uri http://127.0.0.1:9999/cb\n  add a citizen: echo 'a long password' | pforte account add --email anna@example.de --password-stdin --given-name Anna"
            );
            }
            crate::server::serve(app).await?;
        }
        Command::Migrate => println!("migrations applied"),
        Command::Client(ClientCmd::Add(a)) => {
            let c = admin::register_client(
                &app.db,
                &app.hasher,
                ACTOR,
                NewClient {
                    id: a.id,
                    name: a.name,
                    secret: a.secret,
                    redirect_uris: a.redirect_uri,
                    post_logout_redirect_uris: a.post_logout_redirect_uri,
                    grant_types: a.grant_type,
                    scopes: a.scope,
                    min_level: a.min_level,
                    jwks: a.jwks,
                    jwks_uri: a.jwks_uri,
                    id_token_alg: a.id_token_alg,
                    acr_vocabulary: a.acr_vocabulary,
                    first_party: a.first_party,
                    may_introspect: a.introspect,
                    pkce_optional: a.pkce_optional,
                    backchannel_logout_uri: a.backchannel_logout_uri,
                    backchannel_logout_session_required: a.backchannel_logout_session_required,
                    verified_claims: a.verified_claims,
                    subject_type: a
                        .subject_type
                        .or_else(|| Some(app.config.tokens.default_subject_type.clone())),
                    sector_identifier_uri: a.sector_identifier_uri,
                },
            )
            .await?;
            println!(
                "client {} registered ({})",
                c.id, c.token_endpoint_auth_method
            );
        }
        Command::Client(ClientCmd::List) => {
            for c in app.db.client_list().await? {
                println!(
                    "{}\t{}\t{}\tgrants={}\tscopes={}\tmin_level={}{}{}{}",
                    c.id,
                    c.name,
                    c.token_endpoint_auth_method,
                    joined(&c.grant_types),
                    c.scopes.join(","),
                    c.min_level.map_or("-", Level::as_str),
                    // Only what differs from the default, so existing columns stay put.
                    match &c.sector_identifier {
                        Some(s) => format!("\tsubject={}:{s}", c.subject_type),
                        None => String::new(),
                    },
                    if c.verified_claims {
                        "\tverified_claims"
                    } else {
                        ""
                    },
                    if c.disabled_at.is_some() {
                        "\tdisabled"
                    } else {
                        ""
                    }
                );
            }
        }
        Command::Client(ClientCmd::Import { file }) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let format = admin::bulk::Format::of_path(&file);
            let rows = admin::bulk::parse(&text, format).map_err(admin::AdminError::Rows)?;
            let report = admin::bulk::import(
                &app.db,
                &app.hasher,
                ACTOR,
                &app.config.tokens.default_subject_type,
                rows,
            )
            .await?;
            println!("imported {}: {}", file.display(), report.summary());
        }
        Command::Client(ClientCmd::Export { file, format }) => {
            let format = match (format.as_deref(), &file) {
                (Some("json"), _) => admin::bulk::Format::Json,
                (Some("csv"), _) => admin::bulk::Format::Csv,
                (Some(f), _) => anyhow::bail!("--format `{f}`: expected json or csv"),
                (None, Some(f)) => admin::bulk::Format::of_path(f),
                (None, None) => admin::bulk::Format::Json,
            };
            let text = admin::bulk::export_all(&app.db, format).await?;
            match file {
                Some(f) => {
                    std::fs::write(&f, text)
                        .map_err(|e| anyhow::anyhow!("writing {}: {e}", f.display()))?;
                    eprintln!("exported to {}", f.display());
                }
                None => print!("{text}"),
            }
        }
        Command::Admin(AdminCmd::Grant { email, role }) => {
            if admin::grant_role(&app.db, ACTOR, &email, role).await? {
                println!("{email}: role {role} granted");
            } else {
                println!("{email}: has role {role} already");
            }
        }
        Command::Admin(AdminCmd::Revoke { email, role }) => {
            admin::revoke_role(&app.db, ACTOR, &email, role).await?;
            println!("{email}: role {role} revoked");
        }
        Command::Admin(AdminCmd::List) => {
            for s in app.db.staff_list().await? {
                println!(
                    "{}\t{}\t{}\tgranted_by={}",
                    s.email, s.role, s.account_id, s.granted_by
                );
            }
        }
        Command::Client(ClientCmd::Remove { id }) => {
            admin::remove_client(&app.db, ACTOR, &id).await?;
            println!("client {id} removed");
        }
        Command::Account(AccountCmd::Add {
            email,
            given_name,
            family_name,
            birthdate,
            street_address,
            postal_code,
            locality,
            country,
            phone_number,
            ..
        }) => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| anyhow::anyhow!("reading the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let a = admin::add_account_with_details(
                &app.db,
                &app.hasher,
                ACTOR,
                NewAccount {
                    email,
                    password,
                    given_name,
                    family_name,
                    email_verified: true,
                },
                pforte_details(
                    birthdate,
                    street_address,
                    postal_code,
                    locality,
                    country,
                    phone_number,
                ),
                app.config.login.min_password_length as usize,
            )
            .await?;
            println!("account {} created ({})", a.email, a.id);
        }
        Command::Account(AccountCmd::List) => {
            for a in app.db.account_list().await? {
                println!(
                    "{}\t{}\tproofing={}{}",
                    a.id,
                    a.email,
                    a.proofing_level,
                    if a.disabled_at.is_some() {
                        "\tdisabled"
                    } else {
                        ""
                    }
                );
            }
        }
        Command::Account(AccountCmd::Disable { email }) => {
            let a = admin::disable_account(&app.db, ACTOR, &email).await?;
            println!("account {} disabled", a.email);
        }
        Command::Account(AccountCmd::Proof {
            email,
            level,
            evidence,
        }) => {
            let a = admin::proof_account(&app.db, ACTOR, &email, level, &evidence).await?;
            println!("account {} proofed at {level}", a.email);
        }
        Command::Keys(KeysCmd::Rotate) => {
            let kids = app.keys.rotate(app.max_token_lifetime()).await?;
            audit::record(
                &app.db,
                Entry::new(Event::KeysRotated, Actor::Cli).after(&kids),
            )
            .await?;
            println!("rotated; now signing with {}", kids.join(", "));
        }
        Command::Keys(KeysCmd::Kek) => unreachable!("handled above"),
        Command::Policy(PolicyCmd::Show) => {
            let p = app.db.policy_load().await?;
            println!("levels (max login age):");
            for l in Level::ALL {
                println!("  {l}\t{} s", p.max_age_of(l));
            }
            println!("scopes (minimum level):");
            for (s, l) in &p.scope_min {
                println!("  {s}\t{l}");
            }
            println!("clients (minimum level, login methods, upstreams):");
            for c in app.db.client_list().await? {
                println!(
                    "  {}\t{}\tmethods={}\tupstreams={}",
                    c.id,
                    c.min_level.unwrap_or(Level::Low),
                    c.login_methods
                        .map(|m| joined(&m))
                        .unwrap_or_else(|| "all".into()),
                    c.upstreams
                        .map(|u| u.join(","))
                        .unwrap_or_else(|| "all".into())
                );
            }
            println!("upstreams (trust, acr mapping):");
            for u in app.db.upstream_list().await? {
                let map: Vec<String> = u.acr_map.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "  {}\tmax_level={}\tacr_map={}",
                    u.id,
                    u.max_level,
                    map.join(",")
                );
            }
        }
        Command::Policy(PolicyCmd::Set(PolicySet::Client {
            id,
            min_level,
            method,
            upstream,
            all_methods,
            verified_claims,
        })) => {
            if min_level.is_none()
                && method.is_empty()
                && upstream.is_empty()
                && !all_methods
                && verified_claims.is_none()
            {
                anyhow::bail!(
                    "policy set client: give --min-level, --method, --upstream, --all-methods or --verified-claims"
                );
            }
            if let Some(allowed) = verified_claims {
                admin::set_client_verified_claims(&app.db, ACTOR, &id, allowed).await?;
                println!("client {id}: verified_claims {allowed}");
            }
            if let Some(level) = min_level {
                admin::set_client_min_level(&app.db, ACTOR, &id, Some(level)).await?;
                println!("client {id}: minimum level {level}");
            }
            if all_methods || !method.is_empty() || !upstream.is_empty() {
                let m = (!method.is_empty()).then_some(method);
                let u = (!upstream.is_empty()).then_some(upstream);
                admin::set_client_methods(&app.db, ACTOR, &id, m.clone(), u.clone()).await?;
                println!(
                    "client {id}: methods {}, upstreams {}",
                    m.map(|m| m.join(",")).unwrap_or_else(|| "all".into()),
                    u.map(|u| u.join(",")).unwrap_or_else(|| "all".into())
                );
            }
        }
        Command::Policy(PolicyCmd::Set(PolicySet::Upstream {
            id,
            max_level,
            acr_map,
        })) => {
            let map = (!acr_map.is_empty())
                .then(|| crate::upstream::parse_acr_map(&acr_map))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            admin::set_upstream_trust(&app.db, ACTOR, &id, max_level, map).await?;
            println!("upstream {id}: trust updated");
        }
        Command::Upstream(UpstreamCmd::Add {
            id,
            profile,
            issuer,
            client_id,
            client_secret,
            max_level,
            name,
            acr_map,
            scope,
            claim,
            auth_method,
            userinfo,
            end_session,
        }) => {
            let acr_map = crate::upstream::parse_acr_map(&acr_map).map_err(anyhow::Error::msg)?;
            let claim_map = crate::upstream::parse_claim_map(&claim).map_err(anyhow::Error::msg)?;
            let u = admin::add_upstream(
                &app.db,
                &app.kek,
                ACTOR,
                admin::NewUpstream {
                    id,
                    profile,
                    issuer,
                    client_id,
                    client_secret: client_secret.unwrap_or_default(),
                    max_level,
                    name,
                    acr_map,
                    scopes: scope,
                    claim_map,
                    auth_method,
                    userinfo,
                    end_session,
                },
            )
            .await?;
            println!(
                "upstream {} registered (max level {}); redirect URI at it: {}/upstream/{}/callback",
                u.id, u.max_level, app.config.issuer, u.id
            );
        }
        Command::Upstream(UpstreamCmd::List) => {
            for u in app.db.upstream_list().await? {
                let map: Vec<String> = u.acr_map.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "{}\t{}\t{}\t{}\tmax_level={}\tacr_map={}",
                    u.id,
                    u.name,
                    u.profile,
                    u.issuer,
                    u.max_level,
                    map.join(",")
                );
            }
        }
        Command::Upstream(UpstreamCmd::Remove { id }) => {
            admin::remove_upstream(&app.db, ACTOR, &id).await?;
            println!("upstream {id} removed");
        }
        Command::Policy(PolicyCmd::Set(PolicySet::Scope { name, min_level })) => {
            admin::set_scope_min_level(&app.db, ACTOR, &name, Some(min_level)).await?;
            println!("scope {name}: minimum level {min_level}");
        }
        Command::Policy(PolicyCmd::Set(PolicySet::Level { level, max_age })) => {
            admin::set_level_max_age(&app.db, ACTOR, level, max_age).await?;
            println!("level {level}: maximum login age {max_age} s");
        }
    }
    Ok(())
}

/// A list of typed stored values as the CLI prints it: their names, comma-separated.
fn joined<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The profile flags of `account add` as the details to check.
fn pforte_details(
    birthdate: Option<String>,
    street_address: Option<String>,
    postal_code: Option<String>,
    locality: Option<String>,
    country: Option<String>,
    phone_number: Option<String>,
) -> crate::accounts::details::DetailsInput {
    crate::accounts::details::DetailsInput {
        birthdate,
        street_address,
        postal_code,
        locality,
        country,
        phone_number,
        ..Default::default()
    }
}
