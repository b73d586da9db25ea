//! Overload: ten times the measured capacity of `/token`, refused in real time.

use std::{
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::{child::Child, ops, *};

const CC_BODY: &str = "grant_type=client_credentials";

/// One answer of the overload run: status, `Retry-After` present, time from writing the
/// request to reading the whole answer, and how late the request was sent after its turn.
struct Answered {
    status: u16,
    retry_after: bool,
    took: Duration,
    late: Duration,
}

/// A keep-alive HTTP/1.1 connection that sends one prepared request at a time: a client
/// that costs little CPU, so that one core of the test box can offer ten times what the
/// server serves.
struct Conn {
    port: u16,
    stream: Option<tokio::io::BufReader<TcpStream>>,
}

impl Conn {
    async fn send(&mut self, request: &[u8]) -> Answered {
        use tokio::io::AsyncBufReadExt;
        let t = Instant::now();
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
            s.set_nodelay(true).unwrap();
            self.stream = Some(tokio::io::BufReader::new(s));
        }
        let s = self.stream.as_mut().unwrap();
        s.get_mut().write_all(request).await.expect("send");
        let (mut status, mut length, mut retry_after, mut close) = (0, None, false, false);
        let mut line = String::new();
        loop {
            line.clear();
            let n = s.read_line(&mut line).await.expect("read the answer");
            assert!(n > 0, "connection closed before the answer");
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if status == 0 {
                status = l.split_whitespace().nth(1).unwrap().parse().unwrap();
            } else if let Some(v) = l.strip_prefix("content-length:") {
                length = Some(v.trim().parse::<usize>().unwrap());
            } else if l.starts_with("retry-after:") {
                retry_after = true;
            } else if l == "connection: close" {
                close = true;
            }
        }
        let mut body = vec![0; length.expect("a Content-Length")];
        s.read_exact(&mut body).await.expect("the whole body");
        if close {
            self.stream = None;
        }
        assert!(
            status == 200 || status == 503,
            "{status}: {}",
            String::from_utf8_lossy(&body)
        );
        Answered {
            status,
            retry_after,
            took: t.elapsed(),
            late: Duration::ZERO,
        }
    }
}

/// The client_credentials request of `rp`, ready to send.
fn cc_request(port: u16) -> Vec<u8> {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("rp:{}", ops::RP_SECRET));
    format!(
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{CC_BODY}",
        CC_BODY.len()
    )
    .into_bytes()
}

/// `n` token requests, `clients` at a time, each client sending its next request when its
/// answer came (closed loop); each answer.
async fn closed_loop(port: u16, clients: usize, n: usize) -> Vec<Answered> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let next = next.clone();
            tokio::spawn(async move {
                let (request, mut conn) = (cc_request(port), Conn { port, stream: None });
                let mut out = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < n {
                    out.push(conn.send(&request).await);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// `rate` token requests per second for `run`, open loop: request i is due at i / rate
/// whatever the answers to the ones before. `conns` keep-alive connections take turns
/// (request i goes on connection i mod `conns`), so a request is late only when its
/// connection still waits for the answer to the one `conns` before it.
async fn open_loop(port: u16, rate: f64, run: Duration, conns: usize) -> Vec<Answered> {
    let total = (rate * run.as_secs_f64()) as usize;
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let tasks: Vec<_> = (0..conns)
        .map(|c| {
            tokio::spawn(async move {
                let (request, mut conn) = (cc_request(port), Conn { port, stream: None });
                let mut out = Vec::new();
                for i in (c..total).step_by(conns) {
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(due).await;
                    let late = due.elapsed();
                    out.push(Answered {
                        late,
                        ..conn.send(&request).await
                    });
                }
                out
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

fn percentile(took: impl Iterator<Item = Duration>, p: f64) -> Duration {
    let mut took: Vec<Duration> = took.collect();
    took.sort();
    took[((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1]
}

/// Overload, as the issue puts it: 10× the measured capacity for a bounded time gives no 5xx
/// other than 503 with `Retry-After`, and the admitted requests' p99 stays bounded.
///
/// The run: the unloaded latency `L99` (one request at a time), the capacity `X` of
/// `/token` (client_credentials; `LIMIT` clients in a closed loop, `LIMIT` being the
/// protocol class's `limits.protocol_concurrency`), then `10·X` requests per second, open
/// loop, for two seconds over `CONNS` keep-alive connections.
///
/// The bound: Pforte queues nothing at admission (wait `W = 0`: a request beyond `LIMIT`
/// is refused at once), so an admitted request only shares the server with the others it
/// holds: at most `CONNS` requests at once (each connection carries one), of which at most
/// `LIMIT` admitted. Shared fairly, an admitted request that alone takes at most `L99` is done
/// within `W + CONNS · L99` (`L99` measured before and after the overload, the larger one,
/// as the box's own load changes), however long the overload lasts and however much more is
/// offered; a server that queued the excess instead would hold it, and the latency would grow
/// with the run. The test asserts that bound on the p99 of the admitted (200) answers, every
/// answer a 200 or a 503 with `Retry-After` (the connection never failing), that requests
/// were admitted, and that more were refused than admitted.
///
/// The offer must really be ten times the capacity: a round counts only if at least nine times
/// the capacity was sent per second, measured over the time until the last answer (the open
/// loop sends late when every connection still waits for an answer, and a slow refusal would
/// make the offer smaller than it says). With `LIMIT = 1` the capacity is that of one request
/// at a time, and refusing ten times that in real time needs a refusal to cost well under a
/// tenth of a served token, server and client together; a refusal is cheap because the
/// limit answers before the handler, without touching the database, and without a log line
/// of its own (`web::resilience`).
///
/// This test has its own test binary (`tests/load`): cargo runs test binaries one after
/// another, so nothing else of the suite runs on the box while it measures. A burst of load
/// from outside during the overload but not during the unloaded measurements can still break
/// the bound or the offer without any fault of Pforte's: such a round is measured again,
/// five rounds at most. The offer is also the tighter of the two on this 2-core box: server
/// and client together answer about 50,000 refusals a second, so a round whose capacity
/// measures above about 5,500/s (it ranges 4,100–6,300) cannot offer nine times that and is
/// measured again. Every round asserts the answers and the refusals; a server that queued
/// instead of refusing fails every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resilience_overload_ten_times_capacity_only_503_and_admitted_p99_bounded() {
    const LIMIT: usize = 1;
    const CONNS: usize = 128;
    let seed = TestServer::start(Backend::Sqlite).await;
    seed.confidential("rp", false).await;
    let child = Child::spawn(
        &seed,
        &[("PFORTE_LIMITS_PROTOCOL_CONCURRENCY", &LIMIT.to_string())],
    )
    .await;
    closed_loop(child.port, 1, 20).await;
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let round = overload_round(child.port, LIMIT, CONNS).await;
        eprintln!("overload: {}", round.figures);
        if round.admitted_p99 <= round.bound && round.offered >= 9.0 * round.capacity {
            return;
        }
        let figures = round.figures;
        rounds.push(figures);
    }
    panic!(
        "in every round the admitted p99 was above the bound or less than nine times the \
         capacity was offered in real time: {rounds:#?}"
    );
}

/// What one round of the overload test measured.
struct Round {
    /// Requests per second served with `limit` clients in a closed loop.
    capacity: f64,
    /// Requests per second actually sent during the overload (all of them over the time it
    /// took until the last answer).
    offered: f64,
    admitted_p99: Duration,
    bound: Duration,
    figures: String,
}

/// One round of the overload test (see there): the unloaded p99, the capacity, ten times
/// that open loop, the unloaded p99 again. Asserts the answers; returns what it measured.
async fn overload_round(port: u16, limit: usize, conns: usize) -> Round {
    // Unloaded: one request at a time.
    let unloaded = closed_loop(port, 1, 100).await;
    let l99 = percentile(unloaded.iter().map(|a| a.took), 0.99);
    // Capacity: `limit` clients in a closed loop, as many as the server admits at once.
    let t = Instant::now();
    let full = closed_loop(port, limit, 500).await;
    let capacity = full.len() as f64 / t.elapsed().as_secs_f64();
    assert!(full.iter().all(|a| a.status == 200));
    // Ten times that, open loop.
    let run = Duration::from_secs(2);
    let t = Instant::now();
    let answers = open_loop(port, capacity * 10.0, run, conns).await;
    let took = t.elapsed();
    let admitted = || answers.iter().filter(|a| a.status == 200);
    let refused = || answers.iter().filter(|a| a.status == 503);
    for a in &answers {
        assert!(
            a.status == 200 || (a.status == 503 && a.retry_after),
            "{}",
            a.status
        );
    }
    // Service went on, and most of the offer was beyond it.
    assert!(admitted().count() > 0 && refused().count() > admitted().count());
    // The unloaded latency once more (the box's own load changes): the larger one counts.
    let unloaded = closed_loop(port, 1, 100).await;
    let l99 = l99.max(percentile(unloaded.iter().map(|a| a.took), 0.99));
    let a99 = percentile(admitted().map(|a| a.took), 0.99);
    let bound = l99 * conns as u32;
    let figures = format!(
        "unloaded p99 {l99:?}; capacity {capacity:.0}/s at {limit} at once; offered \
         {} in {took:?} (due {run:?}, {:.0}/s, late p99 {:?}); admitted {} ({:.0}/s) p99 {a99:?} \
         max {:?}; refused {} p99 {:?}; bound {bound:?}",
        answers.len(),
        answers.len() as f64 / took.as_secs_f64(),
        percentile(answers.iter().map(|a| a.late), 0.99),
        admitted().count(),
        admitted().count() as f64 / took.as_secs_f64(),
        admitted().map(|a| a.took).max().unwrap(),
        refused().count(),
        percentile(refused().map(|a| a.took), 0.99),
    );
    Round {
        capacity,
        offered: answers.len() as f64 / took.as_secs_f64(),
        admitted_p99: a99,
        bound,
        figures,
    }
}
