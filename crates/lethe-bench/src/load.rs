//! A closed-loop load generator: each connection sends its next request as soon as the
//! previous answer has been read in full, so latency is never hidden by queueing in the
//! client.

use crate::LoadArgs;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Where requests go and how they authenticate.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub key: String,
}

/// Latency figures of one measured phase, in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What one connection saw during the measured window.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// The windows of a run, shared by every connection.
#[derive(Clone, Copy)]
struct Windows {
    measure_from: Instant,
    end: Instant,
}

/// Warms up, then measures, with `args.connections` connections asking about random
/// consumers from `consumers`.
///
/// The connections run on a thread of their own in a single-threaded runtime, as
/// `wrk -t1` runs them: the generator shares the two cores with the server, and a
/// reqwest client on the multi-threaded runtime cost 0.09 ms of CPU per request (a
/// quarter of the machine at 8 connections) against wrk's 0.04 ms.
pub async fn run(target: &Target, args: &LoadArgs, consumers: Range<u64>, seed: u64) -> anyhow::Result<Stats> {
    let endpoint = Arc::new(Endpoint::new(target)?);
    let args = args.clone();
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(generate(endpoint, &args, consumers, seed))
    })
    .await?
}

async fn generate(endpoint: Arc<Endpoint>, args: &LoadArgs, consumers: Range<u64>, seed: u64) -> anyhow::Result<Stats> {
    let start = Instant::now();
    let windows = Windows {
        measure_from: start + Duration::from_secs(args.warmup),
        end: start + Duration::from_secs(args.warmup + args.duration),
    };
    let mut tasks = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let endpoint = endpoint.clone();
        let consumers = consumers.clone();
        let rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64));
        tasks.push(tokio::spawn(connection(endpoint, consumers, rng, windows)));
    }
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await??;
        all.latencies_us.extend(tally.latencies_us);
        all.errors += tally.errors;
        all.first_error = all.first_error.or(tally.first_error);
    }
    if let Some(error) = &all.first_error {
        eprintln!("lethe-bench: {} failed requests; the first: {error}", all.errors);
    }
    Ok(summarize(all, args.duration as f64))
}

/// Where the searches go, parsed once: the request line, `Host` and `Authorization`.
struct Endpoint {
    authority: String,
    host: HeaderValue,
    path: Uri,
    authorization: HeaderValue,
}

/// One HTTP/1.1 connection's sending half.
type Sender = SendRequest<Full<Bytes>>;

impl Endpoint {
    fn new(target: &Target) -> anyhow::Result<Self> {
        let uri: Uri = target.url.parse()?;
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("{} names no host", target.url))?
            .to_string();
        let path = uri
            .path_and_query()
            .ok_or_else(|| anyhow::anyhow!("{} has no path", target.url))?
            .as_str()
            .parse()?;
        Ok(Self {
            host: HeaderValue::from_str(&authority)?,
            authority,
            path,
            authorization: HeaderValue::from_str(&format!("Bearer {}", target.key))?,
        })
    }

    /// A new keep-alive connection; its I/O runs as a task of the current runtime.
    async fn connect(&self) -> anyhow::Result<Sender> {
        let stream = TcpStream::connect(&self.authority).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// One consumer search; the body is read in full, as a client must before reusing
    /// the connection.
    async fn search(&self, sender: &mut Sender, consumer: u64) -> anyhow::Result<()> {
        let body = format!(r#"{{"consumer":"cons-{consumer:07}"}}"#);
        let request = Request::post(self.path.clone())
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(Full::new(Bytes::from(body)))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut head = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                let room = ERROR_EXCERPT.saturating_sub(head.len());
                head.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        anyhow::ensure!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&head));
        Ok(())
    }
}

/// How much of a failed answer an error quotes.
const ERROR_EXCERPT: usize = 300;

/// One keep-alive connection in a closed loop until the end of the run; a connection the
/// server closed is opened again.
async fn connection(
    endpoint: Arc<Endpoint>,
    consumers: Range<u64>,
    mut rng: StdRng,
    windows: Windows,
) -> anyhow::Result<Tally> {
    let mut sender = endpoint.connect().await?;
    let mut tally = Tally::default();
    loop {
        let sent = Instant::now();
        if sent >= windows.end {
            return Ok(tally);
        }
        if sender.is_closed() {
            sender = endpoint.connect().await?;
        }
        let outcome = endpoint.search(&mut sender, rng.gen_range(consumers.clone())).await;
        let done = Instant::now();
        // Only requests wholly inside the measured window count.
        if sent < windows.measure_from || done > windows.end {
            continue;
        }
        match outcome {
            Ok(()) => tally
                .latencies_us
                .push((done - sent).as_micros().min(u32::MAX as u128) as u32),
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// The `count` of one search: a sanity check that the data set is there.
pub async fn conversation_count(target: &Target, consumer: &str) -> anyhow::Result<u64> {
    let response = reqwest::Client::new()
        .post(&target.url)
        .bearer_auth(&target.key)
        .json(&serde_json::json!({ "consumer": consumer }))
        .send()
        .await?
        .error_for_status()?;
    let body: serde_json::Value = response.json().await?;
    body["_metadata"]["count"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no _metadata.count in the answer"))
}

fn summarize(mut tally: Tally, seconds: f64) -> Stats {
    tally.latencies_us.sort_unstable();
    let l = &tally.latencies_us;
    Stats {
        requests: l.len() as u64,
        errors: tally.errors,
        requests_per_second: l.len() as f64 / seconds,
        p50_ms: percentile(l, 0.50),
        p95_ms: percentile(l, 0.95),
        p99_ms: percentile(l, 0.99),
        max_ms: l.last().map_or(0.0, |&us| us as f64 / 1000.0),
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}
