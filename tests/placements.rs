//! The engine online and placements, on SQLite and PostgreSQL: eligibility, ranking,
//! availability, the state machine, waiting lists, and the invariants under concurrency.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    eligibility_lists_every_instrument_with_reasons,
    recommendations_rank_eligible_free_offers,
    availability_counts_places_and_supports_etags,
    placement_refusals,
    idempotent_placement,
    lifecycle_and_every_invalid_transition,
    provider_isolation,
    waitlist_promotion_goes_to_first_eligible,
    admin_override_is_recorded,
    budget_is_never_overspent,
    committed_budget_follows_every_status,
    budget_report_shows_what_placements_checked,
    concurrent_requests_never_overbook,
    plans_round_trip,
);

async fn offer(t: &TestApp, patch: Value) -> String {
    let mut body = t.offer_body();
    body["starts_on"] = json!("2026-01-01");
    body["ends_on"] = json!("2030-12-31");
    for (k, v) in patch.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Dates a placement's decision back to `day` (as if it had been made then), so entries
/// and exits can be recorded on earlier days than today.
fn backdate(t: &TestApp, id: &str, day: &str) {
    let id: passgenau_domain::ids::PlacementId = id.parse().unwrap();
    let day: chrono::NaiveDate = day.parse().unwrap();
    t.state
        .store
        .write(|conn| {
            let mut rec =
                passgenau_store::allocations::get(conn, id)?.open_in(conn, &common::test_access())?;
            let v = rec.verdict.as_mut().expect("a verdict");
            v.reference_day = day;
            v.decided_on = day;
            let version = rec.meta.version;
            passgenau_store::allocations::update(conn, &rec, version)
        })
        .expect("backdate");
}

async fn customer(t: &TestApp, number: &str, patch: Value) -> String {
    let mut body = TestApp::customer_body(number);
    for (k, v) in patch.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = t.post("/api/v1/customers", Role::Specialist, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn place(t: &TestApp, customer: &str, offer: &str) -> common::Reply {
    t.post(
        "/api/v1/allocations",
        Role::Specialist,
        json!({"customer_id": customer, "offer_id": offer}),
    )
    .await
}

async fn move_to(t: &TestApp, id: &str, role: Role, to: &str) -> common::Reply {
    t.post(
        &format!("/api/v1/allocations/{id}/transitions"),
        role,
        json!({"to": to}),
    )
    .await
}

async fn eligibility_lists_every_instrument_with_reasons(b: Backend) {
    let t = TestApp::new(b).unwrap();
    // born 1988, in need since 2018, unemployed since mid-2019 (customer_body)
    let c = customer(&t, "K-1", json!({})).await;
    let r = t
        .get(
            &format!("/api/v1/customers/{c}/eligibility?as_of=2026-11-24"),
            Role::Specialist,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let instruments = t.get("/api/v1/instruments?limit=500", Role::Specialist).await;
    assert_eq!(items.len(), instruments.body["items"].as_array().unwrap().len());
    let by_code = |code: &str| {
        items
            .iter()
            .find(|i| i["instrument_code"] == code)
            .unwrap()
            .clone()
    };
    for item in items {
        for reason in item["reasons"].as_array().unwrap() {
            assert!(reason["rule"].is_string() && reason["passed"].is_boolean());
            assert!(
                !reason["detail"].as_str().unwrap().is_empty()
                    && !reason["source"].as_str().unwrap().is_empty()
            );
        }
        let all_passed = item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["passed"] == true);
        assert_eq!(item["eligible"], all_passed);
    }
    // FbW is the Agentur's since 2025: a referral, not a missing prerequisite
    assert_eq!(by_code("FBW")["eligible"], false);
    assert_eq!(by_code("FBW")["decided_by"], "agentur");
    assert_eq!(by_code("AVGS_MAT")["decided_by"], "jobcenter");
    // as of mid-2022: unemployed since 2019-06-01, so § 16e yes; in need since 2018
    // (53 of the last 84 months), so § 16i no
    let r2022 = t
        .get(
            &format!("/api/v1/customers/{c}/eligibility?as_of=2022-06-01"),
            Role::Specialist,
        )
        .await;
    let items = r2022.body["items"].as_array().unwrap();
    let by_code = |code: &str| {
        items
            .iter()
            .find(|i| i["instrument_code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(by_code("P16E")["eligible"], true);
    let p16i = by_code("P16I");
    assert_eq!(p16i["eligible"], false);
    let failed: Vec<&str> = p16i["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["p16i.benefit_years"]);
    // in 2024 FbW was the Jobcenter's
    let r2024 = t
        .get(
            &format!("/api/v1/customers/{c}/eligibility?as_of=2024-06-01"),
            Role::Specialist,
        )
        .await;
    let fbw = r2024.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instrument_code"] == "FBW")
        .unwrap()
        .clone();
    assert!(fbw["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "fbw.competence" && r["passed"] == true));
    t.get(
        &format!("/api/v1/customers/{}/eligibility", uuid::Uuid::now_v7()),
        Role::Specialist,
    )
    .await
    .assert_problem(404, "not_found");
    t.get(&format!("/api/v1/customers/{c}/eligibility"), Role::Provider)
        .await
        .assert_problem(403, "forbidden");
    // the read is audited
    let a = t
        .get(&format!("/api/v1/audit?customer_id={c}"), Role::Admin)
        .await;
    assert!(a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["route"] == "GET /api/v1/customers/{id}/eligibility"));
}

async fn recommendations_rank_eligible_free_offers(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = customer(&t, "K-1", json!({"district": "Stadtbezirk 1"})).await;
    let near = offer(&t, json!({"title": "near", "district": "Stadtbezirk 1"})).await;
    let far = offer(&t, json!({"title": "far", "district": "Stadtbezirk 9"})).await;
    let agh = offer(&t, json!({"title": "agh", "instrument_code": "AGH"})).await;
    let too_old = offer(&t, json!({"title": "u25 only", "max_age": 24})).await;
    let full = offer(&t, json!({"title": "full", "planned_places": 1, "max_places": 1})).await;
    let other = customer(&t, "K-2", json!({})).await;
    assert_eq!(place(&t, &other, &full).await.status, StatusCode::CREATED);

    let r = t
        .get(
            &format!("/api/v1/customers/{c}/recommendations?as_of=2026-11-24"),
            Role::Specialist,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["offer_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&near.as_str()) && ids.contains(&far.as_str()) && ids.contains(&agh.as_str()));
    assert!(!ids.contains(&too_old.as_str()), "ineligible offers are left out");
    assert!(!ids.contains(&full.as_str()), "full offers are left out");
    assert_eq!(ids[0], near, "same district ranks first");
    assert_eq!(*ids.last().unwrap(), agh, "AGH after direct integration");
    let mut last = i64::MAX;
    for item in items {
        let score = item["score"].as_i64().unwrap();
        let sum: i64 = item["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["points"].as_i64().unwrap())
            .sum();
        assert_eq!(score, sum, "explanation adds up: {item}");
        assert!(score <= last);
        last = score;
        assert!(item["free"].as_i64().unwrap() > 0);
        for e in item["explanation"].as_array().unwrap() {
            assert!(!["gender", "nationality"].contains(&e["factor"].as_str().unwrap()));
        }
    }
    let only = t
        .get(
            &format!("/api/v1/customers/{c}/recommendations?instrument=AGH&limit=1"),
            Role::Specialist,
        )
        .await;
    assert_eq!(only.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(only.body["items"][0]["offer_id"], agh.as_str());
    t.get(
        &format!("/api/v1/customers/{c}/recommendations?limit=0"),
        Role::Specialist,
    )
    .await
    .assert_problem(400, "invalid_query");
    // an offer the customer already holds is not recommended again
    assert_eq!(place(&t, &c, &near).await.status, StatusCode::CREATED);
    let again = t
        .get(
            &format!("/api/v1/customers/{c}/recommendations"),
            Role::Specialist,
        )
        .await;
    assert!(!again.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["offer_id"] == near.as_str()));
}

async fn availability_counts_places_and_supports_etags(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = offer(&t, json!({"planned_places": 2, "max_places": 2})).await;
    let c1 = customer(&t, "K-1", json!({})).await;
    let c2 = customer(&t, "K-2", json!({})).await;
    let c3 = customer(&t, "K-3", json!({})).await;
    assert_eq!(place(&t, &c1, &o).await.status, StatusCode::CREATED);
    let item = |r: &common::Reply| {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["offer_id"] == o.as_str())
            .unwrap()
            .clone()
    };
    let r = t.get("/api/v1/availability", Role::Provider).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let i = item(&r);
    assert_eq!(
        (
            i["occupied"].as_i64(),
            i["free"].as_i64(),
            i["waitlisted"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert!(!r.body.to_string().contains("Erika"), "no personal data");
    let etag = r.header("etag").unwrap().to_string();
    let same = t
        .call(
            TestRequest::get()
                .uri("/api/v1/availability")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-none-match", etag.clone())),
        )
        .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert_eq!(place(&t, &c2, &o).await.status, StatusCode::CREATED);
    let wl = t
        .post(
            &format!("/api/v1/offers/{o}/waitlist"),
            Role::Specialist,
            json!({"customer_id": c3}),
        )
        .await;
    assert_eq!(wl.status, StatusCode::CREATED, "{}", wl.body);
    assert_eq!(wl.body["position"], 1);
    let changed = t
        .call(
            TestRequest::get()
                .uri("/api/v1/availability")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-none-match", etag)),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let i = item(&changed);
    assert_eq!(
        (
            i["occupied"].as_i64(),
            i["free"].as_i64(),
            i["waitlisted"].as_i64()
        ),
        (Some(2), Some(0), Some(1))
    );
    let filtered = t
        .get("/api/v1/availability?instrument=AGH", Role::Specialist)
        .await;
    assert_eq!(filtered.body["items"], json!([]));
    t.get("/api/v1/availability", Role::Reporting)
        .await
        .assert_problem(403, "forbidden");
    t.get("/api/v1/availability?starts_from=01.01.2026", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
}

async fn placement_refusals(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = offer(&t, json!({"planned_places": 1, "max_places": 1})).await;
    let c1 = customer(&t, "K-1", json!({})).await;
    let c2 = customer(&t, "K-2", json!({})).await;
    let r = place(&t, &c1, &o).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "reserved");
    assert_eq!(r.body["customer_id"], c1.as_str());
    assert_eq!(r.body["cost_cents"], 150000);
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    place(&t, &c1, &o).await.assert_problem(409, "already_allocated");
    place(&t, &c2, &o).await.assert_problem(409, "capacity_exhausted");
    place(&t, &uuid::Uuid::now_v7().to_string(), &o)
        .await
        .assert_problem(404, "not_found");
    place(&t, &c2, &uuid::Uuid::now_v7().to_string())
        .await
        .assert_problem(404, "not_found");
    let closed = offer(&t, json!({"status": "closed"})).await;
    place(&t, &c2, &closed).await.assert_problem(409, "offer_closed");
    let young = offer(&t, json!({"max_age": 24})).await;
    let r = place(&t, &c2, &young).await;
    r.assert_problem(422, "not_eligible");
    let reasons = r.body["reasons"].as_array().unwrap();
    assert!(reasons
        .iter()
        .any(|x| x["rule"] == "offer.age_limits" && x["passed"] == false));
    // the provider's AZAV approval must be valid on the start day
    let stale = t
        .post(
            "/api/v1/providers",
            Role::Admin,
            json!({"name": "Ohne AZAV", "azav_certified_until": "2025-01-01"}),
        )
        .await;
    let no_azav = offer(&t, json!({"provider_id": stale.body["id"]})).await;
    let r = place(&t, &c2, &no_azav).await;
    r.assert_problem(422, "not_eligible");
    assert!(r.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["rule"] == "avgs.provider_approved" && x["passed"] == false));
    // bad input
    t.post(
        "/api/v1/allocations",
        Role::Specialist,
        json!({"customer_id": c2}),
    )
    .await
    .assert_problem(400, "invalid_field");
    t.post(
        "/api/v1/allocations",
        Role::Specialist,
        json!({"customer_id": "x", "offer_id": o}),
    )
    .await
    .assert_problem(400, "invalid_field");
    t.post(
        "/api/v1/allocations",
        Role::Provider,
        json!({"customer_id": c2, "offer_id": o}),
    )
    .await
    .assert_problem(403, "forbidden");
    t.post(
        "/api/v1/allocations",
        Role::Reporting,
        json!({"customer_id": c2, "offer_id": o}),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(t.count("allocations"), 1, "no refusal wrote anything");
    assert_eq!(t.count("allocation_events"), 1);
}

async fn idempotent_placement(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = offer(&t, json!({})).await;
    let c = customer(&t, "K-1", json!({})).await;
    let send = |key: &'static str, body: Value| {
        t.call(
            TestRequest::post()
                .uri("/api/v1/allocations")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("idempotency-key", key))
                .set_json(body),
        )
    };
    let body = json!({"customer_id": c, "offer_id": o});
    let futs: Vec<_> = (0..6).map(|_| send("place-1", body.clone())).collect();
    let replies = futures_util::future::join_all(futs).await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "retries replay the first answer");
    assert_eq!(t.count("allocations"), 1);
    send(
        "place-1",
        json!({"customer_id": c, "offer_id": o, "note": "other"}),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    // without the key the retry is refused as a second placement
    place(&t, &c, &o).await.assert_problem(409, "already_allocated");
}

async fn lifecycle_and_every_invalid_transition(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = offer(&t, json!({"planned_places": 100})).await;
    let states = [
        "reserved",
        "confirmed",
        "started",
        "completed",
        "aborted",
        "declined",
        "no_show",
        "cancelled",
    ];
    let allowed: &[(&str, &str, Role)] = &[
        ("reserved", "confirmed", Role::Provider),
        ("confirmed", "started", Role::Provider),
        ("started", "completed", Role::Provider),
        ("started", "aborted", Role::Provider),
        ("reserved", "declined", Role::Provider),
        ("confirmed", "declined", Role::Provider),
        ("reserved", "no_show", Role::Provider),
        ("confirmed", "no_show", Role::Provider),
        ("reserved", "cancelled", Role::Specialist),
        ("confirmed", "cancelled", Role::Specialist),
    ];
    // drive one placement into each state, then try every target
    let path_to = |state: &str| -> Vec<(&'static str, Role)> {
        match state {
            "reserved" => vec![],
            "confirmed" => vec![("confirmed", Role::Provider)],
            "started" => vec![("confirmed", Role::Provider), ("started", Role::Provider)],
            "completed" => vec![
                ("confirmed", Role::Provider),
                ("started", Role::Provider),
                ("completed", Role::Provider),
            ],
            "aborted" => vec![
                ("confirmed", Role::Provider),
                ("started", Role::Provider),
                ("aborted", Role::Provider),
            ],
            "declined" => vec![("declined", Role::Provider)],
            "no_show" => vec![("no_show", Role::Provider)],
            _ => vec![("cancelled", Role::Specialist)],
        }
    };
    let mut n = 0;
    for from in states {
        for to in states {
            n += 1;
            if from == to && matches!(from, "started" | "completed" | "aborted") {
                // a correction of the recorded day: it names the day (tested below)
                let c = customer(&t, &format!("K-{n}"), json!({})).await;
                let id = place(&t, &c, &o).await.body["id"].as_str().unwrap().to_string();
                for (step, role) in path_to(from) {
                    move_to(&t, &id, role, step).await;
                }
                move_to(&t, &id, Role::Specialist, to)
                    .await
                    .assert_problem(403, "forbidden");
                move_to(&t, &id, Role::Provider, to)
                    .await
                    .assert_problem(422, "validation_failed");
                continue;
            }
            let c = customer(&t, &format!("K-{n}"), json!({})).await;
            let p = place(&t, &c, &o).await;
            assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
            let id = p.body["id"].as_str().unwrap().to_string();
            for (step, role) in path_to(from) {
                let r = move_to(&t, &id, role, step).await;
                assert_eq!(r.status, StatusCode::OK, "{from}: {step}: {}", r.body);
            }
            let rule = allowed.iter().find(|(f, x, _)| *f == from && *x == to);
            match rule {
                Some((_, _, role)) => {
                    let wrong = if *role == Role::Provider {
                        Role::Specialist
                    } else {
                        Role::Provider
                    };
                    move_to(&t, &id, wrong, to).await.assert_problem(403, "forbidden");
                    let r = move_to(&t, &id, *role, to).await;
                    assert_eq!(r.status, StatusCode::OK, "{from} -> {to}: {}", r.body);
                    assert_eq!(r.body["status"], to);
                }
                None => {
                    move_to(&t, &id, Role::Provider, to)
                        .await
                        .assert_problem(409, "invalid_transition");
                    move_to(&t, &id, Role::Admin, to)
                        .await
                        .assert_problem(409, "invalid_transition");
                }
            }
        }
    }
    // dates: entry dated, exit not before entry, nothing in the future
    let c = customer(&t, "K-dates", json!({})).await;
    let id = place(&t, &c, &o).await.body["id"].as_str().unwrap().to_string();
    move_to(&t, &id, Role::Provider, "confirmed").await;
    // not before the day the placement was decided for
    t.post(
        &format!("/api/v1/allocations/{id}/transitions"),
        Role::Provider,
        json!({"to": "started", "on": "2026-02-02"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    backdate(&t, &id, "2026-02-01");
    t.post(
        &format!("/api/v1/allocations/{id}/transitions"),
        Role::Provider,
        json!({"to": "started", "on": "2999-01-01"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let s = t
        .post(
            &format!("/api/v1/allocations/{id}/transitions"),
            Role::Provider,
            json!({"to": "started", "on": "2026-02-02"}),
        )
        .await;
    assert_eq!(s.body["started_on"], "2026-02-02");
    t.post(
        &format!("/api/v1/allocations/{id}/transitions"),
        Role::Provider,
        json!({"to": "completed", "on": "2026-02-01"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        &format!("/api/v1/allocations/{id}/transitions"),
        Role::Provider,
        json!({"to": "finished"}),
    )
    .await
    .assert_problem(400, "invalid_field");
    let done = t
        .post(
            &format!("/api/v1/allocations/{id}/transitions"),
            Role::Provider,
            json!({"to": "aborted", "on": "2026-03-01", "reason": "Arbeitsaufnahme"}),
        )
        .await;
    assert_eq!(done.body["ended_on"], "2026-03-01");
    assert_eq!(done.body["status_reason"], "Arbeitsaufnahme");
    // a wrongly recorded day is corrected by a recorded transition, with a reason
    let correct = |to: &str, on: &str, reason: Option<&str>| {
        let mut body = json!({"to": to, "on": on});
        if let Some(r) = reason {
            body["reason"] = json!(r);
        }
        body
    };
    let url = format!("/api/v1/allocations/{id}/transitions");
    t.post(&url, Role::Provider, correct("aborted", "2026-03-02", None))
        .await
        .assert_problem(422, "validation_failed");
    t.post(
        &url,
        Role::Provider,
        correct("aborted", "2026-02-01", Some("Tippfehler")),
    )
    .await
    .assert_problem(422, "validation_failed");
    let fixed = t
        .post(
            &url,
            Role::Provider,
            correct("aborted", "2026-03-02", Some("Tippfehler im Austrittsdatum")),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    assert_eq!(fixed.body["ended_on"], "2026-03-02");
    assert_eq!(fixed.body["status"], "aborted");
    // the entry: not before the offer's start (2026-01-01), not after the exit
    let c = customer(&t, "K-entry", json!({})).await;
    let id = place(&t, &c, &o).await.body["id"].as_str().unwrap().to_string();
    move_to(&t, &id, Role::Provider, "confirmed").await;
    backdate(&t, &id, "2025-12-01");
    let url = format!("/api/v1/allocations/{id}/transitions");
    t.post(&url, Role::Provider, json!({"to": "started", "on": "2025-12-31"}))
        .await
        .assert_problem(422, "validation_failed");
    let s = t
        .post(&url, Role::Provider, json!({"to": "started", "on": "2026-01-01"}))
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    t.post(
        &url,
        Role::Provider,
        correct("started", "2025-12-31", Some("falsch")),
    )
    .await
    .assert_problem(422, "validation_failed");
    let fixed = t
        .post(
            &url,
            Role::Provider,
            correct("started", "2026-01-05", Some("Eintritt war am 5.1.")),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    assert_eq!(fixed.body["started_on"], "2026-01-05");
    // the change feed keeps both days: the entry and its correction
    let feed = t
        .get(
            "/api/v1/exports/allocation-events?since=2000-01-01T00:00:00Z",
            Role::Reporting,
        )
        .await;
    let mine: Vec<&serde_json::Value> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["allocation_id"] == json!(id) && e["to_status"] == "started")
        .collect();
    assert_eq!(mine.len(), 2, "{mine:?}");
    t.post(
        &format!("/api/v1/allocations/{}/transitions", uuid::Uuid::now_v7()),
        Role::Provider,
        json!({"to": "confirmed"}),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn provider_isolation(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let mine = offer(&t, json!({})).await;
    let other_provider = t
        .post(
            "/api/v1/providers",
            Role::Admin,
            json!({"name": "Andere gGmbH", "azav_certified_until": "2030-01-01",
                   "contact_email": "vertrieb@andere.example"}),
        )
        .await;
    let theirs = offer(&t, json!({"provider_id": other_provider.body["id"]})).await;
    // another provider's price and contact data are not for this provider
    let seen = t.get(&format!("/api/v1/offers/{theirs}"), Role::Provider).await;
    assert!(seen.body.get("cost_per_place_cents").is_none(), "{}", seen.body);
    let own = t.get(&format!("/api/v1/offers/{mine}"), Role::Provider).await;
    assert!(own.body["cost_per_place_cents"].is_i64(), "{}", own.body);
    let listed = t.get("/api/v1/offers?limit=500", Role::Provider).await;
    for o in listed.body["items"].as_array().unwrap() {
        let is_own = o["provider_id"] == json!(t.provider_id);
        assert_eq!(o.get("cost_per_place_cents").is_some(), is_own, "{o}");
    }
    let by_admin = t.get(&format!("/api/v1/offers/{theirs}"), Role::Admin).await;
    assert!(by_admin.body["cost_per_place_cents"].is_i64());
    let other_id = other_provider.body["id"].as_str().unwrap();
    let p = t
        .get(&format!("/api/v1/providers/{other_id}"), Role::Provider)
        .await;
    assert_eq!(p.body["contact_email"], Value::Null, "{}", p.body);
    let p = t
        .get(&format!("/api/v1/providers/{other_id}"), Role::Specialist)
        .await;
    assert_eq!(p.body["contact_email"], "vertrieb@andere.example");
    let c1 = customer(&t, "K-1", json!({})).await;
    let c2 = customer(&t, "K-2", json!({})).await;
    let a = place(&t, &c1, &mine).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bb = place(&t, &c2, &theirs).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let list = t.get("/api/v1/allocations", Role::Provider).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["id"], a.as_str());
    assert!(
        item.get("customer_id").is_none() && item.get("note").is_none() && item.get("created_by").is_none()
    );
    let participant = item["participant"].as_object().unwrap();
    let mut keys: Vec<&String> = participant.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "contact",
            "customer_number",
            "date_of_birth",
            "first_name",
            "last_name"
        ]
    );
    assert_eq!(participant["customer_number"], "K-1");
    assert!(
        participant["contact"].is_null(),
        "no channel chosen: nothing to reach"
    );
    // the other provider's placement does not exist for this provider
    t.get(&format!("/api/v1/allocations/{bb}"), Role::Provider)
        .await
        .assert_problem(404, "not_found");
    move_to(&t, &bb, Role::Provider, "confirmed")
        .await
        .assert_problem(404, "not_found");
    let filtered = t
        .get(&format!("/api/v1/allocations?offer_id={theirs}"), Role::Provider)
        .await;
    assert_eq!(filtered.body["items"], json!([]));
    // providers never see customers, eligibility or recommendations
    t.get(&format!("/api/v1/customers/{c1}"), Role::Provider)
        .await
        .assert_problem(403, "forbidden");
    t.get(&format!("/api/v1/customers/{c1}/recommendations"), Role::Provider)
        .await
        .assert_problem(403, "forbidden");
    t.get(&format!("/api/v1/offers/{mine}/waitlist"), Role::Provider)
        .await
        .assert_problem(403, "forbidden");
    // the provider's system with an API key sees the same, and nothing once it is revoked
    let key = t
        .post(
            "/api/v1/api-keys",
            Role::Admin,
            json!({"name": "Träger-System", "role": "provider", "provider_id": t.provider_id}),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.body);
    let secret = key.body["key"].as_str().unwrap().to_string();
    let by_key = t.bearer(Method::GET, "/api/v1/allocations", &secret, None).await;
    let ids: Vec<&Value> = by_key.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, vec![&json!(a)], "{}", by_key.body);
    t.bearer(Method::GET, &format!("/api/v1/allocations/{bb}"), &secret, None)
        .await
        .assert_problem(404, "not_found");
    t.bearer(Method::GET, &format!("/api/v1/customers/{c1}"), &secret, None)
        .await
        .assert_problem(403, "forbidden");
    let key_id = key.body["id"].as_str().unwrap();
    let revoked = t
        .req(
            Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            Some(Role::Admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    t.bearer(Method::GET, "/api/v1/allocations", &secret, None)
        .await
        .assert_problem(401, "unauthorized");
    // its own placement it moves, and the participant is gone once it has ended
    assert_eq!(
        move_to(&t, &a, Role::Provider, "declined").await.status,
        StatusCode::OK
    );
    let after = t.get(&format!("/api/v1/allocations/{a}"), Role::Provider).await;
    assert!(after.body.get("participant").is_none(), "{}", after.body);
    // specialists see both, with customer IDs
    let all = t.get("/api/v1/allocations", Role::Specialist).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    assert!(all.body["items"][0]["customer_id"].is_string());
    // the provider's read of its participant is audited
    let audit = t
        .get(
            &format!("/api/v1/audit?customer_id={c1}&actor=provider-user"),
            Role::Admin,
        )
        .await;
    assert!(!audit.body["items"].as_array().unwrap().is_empty());
}

async fn waitlist_promotion_goes_to_first_eligible(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = offer(&t, json!({"planned_places": 1, "max_places": 1, "max_age": 45})).await;
    let holder = customer(&t, "K-1", json!({})).await;
    let too_old = customer(&t, "K-2", json!({})).await;
    let next = customer(&t, "K-3", json!({})).await;
    let later = customer(&t, "K-4", json!({})).await;
    let first = place(&t, &holder, &o).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wl_path = format!("/api/v1/offers/{o}/waitlist");
    let wl = |c: String| t.post(&wl_path, Role::Specialist, json!({"customer_id": c}));
    // K-2 waits first but is (made) too old for the offer by the time a place frees
    assert_eq!(wl(too_old.clone()).await.status, StatusCode::CREATED);
    assert_eq!(wl(next.clone()).await.body["position"], 2);
    assert_eq!(wl(later.clone()).await.status, StatusCode::CREATED);
    wl(next.clone()).await.assert_problem(409, "already_waitlisted");
    wl(holder.clone()).await.assert_problem(409, "already_allocated");
    t.patch(
        &format!("/api/v1/customers/{too_old}"),
        Role::Specialist,
        json!({"date_of_birth": "1960-01-01"}),
    )
    .await;
    let list = t
        .get(&format!("/api/v1/offers/{o}/waitlist"), Role::Specialist)
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);

    assert_eq!(
        move_to(&t, &first, Role::Specialist, "cancelled").await.status,
        StatusCode::OK
    );
    let promoted = t
        .get(
            &format!("/api/v1/allocations?offer_id={o}&status=reserved"),
            Role::Specialist,
        )
        .await;
    let items = promoted.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", promoted.body);
    assert_eq!(
        items[0]["customer_id"],
        next.as_str(),
        "the first eligible waiting customer"
    );
    assert_eq!(items[0]["source"], "waitlist");
    assert_eq!(items[0]["status"], "reserved", "a person confirms it");
    let list = t
        .get(&format!("/api/v1/offers/{o}/waitlist"), Role::Specialist)
        .await;
    let waiting: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, vec![too_old.as_str(), later.as_str()]);
    // with a free place, waiting is refused: reserve directly
    let roomy = offer(&t, json!({})).await;
    t.post(
        &format!("/api/v1/offers/{roomy}/waitlist"),
        Role::Specialist,
        json!({"customer_id": later}),
    )
    .await
    .assert_problem(409, "places_available");
}

async fn admin_override_is_recorded(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let agh = offer(&t, json!({"instrument_code": "AGH"})).await;
    let c = customer(&t, "K-1", json!({})).await;
    // 24 months of AGH in the last five years, from before the system
    let r = t
        .patch(
            &format!("/api/v1/customers/{c}"),
            Role::Specialist,
            json!({"prior_participations": [{"instrument_code": "AGH", "from": "2022-01-01", "to": "2023-12-31"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let refused = place(&t, &c, &agh).await;
    refused.assert_problem(422, "not_eligible");
    assert!(refused.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "agh.cap_24_months" && r["overridable"] == true));
    // the extension is the deciding specialist's discretion (§ 16d Abs. 6 Satz 3 SGB II)
    let ok = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": c, "offer_id": agh, "override_reason": "Ausnahme nach § 16d Abs. 6 Satz 3"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.body["override_by"], "specialist-user");
    assert_eq!(ok.body["override_reason"], "Ausnahme nach § 16d Abs. 6 Satz 3");
    let verdict = &ok.body["verdict"];
    assert_eq!(verdict["exception"]["by"], "specialist-user");
    assert_eq!(verdict["exception"]["rules"], json!(["agh.cap_24_months"]));
    assert_eq!(verdict["eligible"], false);
    assert_eq!(
        verdict["rules_version"],
        passgenau_domain::eligibility::RULES_VERSION
    );
    // a rule that may not be overridden stays a refusal
    let young = offer(&t, json!({"max_age": 24})).await;
    t.post(
        "/api/v1/allocations",
        Role::Admin,
        json!({"customer_id": c, "offer_id": young, "override_reason": "bitte"}),
    )
    .await
    .assert_problem(422, "not_eligible");
}

async fn budget_is_never_overspent(b: Backend) {
    let t = TestApp::new(b).unwrap();
    // budget for 2.5 places of 1,500 € in the current year
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let put = t
        .req(
            Method::PUT,
            &format!("/api/v1/plans/{year}"),
            Some(Role::Admin),
            Some(json!({"budget_cents": 1_000_000, "instruments": [{"code": "AVGS_MAT", "planned_entries": 2, "budget_cents": 375_000}]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let o = offer(&t, json!({"planned_places": 10})).await;
    let mut customers = Vec::new();
    for i in 0..12 {
        customers.push(customer(&t, &format!("K-{i}"), json!({})).await);
    }
    let futs: Vec<_> = customers.iter().map(|c| place(&t, c, &o)).collect();
    let replies = futures_util::future::join_all(futs).await;
    let placed = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(placed, 2, "exactly as many as the budget pays for");
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        r.assert_problem(409, "budget_exhausted");
    }
    // a cancelled reservation releases its money
    let first = replies
        .iter()
        .find(|r| r.status == StatusCode::CREATED)
        .unwrap()
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    move_to(&t, &first, Role::Specialist, "cancelled").await;
    let again = place(&t, &customers[11], &o).await;
    assert!(
        again.status == StatusCode::CREATED || again.body["code"] == "already_allocated",
        "{}",
        again.body
    );
}

/// The database keeps each plan line's committed cost as a running total (migration
/// `budget_committed`); placements check their budget against it. Every status, every
/// move between two statuses, a change of cost, a deletion, and a plan line written after
/// its placements must leave it equal to what `PlacementStatus::commits_budget` adds up.
async fn committed_budget_follows_every_status(b: Backend) {
    use diesel::RunQueryDsl;
    use passgenau_domain::placement::PlacementStatus;
    let t = TestApp::new(b).unwrap();
    let year: i32 = chrono::Utc::now()
        .date_naive()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap();
    let o = offer(&t, json!({"planned_places": 10, "cost_per_place_cents": 150_000})).await;
    let c = customer(&t, "K-1", json!({})).await;
    let placed = place(&t, &c, &o).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let id = placed.body["id"].as_str().unwrap().to_string();
    // the plan line comes after the placement: it starts from what is committed
    let plan_path = format!("/api/v1/plans/{year}");
    let put_plan = |cents: i64| {
        t.req(
            Method::PUT,
            &plan_path,
            Some(Role::Admin),
            Some(json!({"budget_cents": 10_000_000, "instruments": [{"code": "AVGS_MAT", "planned_entries": 5, "budget_cents": cents}]})),
        )
    };
    assert_eq!(put_plan(1_000_000).await.status, StatusCode::OK);
    let store = t.state.store.clone();
    let sql = |q: String| {
        store
            .read(|conn| Ok::<_, passgenau_store::StoreError>(diesel::sql_query(&q).execute(conn)?))
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    };
    let committed = || -> i64 {
        store
            .read(|conn| passgenau_store::plans::budget_line(conn, year, "AVGS_MAT"))
            .unwrap()
            .expect("the plan line")
            .committed_cents
    };
    assert_eq!(committed(), 150_000, "a plan line written after its placement");
    let expect = |s: PlacementStatus, cost: i64| if s.commits_budget() { cost } else { 0 };
    for from in PlacementStatus::ALL {
        for to in PlacementStatus::ALL {
            sql(format!(
                "UPDATE allocations SET status = '{}' WHERE id = '{id}'",
                from.as_str()
            ));
            assert_eq!(committed(), expect(from, 150_000), "at {}", from.as_str());
            sql(format!(
                "UPDATE allocations SET status = '{}' WHERE id = '{id}'",
                to.as_str()
            ));
            assert_eq!(
                committed(),
                expect(to, 150_000),
                "{} -> {}",
                from.as_str(),
                to.as_str()
            );
        }
    }
    sql(format!(
        "UPDATE allocations SET status = 'reserved', cost_cents = 90000 WHERE id = '{id}'"
    ));
    assert_eq!(committed(), 90_000, "a changed cost");
    sql(format!(
        "UPDATE allocations SET budget_year = {} WHERE id = '{id}'",
        year + 1
    ));
    assert_eq!(committed(), 0, "moved to another year's budget");
    sql(format!(
        "UPDATE allocations SET budget_year = {year} WHERE id = '{id}'"
    ));
    // a second placement by the API, then the plan written again: still the sum
    let c2 = customer(&t, "K-2", json!({})).await;
    assert_eq!(place(&t, &c2, &o).await.status, StatusCode::CREATED);
    assert_eq!(committed(), 240_000);
    assert_eq!(put_plan(2_000_000).await.status, StatusCode::OK);
    assert_eq!(committed(), 240_000, "the plan written again");
    // deleted rows (never by the API; a repair by hand) give their cost back
    sql("DELETE FROM allocation_events".into());
    sql("DELETE FROM allocations".into());
    assert_eq!(committed(), 0, "deleted placements");
}

async fn concurrent_requests_never_overbook(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let offers = [
        offer(&t, json!({"planned_places": 3, "max_places": 3})).await,
        offer(&t, json!({"planned_places": 1, "max_places": 1})).await,
    ];
    let mut customers = Vec::new();
    for i in 0..30 {
        customers.push(customer(&t, &format!("K-{i}"), json!({})).await);
    }
    let futs: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| place(&t, c, &offers[i % 2]))
        .collect();
    let replies = futures_util::future::join_all(futs).await;
    let placed = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(placed, 4, "3 + 1 places");
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        r.assert_problem(409, "capacity_exhausted");
    }
    let avail = t.get("/api/v1/availability", Role::Specialist).await;
    for item in avail.body["items"].as_array().unwrap() {
        assert_eq!(item["free"], 0);
    }
}

async fn plans_round_trip(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let body = json!({
        "budget_cents": 4_756_000_000i64,
        "instruments": [
            {"code": "AGH", "planned_entries": 1500, "previous_year_planned_entries": 1500, "budget_cents": 100_000_000},
            {"code": "P16F", "planned_entries": 50, "previous_year_planned_entries": 50}
        ]
    });
    let put = t
        .req(
            Method::PUT,
            "/api/v1/plans/2021",
            Some(Role::Admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.header("etag"), Some("\"1\""));
    let get = t.get("/api/v1/plans/2021", Role::Reporting).await;
    assert_eq!(get.body["instruments"][0]["code"], "AGH");
    assert_eq!(get.body["instruments"][1]["budget_cents"], json!(null));
    assert_eq!(get.body["budget_cents"], 4_756_000_000i64);
    let stale = t
        .call(
            TestRequest::put()
                .uri("/api/v1/plans/2021")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Admin))))
                .insert_header(("if-match", "\"7\""))
                .set_json(body.clone()),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    let ok = t
        .call(
            TestRequest::put()
                .uri("/api/v1/plans/2021")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Admin))))
                .insert_header(("if-match", "\"1\""))
                .set_json(body),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["version"], 2);
    t.req(
        Method::PUT,
        "/api/v1/plans/2021",
        Some(Role::Admin),
        Some(json!({"instruments": [{"code": "NOPE", "planned_entries": 1}, {"code": "AGH", "planned_entries": -1}]})),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.req(
        Method::PUT,
        "/api/v1/plans/2021",
        Some(Role::Specialist),
        Some(json!({"instruments": []})),
    )
    .await
    .assert_problem(403, "forbidden");
    t.get("/api/v1/plans/1999", Role::Admin)
        .await
        .assert_problem(400, "invalid_id");
    t.get("/api/v1/plans/2030", Role::Admin)
        .await
        .assert_problem(404, "not_found");
    t.get("/api/v1/plans/abc", Role::Admin)
        .await
        .assert_problem(400, "invalid_id");
    let r = t.get("/api/v1/plans/2021", Role::Admin).await;
    assert_eq!(r.body["version"], 2, "the refused writes changed nothing");
}

/// The budget report reads a plan line's committed cost from the running total the
/// placements check under the line's lock, not from a sum of its own: the two cannot
/// disagree. An instrument without a line is summed by the same rule.
async fn budget_report_shows_what_placements_checked(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let o = offer(&t, json!({"planned_places": 10, "cost_per_place_cents": 150_000})).await;
    let c = customer(&t, "K-1", json!({})).await;
    assert_eq!(place(&t, &c, &o).await.status, StatusCode::CREATED);
    // no plan line: the placements' cost, no budget
    let row = budget_row(&t, &year).await;
    assert_eq!(
        (row["committed_cents"].as_i64(), row["budget_cents"].is_null()),
        (Some(150_000), true)
    );
    let put = t
        .req(
            Method::PUT,
            &format!("/api/v1/plans/{year}"),
            Some(Role::Admin),
            Some(json!({"budget_cents": 10_000_000, "instruments": [{"code": "AVGS_MAT", "planned_entries": 5, "budget_cents": 1_000_000}]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let row = budget_row(&t, &year).await;
    assert_eq!(row["committed_cents"], 150_000);
    assert_eq!(row["remaining_cents"], 850_000);
    // the line's running total is what the report shows (set by hand here, as no request
    // could make the two differ)
    t.state
        .store
        .write(|conn| {
            diesel::RunQueryDsl::execute(
                diesel::sql_query(format!(
                    "UPDATE plan_instruments SET committed_cents = 400000 WHERE year = {year} AND code = 'AVGS_MAT'"
                )),
                conn,
            )
            .map_err(passgenau_store::StoreError::from)
        })
        .unwrap();
    let row = budget_row(&t, &year).await;
    assert_eq!(
        (row["committed_cents"].as_i64(), row["remaining_cents"].as_i64()),
        (Some(400_000), Some(600_000))
    );
}

async fn budget_row(t: &TestApp, year: &str) -> Value {
    let r = t
        .get(&format!("/api/v1/reports/budget?year={year}"), Role::Reporting)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["instrument_code"] == "AVGS_MAT")
        .cloned()
        .expect("an AVGS_MAT row")
}
