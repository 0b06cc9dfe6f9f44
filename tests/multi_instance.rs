//! Two `passgenau serve` processes on one database behave as one system: concurrent
//! placements from many clients through both never overbook an offer nor overspend a
//! budget. On PostgreSQL (the production set-up) and on SQLite (two processes, one file).

mod common;

use std::sync::Arc;

use common::http::{request, Server};
use common::{Backend, TestDb, TEST_SECRET};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    two_instances_never_overbook_or_overspend,
    three_instances_keep_every_invariant
);

async fn two_instances_never_overbook_or_overspend(b: Backend) {
    let db = TestDb::new(b).unwrap();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || hammer(&url)).await.unwrap();
    drop(db);
}

fn hammer(url: &str) {
    let a = Server::start(url, TEST_SECRET);
    let b = Server::start(url, TEST_SECRET);
    let tokens = common::StoredTokens::new(url);
    let admin = tokens.issue("admin", Role::Admin, None).unwrap();
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let post =
        |addr: &str, tok: &str, path: &str, body: Value| request(addr, "POST", path, Some(tok), Some(&body));

    let (s, p) = post(
        &a.addr,
        &admin,
        "/api/v1/providers",
        json!({"name": "Träger", "azav_certified_until": "2030-12-31"}),
    );
    assert_eq!(s, 201, "{p}");
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    // AGH: budget for exactly 4 places of 1,000 €
    let (s, plan) = request(
        &b.addr,
        "PUT",
        &format!("/api/v1/plans/{year}"),
        Some(&admin),
        Some(&json!({"instruments": [{"code": "AGH", "planned_entries": 10, "budget_cents": 400_000}]})),
    );
    assert_eq!(s, 200, "{plan}");
    let mut offers = Vec::new();
    for (code, places, cost) in [
        ("AVGS_MAT", 2, 150_000),
        ("AVGS_MAT", 3, 150_000),
        ("AVGS_MAT", 5, 150_000),
        ("AGH", 20, 100_000),
    ] {
        let (s, o) = post(
            &a.addr,
            &admin,
            "/api/v1/offers",
            json!({
                "instrument_code": code, "provider_id": p["id"], "title": "T", "district": "D",
                "starts_on": "2026-01-01", "ends_on": "2030-12-31", "entry": "rolling",
                "planned_places": places, "max_places": places, "cost_per_place_cents": cost,
                "measure_approved_until": "2035-12-31"
            }),
        );
        assert_eq!(s, 201, "{o}");
        offers.push(o["id"].as_str().unwrap().to_string());
    }
    let mut customers = Vec::new();
    for i in 0..40 {
        let mut c = json!({
            "customer_number": format!("M-{i}"), "first_name": "A", "last_name": "B", "confirm_distinct_person": true,
            "date_of_birth": "1985-01-01", "gender": "male", "nationality": "DE",
            "vocational_qualification": "none", "german_level": "B2"
        });
        c["benefit_spells"] = json!([{"from": "2020-01-01"}]);
        let (s, r) = post(
            if i % 2 == 0 { &a.addr } else { &b.addr },
            &ifk,
            "/api/v1/customers",
            c,
        );
        assert_eq!(s, 201, "{r}");
        customers.push(r["id"].as_str().unwrap().to_string());
    }
    // 32 client threads, each customer tries every offer, through both instances
    let work: Vec<(String, String)> = customers
        .iter()
        .flat_map(|c| offers.iter().map(move |o| (c.clone(), o.clone())))
        .collect();
    let work = Arc::new(std::sync::Mutex::new(work));
    let addrs = [a.addr.clone(), b.addr.clone()];
    let results = Arc::new(std::sync::Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..32)
        .map(|t| {
            let work = work.clone();
            let results = results.clone();
            let addr = addrs[t % 2].clone();
            let ifk = ifk.clone();
            std::thread::spawn(move || loop {
                let Some((c, o)) = work.lock().unwrap().pop() else {
                    break;
                };
                let (s, body) = request(
                    &addr,
                    "POST",
                    "/api/v1/allocations",
                    Some(&ifk),
                    Some(&json!({"customer_id": c, "offer_id": o})),
                );
                results
                    .lock()
                    .unwrap()
                    .push((o, s, body["code"].as_str().unwrap_or("").to_string()));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let results = results.lock().unwrap();
    let placed = |offer: &str| results.iter().filter(|(o, s, _)| o == offer && *s == 201).count();
    assert_eq!(placed(&offers[0]), 2);
    assert_eq!(placed(&offers[1]), 3);
    assert_eq!(placed(&offers[2]), 5);
    assert_eq!(
        placed(&offers[3]),
        4,
        "AGH is limited by its budget, not its 20 places"
    );
    for (o, s, code) in results.iter().filter(|(_, s, _)| *s != 201) {
        assert_eq!(*s, 409, "{o}: {code}");
        let expected = if *o == offers[3] {
            "budget_exhausted"
        } else {
            "capacity_exhausted"
        };
        assert_eq!(code, expected);
    }
    // the database agrees: no offer over max_places, one active placement per pair
    let (s, avail) = request(
        &b.addr,
        "GET",
        "/api/v1/availability?limit=500",
        Some(&admin),
        None,
    );
    assert_eq!(s, 200);
    for item in avail["items"].as_array().unwrap() {
        assert!(item["occupied"].as_i64().unwrap() <= item["max_places"].as_i64().unwrap());
    }
    // SIGTERM: drains and exits 0
    assert_eq!(a.terminate(), Some(0));
    assert_eq!(b.terminate(), Some(0));
}

async fn three_instances_keep_every_invariant(b: Backend) {
    let db = TestDb::new(b).unwrap();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || mixed_load(&url))
        .await
        .unwrap();
    drop(db);
}

/// Placements, transitions and cohort accepts from many clients through three instances;
/// then every invariant of design.md is checked on the database itself.
fn mixed_load(url: &str) {
    let servers = [
        Server::start(url, TEST_SECRET),
        Server::start(url, TEST_SECRET),
        Server::start(url, TEST_SECRET),
    ];
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let tokens = common::StoredTokens::new(url);
    let admin = tokens.issue("admin", Role::Admin, None).unwrap();
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let (_, p) = request(
        &addrs[0],
        "POST",
        "/api/v1/providers",
        Some(&admin),
        Some(&json!({"name": "Träger", "azav_certified_until": "2035-12-31"})),
    );
    let provider_token = tokens
        .issue(
            "traeger",
            Role::Provider,
            Some(p["id"].as_str().unwrap().parse().unwrap()),
        )
        .unwrap();
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    request(
        &addrs[1],
        "PUT",
        &format!("/api/v1/plans/{year}"),
        Some(&admin),
        Some(&json!({"instruments": [{"code": "AGH", "planned_entries": 10, "budget_cents": 500_000}]})),
    );
    let mut offers = Vec::new();
    for (code, places) in [("AVGS_MAT", 3), ("AVGS_MAT", 4), ("AGH", 8), ("AVGS_MAT", 6)] {
        let (s, o) = request(
            &addrs[0],
            "POST",
            "/api/v1/offers",
            Some(&admin),
            Some(&json!({
                "instrument_code": code, "provider_id": p["id"], "title": "T", "district": "D",
                "starts_on": "2026-01-01", "ends_on": "2035-12-31", "entry": "rolling",
                "planned_places": places, "max_places": places, "cost_per_place_cents": 100_000,
                "measure_approved_until": "2035-12-31"
            })),
        );
        assert_eq!(s, 201, "{o}");
        offers.push(o["id"].as_str().unwrap().to_string());
    }
    let mut customers = Vec::new();
    for i in 0..36 {
        let (s, r) = request(
            &addrs[i % 3],
            "POST",
            "/api/v1/customers",
            Some(&ifk),
            Some(&json!({
                "customer_number": format!("X-{i}"), "first_name": "A", "last_name": "B", "confirm_distinct_person": true,
                "date_of_birth": "1985-01-01", "gender": "female", "nationality": "DE",
                "vocational_qualification": "none", "german_level": "B2",
                "benefit_spells": [{"from": "2018-01-01"}]
            })),
        );
        assert_eq!(s, 201, "{r}");
        customers.push(r["id"].as_str().unwrap().to_string());
    }
    // a cohort run over everyone, queued at one instance, solved by whichever worker claims it
    let (s, run) = request(
        &addrs[2],
        "POST",
        "/api/v1/allocation-runs",
        Some(&ifk),
        Some(&json!({"customer_ids": customers})),
    );
    assert_eq!(s, 202, "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();
    let mut done = false;
    for _ in 0..400 {
        let (_, r) = request(
            &addrs[0],
            "GET",
            &format!("/api/v1/allocation-runs/{run_id}"),
            Some(&ifk),
            None,
        );
        if r["status"] == "done" {
            done = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(done, "the run finished");
    let (_, props) = request(
        &addrs[1],
        "GET",
        &format!("/api/v1/allocation-runs/{run_id}/proposals?limit=500"),
        Some(&ifk),
        None,
    );
    let proposals: Vec<String> = props["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!proposals.is_empty());
    // many clients at once: direct placements, accepts of proposals, transitions
    let work = Arc::new(std::sync::Mutex::new(Vec::<(usize, String, String)>::new()));
    {
        let mut w = work.lock().unwrap();
        for (i, c) in customers.iter().enumerate() {
            w.push((0, c.clone(), offers[i % offers.len()].clone()));
        }
        for pid in &proposals {
            w.push((1, pid.clone(), String::new()));
            w.push((1, pid.clone(), String::new())); // accepted twice: exactly one wins
        }
    }
    let threads: Vec<_> = (0..24)
        .map(|t| {
            let work = work.clone();
            let addr = addrs[t % 3].clone();
            let (ifk, provider_token, run_id) = (ifk.clone(), provider_token.clone(), run_id.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                loop {
                    let Some((kind, a, b)) = work.lock().unwrap().pop() else {
                        break;
                    };
                    n += 1;
                    match kind {
                        0 => {
                            let (s, body) = request(
                                &addr,
                                "POST",
                                "/api/v1/allocations",
                                Some(&ifk),
                                Some(&json!({"customer_id": a, "offer_id": b})),
                            );
                            assert!([201, 409].contains(&s), "{s}: {body}");
                        }
                        _ => {
                            let (s, body) = request(
                                &addr,
                                "POST",
                                &format!("/api/v1/allocation-runs/{run_id}/proposals/{a}/decision"),
                                Some(&ifk),
                                Some(&json!({"accept": true})),
                            );
                            assert!([200, 409].contains(&s), "{s}: {body}");
                        }
                    }
                    // now and then move a placement of the provider's
                    if n.is_multiple_of(3) {
                        let (_, list) = request(
                            &addr,
                            "GET",
                            "/api/v1/allocations?status=reserved&limit=5",
                            Some(&provider_token),
                            None,
                        );
                        if let Some(first) = list["items"].as_array().and_then(|a| a.first()) {
                            let id = first["id"].as_str().unwrap();
                            let to = if n.is_multiple_of(2) {
                                "confirmed"
                            } else {
                                "declined"
                            };
                            let (s, body) = request(
                                &addr,
                                "POST",
                                &format!("/api/v1/allocations/{id}/transitions"),
                                Some(&provider_token),
                                Some(&json!({"to": to})),
                            );
                            assert!([200, 409].contains(&s), "{s}: {body}");
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(servers);
    check_invariants(url);
}

fn check_invariants(url: &str) {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let store = passgenau_store::Store::open(url, &Default::default()).unwrap();
    let count = |sql: &str| -> i64 {
        store
            .read(|conn| {
                Ok::<_, passgenau_store::StoreError>(diesel::sql_query(sql).get_result::<N>(conn)?.n)
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    const ACTIVE: &str = "('reserved', 'confirmed', 'started')";
    // 1. no overbooking
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) AS n FROM offers o WHERE (SELECT COUNT(*) FROM allocations a WHERE a.offer_id = o.id AND a.status IN {ACTIVE}) > o.max_places"
        )),
        0,
        "an offer is overbooked"
    );
    // 2. no overspending
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM plan_instruments p WHERE p.budget_cents IS NOT NULL AND \
             (SELECT COALESCE(SUM(a.cost_cents), 0) FROM allocations a WHERE a.instrument_code = p.code AND a.budget_year = p.year \
              AND a.status IN ('reserved', 'confirmed', 'started', 'completed', 'aborted')) > p.budget_cents"
        ),
        0,
        "a budget is overspent"
    );
    // ... and the running total the placements check (migration `budget_committed`) is
    // the sum over the placements
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM plan_instruments p WHERE p.committed_cents <> \
             (SELECT COALESCE(SUM(a.cost_cents), 0) FROM allocations a WHERE a.instrument_code = p.code AND a.budget_year = p.year \
              AND a.status IN ('reserved', 'confirmed', 'started', 'completed', 'aborted'))"
        ),
        0,
        "a plan line's running total differs from its placements' sum"
    );
    // 3. one active placement per customer and offer
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) AS n FROM (SELECT customer_id, offer_id FROM allocations WHERE status IN {ACTIVE} GROUP BY customer_id, offer_id HAVING COUNT(*) > 1) d"
        )),
        0
    );
    // 5. every cohort placement was accepted by a person, exactly once
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM allocations a WHERE a.source = 'cohort' AND (SELECT COUNT(*) FROM run_proposals p WHERE p.allocation_id = a.id AND p.decision = 'accepted') <> 1"),
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM run_proposals WHERE decision = 'accepted' AND allocation_id IS NULL"
        ),
        0
    );
    // 7. every placement's customer has its creation in the audit log
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.customer_id = a.customer_id AND l.action = 'create')"),
        0
    );
    // 8. nothing half-written: every placement has its events, the last one its state
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM allocations a WHERE (SELECT COUNT(*) FROM allocation_events e WHERE e.allocation_id = a.id) <> a.version"),
        0,
        "events and versions disagree"
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM allocations a WHERE a.status <> (SELECT e.to_status FROM allocation_events e WHERE e.allocation_id = a.id ORDER BY e.seq DESC LIMIT 1)"),
        0
    );
    assert!(count("SELECT COUNT(*) AS n FROM allocations") > 0);
}

/// A run queued while no server was up is picked up by the next one that starts.
#[test]
fn a_started_server_resumes_queued_runs() {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let state = passgenau_server::config::prepare(&db.url, Some(TEST_SECRET), 2).unwrap();
    let id = passgenau_domain::ids::RunId::new();
    let body = json!({"filter": {"district": "nowhere"}}).to_string();
    state
        .store
        .write(|conn| passgenau_store::runs::create(conn, id, &body, "ifk"))
        .unwrap();
    drop(state);
    let server = Server::start(&db.url, TEST_SECRET);
    let tokens = common::StoredTokens::new(&db.url);
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let run = run_when_ended(&server.addr, &ifk, &id.to_string(), 10);
    assert_eq!(run["status"], "done", "{run}");
}

/// The run once it is done or failed, read over HTTP; panics after `seconds`.
fn run_when_ended(addr: &str, token: &str, id: &str, seconds: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let (_, run) = request(
            addr,
            "GET",
            &format!("/api/v1/allocation-runs/{id}"),
            Some(token),
            None,
        );
        if run["status"] == "done" || run["status"] == "failed" {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish: {run}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// SIGTERM while a request is in flight: the server stops accepting, finishes that
/// request (its answer arrives and its record exists), then exits 0.
#[test]
fn sigterm_drains_in_flight_requests() {
    use std::io::{Read, Write};
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let server = Server::start(&db.url, TEST_SECRET);
    let tokens = common::StoredTokens::new(&db.url);
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let body = json!({
        "customer_number": "K-drain", "first_name": "A", "last_name": "B", "confirm_distinct_person": true, "date_of_birth": "1985-01-01",
        "gender": "male", "nationality": "DE", "vocational_qualification": "none", "german_level": "B2"
    })
    .to_string();
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    let head = format!(
        "POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ifk}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // "100 Continue": the server has taken the request up (not just the kernel the
    // connection), however slow the machine is at this moment
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    s.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    // the request is in flight: its body is still arriving
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(server.terminate(), Some(0));
    let state = passgenau_server::config::prepare(&db.url, Some(TEST_SECRET), 1).unwrap();
    assert_eq!(state.store.read(passgenau_store::customers::count).unwrap(), 1);
}

/// SIGTERM while a cohort run is being scored: the worker stops at its next batch of
/// customers and hands the run back to the queue, the server exits 0, and a restarted
/// server runs it to the end at once (not only after `STALE_AFTER`), one proposal per
/// customer and nothing from the interrupted attempt.
#[test]
fn sigterm_hands_a_running_run_back_and_a_restart_finishes_it() {
    use diesel::sql_types::{BigInt, Text};
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        claim: Option<String>,
        #[diesel(sql_type = BigInt)]
        proposals: i64,
        #[diesel(sql_type = BigInt)]
        customers: i64,
    }
    let db = TestDb::new(Backend::Sqlite).unwrap();
    // a cohort large enough that scoring it takes seconds in a test build
    let seeded = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["seed", "demo", "--customers", "8000"])
        .env("DATABASE_URL", &db.url)
        .env("PASSGENAU_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(seeded.success());
    let tokens = common::StoredTokens::new(&db.url);
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let server = Server::start(&db.url, TEST_SECRET);
    let (status, queued) = request(
        &server.addr,
        "POST",
        "/api/v1/allocation-runs",
        Some(&ifk),
        Some(&json!({"filter": {}})),
    );
    assert_eq!(status, 202, "{queued}");
    let id = queued["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/allocation-runs/{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, run) = request(&server.addr, "GET", &path, Some(&ifk), None);
        assert_ne!(
            run["status"], "done",
            "the run ended before the test could stop it: {run}"
        );
        if run["status"] == "running" && run["progress"]["done"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not start: {run}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stopping = std::time::Instant::now();
    assert_eq!(server.terminate(), Some(0));
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(15),
        "stopped in {:?}",
        stopping.elapsed()
    );
    let store = passgenau_store::Store::open(&db.url, &Default::default()).unwrap();
    let row = |id: &str| -> Row {
        let sql = format!(
            "SELECT status, claim, (SELECT COUNT(*) FROM run_proposals p WHERE p.run_id = r.id) AS proposals, \
             (SELECT COUNT(DISTINCT p.customer_id) FROM run_proposals p WHERE p.run_id = r.id) AS customers \
             FROM allocation_runs r WHERE r.id = '{id}'"
        );
        store
            .read(|conn| {
                Ok::<_, passgenau_store::StoreError>(diesel::sql_query(&sql).get_result::<Row>(conn)?)
            })
            .unwrap()
    };
    let back = row(&id);
    assert_eq!(
        (back.status.as_str(), back.claim.as_deref(), back.proposals),
        ("queued", None, 0),
        "handed back to the queue, nothing stored"
    );
    let again = Server::start(&db.url, TEST_SECRET);
    let run = run_when_ended(&again.addr, &ifk, &id, 120);
    assert_eq!(run["status"], "done", "{run}");
    let done = row(&id);
    assert!(done.proposals > 0);
    assert_eq!(done.proposals, run["assigned"].as_i64().unwrap());
    assert_eq!(done.proposals, done.customers, "one proposal per customer");
    assert_eq!(again.terminate(), Some(0));
}
