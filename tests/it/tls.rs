//! `pforte serve` over HTTPS with rustls: the development CA from certs/ verifies it, HSTS is
//! sent, and the issuer in discovery is the https one.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let dir = crate::common::tempdir::Dir::new(&format!("pforte-tls-{}", std::process::id()));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let issuer = format!("https://localhost:{port}");
    let root = env!("CARGO_MANIFEST_DIR");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_pforte"))
            .arg("serve")
            .env("PFORTE_ISSUER", &issuer)
            .env("PFORTE_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "PFORTE_DATABASE_URL",
                format!("sqlite://{}/db.sqlite", dir.path.display()),
            )
            .env(
                "PFORTE_KEYS_ENCRYPTION_KEY",
                pforte::tokens::keys::Kek::generate_base64(),
            )
            .env("PFORTE_TLS_CERT", format!("{root}/certs/localhost.pem"))
            .env("PFORTE_TLS_KEY", format!("{root}/certs/localhost-key.pem"))
            .env("PFORTE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pforte serve"),
    );
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(format!("{root}/certs/dev-ca.pem")).unwrap())
            .unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(ca)
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .build()
        .unwrap();
    let url = format!("{issuer}/.well-known/openid-configuration");
    let mut resp = None;
    for _ in 0..100 {
        if let Ok(r) = https.get(&url).send().await {
            resp = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = resp.expect("pforte answers over https");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let meta: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(meta["issuer"], issuer);
    assert_eq!(meta["token_endpoint"], format!("{issuer}/token"));

    // Without the development CA the certificate is not trusted; plain http gets no answer.
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .build()
        .unwrap();
    assert!(untrusting.get(&url).send().await.is_err());
    let plain = reqwest::get(format!(
        "http://127.0.0.1:{port}/.well-known/openid-configuration"
    ))
    .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}
