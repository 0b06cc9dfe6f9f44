//! Two `passgenau serve` processes on one database behave as one system: concurrent
//! placements from many clients through both never overbook an offer nor overspend a
//! budget. On PostgreSQL (the production set-up) and on SQLite (two processes, one file).

mod common;

use std::sync::Arc;

use common::http::{request, Server};
use common::{Backend, TestDb, TEST_SECRET};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(two_instances_never_overbook_or_overspend);

async fn two_instances_never_overbook_or_overspend(b: Backend) {
    let db = TestDb::new(b).unwrap();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || hammer(&url)).await.unwrap();
    drop(db);
}

fn hammer(url: &str) {
    let a = Server::start(url, TEST_SECRET);
    let b = Server::start(url, TEST_SECRET);
    let tokens = passgenau_server::auth::Tokens::new(TEST_SECRET.as_bytes(), 3600);
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
                "planned_places": places, "max_places": places, "cost_per_place_cents": cost
            }),
        );
        assert_eq!(s, 201, "{o}");
        offers.push(o["id"].as_str().unwrap().to_string());
    }
    let mut customers = Vec::new();
    for i in 0..40 {
        let mut c = json!({
            "customer_number": format!("M-{i}"), "first_name": "A", "last_name": "B",
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
