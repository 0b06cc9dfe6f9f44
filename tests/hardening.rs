//! Under pressure: login throttling, metrics, request IDs, a busy SQLite, a PostgreSQL
//! that goes away and comes back.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::http::{request, Server};
use common::{Backend, TestApp, TestDb, TEST_SECRET};
use passgenau_domain::user::Role;
use serde_json::json;

on_both_backends!(failed_logins_are_throttled_and_audited, metrics_and_request_ids);

async fn failed_logins_are_throttled_and_audited(b: Backend) {
    let t = TestApp::new(b).unwrap();
    passgenau_server::app::users::add(
        &t.state.store,
        None,
        "ifk.a",
        "the right password",
        Role::Specialist,
        None,
    )
    .unwrap();
    let login = |pw: &str| {
        t.req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "ifk.a", "password": pw})),
        )
    };
    for _ in 0..5 {
        login("wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let r = login("the right password").await;
    r.assert_problem(429, "too_many_attempts");
    assert_eq!(r.header("retry-after"), Some("900"));
    // another account from the same address is still allowed (the address limit is higher)
    passgenau_server::app::users::add(
        &t.state.store,
        None,
        "ifk.b",
        "the right password",
        Role::Specialist,
        None,
    )
    .unwrap();
    let ok = t
        .req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "ifk.b", "password": "the right password"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let audit = t.get("/api/v1/audit/logins?username=ifk.a", Role::Admin).await;
    let items = audit.body["items"].as_array().unwrap();
    assert_eq!(items.iter().filter(|a| a["success"] == false).count(), 5);
    t.get("/api/v1/audit/logins", Role::Specialist)
        .await
        .assert_problem(403, "forbidden");
}

async fn metrics_and_request_ids(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.get("/api/v1/instruments", Role::Specialist).await;
    let m = t.get("/metrics", Role::Admin).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = String::from_utf8(m.raw.clone()).unwrap();
    assert!(
        text.contains(
            "passgenau_http_requests_total{method=\"GET\",route=\"/api/v1/instruments\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("passgenau_http_request_duration_seconds_bucket"));
    assert!(
        text.contains("passgenau_placements_total")
            || text.contains("# TYPE passgenau_placements_total counter")
    );
    t.get("/metrics", Role::Specialist)
        .await
        .assert_problem(403, "forbidden");
    let mine = t
        .call(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("x-request-id", "abc-123")),
        )
        .await;
    assert_eq!(mine.header("x-request-id"), Some("abc-123"));
    let made = t
        .call(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("x-request-id", "bad id with spaces")),
        )
        .await;
    assert_ne!(made.header("x-request-id"), Some("bad id with spaces"));
    assert!(made.header("x-request-id").is_some());
}

/// An SQLite app state with this busy timeout and pool size, and a specialist's token.
/// The options are passed, not set in the environment, which the tests running beside
/// this one in the same process would read too.
fn sqlite_with_busy_timeout(
    busy_ms: u32,
    pool_size: u32,
) -> (TestDb, passgenau_server::state::AppState, String) {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let options = passgenau_store::db::StoreOptions {
        pool_size,
        sqlite_busy_timeout_ms: busy_ms,
        ..Default::default()
    };
    let state = passgenau_server::config::prepare_with(&db.url, Some(TEST_SECRET), &options).unwrap();
    let token = common::token_for(&state, "ifk", Role::Specialist, None);
    (db, state, token)
}

/// A writer that holds SQLite's lock longer than the busy timeout: the request waits,
/// then fails with 503, and nothing is half-written.
#[actix_web::test]
async fn sqlite_busy_waits_then_503() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let (db, state, token) = sqlite_with_busy_timeout(300, 2);
    let mut locker = diesel::SqliteConnection::establish(&db.url).unwrap();
    locker.batch_execute("BEGIN IMMEDIATE").unwrap();
    let app = actix_web::test::init_service(passgenau_server::router::build(state.clone(), &[])).await;
    let started = std::time::Instant::now();
    let req = TestRequest::post()
        .uri("/api/v1/customers")
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_json(TestApp::customer_body("K-busy"))
        .to_request();
    let resp = actix_web::test::call_service(&app, req).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(250),
        "it waited first"
    );
    locker.batch_execute("ROLLBACK").unwrap();
    let req = TestRequest::post()
        .uri("/api/v1/customers")
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_json(TestApp::customer_body("K-busy"))
        .to_request();
    assert_eq!(
        actix_web::test::call_service(&app, req).await.status(),
        StatusCode::CREATED
    );
}

/// Writers of one instance queue for SQLite's single write lock inside the process
/// instead of meeting its busy handler: with a busy timeout of 1 ms, 24 concurrent
/// creations all succeed (without the queue most of them fail with 503).
#[actix_web::test]
async fn sqlite_writers_of_one_instance_queue() {
    let (_db, state, token) = sqlite_with_busy_timeout(1, 8);
    let app = actix_web::test::init_service(passgenau_server::router::build(state.clone(), &[])).await;
    let calls = (0..24).map(|i| {
        let req = TestRequest::post()
            .uri("/api/v1/customers")
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(TestApp::customer_body(&format!("K-q{i}")))
            .to_request();
        actix_web::test::call_service(&app, req)
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(calls)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
}

/// The cohort worker's own writes (claiming a run, heartbeats, hand-backs) queue with the
/// instance's other writers. Past the queue they would meet SQLite's busy handler,
/// which gives up after the busy timeout while another writer holds the lock: the claim
/// would fail with "database is locked" (under 64 placement clients, even with the default
/// timeout of 5 s), and the worker would try again only 2 s later. Here a writer of the same
/// instance holds the lock for 300 ms with a busy timeout of 50 ms: the worker waits its
/// turn and finishes the run well before its retry would even have started.
#[test]
fn sqlite_cohort_worker_writes_queue_with_the_other_writers() {
    use diesel::connection::SimpleConnection;
    use passgenau_store::{runs, StoreError};
    use std::time::{Duration, Instant};
    let (_db, state, _token) = sqlite_with_busy_timeout(50, 8);
    let store = state.store.clone();
    let id = passgenau_domain::ids::RunId::new();
    store
        .write(|c| runs::create(c, id, r#"{"filter": {}}"#, "ifk"))
        .unwrap();
    let (held_tx, held) = std::sync::mpsc::channel();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .write(|c| {
                    c.batch_execute("UPDATE settings SET key = key")?;
                    held_tx.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(300));
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        })
    };
    held.recv().unwrap();
    let started = Instant::now();
    let worker = state.start_worker();
    let mut run = store.read(|c| runs::get(c, id)).unwrap();
    while run.status != "done" && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
        run = store.read(|c| runs::get(c, id)).unwrap();
    }
    let took = started.elapsed();
    writer.join().unwrap();
    worker.stop(Duration::ZERO);
    assert_eq!(run.status, "done", "{run:?}");
    assert!(took < Duration::from_millis(1800), "done after {took:?}");
}

/// SQLite's WAL is checkpointed by a thread of its own, beside the requests. Under steady
/// commits from several threads while others read, it must still be restarted from its
/// beginning now and then: passive checkpoints alone never catch up, and the file would
/// grow without bound (hundreds of MB in seconds). Every committed entry is there afterwards.
#[test]
fn sqlite_wal_stays_bounded_under_steady_commits() {
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::{AtomicBool, Ordering};
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let store = passgenau_store::Store::open(&db.url, &Default::default()).unwrap();
    store.migrate().unwrap();
    let wal = format!("{}-wal", db.url);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                // one connection for the whole loop, as a long reader holds one
                store
                    .read(|conn| {
                        while !stop.load(Ordering::Relaxed) {
                            conn.batch_execute("SELECT count(*) FROM audit_log")?;
                        }
                        Ok::<_, passgenau_store::StoreError>(())
                    })
                    .unwrap();
            })
        })
        .collect();
    let largest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let (stop, largest, wal) = (stop.clone(), largest.clone(), wal.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
                largest.fetch_max(size, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        })
    };
    const WRITERS: usize = 4;
    const COMMITS: usize = 3_000;
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                for k in 0..COMMITS {
                    // scattered keys: each commit touches other index pages
                    let entry = common::read_entry(
                        format!("writer-{i}"),
                        format!("test {k}"),
                        passgenau_domain::ids::CustomerId::new(),
                    );
                    store.audit_reads(vec![entry]).wait().unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    watcher.join().unwrap();
    let n: i64 = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        store
            .read(|conn| {
                Ok::<_, passgenau_store::StoreError>(
                    diesel::sql_query("SELECT count(*) AS n FROM audit_log").get_result::<N>(conn)?,
                )
            })
            .unwrap()
            .n
    };
    assert_eq!(n, (WRITERS * COMMITS) as i64, "every committed entry is there");
    let largest = largest.load(Ordering::Relaxed);
    assert!(
        largest < 64 << 20,
        "the WAL reached {} MB ({} commits)",
        largest >> 20,
        WRITERS * COMMITS
    );
}

/// A PostgreSQL of the test's own (initdb in a temporary folder, its own port) is stopped
/// under load and started again: requests fail with 503 problem+json while it is down,
/// succeed after, /readyz follows, and no placement is half-written.
#[test]
fn postgres_outage_gives_503_and_recovers() {
    let Some(pg) = OwnPostgres::start() else {
        eprintln!("skipped: initdb/pg_ctl not available");
        return;
    };
    let server = Server::start(&pg.url(), TEST_SECRET);
    let tokens = common::StoredTokens::new(&pg.url());
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let admin = tokens.issue("admin", Role::Admin, None).unwrap();
    let (_, p) = request(
        &server.addr,
        "POST",
        "/api/v1/providers",
        Some(&admin),
        Some(&json!({"name": "T", "azav_certified_until": "2035-01-01"})),
    );
    let (_, o) = request(
        &server.addr,
        "POST",
        "/api/v1/offers",
        Some(&admin),
        Some(
            &json!({"instrument_code": "AGH", "provider_id": p["id"], "title": "T", "district": "D",
            "starts_on": "2026-01-01", "ends_on": "2035-12-31", "entry": "rolling", "planned_places": 500, "cost_per_place_cents": 1}),
        ),
    );
    let offer = o["id"].as_str().unwrap().to_string();
    let place = |i: usize| {
        let (s, c) = request(
            &server.addr,
            "POST",
            "/api/v1/customers",
            Some(&ifk),
            Some(&TestApp::customer_body(&format!("K-{i}"))),
        );
        if s != 201 {
            return (s, c);
        }
        request(
            &server.addr,
            "POST",
            "/api/v1/allocations",
            Some(&ifk),
            Some(&json!({"customer_id": c["id"], "offer_id": offer})),
        )
    };
    for i in 0..5 {
        assert_eq!(place(i).0, 201);
    }
    pg.stop();
    for i in 5..10 {
        let (s, body) = place(i);
        assert_eq!(s, 503, "{body}");
        assert_eq!(body["code"], "database_unavailable");
    }
    assert_eq!(request(&server.addr, "GET", "/readyz", None, None).0, 503);
    assert_eq!(request(&server.addr, "GET", "/healthz", None, None).0, 200);
    pg.start_again();
    let mut recovered = false;
    for _ in 0..100 {
        if request(&server.addr, "GET", "/readyz", None, None).0 == 200 {
            recovered = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(recovered, "/readyz recovers");
    for i in 10..13 {
        assert_eq!(place(i).0, 201);
    }
    // every placement is whole: each has its reservation event, none is orphaned
    let (_, list) = request(
        &server.addr,
        "GET",
        "/api/v1/allocations?limit=500",
        Some(&ifk),
        None,
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 8);
    let (_, feed) = request(
        &server.addr,
        "GET",
        "/api/v1/exports/allocation-events?limit=500",
        Some(&admin),
        None,
    );
    assert_eq!(feed["items"].as_array().unwrap().len(), 8);
}

/// A throwaway PostgreSQL cluster run by the `postgres` OS user (initdb refuses root).
struct OwnPostgres {
    dir: std::path::PathBuf,
    port: u16,
    bin: std::path::PathBuf,
}

impl OwnPostgres {
    fn as_postgres(args: &[&str]) -> std::process::Command {
        let mut c = if unsafe_is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]);
            c
        } else {
            std::process::Command::new(args[0])
        };
        if unsafe_is_root() {
            c.args(args);
        } else {
            c.args(&args[1..]);
        }
        c
    }

    fn start() -> Option<OwnPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())?;
        let dir = std::env::temp_dir().join(format!("passgenau-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).ok()?;
        if unsafe_is_root() {
            std::process::Command::new("chown")
                .args(["postgres:postgres", dir.to_str()?])
                .status()
                .ok()?;
        }
        let port = common::http::free_port();
        let data = dir.join("data");
        let ok = Self::as_postgres(&[
            bin.join("initdb").to_str()?,
            "-D",
            data.to_str()?,
            "-U",
            "postgres",
            "-A",
            "trust",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?
        .success();
        if !ok {
            return None;
        }
        let pg = OwnPostgres { dir, port, bin };
        pg.start_again();
        Some(pg)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec![
            self.bin.join("pg_ctl").to_str().unwrap().to_string(),
            "-D".into(),
            data.to_str().unwrap().into(),
            "-w".into(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let status = Self::as_postgres(&refs)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args:?}");
    }

    fn start_again(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        self.pg_ctl(&["-o", &opts, "-l", self.dir.join("log").to_str().unwrap(), "start"]);
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "stop"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Self::as_postgres(&[
            self.bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "stop",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unsafe_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}
