//! The front end's daily work (issue #20, item 1), on SQLite and PostgreSQL: answers a
//! screen can show in one request (the offer in short beside each row), runs listed,
//! `Location` on every 201, leaving a waiting list, and the author of a promotion.

mod common;

use actix_web::http::{Method, StatusCode};
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    every_row_carries_its_offer_in_short,
    a_waiting_list_is_left_and_a_promotion_is_the_systems,
    cohort_runs_are_listed_newest_first,
    providers_steer_their_intake
);

fn assert_summary(offer: &Value, t: &TestApp, id: &str) {
    assert_eq!(offer["id"], id, "{offer}");
    assert_eq!(offer["title"], "Bewerbungscenter U25");
    assert_eq!(offer["instrument_code"], "AVGS_MAT");
    assert_eq!(offer["provider_id"], t.provider_id.to_string().as_str());
    assert_eq!(offer["provider_name"], "Bildungsträger Rhein GmbH");
    assert_eq!(offer["district"], "Stadtbezirk 1");
    assert_eq!(offer["starts_on"], "2026-01-01");
    assert_eq!(offer["ends_on"], "2026-12-31");
}

async fn new_offer(t: &TestApp, places: i64) -> String {
    let mut body = t.offer_body();
    body["planned_places"] = json!(places);
    body["max_places"] = json!(places);
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/offers/{id}").as_str())
    );
    id
}

async fn every_row_carries_its_offer_in_short(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = new_offer(&t, 10).await;
    let c = t.create_customer("D-1").await;
    let c = c["id"].as_str().unwrap().to_string();
    let created = t
        .post(
            "/api/v1/customers",
            Role::Specialist,
            TestApp::customer_body("D-2"),
        )
        .await;
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/customers/{}", created.body["id"].as_str().unwrap()).as_str())
    );

    let rec = t
        .get(
            &format!("/api/v1/customers/{c}/recommendations?as_of=2026-06-01"),
            Role::Specialist,
        )
        .await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    let first = &rec.body["items"][0];
    assert_eq!(first["offer_id"], o.as_str());
    assert_summary(&first["offer"], &t, &o);

    let p = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": c, "offer_id": o}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let pid = p.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        p.header("location"),
        Some(format!("/api/v1/allocations/{pid}").as_str())
    );
    assert_summary(&p.body["offer"], &t, &o);
    for role in [Role::Specialist, Role::Provider] {
        let list = t.get(&format!("/api/v1/allocations?offer_id={o}"), role).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert_summary(&list.body["items"][0]["offer"], &t, &o);
        let one = t.get(&format!("/api/v1/allocations/{pid}"), role).await;
        assert_summary(&one.body["offer"], &t, &o);
    }
    let moved = t
        .post(
            &format!("/api/v1/allocations/{pid}/transitions"),
            Role::Provider,
            json!({"to": "confirmed"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_summary(&moved.body["offer"], &t, &o);

    let h = t
        .post(
            "/api/v1/households",
            Role::Specialist,
            json!({"household_number": "BG-D", "members": [{"role": "child", "date_of_birth": "2015-05-01"}]}),
        )
        .await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.body);
    let hid = h.body["id"].as_str().unwrap();
    assert_eq!(
        h.header("location"),
        Some(format!("/api/v1/households/{hid}").as_str())
    );
    let prov = t
        .post(
            "/api/v1/providers",
            Role::Admin,
            json!({"name": "Zweiter Träger", "azav_certified_until": "2030-12-31"}),
        )
        .await;
    let pr = prov.body["id"].as_str().unwrap();
    assert_eq!(
        prov.header("location"),
        Some(format!("/api/v1/providers/{pr}").as_str())
    );
}

async fn a_waiting_list_is_left_and_a_promotion_is_the_systems(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = new_offer(&t, 1).await;
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for n in ["W-1", "W-2", "W-3"] {
            v.push(t.create_customer(n).await["id"].as_str().unwrap().to_string());
        }
        v
    };
    let first = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": ids[0], "offer_id": o}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let path = format!("/api/v1/offers/{o}/waitlist");
    for c in &ids[1..] {
        let w = t.post(&path, Role::Specialist, json!({"customer_id": c})).await;
        assert_eq!(w.status, StatusCode::CREATED, "{}", w.body);
        assert_eq!(w.header("location"), Some(format!("{path}/{c}").as_str()));
        assert_summary(&w.body["offer"], &t, &o);
    }
    let list = t.get(&path, Role::Specialist).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    assert_summary(&list.body["items"][0]["offer"], &t, &o);

    // W-2 leaves; W-3 is next in line
    let gone = t
        .req(
            Method::DELETE,
            &format!("{path}/{}", ids[1]),
            Some(Role::Specialist),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    t.req(
        Method::DELETE,
        &format!("{path}/{}", ids[1]),
        Some(Role::Specialist),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    t.req(
        Method::DELETE,
        &format!("{path}/{}", ids[2]),
        Some(Role::Provider),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    let list = t.get(&path, Role::Specialist).await;
    let waiting: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, [ids[2].as_str()]);
    let audit = t
        .get(
            &format!("/api/v1/audit?customer_id={}&limit=100", ids[1]),
            Role::Admin,
        )
        .await;
    assert!(audit.body["items"].as_array().unwrap().iter().any(
        |e| e["action"] == "delete" && e["route"] == "DELETE /api/v1/offers/{id}/waitlist/{customer_id}"
    ));

    // the provider frees the place: W-3 is promoted by the system, not by the provider
    let pid = first.body["id"].as_str().unwrap();
    let freed = t
        .post(
            &format!("/api/v1/allocations/{pid}/transitions"),
            Role::Provider,
            json!({"to": "declined", "reason": "abgesagt"}),
        )
        .await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.body);
    let promoted = t
        .get(
            &format!("/api/v1/allocations?customer_id={}", ids[2]),
            Role::Specialist,
        )
        .await;
    let item = &promoted.body["items"][0];
    assert_eq!(item["source"], "waitlist", "{}", promoted.body);
    assert_eq!(item["created_by"], "system:waitlist");
    assert_eq!(item["status"], "reserved");
}

async fn cohort_runs_are_listed_newest_first(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.state.start_worker();
    let o = new_offer(&t, 5).await;
    let c = t.create_customer("R-1").await["id"].as_str().unwrap().to_string();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let q = t
            .post(
                "/api/v1/allocation-runs",
                Role::Specialist,
                json!({"customer_ids": [c]}),
            )
            .await;
        assert_eq!(q.status, StatusCode::ACCEPTED, "{}", q.body);
        let id = q.body["id"].as_str().unwrap().to_string();
        assert_eq!(t.wait_for_run(&id).await["status"], "done");
        runs.push(id);
    }
    let all = t.get("/api/v1/allocation-runs", Role::Specialist).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let listed: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [runs[1].as_str(), runs[0].as_str()], "newest first");
    // paged
    let p1 = t.get("/api/v1/allocation-runs?limit=1", Role::Admin).await;
    assert_eq!(p1.body["items"][0]["id"], runs[1].as_str());
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = t
        .get(
            &format!("/api/v1/allocation-runs?limit=1&cursor={cursor}"),
            Role::Admin,
        )
        .await;
    assert_eq!(p2.body["items"][0]["id"], runs[0].as_str());
    assert!(p2.body["next_cursor"].is_null());
    // filters
    for (q, n) in [
        ("status=done", 2),
        ("status=queued", 0),
        ("created_by=specialist-user", 2),
        ("created_by=somebody", 0),
        ("since=2999-01-01T00:00:00Z", 0),
        ("since=2020-01-01T00:00:00Z", 2),
    ] {
        let r = t
            .get(&format!("/api/v1/allocation-runs?{q}"), Role::Specialist)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), n, "{q}");
    }
    t.get("/api/v1/allocation-runs?status=finished", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
    t.get("/api/v1/allocation-runs?owner=x", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
    t.get("/api/v1/allocation-runs", Role::Provider)
        .await
        .assert_problem(403, "forbidden");
    // proposals show their offer in short
    let props = t
        .get(
            &format!("/api/v1/allocation-runs/{}/proposals", runs[1]),
            Role::Specialist,
        )
        .await;
    assert_summary(&props.body["items"][0]["offer"], &t, &o);
}

async fn intake(t: &TestApp, o: &str, role: Role, body: Value) -> common::Reply {
    t.post(&format!("/api/v1/offers/{o}/intake"), role, body).await
}

fn free_of(list: &Value, o: &str) -> i64 {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["offer_id"] == o)
        .map(|i| i["free"].as_i64().unwrap())
        .unwrap_or(-1)
}

async fn providers_steer_their_intake(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.state.start_worker();
    let o = new_offer(&t, 3).await;
    let mut people = Vec::new();
    for n in ["I-1", "I-2", "I-3"] {
        people.push(t.create_customer(n).await["id"].as_str().unwrap().to_string());
    }
    intake(&t, &o, Role::Provider, json!({"status": "paused"}))
        .await
        .assert_problem(422, "validation_failed");
    intake(
        &t,
        &o,
        Role::Specialist,
        json!({"status": "paused", "reason": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    intake(&t, &o, Role::Provider, json!({"status": "open", "places_now": 4}))
        .await
        .assert_problem(422, "validation_failed");
    intake(&t, &o, Role::Provider, json!({"status": "halted", "reason": "x"}))
        .await
        .assert_problem(400, "invalid_field");
    let paused = intake(
        &t,
        &o,
        Role::Provider,
        json!({"status": "paused", "reason": "Dozent erkrankt"}),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["intake"]["status"], "paused");
    assert_eq!(paused.body["intake"]["changed_by"], "provider-user");
    // the specialists see it on the offer, and placements follow at once
    let seen = t.get(&format!("/api/v1/offers/{o}"), Role::Specialist).await;
    assert_eq!(seen.body["intake"]["reason"], "Dozent erkrankt");
    t.post(
        "/api/v1/allocations",
        Role::Specialist,
        json!({"customer_id": people[0], "offer_id": o}),
    )
    .await
    .assert_problem(409, "intake_paused");
    assert_eq!(
        free_of(
            &t.get("/api/v1/availability?limit=500", Role::Provider).await.body,
            &o
        ),
        0
    );
    let rec = t
        .get(
            &format!("/api/v1/customers/{}/recommendations?as_of=2026-06-01", people[0]),
            Role::Specialist,
        )
        .await;
    assert!(rec.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["offer_id"] != o.as_str()));
    t.patch(
        &format!("/api/v1/offers/{o}"),
        Role::Admin,
        json!({"intake": {"status": "open"}}),
    )
    .await
    .assert_problem(422, "validation_failed");

    // while paused one can wait; the place opened first goes to those waiting
    let w = t
        .post(
            &format!("/api/v1/offers/{o}/waitlist"),
            Role::Specialist,
            json!({"customer_id": people[2]}),
        )
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.body);
    let open = intake(&t, &o, Role::Provider, json!({"status": "open", "places_now": 1})).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    let promoted = t
        .get(
            &format!("/api/v1/allocations?customer_id={}", people[2]),
            Role::Specialist,
        )
        .await;
    assert_eq!(
        promoted.body["items"][0]["source"], "waitlist",
        "{}",
        promoted.body
    );
    assert_eq!(
        free_of(
            &t.get("/api/v1/availability?limit=500", Role::Provider).await.body,
            &o
        ),
        0
    );
    // two places now: one more is free, for the cohort or a reservation
    let more = intake(&t, &o, Role::Provider, json!({"status": "open", "places_now": 2})).await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.body);
    assert_eq!(
        free_of(
            &t.get("/api/v1/availability?limit=500", Role::Provider).await.body,
            &o
        ),
        1
    );
    let run = t
        .post(
            "/api/v1/allocation-runs",
            Role::Specialist,
            json!({"customer_ids": &people[..2]}),
        )
        .await;
    let run = t.wait_for_run(run.body["id"].as_str().unwrap()).await;
    assert_eq!(run["assigned"], 1, "the cohort gets the one place: {run}");
    let first = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": people[0], "offer_id": o}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    t.post(
        "/api/v1/allocations",
        Role::Specialist,
        json!({"customer_id": people[1], "offer_id": o}),
    )
    .await
    .assert_problem(409, "capacity_exhausted");
    // every change is in the audit log
    let audit = t
        .get("/api/v1/audit?actor=provider-user&limit=100", Role::Admin)
        .await;
    let changes: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["route"] == "POST /api/v1/offers/{id}/intake")
        .collect();
    assert_eq!(changes.len(), 3, "{}", audit.body);
    assert!(changes[0]["fields"].as_str().unwrap().contains("paused"));
}
