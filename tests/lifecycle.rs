//! A person's data over its life (issue #19): backups of a live database and their
//! restore.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::http::StatusCode;
use common::{Backend, TestApp};
use diesel::{Connection, RunQueryDsl};
use passgenau_domain::user::Role;
use serde_json::json;

const CLIENTS: usize = 16;
const PER_CLIENT: usize = 12;

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// `passgenau backup --to FILE` while 16 clients place customers: the copy opens, passes
/// `PRAGMA integrity_check`, holds every placement answered before the backup began, and
/// serves as the database of a new instance (the restore of the README).
#[actix_web::test]
async fn a_backup_of_a_live_database_holds_every_answered_placement() {
    let t = TestApp::new(Backend::Sqlite).unwrap();
    let mut body = t.offer_body();
    body["planned_places"] = json!(CLIENTS * PER_CLIENT);
    body["cost_per_place_cents"] = json!(100);
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let offer = r.body["id"].as_str().unwrap().to_string();
    let mut customers = Vec::new();
    for i in 0..CLIENTS * PER_CLIENT {
        customers.push(
            t.create_customer(&format!("B-{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let answered = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicBool::new(false));
    // the backup begins once a third of the placements are answered, while the rest go on
    let backup = {
        let (answered, started, url, copy) =
            (answered.clone(), started.clone(), t.db.url.clone(), copy.clone());
        std::thread::spawn(move || {
            while answered.load(Ordering::SeqCst) < CLIENTS * PER_CLIENT / 3 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            started.store(true, Ordering::SeqCst);
            std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
                .args(["--database-url", &url, "backup", "--to"])
                .arg(&copy)
                .output()
                .unwrap()
        })
    };
    let clients = customers.chunks(PER_CLIENT).map(|mine| {
        let (t, offer, answered, started) = (&t, &offer, answered.clone(), started.clone());
        async move {
            let mut before = Vec::new();
            for c in mine {
                let r = t
                    .post(
                        "/api/v1/allocations",
                        Role::Specialist,
                        json!({"customer_id": c, "offer_id": offer}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
                if !started.load(Ordering::SeqCst) {
                    before.push(r.body["id"].as_str().unwrap().to_string());
                }
                answered.fetch_add(1, Ordering::SeqCst);
                actix_web::rt::task::yield_now().await;
            }
            before
        }
    });
    let before: Vec<String> = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    let out = backup.join().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!before.is_empty());
    assert!(
        before.len() < CLIENTS * PER_CLIENT,
        "the backup ran while clients placed"
    );

    let mut conn = diesel::SqliteConnection::establish(copy.to_str().unwrap()).unwrap();
    let check: Vec<Text> = diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(check.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(), ["ok"]);
    let held: std::collections::HashSet<String> = diesel::sql_query("SELECT id AS value FROM allocations")
        .load::<Text>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.value)
        .collect();
    for id in &before {
        assert!(
            held.contains(id),
            "placement {id} was answered before the backup began"
        );
    }
    drop(conn);

    // a second backup to the same file is refused and leaves the first as it was
    let size = std::fs::metadata(&copy).unwrap().len();
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["--database-url", &t.db.url, "backup", "--to"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);

    // restored: an instance on the copy serves its placements
    let restored =
        passgenau_server::config::prepare(copy.to_str().unwrap(), Some("x".repeat(32).as_str()), 2).unwrap();
    let n = restored
        .store
        .read(|conn| {
            diesel::sql_query("SELECT CAST(COUNT(*) AS TEXT) AS value FROM allocations")
                .get_result::<Text>(conn)
                .map_err(passgenau_store::StoreError::from)
        })
        .unwrap();
    assert_eq!(n.value.parse::<usize>().unwrap(), held.len());
}

/// A database that is not there is not made by a backup; PostgreSQL names its tools.
#[test]
fn a_backup_needs_an_sqlite_database_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["--database-url", missing.to_str().unwrap(), "backup", "--to"])
        .arg(dir.path().join("copy.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such database"));
    assert!(!missing.exists() && !dir.path().join("copy.db").exists());
    if let Some(admin) = common::postgres_admin_url() {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
            .args(["--database-url", &admin, "backup", "--to"])
            .arg(dir.path().join("copy.db"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    }
}
