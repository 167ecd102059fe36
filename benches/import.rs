//! What `partnergraph import opportunities` costs against a plain batched
//! `INSERT` of the same rows.
//!
//! PostgreSQL (`BENCH_POSTGRES_URL`, falling back to `TEST_POSTGRES_URL`;
//! without either it runs on SQLite and says so). It writes a CSV of
//! `BENCH_ROWS` (default 100,000) direct opportunities, each on its own
//! account, then, each into its own fresh database built by the real
//! migrations, in the same run:
//!
//! * **Import**: `transfer::import::run` on the file, as the CLI runs it:
//!   streamed, rows parsed and validated, matched (id, external id, name on
//!   the account), written through the unit of work with an audit entry, an
//!   `opportunity.created` event and conflict detection per row, one
//!   transaction for the file.
//! * **Baseline**: the same file read with the `csv` crate and inserted as
//!   opportunity rows, 1,000 per `INSERT`, in one transaction: no
//!   validation, dedupe, audit or events.
//!
//! The requirement (issue 14) is that the import reaches a quarter of the
//! baseline's rows per second.
//!
//! Run with `cargo bench --bench import`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The baseline inserts rows directly, as the requirement's plain INSERT.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;

use std::{io::Write as _, path::Path, time::Instant};

use chrono::{NaiveDate, Utc};
use entity::opportunity;
use partnergraph::{
    domain::{OpportunitySource, OpportunityStage},
    service::deals::opportunity::Draft,
    transfer::{
        import::{self, Options, Progress},
        Kind,
    },
};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use uuid::Uuid;

const CHUNK: usize = 1_000;

fn write_csv(path: &Path, rows: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        file,
        "name,companyName,companyDomain,amount,currency,expectedCloseDate"
    )
    .unwrap();
    for i in 0..rows {
        writeln!(
            file,
            "Deal {i:06},Customer {i:06},customer-{i:06}.example,{}.{:02},USD,2030-{:02}-{:02}",
            1_000 + (i * 7_919) % 100_000,
            i % 100,
            1 + i % 12,
            1 + i % 28
        )
        .unwrap();
    }
    file.flush().unwrap();
}

/// The file's rows as opportunity rows, inserted `CHUNK` at a time.
async fn baseline(db: &DatabaseConnection, path: &Path) {
    let now = Utc::now();
    let mut reader = csv::Reader::from_path(path).unwrap();
    let txn = db.begin().await.unwrap();
    let mut chunk = Vec::with_capacity(CHUNK);
    for record in reader.records() {
        let record = record.unwrap();
        let (units, cents) = record[3].split_once('.').unwrap();
        let draft = Draft {
            name: record[0].to_owned(),
            company_name: record[1].to_owned(),
            company_domain: record[2].to_owned(),
            source: OpportunitySource::Direct,
            stage: OpportunityStage::Registered,
            amount_minor: units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap(),
            currency: record[4].to_owned(),
            expected_close_date: NaiveDate::parse_from_str(&record[5], "%Y-%m-%d").unwrap(),
            deal_registration_id: None,
            owner_id: None,
            next_step: None,
            discount_bps: None,
            margin_bps: None,
            competitor_intel: None,
            internal_notes: None,
            crm_managed: false,
        };
        chunk.push(draft.row(Uuid::now_v7(), now));
        if chunk.len() == CHUNK {
            opportunity::Entity::insert_many(std::mem::take(&mut chunk))
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
    }
    if !chunk.is_empty() {
        opportunity::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

#[tokio::main]
async fn main() {
    let rows = env_usize("BENCH_ROWS", 100_000);
    let url = postgres_url();
    let backend = if url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    if url.is_none() {
        println!("no BENCH_POSTGRES_URL (or TEST_POSTGRES_URL): running on SQLite");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opportunities.csv");
    write_csv(&file, rows);
    println!("machine: {}; {rows} rows; {backend}", machine());

    let base_db = bench_database(url.as_deref()).await;
    let base_conn = base_db.migrated().await;
    let started = Instant::now();
    baseline(&base_conn, &file).await;
    let base_secs = started.elapsed().as_secs_f64();
    assert_eq!(
        opportunity::Entity::find().count(&base_conn).await.unwrap(),
        rows as u64
    );

    let import_db = bench_database(url.as_deref()).await;
    let import_conn = import_db.migrated().await;
    let started = Instant::now();
    let summary = import::run(
        &import_conn,
        Kind::Opportunities,
        &file,
        &Options::default(),
        &mut Progress::new(true),
    )
    .await
    .unwrap();
    let import_secs = started.elapsed().as_secs_f64();
    assert_eq!(summary.created, rows, "{}", summary.line());
    assert!(summary.committed);

    let base_rate = rows as f64 / base_secs;
    let import_rate = rows as f64 / import_secs;
    println!("baseline (batched INSERT): {base_secs:.2} s, {base_rate:.0} rows/s");
    println!("import (audit, events, dedupe): {import_secs:.2} s, {import_rate:.0} rows/s");
    println!(
        "import / baseline: {:.3} (target ≥ 0.25)",
        import_rate / base_rate
    );
}
