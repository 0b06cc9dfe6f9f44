//! Cohort runs end to end, on SQLite and PostgreSQL: queued, solved in the background,
//! proposals explained, and only a person's accept creates a placement.

mod common;

use actix_web::http::StatusCode;
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::json;

on_both_backends!(
    cohort_run_proposes_and_a_person_decides,
    a_run_taken_over_is_finished_only_by_its_new_worker,
    a_stopped_worker_hands_its_run_back
);

async fn cohort_run_proposes_and_a_person_decides(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.state.start_worker();
    let mut offers = Vec::new();
    for (district, places) in [("Stadtbezirk 1", 2), ("Stadtbezirk 2", 3), ("Stadtbezirk 3", 1)] {
        let mut body = t.offer_body();
        body["district"] = json!(district);
        body["planned_places"] = json!(places);
        body["max_places"] = json!(places);
        body["starts_on"] = json!("2026-01-01");
        body["ends_on"] = json!("2030-12-31");
        offers.push(
            t.post("/api/v1/offers", Role::Admin, body).await.body["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut customers = Vec::new();
    for i in 0..9 {
        let mut body = TestApp::customer_body(&format!("K-{i}"));
        body["district"] = json!(format!("Stadtbezirk {}", i % 3 + 1));
        customers.push(
            t.post("/api/v1/customers", Role::Specialist, body).await.body["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // bad requests
    t.post("/api/v1/allocation-runs", Role::Specialist, json!({}))
        .await
        .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/allocation-runs",
        Role::Specialist,
        json!({"customer_ids": customers, "instrument_codes": ["NOPE"]}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/allocation-runs",
        Role::Specialist,
        json!({"filter": {"target_group": "astronauts"}}),
    )
    .await
    .assert_problem(400, "invalid_field");
    t.post(
        "/api/v1/allocation-runs",
        Role::Provider,
        json!({"customer_ids": customers}),
    )
    .await
    .assert_problem(403, "forbidden");

    let q = t
        .post(
            "/api/v1/allocation-runs",
            Role::Specialist,
            json!({"customer_ids": customers}),
        )
        .await;
    assert_eq!(q.status, StatusCode::ACCEPTED, "{}", q.body);
    assert_eq!(q.body["status"], "queued");
    let id = q.body["id"].as_str().unwrap().to_string();
    assert!(q.header("location").unwrap().ends_with(&id));
    let run = t.wait_for_run(&id).await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["optimal"], true);
    assert_eq!(run["customers"], 9);
    assert_eq!(run["offers"], 3);
    assert_eq!(run["assigned"], 6, "6 places for 9 customers");
    assert_eq!(run["progress"]["done"], run["progress"]["total"]);
    assert!(run["arcs"].as_i64().unwrap() > 9);
    assert_eq!(t.count("allocations"), 0, "a run places nobody");
    // the run's reads of its cohort are audited as its creator's, in their role
    let audit = t.get("/api/v1/audit?limit=500", Role::Admin).await;
    let run_reads: Vec<&serde_json::Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["route"] == format!("cohort run {id}").as_str())
        .collect();
    assert_eq!(run_reads.len(), 9, "one entry per customer of the cohort");
    assert!(run_reads
        .iter()
        .all(|e| e["action"] == "read" && e["role"] == "specialist"));
    let again = t
        .get(&format!("/api/v1/allocation-runs/{id}"), Role::Specialist)
        .await;
    assert!(
        again.header("etag").is_some(),
        "a single resource carries an ETag"
    );

    let p = t
        .get(
            &format!("/api/v1/allocation-runs/{id}/proposals"),
            Role::Specialist,
        )
        .await;
    let proposals = p.body["items"].as_array().unwrap().clone();
    assert_eq!(proposals.len(), 6);
    let mut per_offer = std::collections::HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for pr in &proposals {
        assert!(
            seen.insert(pr["customer_id"].as_str().unwrap().to_string()),
            "one proposal per customer"
        );
        *per_offer
            .entry(pr["offer_id"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
        let sum: i64 = pr["explanation"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["points"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, pr["score"].as_i64().unwrap());
        assert_eq!(pr["decision"], "pending");
        assert!(pr["explanation"]["next_best"]["why"].is_string(), "{pr}");
    }
    assert_eq!(per_offer[&offers[0]], 2);
    assert_eq!(per_offer[&offers[1]], 3);
    assert_eq!(per_offer[&offers[2]], 1);
    // customers go to their own district where they can (the total fit is maximal)
    let same_district = proposals
        .iter()
        .filter(|pr| {
            pr["explanation"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["factor"] == "same_district")
        })
        .count();
    assert_eq!(same_district, 6);

    // decisions
    let path = |pid: &str| format!("/api/v1/allocation-runs/{id}/proposals/{pid}/decision");
    let first = proposals[0]["id"].as_str().unwrap().to_string();
    let ok = t
        .post(&path(&first), Role::Specialist, json!({"accept": true}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["decision"], "accepted");
    let alloc = ok.body["allocation_id"].as_str().unwrap().to_string();
    let a = t
        .get(&format!("/api/v1/allocations/{alloc}"), Role::Specialist)
        .await;
    assert_eq!(a.body["status"], "reserved");
    assert_eq!(a.body["source"], "cohort");
    t.post(&path(&first), Role::Specialist, json!({"accept": true}))
        .await
        .assert_problem(409, "already_decided");
    let second = proposals[1]["id"].as_str().unwrap().to_string();
    t.post(&path(&second), Role::Specialist, json!({"accept": false}))
        .await
        .assert_problem(422, "validation_failed");
    let rej = t
        .post(
            &path(&second),
            Role::Specialist,
            json!({"accept": false, "reason": "Kundin beginnt eine Ausbildung"}),
        )
        .await;
    assert_eq!(rej.status, StatusCode::OK);
    assert_eq!(rej.body["reason"], "Kundin beginnt eine Ausbildung");
    assert!(rej.body["allocation_id"].is_null());
    // a place taken meanwhile: accepting is refused and changes nothing
    let single = proposals
        .iter()
        .find(|pr| pr["offer_id"] == offers[2].as_str())
        .unwrap();
    let outsider = customers.iter().find(|c| !seen.contains(*c)).unwrap();
    let taken = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": outsider, "offer_id": offers[2]}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    t.post(
        &path(single["id"].as_str().unwrap()),
        Role::Specialist,
        json!({"accept": true}),
    )
    .await
    .assert_problem(409, "capacity_exhausted");
    let again = t
        .get(
            &format!("/api/v1/allocation-runs/{id}/proposals"),
            Role::Specialist,
        )
        .await;
    let still = again.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pr| pr["id"] == single["id"])
        .unwrap()
        .clone();
    assert_eq!(still["decision"], "pending");
    t.get(
        &format!("/api/v1/allocation-runs/{}", uuid::Uuid::now_v7()),
        Role::Specialist,
    )
    .await
    .assert_problem(404, "not_found");
    t.post(
        &path(&uuid::Uuid::now_v7().to_string()),
        Role::Specialist,
        json!({"accept": true}),
    )
    .await
    .assert_problem(404, "not_found");

    // by filter: district, and the run survives without any client waiting
    let f = t
        .post(
            "/api/v1/allocation-runs",
            Role::Admin,
            json!({"filter": {"district": "Stadtbezirk 2"}, "instrument_codes": ["AVGS_MAT"]}),
        )
        .await;
    let run = t.wait_for_run(f.body["id"].as_str().unwrap()).await;
    assert_eq!(run["customers"], 3, "{run}");
}

/// A worker that went quiet loses its run to the next one that claims it; from then on
/// its heartbeat, its result and its hand-back are refused, so the run is finished once.
async fn a_run_taken_over_is_finished_only_by_its_new_worker(b: Backend) {
    use passgenau_server::app::cohort_runs::{execute, RunRequest};
    use passgenau_store::runs;
    let t = TestApp::new(b).unwrap();
    let mut body = t.offer_body();
    body["starts_on"] = json!("2026-01-01");
    body["ends_on"] = json!("2030-12-31");
    assert_eq!(
        t.post("/api/v1/offers", Role::Admin, body).await.status,
        StatusCode::CREATED
    );
    let customer = t.create_customer("K-claim").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let req = RunRequest {
        customer_ids: Some(vec![customer.parse().unwrap()]),
        ..Default::default()
    };
    let store = &t.state.store;
    let id = passgenau_domain::ids::RunId::new();
    store
        .write(|c| runs::create(c, id, &serde_json::to_string(&req).unwrap(), "ifk"))
        .unwrap();
    let minute_ago = passgenau_store::records::now() - chrono::Duration::seconds(60);
    let first = store.read(|c| runs::claim(c, minute_ago)).unwrap().unwrap();
    let old = first.claim.clone().unwrap();
    assert_eq!(first.status, "running");
    assert!(
        store.read(|c| runs::claim(c, minute_ago)).unwrap().is_none(),
        "claimed once"
    );
    assert!(store.read(|c| runs::progress(c, id, &old, 1, 2)).unwrap());
    // its heartbeat is older than this cut-off: taken over
    let soon = passgenau_store::records::now() + chrono::Duration::seconds(1);
    let second = store.read(|c| runs::claim(c, soon)).unwrap().unwrap();
    let new = second.claim.clone().unwrap();
    assert_ne!(old, new);
    assert_eq!(second.progress_done, 0, "the new worker starts afresh");
    // the old worker is refused everywhere
    assert!(!store.read(|c| runs::progress(c, id, &old, 2, 2)).unwrap());
    assert!(!store.read(|c| runs::release(c, id, &old)).unwrap());
    assert!(!store.read(|c| runs::fail(c, id, &old, "late")).unwrap());
    let late = execute(
        store,
        &t.state.rules,
        &t.state.scoring,
        id,
        &old,
        &req,
        &mut |_, _| true,
    );
    assert!(late.is_err(), "{late:?}");
    assert_eq!(t.count("run_proposals"), 0, "the late result is not stored");
    assert_eq!(store.read(|c| runs::get(c, id)).unwrap().status, "running");
    // a worker that stops hands its run back; the next claim starts it again
    let stopped = execute(
        store,
        &t.state.rules,
        &t.state.scoring,
        id,
        &new,
        &req,
        &mut |_, _| false,
    );
    assert_eq!(stopped.unwrap().map(|o| o.assigned), None);
    assert!(store.read(|c| runs::release(c, id, &new)).unwrap());
    let queued = store.read(|c| runs::get(c, id)).unwrap();
    assert_eq!((queued.status.as_str(), queued.claim), ("queued", None));
    let third = store.read(|c| runs::claim(c, minute_ago)).unwrap().unwrap();
    let latest = third.claim.unwrap();
    let done = execute(
        store,
        &t.state.rules,
        &t.state.scoring,
        id,
        &latest,
        &req,
        &mut |_, _| true,
    )
    .unwrap()
    .unwrap();
    assert_eq!(done.assigned, 1);
    assert_eq!(t.count("run_proposals"), 1);
    assert_eq!(store.read(|c| runs::get(c, id)).unwrap().status, "done");
    assert!(
        !store.read(|c| runs::release(c, id, &latest)).unwrap(),
        "a done run stays done"
    );
}

/// A worker told to stop with no time left hands its run back at once; the run's own
/// thread, still scoring, then stops at its next batch and stores nothing. The next worker
/// runs it to the end.
async fn a_stopped_worker_hands_its_run_back(b: Backend) {
    use passgenau_store::runs;
    let t = TestApp::new_empty(b).unwrap();
    let store = t.state.store.clone();
    tokio::task::spawn_blocking(move || {
        passgenau_server::demo::demo(
            &store,
            &passgenau_server::demo::DemoOptions {
                customers: 3000,
                seed: 7,
                force: false,
                progress: false,
            },
        )
        .map(drop)
    })
    .await
    .unwrap()
    .unwrap();
    let store = &t.state.store;
    let id = passgenau_domain::ids::RunId::new();
    store
        .write(|c| runs::create(c, id, r#"{"filter": {}}"#, "ifk"))
        .unwrap();
    let worker = t.state.start_worker();
    let mut run = store.read(|c| runs::get(c, id)).unwrap();
    // its first heartbeat (after 500 ms): the worker holds it and is scoring
    for _ in 0..1000 {
        if run.status != "queued" && run.progress_done > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        run = store.read(|c| runs::get(c, id)).unwrap();
    }
    assert_eq!(run.status, "running", "{run:?}");
    assert!(run.progress_done < run.progress_total, "{run:?}");
    tokio::task::spawn_blocking(move || worker.stop(std::time::Duration::ZERO))
        .await
        .unwrap();
    let back = store.read(|c| runs::get(c, id)).unwrap();
    assert_eq!((back.status.as_str(), back.claim.as_deref()), ("queued", None));
    // the old thread notices at its next batch (256 customers) and gives up
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(store.read(|c| runs::get(c, id)).unwrap().status, "queued");
    assert_eq!(t.count("run_proposals"), 0);
    let _next = t.state.start_worker();
    t.state.run_signal.notify();
    let done = t.wait_for_run(&id.to_string()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(Some(t.count("run_proposals")), done["assigned"].as_i64());
}
