//! A person's data over its life (issue #19), on SQLite and PostgreSQL: the access
//! export, closing a case, retention and erasure (nothing of the person left in any text
//! column, reports and the change feed unchanged), and the sealed audit log.

mod common;

use actix_web::http::{Method, StatusCode};
use common::{Backend, TestApp};
use diesel::RunQueryDsl;
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    the_export_holds_everything_stored_about_a_person,
    a_case_closes_only_without_active_placements,
    retention_erases_every_trace_and_keeps_the_figures,
    erasure_now_needs_a_closed_unheld_case,
    a_changed_or_removed_audit_entry_is_named,
    a_server_erases_due_cases_and_seals_its_audit_log,
    an_offer_changes_provider_only_by_an_audited_transfer,
    an_idempotent_replay_is_audited_as_a_read,
    many_entries_at_once_are_written_whole_and_seal
);

const FIRST: &str = "Eleonore";
const LAST: &str = "Quastenberg";
const NUMBER: &str = "QZ-770001";
const EMAIL: &str = "eleonore.quastenberg@example.org";
const STREET: &str = "Quastweg 9";

/// The person of these tests, with contact data and a prior participation, recorded with
/// an `Idempotency-Key` (so a stored answer holds the record).
async fn person(t: &TestApp) -> String {
    let mut body = TestApp::customer_body(NUMBER);
    body["first_name"] = json!(FIRST);
    body["last_name"] = json!(LAST);
    body["contact"] =
        json!({"street": STREET, "city": "Düsseldorf", "email": EMAIL, "preferred_channel": "email"});
    body["prior_participations"] =
        json!([{"instrument_code": "AVGS_MAT", "from": "2019-02-01", "to": "2019-03-31"}]);
    let r = t
        .call(
            actix_web::test::TestRequest::post()
                .uri("/api/v1/customers")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("idempotency-key", "create-quastenberg"))
                .insert_header(("content-type", "application/json"))
                .set_payload(body.to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn household(t: &TestApp, customer: &str) -> String {
    let h = t
        .post(
            "/api/v1/households",
            Role::Specialist,
            json!({
                "household_number": "BG-QZ-1",
                "district": "Stadtbezirk 1",
                "members": [
                    {"customer_id": customer, "role": "applicant"},
                    {"role": "child", "date_of_birth": "2015-05-01"}
                ]
            }),
        )
        .await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.body);
    h.body["id"].as_str().unwrap().to_string()
}

async fn offer(t: &TestApp, title: &str) -> String {
    let mut body = t.offer_body();
    body["title"] = json!(title);
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn place(t: &TestApp, customer: &str, offer: &str) -> String {
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": customer, "offer_id": offer, "note": format!("Gespräch mit Frau {LAST}")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn transition(t: &TestApp, placement: &str, role: Role, to: &str) {
    let r = t
        .post(
            &format!("/api/v1/allocations/{placement}/transitions"),
            role,
            json!({"to": to, "reason": "Termin abgestimmt"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{to}: {}", r.body);
}

/// Closes the case of `c` on `on` (as an admin: a closure past the retention period is
/// an erasure, which only an admin decides).
async fn close(t: &TestApp, c: &str, on: &str, reason: &str) {
    let r = put(
        t,
        &format!("/api/v1/customers/{c}/closure"),
        Role::Admin,
        json!({"closed_on": on, "reason": reason}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn put(t: &TestApp, path: &str, role: Role, body: Value) -> common::Reply {
    t.req(Method::PUT, path, Some(role), Some(body)).await
}

async fn the_export_holds_everything_stored_about_a_person(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.state.start_worker();
    let c = person(&t).await;
    let h = household(&t, &c).await;
    // a cohort proposal first (an open offer), then two placements elsewhere
    let cohort_offer = offer(&t, "Kohorte Frühjahr").await;
    let run = t
        .post(
            "/api/v1/allocation-runs",
            Role::Specialist,
            json!({"customer_ids": [c]}),
        )
        .await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{}", run.body);
    let run = t.wait_for_run(run.body["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done", "{run}");
    let seen = offer(&t, "Bewerbungscenter Nord").await;
    let other = offer(&t, "Bewerbungscenter Süd").await;
    let p1 = place(&t, &c, &seen).await;
    // the provider confirms and reads its participant
    transition(&t, &p1, Role::Provider, "confirmed").await;
    let by_provider = t.get(&format!("/api/v1/allocations/{p1}"), Role::Provider).await;
    assert_eq!(by_provider.status, StatusCode::OK, "{}", by_provider.body);
    transition(&t, &p1, Role::Specialist, "cancelled").await;
    let p2 = place(&t, &c, &other).await;
    // reads by two users
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Specialist)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Admin).await.status,
        StatusCode::OK
    );

    let e = t
        .get(&format!("/api/v1/customers/{c}/export"), Role::Specialist)
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    let x = &e.body;
    assert_eq!(x["customer"]["last_name"], LAST);
    assert_eq!(x["customer"]["contact"]["email"], EMAIL);
    assert_eq!(
        x["customer"]["prior_participations"][0]["instrument_code"],
        "AVGS_MAT"
    );
    assert_eq!(x["household"]["id"], h.as_str());
    assert_eq!(x["household"]["members"].as_array().unwrap().len(), 2);
    let placements: Vec<&str> = x["placements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(placements.len(), 2, "{placements:?}");
    assert!(placements.contains(&p1.as_str()) && placements.contains(&p2.as_str()));
    assert!(
        x["placements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !p["verdict"].is_null()),
        "with verdicts"
    );
    let events_of_p1: Vec<&str> = x["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|ev| ev["placement_id"] == p1.as_str())
        .map(|ev| ev["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(events_of_p1, ["reserved", "confirmed", "cancelled"]);
    let proposals = x["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    assert_eq!(proposals[0]["offer_id"], cohort_offer.as_str());
    let recipients = x["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 1, "one provider runs both offers");
    assert_eq!(recipients[0]["provider_id"], t.provider_id.to_string().as_str());
    assert_eq!(recipients[0]["name"], "Bildungsträger Rhein GmbH");
    assert_eq!(recipients[0]["offers"].as_array().unwrap().len(), 2);
    let accesses = x["accesses"].as_array().unwrap();
    let who = |actor: &str, role: &str| {
        accesses
            .iter()
            .any(|a| a["actor"] == actor && a["role"] == role && a["action"] == "read")
    };
    assert!(who("specialist-user", "specialist"), "{accesses:?}");
    assert!(who("admin-user", "admin"));
    assert!(who("provider-user", "provider"), "the provider's read is listed");
    assert!(accesses
        .iter()
        .any(|a| a["action"] == "create" && a["route"] == "POST /api/v1/customers"));
    assert!(!x["purposes"].as_str().unwrap().is_empty());

    // the export is audited as a read, and only caseworkers may ask
    let audit = t
        .get(&format!("/api/v1/audit?customer_id={c}&limit=500"), Role::Admin)
        .await;
    assert!(audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["route"] == "GET /api/v1/customers/{id}/export" && a["action"] == "read"));
    t.get(&format!("/api/v1/customers/{c}/export"), Role::Provider)
        .await
        .assert_problem(403, "forbidden");
    t.get(&format!("/api/v1/customers/{c}/export"), Role::Reporting)
        .await
        .assert_problem(403, "forbidden");
    t.get(
        &format!("/api/v1/customers/{}/export", uuid::Uuid::now_v7()),
        Role::Admin,
    )
    .await
    .assert_problem(404, "not_found");
    t.get(&format!("/api/v1/customers/{c}/export?full=1"), Role::Admin)
        .await
        .assert_problem(400, "invalid_query");
}

async fn a_case_closes_only_without_active_placements(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = person(&t).await;
    let o = offer(&t, "Bewerbungscenter").await;
    let p = place(&t, &c, &o).await;
    let path = format!("/api/v1/customers/{c}/closure");
    let closure = json!({"closed_on": "2026-11-30", "reason": "Wegfall der Hilfebedürftigkeit"});
    put(&t, &path, Role::Specialist, closure.clone())
        .await
        .assert_problem(409, "active_placements");
    transition(&t, &p, Role::Specialist, "cancelled").await;
    put(
        &t,
        &path,
        Role::Specialist,
        json!({"closed_on": "2999-01-01", "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    put(
        &t,
        &path,
        Role::Specialist,
        json!({"closed_on": "2026-11-30", "reason": ""}),
    )
    .await
    .assert_problem(422, "validation_failed");
    put(&t, &path, Role::Specialist, json!({"closed_on": "2026-11-30"}))
        .await
        .assert_problem(400, "invalid_field");
    put(&t, &path, Role::Provider, closure.clone())
        .await
        .assert_problem(403, "forbidden");
    let before = t.get(&format!("/api/v1/customers/{c}"), Role::Specialist).await;
    assert!(before.body["closure"].is_null());
    let closed = put(&t, &path, Role::Specialist, closure.clone()).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["closure"]["closed_on"], "2026-11-30");
    // a closed case gets no new place and joins no waiting list
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": c, "offer_id": o}),
        )
        .await;
    r.assert_problem(409, "case_closed");
    assert_eq!(
        closed.body["version"],
        before.body["version"].as_i64().unwrap() + 1
    );
    // a stale If-Match changes nothing
    let stale = t
        .call(
            actix_web::test::TestRequest::delete()
                .uri(&path)
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-match", format!("\"{}\"", before.body["version"]))),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    // only an admin sets the legal hold
    t.patch(
        &format!("/api/v1/customers/{c}"),
        Role::Specialist,
        json!({"legal_hold": true}),
    )
    .await
    .assert_problem(403, "forbidden");
    let held = t
        .patch(
            &format!("/api/v1/customers/{c}"),
            Role::Admin,
            json!({"legal_hold": true}),
        )
        .await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    assert_eq!(held.body["legal_hold"], true);
    let open = t.req(Method::DELETE, &path, Some(Role::Specialist), None).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    assert!(open.body["closure"].is_null());
    let again = t.req(Method::DELETE, &path, Some(Role::Specialist), None).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "reopening an open case changes nothing"
    );
    assert_eq!(again.body["version"], open.body["version"]);
}

/// Every text column of every table that holds one of `needles`, as "table.column".
fn traces(t: &TestApp, b: Backend, needles: &[&str]) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Col {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        c: String,
    }
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let catalogue = match b {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying')"
        }
    };
    t.state
        .store
        .read(|conn| {
            let cols: Vec<Col> = diesel::sql_query(catalogue).load(conn)?;
            assert!(
                cols.len() > 100,
                "the catalogue lists the columns: {}",
                cols.len()
            );
            let mut found = Vec::new();
            for col in cols {
                for needle in needles {
                    let q = format!(
                        "SELECT COUNT(*) AS n FROM \"{}\" WHERE CAST(\"{}\" AS TEXT) LIKE '%{}%'",
                        col.t, col.c, needle
                    );
                    let n: N = diesel::sql_query(q).get_result(conn)?;
                    if n.n > 0 {
                        found.push(format!("{}.{} holds {needle}", col.t, col.c));
                    }
                }
            }
            Ok::<_, passgenau_store::StoreError>(found)
        })
        .unwrap()
}

/// Every report and the change feed, as bytes.
async fn figures(t: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/reports/plan?year=2026",
        "/api/v1/reports/utilisation?year=2026",
        "/api/v1/reports/budget?year=2026",
        "/api/v1/reports/target-groups?year=2026",
        "/api/v1/reports/outcomes?year=2026",
        "/api/v1/reports/utilisation.svg?year=2026",
        "/api/v1/exports/allocation-events?limit=500",
    ] {
        let r = t.get(path, Role::Reporting).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        out.push((path.to_string(), r.raw));
    }
    out
}

fn cli(t: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["--database-url", &t.db.url])
        .args(args)
        .env("PASSGENAU_JWT_SECRET", "test-secret-test-secret-test-secret-0123")
        .output()
        .unwrap()
}

async fn retention_erases_every_trace_and_keeps_the_figures(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let plan = t
        .req(
            Method::PUT,
            "/api/v1/plans/2026",
            Some(Role::Admin),
            Some(json!({"instruments": [{"code": "AVGS_MAT", "planned_entries": 10, "budget_cents": 9_000_000}]})),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    let c = person(&t).await;
    let h = household(&t, &c).await;
    let o = offer(&t, "Bewerbungscenter").await;
    let p = place(&t, &c, &o).await;
    transition(&t, &p, Role::Provider, "confirmed").await;
    transition(&t, &p, Role::Provider, "started").await;
    transition(&t, &p, Role::Provider, "completed").await;
    // someone else, who stays
    let other = t.create_customer("K-STAYS").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Admin).await.status,
        StatusCode::OK
    );
    assert!(!traces(&t, b, &[LAST]).is_empty(), "the scan finds what is there");
    let before = figures(&t).await;

    // closed 11 years back: due; held: not
    put(
        &t,
        &format!("/api/v1/customers/{c}/closure"),
        Role::Specialist,
        json!({"closed_on": "2015-11-02", "reason": "Wegzug"}),
    )
    .await
    .assert_problem(403, "forbidden");
    close(&t, &c, "2015-11-02", "Wegzug").await;
    let held = t
        .patch(
            &format!("/api/v1/customers/{c}"),
            Role::Admin,
            json!({"legal_hold": true}),
        )
        .await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    let dry = cli(&t, &["retention", "run", "--dry-run"]);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(
        String::from_utf8_lossy(&dry.stdout).starts_with("0 closed cases are due"),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
    t.patch(
        &format!("/api/v1/customers/{c}"),
        Role::Admin,
        json!({"legal_hold": false}),
    )
    .await;
    let dry = cli(&t, &["retention", "run", "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&dry.stdout).starts_with("1 closed cases are due"),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Admin).await.status,
        StatusCode::OK,
        "a dry run erases nobody"
    );

    let run = cli(&t, &["retention", "run"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        String::from_utf8_lossy(&run.stdout).starts_with("erased 1 of 1"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );

    t.get(&format!("/api/v1/customers/{c}"), Role::Admin)
        .await
        .assert_problem(404, "not_found");
    t.get(&format!("/api/v1/customers/{c}/export"), Role::Admin)
        .await
        .assert_problem(404, "not_found");
    t.get(&format!("/api/v1/households/{h}"), Role::Admin)
        .await
        .assert_problem(404, "not_found");
    let found = t
        .get(&format!("/api/v1/customers?q={LAST}"), Role::Specialist)
        .await;
    assert_eq!(found.body["items"], json!([]));
    let listed = t.get("/api/v1/customers?limit=500", Role::Specialist).await;
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other.as_str()], "the erased person is listed nowhere");
    let left = traces(&t, b, &[FIRST, LAST, NUMBER, EMAIL, STREET, "BG-QZ-1"]);
    assert!(left.is_empty(), "personal data left: {left:?}");
    // the placement stays under the pseudonym: the figures are the same, byte for byte
    let after = figures(&t).await;
    for ((path, a), (_, z)) in before.iter().zip(&after) {
        assert!(
            a == z,
            "{path} changed:\n{}\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(z)
        );
    }
    // the erasure is audited without personal data, and the log still verifies
    let audit = t
        .get(&format!("/api/v1/audit?customer_id={c}&limit=500"), Role::Admin)
        .await;
    let erasure: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "delete")
        .collect();
    assert_eq!(erasure.len(), 1, "{audit:?}", audit = audit.body);
    assert_eq!(erasure[0]["actor"], "retention");
    assert_eq!(erasure[0]["route"], "passgenau retention run");
    assert!(erasure[0]["fields"].as_str().unwrap().starts_with("erasure: "));
    let sealed = cli(&t, &["audit", "seal"]);
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    let verified = cli(&t, &["audit", "verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // a second run finds nothing more
    let again = cli(&t, &["retention", "run"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("erased 0 of 0"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

async fn erasure_now_needs_a_closed_unheld_case(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = person(&t).await;
    let path = format!("/api/v1/customers/{c}/erasure");
    let why = json!({"reason": "Antrag nach Art. 17 DSGVO"});
    t.post(&path, Role::Admin, why.clone())
        .await
        .assert_problem(409, "retention_required");
    t.post(&path, Role::Specialist, why.clone())
        .await
        .assert_problem(403, "forbidden");
    t.post(&path, Role::Admin, json!({"reason": ""}))
        .await
        .assert_problem(422, "validation_failed");
    t.post(&path, Role::Admin, json!({"reason": "x", "also": 1}))
        .await
        .assert_problem(400, "invalid_field");
    // two earlier records of the person, merged one into the other and that into this one
    let mut dups = Vec::new();
    for number in ["QZ-770002", "QZ-770003"] {
        let mut body = TestApp::customer_body(number);
        body["first_name"] = json!(FIRST);
        body["last_name"] = json!(LAST);
        let r = t.post("/api/v1/customers", Role::Specialist, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        dups.push(r.body["id"].as_str().unwrap().to_string());
    }
    for (survivor, duplicate) in [(&dups[1], &dups[0]), (&c, &dups[1])] {
        let m = t
            .post(
                &format!("/api/v1/customers/{survivor}/merge"),
                Role::Specialist,
                json!({"duplicate_id": duplicate, "reason": "eine Person"}),
            )
            .await;
        assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    }
    // an import report that names the recorded person as a probable duplicate
    let line = json!({
        "kind": "customer", "customer_number": "QZ-IMPORT", "first_name": FIRST, "last_name": LAST,
        "date_of_birth": "1988-04-12", "gender": "female", "nationality": "DE",
        "vocational_qualification": "vocational", "german_level": "native",
        "benefit_spells": [{"from": "2018-01-01", "to": null}]
    });
    let up = t
        .raw(
            Method::POST,
            "/api/v1/imports",
            Role::Admin,
            "application/x-ndjson",
            format!("{line}\n").into_bytes(),
        )
        .await;
    assert_eq!(up.status, StatusCode::ACCEPTED, "{}", up.body);
    let job_path = up.header("location").unwrap().to_string();
    let mut job = Value::Null;
    for _ in 0..500 {
        job = t.get(&job_path, Role::Admin).await.body;
        if job["status"] == "done" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(job["rejected"].to_string().contains(NUMBER), "{job}");
    close(&t, &c, "2026-12-01", "Antrag").await;
    t.patch(
        &format!("/api/v1/customers/{c}"),
        Role::Admin,
        json!({"legal_hold": true}),
    )
    .await;
    t.post(&path, Role::Admin, why.clone())
        .await
        .assert_problem(409, "retention_required");
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Admin).await.status,
        StatusCode::OK,
        "a refused erasure changes nothing"
    );
    t.patch(
        &format!("/api/v1/customers/{c}"),
        Role::Admin,
        json!({"legal_hold": false}),
    )
    .await;
    let r = t.post(&path, Role::Admin, why.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    t.get(&format!("/api/v1/customers/{c}"), Role::Admin)
        .await
        .assert_problem(404, "not_found");
    t.post(&path, Role::Admin, why)
        .await
        .assert_problem(404, "not_found");
    let left = traces(
        &t,
        b,
        &[FIRST, LAST, NUMBER, EMAIL, STREET, "QZ-770002", "QZ-770003"],
    );
    assert!(left.is_empty(), "personal data left: {left:?}");
    for d in &dups {
        t.get(&format!("/api/v1/customers/{d}"), Role::Admin)
            .await
            .assert_problem(404, "not_found");
    }
    // the import's report still reads, with the number replaced
    let job = t.get(&job_path, Role::Admin).await;
    assert_eq!(job.status, StatusCode::OK, "{}", job.body);
    assert!(
        job.body["rejected"].to_string().contains("[gelöscht]"),
        "{}",
        job.body
    );
    assert_eq!(t.get("/api/v1/imports", Role::Admin).await.status, StatusCode::OK);
    // the person's number is free for a new record (someone who returns is a new case)
    let again = t
        .post("/api/v1/customers", Role::Specialist, {
            let mut body = TestApp::customer_body(NUMBER);
            body["last_name"] = json!(LAST);
            body
        })
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

async fn a_changed_or_removed_audit_entry_is_named(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = person(&t).await;
    for role in [Role::Specialist, Role::Admin, Role::Specialist] {
        assert_eq!(
            t.get(&format!("/api/v1/customers/{c}"), role).await.status,
            StatusCode::OK
        );
    }
    let sealed = cli(&t, &["audit", "seal"]);
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    let ok = cli(&t, &["audit", "verify"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    let head = out.split("head ").nth(1).unwrap().trim().to_string();
    // entries written after the seal verify too, once sealed
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Admin).await.status,
        StatusCode::OK
    );
    assert!(cli(&t, &["audit", "seal"]).status.success());
    let ok = cli(&t, &["audit", "verify", "--expect-head", &head]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // an instance with another audit key does not extend the chain
    assert_eq!(
        t.get(&format!("/api/v1/customers/{c}"), Role::Admin).await.status,
        StatusCode::OK
    );
    let dir = tempfile::tempdir().unwrap();
    let other_key = dir.path().join("audit.key");
    std::fs::write(&other_key, "another-key-of-at-least-32-bytes-0123456789").unwrap();
    let wrong = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["--database-url", &t.db.url, "audit", "seal"])
        .env("PASSGENAU_AUDIT_KEY_FILE", &other_key)
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(cli(&t, &["audit", "seal"]).status.success());
    assert!(
        cli(&t, &["audit", "verify"]).status.success(),
        "the chain is whole"
    );

    let audit = t
        .get(&format!("/api/v1/audit?customer_id={c}&limit=500"), Role::Admin)
        .await;
    let items = audit.body["items"].as_array().unwrap();
    let second = items[1]["id"].as_str().unwrap().to_string();
    let exec = |sql: String| {
        t.state
            .store
            .write(|conn| {
                diesel::sql_query(sql)
                    .execute(conn)
                    .map_err(passgenau_store::StoreError::from)
            })
            .unwrap()
    };
    // a changed actor
    let was = items[1]["actor"].as_str().unwrap().to_string();
    assert_eq!(
        exec(format!(
            "UPDATE audit_log SET actor = 'mallory' WHERE id = '{second}'"
        )),
        1
    );
    let bad = cli(&t, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains(&second) && said.contains("changed"), "{said}");
    exec(format!(
        "UPDATE audit_log SET actor = '{was}' WHERE id = '{second}'"
    ));
    assert!(cli(&t, &["audit", "verify"]).status.success(), "restored");
    // a removed entry: the one after it is named with its place
    exec(format!("DELETE FROM audit_log WHERE id = '{second}'"));
    let bad = cli(&t, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("removed"), "{said}");
    // an entry inserted with a forged place and seal
    exec("DELETE FROM audit_log".to_string());
    let empty = cli(&t, &["audit", "verify"]);
    assert!(
        empty.status.success(),
        "an empty log is a valid chain: {}",
        String::from_utf8_lossy(&empty.stderr)
    );
    let cut = cli(&t, &["audit", "verify", "--expect-head", &head]);
    assert_eq!(
        cut.status.code(),
        Some(1),
        "a cut-off chain misses its noted head"
    );
    exec(format!(
        "INSERT INTO audit_log (id, at, actor, role, action, route, seal_pos, seal) VALUES \
         ('{}', '2026-12-03 10:00:00', 'mallory', 'admin', 'read', 'GET /x', 1, '{}')",
        uuid::Uuid::now_v7(),
        "0".repeat(64)
    ));
    let bad = cli(&t, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("changed"));
}

/// A running server runs the retention job (its day's run, at start) and seals the audit
/// entries of its requests within its sealing interval.
async fn a_server_erases_due_cases_and_seals_its_audit_log(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = person(&t).await;
    close(&t, &c, "2014-06-30", "Wegzug").await;
    let server =
        common::http::Server::start_with(&t.db.url, common::TEST_SECRET, &[("PASSGENAU_AUDIT_SEAL_S", "1")]);
    let token = t.token(Role::Admin);
    let mut erased = false;
    for _ in 0..100 {
        let (status, _) = common::http::request(
            &server.addr,
            "GET",
            &format!("/api/v1/customers/{c}"),
            Some(&token),
            None,
        );
        if status == 404 {
            erased = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(erased, "the server's retention run erased the due case");
    // every entry so far, this request's too, is sealed within the interval
    let (status, _) = common::http::request(
        &server.addr,
        "GET",
        "/api/v1/customers?limit=5",
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let mut sealed = false;
    for _ in 0..50 {
        let v = cli(&t, &["audit", "verify"]);
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
        if !String::from_utf8_lossy(&v.stdout).contains("not sealed yet") {
            sealed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(sealed, "the server seals what it writes");
    assert_eq!(server.terminate(), Some(0));
}

async fn an_offer_changes_provider_only_by_an_audited_transfer(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let other = t
        .post(
            "/api/v1/providers",
            Role::Admin,
            json!({"name": "Neuer Träger gGmbH", "azav_certified_until": "2030-12-31"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    let other = other.body["id"].as_str().unwrap().to_string();
    let c = person(&t).await;
    let o = offer(&t, "Bewerbungscenter").await;
    let empty = offer(&t, "Leeres Angebot").await;
    place(&t, &c, &o).await;
    // an offer without participants moves freely
    let moved = t
        .patch(
            &format!("/api/v1/offers/{empty}"),
            Role::Admin,
            json!({"provider_id": other}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    t.patch(
        &format!("/api/v1/offers/{o}"),
        Role::Admin,
        json!({"provider_id": other}),
    )
    .await
    .assert_problem(409, "offer_has_participants");
    let path = format!("/api/v1/offers/{o}/transfer");
    let body = json!({"provider_id": other, "reason": "Trägerwechsel"});
    t.post(&path, Role::Specialist, body.clone())
        .await
        .assert_problem(403, "forbidden");
    t.post(
        &path,
        Role::Admin,
        json!({"provider_id": uuid::Uuid::now_v7(), "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        &path,
        Role::Admin,
        json!({"provider_id": t.provider_id, "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(&path, Role::Admin, json!({"provider_id": other, "reason": " "}))
        .await
        .assert_problem(422, "validation_failed");
    let still = t.get(&format!("/api/v1/offers/{o}"), Role::Admin).await;
    assert_eq!(
        still.body["provider_id"],
        t.provider_id.to_string().as_str(),
        "refusals change nothing"
    );
    let r = t.post(&path, Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["provider_id"], other.as_str());
    // the participant's specialist sees it in the export, the admin in the audit log
    let x = t
        .get(&format!("/api/v1/customers/{c}/export"), Role::Specialist)
        .await;
    let seen = x.body["accesses"].as_array().unwrap().iter().any(|a| {
        a["route"] == "POST /api/v1/offers/{id}/transfer"
            && a["action"] == "update"
            && a["fields"].as_str().unwrap().contains("Trägerwechsel")
    });
    assert!(seen, "{}", x.body["accesses"]);
    assert_eq!(x.body["recipients"][0]["name"], "Neuer Träger gGmbH");
}

async fn an_idempotent_replay_is_audited_as_a_read(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let first = person(&t).await;
    let again = person(&t).await;
    assert_eq!(first, again, "the replay answers the first record");
    let audit = t
        .get(
            &format!("/api/v1/audit?customer_id={first}&limit=500"),
            Role::Admin,
        )
        .await;
    let kinds: Vec<(&str, &str)> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["route"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("create", "POST /api/v1/customers"),
            ("read", "POST /api/v1/customers")
        ],
        "the replay discloses the stored record again"
    );
}

/// A cohort run's entries go to PostgreSQL as one COPY beyond 2,000 rows: every column
/// arrives, NULLs as NULLs, and the chain seals and verifies over them.
async fn many_entries_at_once_are_written_whole_and_seal(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = person(&t).await;
    let before = t.count("audit_log");
    let cid: passgenau_domain::ids::CustomerId = c.parse().unwrap();
    let entries: Vec<passgenau_store::audit::AuditEntry> = (0..2_500)
        .map(|i| passgenau_store::audit::AuditEntry {
            id: passgenau_domain::ids::new_id(),
            at: passgenau_store::records::now(),
            actor: format!("run-{i}"),
            role: "specialist".into(),
            action: passgenau_store::audit::Action::Read,
            route: "cohort run x".into(),
            customer_id: Some(cid),
            household_id: None,
            fields: (i % 2 == 0).then(|| "f".to_string()),
            account_id: None,
        })
        .collect();
    t.state
        .store
        .write(|conn| passgenau_store::audit::append(conn, &entries))
        .unwrap();
    assert_eq!(t.count("audit_log"), before + 2_500);
    let page = passgenau_store::Page {
        limit: 5_000,
        after: None,
    };
    let filter = passgenau_store::audit::AuditFilter {
        customer_id: Some(cid),
        ..Default::default()
    };
    let got = t
        .state
        .store
        .read(|conn| passgenau_store::audit::list(conn, &filter, &page))
        .unwrap();
    let run: Vec<_> = got.items.iter().filter(|e| e.actor.starts_with("run-")).collect();
    assert_eq!(run.len(), 2_500);
    assert!(run
        .iter()
        .all(|e| e.household_id.is_none() && e.account_id.is_none()));
    assert_eq!(
        run.iter().filter(|e| e.fields.as_deref() == Some("f")).count(),
        1_250
    );
    assert!(cli(&t, &["audit", "seal"]).status.success());
    let v = cli(&t, &["audit", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}
