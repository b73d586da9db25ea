//! A throwaway PostgreSQL server for the tests, so that `cargo test --workspace` needs no
//! running database: `initdb` into a temporary folder with Debian's server binaries
//! (`/usr/lib/postgresql/*/bin`, from `scripts/setup-dev.sh`), `postgres` on a free loopback
//! port with trust authentication, started once per test process on first use and torn down
//! when the test process exits (a small shell watchdog stops the server and removes the
//! folder, also after the test process was killed).
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

fn start() -> String {
    let bin = bin_dir();
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let dir = std::env::temp_dir().join(format!("pforte-pgtemp-{}", std::process::id()));
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
    let data = dir.join("data");
    let out = as_server_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    // The watchdog: runs the server, and stops it and removes the folder when the test
    // process is gone (`/proc/PID`, readable whatever user the server runs as).
    let script = r#"
"$BIN/postgres" -D "$DIR/data" -p "$PORT" -k "$DIR" -c listen_addresses=127.0.0.1 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
    >"$DIR/server.log" 2>&1 &
pg=$!
while [ -d "/proc/$TESTPID" ] && kill -0 "$pg" 2>/dev/null; do sleep 1; done
kill -INT "$pg" 2>/dev/null
wait "$pg"
rm -rf "$DIR"
"#;
    // Not waited for: the watchdog outlives this call and ends by itself after the tests.
    #[allow(clippy::zombie_processes)]
    let _watchdog = as_server_user(Path::new("/bin/sh"))
        .args(["-c", script])
        .env("BIN", &bin)
        .env("DIR", &dir)
        .env("PORT", port.to_string())
        .env("TESTPID", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the throwaway PostgreSQL");
    for _ in 0..200 {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return format!("postgres://postgres@127.0.0.1:{port}/postgres");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    panic!("the throwaway PostgreSQL did not start within 20 s:\n{log}");
}
