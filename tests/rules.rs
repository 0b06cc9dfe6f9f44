//! The rules as the clients meet them: a placement keeps the verdict it was made on while
//! a later parameter version changes what `as_of` after it decides (real binary,
//! restarted with a new configuration); prior participations validated and counted;
//! referrals; no offer gated on a proxy of nationality; cohort runs that leave out
//! customers whose placements a proposal would overlap.

mod common;

use actix_web::http::StatusCode;
use common::http::{request, Server};
use common::{Backend, TestApp, TestDb, TEST_SECRET};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    stored_verdict_stays_while_as_of_uses_the_new_parameters,
    prior_participations_are_validated_and_counted,
    fbw_is_a_referral_and_books_nothing,
    no_offer_is_gated_on_a_proxy_of_nationality,
    cohort_runs_leave_out_conflicting_placements_and_say_why
);

fn config(dir: &std::path::Path, name: &str, body: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

async fn stored_verdict_stays_while_as_of_uses_the_new_parameters(b: Backend) {
    let db = TestDb::new(b).unwrap();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || verdict_scenario(&url))
        .await
        .unwrap();
    drop(db);
}

fn p16i_short(items: &Value) -> bool {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instrument_code"] == "P16I")
        .unwrap()["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "p16i.short_employment_only")
        .unwrap()["passed"]
        .as_bool()
        .unwrap()
}

fn verdict_scenario(url: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let tokens = common::StoredTokens::new(url);
    let admin = tokens.issue("admin", Role::Admin, None).unwrap();
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    // first configuration: "kurzzeitig" up to 183 days
    let first = config(
        &dir,
        "first.json",
        &json!({"eligibility": {"p16i_short_employment_max_days": 183}}),
    );
    let a = Server::start_with(url, TEST_SECRET, &[("PASSGENAU_CONFIG", &first)]);
    let (s, p) = request(
        &a.addr,
        "POST",
        "/api/v1/providers",
        Some(&admin),
        Some(&json!({"name": "Arbeitgeber", "azav_certified_until": "2035-12-31"})),
    );
    assert_eq!(s, 201, "{p}");
    let (s, o) = request(
        &a.addr,
        "POST",
        "/api/v1/offers",
        Some(&admin),
        Some(&json!({
            "instrument_code": "P16I", "provider_id": p["id"], "title": "Hausmeister", "district": "D",
            "starts_on": "2026-01-01", "ends_on": "2030-12-31", "entry": "rolling",
            "planned_places": 3, "cost_per_place_cents": 100_000
        })),
    );
    assert_eq!(s, 201, "{o}");
    // 120 days of work in the qualifying period: short under 183, not under 90
    let (s, c) = request(
        &a.addr,
        "POST",
        "/api/v1/customers",
        Some(&ifk),
        Some(&json!({
            "customer_number": "K-V", "first_name": "Erika", "last_name": "Muster", "date_of_birth": "1970-03-15",
            "gender": "female", "nationality": "DE", "vocational_qualification": "none", "german_level": "native",
            "benefit_spells": [{"from": "2015-01-01"}],
            "employment_spells": [{"from": "2022-01-01", "to": "2022-04-30"}]
        })),
    );
    assert_eq!(s, 201, "{c}");
    let (s, placed) = request(
        &a.addr,
        "POST",
        "/api/v1/allocations",
        Some(&ifk),
        Some(&json!({"customer_id": c["id"], "offer_id": o["id"]})),
    );
    assert_eq!(s, 201, "{placed}");
    let verdict = placed["verdict"].clone();
    assert_eq!(verdict["eligible"], true);
    assert_eq!(verdict["parameters"]["p16i_short_employment_max_days"], 183);
    assert_eq!(verdict["decided_by"], "jobcenter");
    assert!(verdict["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "p16i.benefit_years"));
    assert_eq!(a.terminate(), Some(0));

    // the parameter changes from 1.1.2027 on
    let second = config(
        &dir,
        "second.json",
        &json!({"eligibility_versions": [
            {"valid_from": "2005-01-01", "params": {"p16i_short_employment_max_days": 183}},
            {"valid_from": "2027-01-01", "params": {"p16i_short_employment_max_days": 90}}
        ]}),
    );
    let b = Server::start_with(url, TEST_SECRET, &[("PASSGENAU_CONFIG", &second)]);
    let id = placed["id"].as_str().unwrap();
    let (s, again) = request(
        &b.addr,
        "GET",
        &format!("/api/v1/allocations/{id}"),
        Some(&ifk),
        None,
    );
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        again["verdict"], verdict,
        "the stored verdict is what was decided"
    );
    let cid = c["id"].as_str().unwrap();
    let (s, before) = request(
        &b.addr,
        "GET",
        &format!("/api/v1/customers/{cid}/eligibility?as_of=2026-12-31"),
        Some(&ifk),
        None,
    );
    assert_eq!(s, 200, "{before}");
    assert!(p16i_short(&before), "before the change: 183 days");
    let (s, after) = request(
        &b.addr,
        "GET",
        &format!("/api/v1/customers/{cid}/eligibility?as_of=2027-01-01"),
        Some(&ifk),
        None,
    );
    assert_eq!(s, 200, "{after}");
    assert!(!p16i_short(&after), "from 1.1.2027: 90 days");
    // providers never see the verdict
    let prov = tokens
        .issue(
            "traeger",
            Role::Provider,
            p["id"].as_str().and_then(|s| s.parse().ok()),
        )
        .unwrap();
    let (s, theirs) = request(
        &b.addr,
        "GET",
        &format!("/api/v1/allocations/{id}"),
        Some(&prov),
        None,
    );
    assert_eq!(s, 200, "{theirs}");
    assert!(theirs.get("verdict").is_none(), "{theirs}");
    drop(b);
    // parameters out of the law's bounds stop the server at start
    let bad = config(
        &dir,
        "bad.json",
        &json!({"eligibility": {"agh_extension_months": 13}}),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", url)
        .env("PASSGENAU_JWT_SECRET", TEST_SECRET)
        .env("PASSGENAU_CONFIG", &bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("agh_extension_months"),
        "{out:?}"
    );
}

async fn offer(t: &TestApp, patch: Value) -> Value {
    let mut body = t.offer_body();
    for (k, v) in patch.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn prior_participations_are_validated_and_counted(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let before = t.count("customers");
    let with = |prior: Value| {
        let mut body = TestApp::customer_body("K-P");
        body["prior_participations"] = prior;
        body
    };
    // (case, prior participations, status, field)
    for (case, prior, status, field) in [
        (
            "to before from",
            json!([{"instrument_code": "AGH", "from": "2020-05-01", "to": "2020-04-30"}]),
            422,
            "prior_participations[0].to",
        ),
        (
            "unknown instrument",
            json!([{"instrument_code": "NOPE", "from": "2020-05-01", "to": null}]),
            422,
            "prior_participations[0].instrument_code",
        ),
        (
            "in the future",
            json!([{"instrument_code": "AGH", "from": "2099-01-01"}]),
            422,
            "prior_participations[0].from",
        ),
        (
            "not a date",
            json!([{"instrument_code": "AGH", "from": "2020-13-01"}]),
            400,
            "",
        ),
        (
            "unknown field",
            json!([{"instrument_code": "AGH", "from": "2020-01-01", "until": "2020-02-01"}]),
            400,
            "",
        ),
    ] {
        let r = t.post("/api/v1/customers", Role::Specialist, with(prior)).await;
        assert_eq!(r.status.as_u16(), status, "{case}: {}", r.body);
        if !field.is_empty() {
            assert!(
                r.body["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["field"] == field),
                "{case}: {}",
                r.body
            );
        }
    }
    assert_eq!(t.count("customers"), before, "nothing stored");
    // 24 months of AGH before the system count like a placement
    let r = t
        .post(
            "/api/v1/customers",
            Role::Specialist,
            with(json!([{"instrument_code": "AGH", "from": "2023-01-01", "to": "2024-12-31", "provider_or_employer": "Diakonie"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["prior_participations"][0]["provider_or_employer"],
        "Diakonie"
    );
    let c = r.body["id"].as_str().unwrap().to_string();
    let agh = offer(&t, json!({"instrument_code": "AGH"})).await;
    let refused = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": c, "offer_id": agh["id"]}),
        )
        .await;
    refused.assert_problem(422, "not_eligible");
    assert!(refused.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "agh.cap_24_months" && r["passed"] == false));
    // a patch is checked alike
    let bad = t
        .patch(
            &format!("/api/v1/customers/{c}"),
            Role::Specialist,
            json!({"prior_participations": [{"instrument_code": "AGH", "from": "2030-01-01"}]}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
}

async fn fbw_is_a_referral_and_books_nothing(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = t.create_customer("K-F").await;
    let fbw = offer(
        &t,
        json!({"instrument_code": "FBW", "starts_on": "2026-01-01", "ends_on": "2027-12-31"}),
    )
    .await;
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": c["id"], "offer_id": fbw["id"]}),
        )
        .await;
    r.assert_problem(422, "referral_required");
    let failed: Vec<&Value> = r.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["rule"], "fbw.competence");
    assert_eq!(failed[0]["kind"], "competence");
    // no exception turns a referral into a booking
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Admin,
            json!({"customer_id": c["id"], "offer_id": fbw["id"], "override_reason": "bitte"}),
        )
        .await;
    r.assert_problem(422, "referral_required");
    assert_eq!(t.count("allocations"), 0);
}

async fn no_offer_is_gated_on_a_proxy_of_nationality(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let mut body = t.offer_body();
    body["target_groups"] = json!(["migration_background"]);
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "target_groups"));
    // people learning German: gated on the level
    let learners = offer(&t, json!({"max_german_level": "B1"})).await;
    let mut fluent = TestApp::customer_body("K-N");
    fluent["german_level"] = json!("native");
    let fluent = t.post("/api/v1/customers", Role::Specialist, fluent).await.body;
    let mut learning = TestApp::customer_body("K-L");
    learning["german_level"] = json!("A2");
    learning["nationality"] = json!("SY");
    let learning = t.post("/api/v1/customers", Role::Specialist, learning).await.body;
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": fluent["id"], "offer_id": learners["id"]}),
        )
        .await;
    r.assert_problem(422, "not_eligible");
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": learning["id"], "offer_id": learners["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn cohort_runs_leave_out_conflicting_placements_and_say_why(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let _worker = t.state.start_worker();
    let first = offer(
        &t,
        json!({"planned_places": 5, "starts_on": "2026-01-01", "ends_on": "2027-06-30"}),
    )
    .await;
    let second = offer(
        &t,
        json!({"planned_places": 5, "starts_on": "2026-01-01", "ends_on": "2027-06-30"}),
    )
    .await;
    let busy = t.create_customer("K-busy").await;
    let free = t.create_customer("K-free").await;
    let mut old = TestApp::customer_body("K-old");
    old["date_of_birth"] = json!("1958-01-01"); // past the § 7a age limit
    let old = t.post("/api/v1/customers", Role::Specialist, old).await.body;
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": busy["id"], "offer_id": first["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let run = t
        .post(
            "/api/v1/allocation-runs",
            Role::Specialist,
            json!({"customer_ids": [busy["id"], free["id"], old["id"]], "instrument_codes": ["AVGS_MAT"]}),
        )
        .await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{}", run.body);
    let id = run.body["id"].as_str().unwrap().to_string();
    let done = t.wait_for_run(&id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["assigned"], 1, "{done}");
    assert_eq!(
        done["left_out"],
        json!({"no_eligible_offer": 1, "active_placement_conflict": 1, "not_assigned": 0})
    );
    let proposals = t
        .get(
            &format!("/api/v1/allocation-runs/{id}/proposals"),
            Role::Specialist,
        )
        .await;
    let items = proposals.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["customer_id"], free["id"]);
    let _ = second;
}
