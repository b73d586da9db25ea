//! `pforte serve` as a separate process on the database of a [`TestServer`]: for the tests
//! that need a real process (signals, kill -9, JSON logs on standard error, two instances).

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use super::TestServer;

/// A running `pforte serve` child; killed (SIGKILL) when dropped.
pub struct Child {
    pub proc: std::process::Child,
    pub port: u16,
    pub issuer: String,
    /// Standard error (the log) of the process.
    pub log: PathBuf,
    env: Vec<(String, String)>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Child {
    /// Starts `pforte serve` on `seed`'s database and KEK, on a new port with its own
    /// issuer, with `env` added; waits until `/readyz` answers 200.
    pub async fn spawn(seed: &TestServer, env: &[(&str, &str)]) -> Child {
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        Self::spawn_at(seed, &issuer, port, env).await
    }

    /// As [`Child::spawn`] with a given issuer and port (several instances, one issuer).
    pub async fn spawn_at(
        seed: &TestServer,
        issuer: &str,
        port: u16,
        env: &[(&str, &str)],
    ) -> Child {
        let mut all: Vec<(String, String)> = vec![
            ("PFORTE_ISSUER".into(), issuer.into()),
            ("PFORTE_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("PFORTE_DATABASE_URL".into(), seed.db_url().into()),
            ("PFORTE_KEYS_ENCRYPTION_KEY".into(), seed.kek().into()),
            ("PFORTE_DATABASE_MAX_CONNECTIONS".into(), "8".into()),
            ("PFORTE_SHUTDOWN_DRAIN_SECS".into(), "0".into()),
        ];
        for (k, v) in env {
            all.retain(|(n, _)| n != k);
            all.push((k.to_string(), v.to_string()));
        }
        let log = std::env::temp_dir().join(format!(
            "pforte-child-{}-{port}-{}.log",
            std::process::id(),
            pforte::secrets::random_token(4)
        ));
        let mut child = Child {
            proc: start(&all, &log),
            port,
            issuer: issuer.into(),
            log,
            env: all,
        };
        child.wait_ready().await;
        child
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Waits until `/readyz` answers 200 (at most 30 s); panics with the log otherwise.
    pub async fn wait_ready(&mut self) {
        let https = self.issuer.starts_with("https://");
        let url = if https {
            format!("https://localhost:{}/readyz", self.port)
        } else {
            self.url("/readyz")
        };
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .resolve("localhost", ([127, 0, 0, 1], self.port).into())
            .build()
            .unwrap();
        for _ in 0..300 {
            if let Ok(r) = client.get(&url).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.proc.try_wait() {
                panic!("pforte exited ({status}):\n{}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("pforte did not become ready:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.proc.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} {}", self.proc.id());
    }

    /// SIGKILL, then the same process again on the same port, database and log file.
    pub async fn kill9_and_restart(&mut self) {
        self.proc.kill().unwrap();
        self.proc.wait().unwrap();
        self.proc = start(&self.env, &self.log);
        self.wait_ready().await;
    }
}

fn start(env: &[(String, String)], log: &PathBuf) -> std::process::Child {
    let err = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pforte"));
    cmd.arg("serve")
        .env_remove("PFORTE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start pforte serve")
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl TestServer {
    /// A view of this server's database as served by `child`: the test helpers
    /// (`Browser`, `login_code`, `exchange`, …) then talk to the child process.
    pub fn as_child(&self, child: &Child) -> TestServer {
        TestServer {
            backend: self.backend,
            issuer: child.issuer.clone(),
            app: self.app.clone(),
            port: child.port,
            db_url: self.db_url.clone(),
            kek: self.kek.clone(),
            running: None,
            _dir: None,
        }
    }
}
