//! What the benchmarks share: timing loops, histograms, the machine line,
//! and the tests' database harness (a fresh SQLite file or PostgreSQL
//! database built by the real migrations, removed afterwards).

#![allow(dead_code)] // each benchmark uses its own subset
// Benchmarks create databases and seed rows directly.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use std::hint::black_box;

// The tests' own file, so both build their databases one way.
#[path = "../../tests/api/helpers/database.rs"]
mod database;
#[allow(unused_imports)] // each benchmark uses its own subset
pub use database::{Backend, TestDatabase};

/// Alternating blocks per measurement, so machine noise hits both sides alike.
pub const BLOCKS: usize = 10;

/// Latencies in microseconds and the wall time of the whole loop.
pub struct Run {
    pub histogram: Histogram<u64>,
    pub elapsed: Duration,
}

impl Run {
    pub fn throughput(&self) -> f64 {
        self.histogram.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn p50_ms(&self) -> f64 {
        self.histogram.value_at_quantile(0.50) as f64 / 1000.0
    }

    pub fn p99_ms(&self) -> f64 {
        self.histogram.value_at_quantile(0.99) as f64 / 1000.0
    }

    pub fn mean_ms(&self) -> f64 {
        self.histogram.mean() / 1000.0
    }

    pub fn summary(&self) -> String {
        format!(
            "{:>9.1} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   mean {:>7.3} ms   max {:>8.3} ms",
            self.throughput(),
            self.p50_ms(),
            self.p99_ms(),
            self.mean_ms(),
            self.histogram.max() as f64 / 1000.0,
        )
    }
}

pub fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap()
}

/// Runs `op` `iterations` times into `histogram`; returns the loop's wall time.
pub async fn record<F, Fut, T>(
    histogram: &mut Histogram<u64>,
    iterations: usize,
    op: &mut F,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let start = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        black_box(op().await);
        histogram
            .record(t.elapsed().as_micros().max(1) as u64)
            .unwrap();
    }
    start.elapsed()
}

pub async fn measure<F, Fut, T>(iterations: usize, mut op: F) -> Run
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut histogram = histogram();
    let elapsed = record(&mut histogram, iterations, &mut op).await;
    Run { histogram, elapsed }
}

/// `iterations` runs of `a` and of `b`, in [`BLOCKS`] alternating blocks of
/// `iterations / BLOCKS` each (odd blocks run `b` first), merged into one
/// histogram and one wall time per operation.
pub async fn measure_alternating<FA, FutA, A, FB, FutB, B>(
    iterations: usize,
    mut a: FA,
    mut b: FB,
) -> (Run, Run)
where
    FA: FnMut() -> FutA,
    FutA: std::future::Future<Output = A>,
    FB: FnMut() -> FutB,
    FutB: std::future::Future<Output = B>,
{
    let (mut a_histogram, mut b_histogram) = (histogram(), histogram());
    let (mut a_elapsed, mut b_elapsed) = (Duration::ZERO, Duration::ZERO);
    for block in 0..BLOCKS {
        let n = iterations / BLOCKS + usize::from(block < iterations % BLOCKS);
        if block % 2 == 0 {
            a_elapsed += record(&mut a_histogram, n, &mut a).await;
            b_elapsed += record(&mut b_histogram, n, &mut b).await;
        } else {
            b_elapsed += record(&mut b_histogram, n, &mut b).await;
            a_elapsed += record(&mut a_histogram, n, &mut a).await;
        }
    }
    (
        Run {
            histogram: a_histogram,
            elapsed: a_elapsed,
        },
        Run {
            histogram: b_histogram,
            elapsed: b_elapsed,
        },
    )
}

pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} × {model}")
}

pub fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not `{value}`")),
        _ => default,
    }
}

/// The PostgreSQL server to benchmark on: `BENCH_POSTGRES_URL`, else
/// `TEST_POSTGRES_URL`.
pub fn postgres_url() -> Option<String> {
    ["BENCH_POSTGRES_URL", "TEST_POSTGRES_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|u| !u.is_empty()))
}

/// A fresh database for one benchmark run: on the PostgreSQL server
/// `postgres_url` names, else a SQLite file. Empty until `.migrated()`.
pub async fn bench_database(postgres_url: Option<&str>) -> TestDatabase {
    match postgres_url {
        Some(url) => TestDatabase::postgres(url, "pg_bench").await,
        None => TestDatabase::sqlite(),
    }
}
