//! `partnergraph backup FILE` (SPEC §1): a consistent copy of a running
//! SQLite database, taken during a burst of writes, that passes
//! `PRAGMA integrity_check`, holds every change committed before the backup
//! began, and serves again once restored as the README says.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::helpers::{
    binary::{admin_token, cli, free_address, graphql, wait_ready, Server},
    Backend, TestDatabase,
};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

const CREATE_PARTNER: &str = "mutation($name: String!) { createPartner(input: { name: $name, type: RESELLER }) { partner { id } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_write_burst_is_consistent_and_restores() {
    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let token = admin_token(&url);
    let address = free_address();
    let server = Server::start(
        &url,
        &address,
        &["--jobs-interval", "0", "--query-cost-budget", "0"],
    );
    let client = reqwest::Client::new();
    wait_ready(&client, &address).await;

    // The burst: four writers, each change's name kept once it is answered.
    let committed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (client, address, token, committed, stop) = (
            client.clone(),
            address.clone(),
            token.clone(),
            committed.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let name = format!("Burst {writer}-{n}");
                let answer = graphql(
                    &client,
                    &address,
                    &token,
                    CREATE_PARTNER,
                    json!({ "name": name }),
                )
                .await;
                assert!(
                    answer["data"]["createPartner"]["partner"]["id"].is_string(),
                    "{answer}"
                );
                committed.lock().unwrap().push(name);
                n += 1;
            }
        }));
    }
    while committed.lock().unwrap().len() < 100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let backup_dir = tempfile::tempdir().unwrap();
    let file = backup_dir.path().join("backup.db");
    let before: HashSet<String> = committed.lock().unwrap().iter().cloned().collect();
    let output = {
        let (url, file) = (url.clone(), file.clone());
        tokio::task::spawn_blocking(move || cli(&url, ["backup".as_ref(), file.as_os_str()]))
            .await
            .unwrap()
    };
    let after = committed.lock().unwrap().len();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("key"), "it reminds of the key file: {said}");
    let total = committed.lock().unwrap().len();
    assert!(
        after > before.len() || total > after,
        "the writes went on around the backup"
    );

    // Consistent, and complete up to its start.
    let copy = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let query = |sql: &str| Statement::from_string(copy.get_database_backend(), sql.to_owned());
    let integrity = copy
        .query_one_raw(query("PRAGMA integrity_check"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(integrity.try_get_by_index::<String>(0).unwrap(), "ok");
    let names: HashSet<String> = copy
        .query_all_raw(query("SELECT name FROM partner"))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect();
    let missing: Vec<_> = before.difference(&names).collect();
    assert!(
        missing.is_empty(),
        "committed before the backup, missing from it: {missing:?}"
    );
    // Every event of the copy's changes is in it too (one transaction each).
    let events = copy
        .query_one_raw(query(
            "SELECT COUNT(*) AS n FROM outbox_event WHERE event_type = 'partner.created'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(events as usize, names.len());
    drop(copy);

    // A second backup to the same file is refused rather than overwriting it.
    let again = cli(&url, ["backup".as_ref(), file.as_os_str()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // Restore as the README says: the copy (and the key file) in place of
    // the database, with the server stopped.
    let (_, success) = server.terminate(Duration::from_secs(15));
    assert!(success);
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = restored_dir.path().join("partnergraph.db");
    std::fs::copy(&file, &restored).unwrap();
    let key = partnergraph::secrets::key_file_for(&url).unwrap();
    std::fs::copy(&key, restored_dir.path().join("partnergraph.db.key")).unwrap();
    let restored_url = format!("sqlite://{}?mode=rwc", restored.display());
    let server = Server::start(&restored_url, &address, &["--jobs-interval", "0"]);
    wait_ready(&client, &address).await;
    let answer = graphql(
        &client,
        &address,
        &token,
        "{ partners(first: 1) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        answer["data"]["partners"]["totalCount"],
        json!(names.len()),
        "{answer}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_backup_points_to_pg_dump() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let output = cli(database.url(), ["backup", "/tmp/never-written.db"]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("pg_dump"), "{said}");
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}
