//! A throwaway PostgreSQL server for the tests, so that `cargo test --workspace` needs no
//! running database: `initdb` into a temporary folder with Debian's server binaries
//! (`/usr/lib/postgresql/*/bin`, from `scripts/setup-dev.sh`), `postgres` on a free loopback
//! port with trust authentication, started once per test process on first use and torn down
//! when the test process exits (a small shell watchdog stops the server and removes the
//! folder, also after the test process was killed). [`Cluster`] also gives a test a server of
//! its own that it can stop and start (`pg_ctl stop -m fast`, same data directory and port).
//!
//! `PFORTE_TEST_PG_URL` names an existing server instead (CI or a developer's own server).

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

static URL: OnceLock<String> = OnceLock::new();

/// The administrative connection URL (database `postgres`) of the test server.
pub fn admin_url() -> String {
    if let Ok(u) = std::env::var("PFORTE_TEST_PG_URL") {
        return u;
    }
    URL.get_or_init(start).clone()
}

/// The newest PostgreSQL server binaries: `/usr/lib/postgresql/<major>/bin`, else `PATH`.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return bin;
    }
    let which = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match which {
        Some(p) if !p.is_empty() => Path::new(&p).parent().unwrap().to_path_buf(),
        _ => panic!(
            "no PostgreSQL server binaries (initdb) found: run scripts/setup-dev.sh, or set \
             PFORTE_TEST_PG_URL to a server with trust authentication"
        ),
    }
}

/// PostgreSQL refuses to run as root: as root, run the server as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway PostgreSQL cluster: its own folder, data directory and loopback port. The
/// shared test server is one; a test that stops and starts the server itself owns another
/// ([`Cluster::new`]), so that the other tests keep theirs.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    /// `initdb` into a new temporary folder and start the server on a free port. A small
    /// shell watchdog stops the server and removes the folder when the test process is gone
    /// (`/proc/PID`, readable whatever user the server runs as), also after it was killed.
    pub fn new() -> Cluster {
        let bin = bin_dir();
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let dir = std::env::temp_dir().join(format!(
            "pforte-pgtemp-{}-{}",
            std::process::id(),
            pforte::secrets::random_token(4)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if root {
            let ok = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown {} to the postgres user", dir.display());
        }
        let mut initdb = as_server_user(&bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null());
        succeed(initdb, "initdb");
        let script = r#"
while [ -d "/proc/$TESTPID" ]; do sleep 1; done
"$BIN/pg_ctl" -D "$DIR/data" stop -m fast -w >/dev/null 2>&1
rm -rf "$DIR"
"#;
        // Not waited for: the watchdog outlives this call and ends by itself after the tests.
        #[allow(clippy::zombie_processes)]
        let _watchdog = as_server_user(Path::new("/bin/sh"))
            .args(["-c", script])
            .env("BIN", &bin)
            .env("DIR", &dir)
            .env("TESTPID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the watchdog of the throwaway PostgreSQL");
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
        };
        cluster.start();
        cluster
    }

    /// The administrative connection URL (database `postgres`).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again) on the same data directory and port; waits until it accepts
    /// connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400",
            self.port,
            self.dir.display()
        );
        let out = self
            .pg_ctl(&["start", "-w", "-t", "60", "-o", &options])
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .output()
            .expect("run pg_ctl start");
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "the throwaway PostgreSQL did not start: {}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        );
        for _ in 0..200 {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the throwaway PostgreSQL did not accept connections within 20 s:\n{log}");
    }

    /// Stops the server the way an operator does (`pg_ctl stop -m fast`: open connections are
    /// ended, the data directory and port stay for [`Cluster::start`]).
    pub fn stop(&self) {
        succeed(
            self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]),
            "pg_ctl stop",
        );
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut c = as_server_user(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(self.dir.join("data")).args(args);
        c.stdout(Stdio::null());
        c
    }
}

/// Runs `cmd` to its end; panics with its standard error unless it succeeded.
fn succeed(mut cmd: Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start() -> String {
    // The shared cluster lives as long as the test process; its watchdog removes it.
    let cluster = std::mem::ManuallyDrop::new(Cluster::new());
    cluster.admin_url()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .pg_ctl(&["stop", "-m", "immediate", "-w"])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
