//! Recognising people (issue #18): a probable duplicate is refused until confirmed, a
//! merge moves everything to the survivor or changes nothing, and contact data is
//! validated and shown to a provider only as the chosen channel of an active placement.

mod common;

use actix_web::http::StatusCode;
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    probable_duplicates_need_a_confirmation,
    merge_moves_everything_or_nothing,
    contact_data_is_validated_and_minimal_for_providers,
);

/// A body of one person, without the tests' usual confirmation.
fn person(number: &str, first: &str, last: &str, born: &str) -> Value {
    let mut body = TestApp::customer_body(number);
    body.as_object_mut().unwrap().remove("confirm_distinct_person");
    body["first_name"] = json!(first);
    body["last_name"] = json!(last);
    body["date_of_birth"] = json!(born);
    body
}

async fn create(t: &TestApp, body: Value) -> String {
    let r = t.post("/api/v1/customers", Role::Specialist, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn offer(t: &TestApp) -> String {
    let mut body = t.offer_body();
    body["starts_on"] = json!("2026-01-01");
    body["ends_on"] = json!("2030-12-31");
    let r = t.post("/api/v1/offers", Role::Admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn place(t: &TestApp, customer: &str, offer: &str) -> String {
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": customer, "offer_id": offer}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn probable_duplicates_need_a_confirmation(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let first = create(&t, person("K-1", "Erika", "Müller", "1988-04-12")).await;

    for (number, first_name, last_name) in [("K-2", "ERIKA", "Mueller"), ("K-3", "Erika", "Möller-Schmitz")]
    {
        let r = t
            .post(
                "/api/v1/customers",
                Role::Specialist,
                person(number, first_name, last_name, "1988-04-12"),
            )
            .await;
        r.assert_problem(409, "possible_duplicate");
        assert_eq!(
            r.body["candidates"],
            json!([{"id": first, "customer_number": "K-1"}]),
            "{number}"
        );
    }
    assert_eq!(t.count("customers"), 1, "a refused create writes nothing");

    // another name, or another day of birth: another person
    create(&t, person("K-4", "Erika", "Schmidt", "1988-04-12")).await;
    create(&t, person("K-5", "Erika", "Müller", "1988-04-13")).await;

    let r = t
        .post(
            "/api/v1/customers",
            Role::Specialist,
            json!({"confirm_distinct_person": "yes", "customer_number": "K-6"}),
        )
        .await;
    r.assert_problem(400, "invalid_field");

    let mut confirmed = person("K-2", "Erika", "Mueller", "1988-04-12");
    confirmed["confirm_distinct_person"] = json!(true);
    let second = create(&t, confirmed).await;
    let audit = t
        .get(&format!("/api/v1/audit?customer_id={second}"), Role::Admin)
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let create_entry = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "create")
        .expect("the create is audited")
        .clone();
    assert_eq!(
        create_entry["fields"], "confirm_distinct_person",
        "{create_entry}"
    );
    assert!(!audit.body.to_string().contains("Mueller"));
}

async fn merge_moves_everything_or_nothing(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o1 = offer(&t).await;
    let o2 = offer(&t).await;
    let mut kept_body = person("K-1", "Erika", "Müller", "1988-04-12");
    kept_body["prior_participations"] =
        json!([{"instrument_code": "AGH", "from": "2019-01-01", "to": "2019-06-30"}]);
    let kept = create(&t, kept_body).await;
    let mut dup_body = person("K-2", "Erika", "Mueller", "1988-04-12");
    dup_body["confirm_distinct_person"] = json!(true);
    dup_body["prior_participations"] =
        json!([{"instrument_code": "AGH", "from": "2020-01-01", "to": "2020-03-31"}]);
    let dup = create(&t, dup_body).await;
    let placement = place(&t, &dup, &o1).await;
    let h = t
        .post(
            "/api/v1/households",
            Role::Specialist,
            json!({"household_number": "BG-1", "members": [{"customer_id": dup, "role": "applicant"}]}),
        )
        .await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.body);
    let hid = h.body["id"].as_str().unwrap().to_string();

    // the ugly cases change nothing
    let merge = |survivor: String, body: Value| {
        let t = &t;
        async move {
            t.post(
                &format!("/api/v1/customers/{survivor}/merge"),
                Role::Specialist,
                body,
            )
            .await
        }
    };
    merge(kept.clone(), json!({"duplicate_id": kept, "reason": "same"}))
        .await
        .assert_problem(422, "validation_failed");
    merge(kept.clone(), json!({"duplicate_id": dup, "reason": " "}))
        .await
        .assert_problem(422, "validation_failed");
    merge(kept.clone(), json!({"duplicate_id": dup}))
        .await
        .assert_problem(400, "invalid_field");
    merge(
        kept.clone(),
        json!({"duplicate_id": uuid::Uuid::now_v7(), "reason": "same"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = t.get(&format!("/api/v1/customers/{dup}"), Role::Provider).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post(
            &format!("/api/v1/customers/{kept}/merge"),
            Role::Provider,
            json!({"duplicate_id": dup, "reason": "same"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // a conflict: both hold a place in o2
    place(&t, &kept, &o2).await;
    let dup_in_o2 = place(&t, &dup, &o2).await;
    let before = t.count("allocations");
    merge(
        kept.clone(),
        json!({"duplicate_id": dup, "reason": "same person"}),
    )
    .await
    .assert_problem(409, "merge_conflict");
    let r = t.get(&format!("/api/v1/customers/{dup}"), Role::Specialist).await;
    assert_eq!(r.status, StatusCode::OK, "the duplicate is untouched: {}", r.body);
    assert_eq!(r.body["household_id"], hid.as_str());
    assert_eq!(t.count("allocations"), before);

    // ended, the conflict is gone
    let r = t
        .post(
            &format!("/api/v1/allocations/{dup_in_o2}/transitions"),
            Role::Specialist,
            json!({"to": "cancelled", "reason": "double record"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = merge(
        kept.clone(),
        json!({"duplicate_id": dup, "reason": "same person, two offices"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], kept.as_str());
    assert_eq!(r.body["household_id"], hid.as_str(), "the membership moved");
    assert_eq!(
        r.body["prior_participations"].as_array().unwrap().len(),
        2,
        "{}",
        r.body
    );

    let gone = t.get(&format!("/api/v1/customers/{dup}"), Role::Specialist).await;
    gone.assert_problem(404, "not_found");
    assert_eq!(gone.body["merged_into"], kept.as_str());
    let moved = t
        .get(&format!("/api/v1/allocations/{placement}"), Role::Specialist)
        .await;
    assert_eq!(moved.body["customer_id"], kept.as_str(), "{}", moved.body);
    let list = t
        .get(
            &format!("/api/v1/allocations?customer_id={kept}"),
            Role::Specialist,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3, "{}", list.body);
    let hh = t
        .get(&format!("/api/v1/households/{hid}"), Role::Specialist)
        .await;
    assert_eq!(hh.body["members"][0]["customer_id"], kept.as_str(), "{}", hh.body);
    let found = t.get("/api/v1/customers?q=Mueller", Role::Specialist).await;
    let numbers: Vec<&str> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["K-1"], "the tombstone is found by no search");
    let listed = t.get("/api/v1/customers?limit=500", Role::Specialist).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    // the tombstone takes no placement and no second merge
    let r = t
        .post(
            "/api/v1/allocations",
            Role::Specialist,
            json!({"customer_id": dup, "offer_id": o2}),
        )
        .await;
    r.assert_problem(404, "not_found");
    merge(kept.clone(), json!({"duplicate_id": dup, "reason": "again"}))
        .await
        .assert_problem(422, "validation_failed");
    merge(dup.clone(), json!({"duplicate_id": kept, "reason": "reverse"}))
        .await
        .assert_problem(404, "not_found");

    let audit = t
        .get(&format!("/api/v1/audit?customer_id={dup}"), Role::Admin)
        .await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "update" && e["fields"] == "merged_into"),
        "{}",
        audit.body
    );
    let audit = t
        .get(&format!("/api/v1/audit?customer_id={kept}"), Role::Admin)
        .await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "update"
                && e["fields"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("merged_from") && f.contains("prior_participations"))),
        "{}",
        audit.body
    );
}

async fn contact_data_is_validated_and_minimal_for_providers(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let o = offer(&t).await;
    let c = create(&t, person("K-1", "Erika", "Müller", "1988-04-12")).await;
    let path = format!("/api/v1/customers/{c}");
    for (contact, field) in [
        (json!({"email": "erika@"}), "contact.email"),
        (json!({"email": "erika mueller@example.de"}), "contact.email"),
        (json!({"phone": "0211-1"}), "contact.phone"),
        (json!({"phone": "+49 (211) 1234abc"}), "contact.phone"),
        (json!({"preferred_channel": "email"}), "contact.preferred_channel"),
        (
            json!({"preferred_channel": "post", "street": "Kölner Str. 1"}),
            "contact.preferred_channel",
        ),
        (json!({"street": "\u{0}"}), "contact.street"),
    ] {
        let r = t
            .patch(&path, Role::Specialist, json!({ "contact": contact }))
            .await;
        r.assert_problem(422, "validation_failed");
        assert!(r.fields().contains(&field.to_string()), "{contact}: {}", r.body);
    }
    let r = t
        .patch(&path, Role::Specialist, json!({"contact": {"pager": "1"}}))
        .await;
    r.assert_problem(400, "invalid_field");
    let r = t
        .patch(
            &path,
            Role::Specialist,
            json!({"contact": {"preferred_channel": "pigeon"}}),
        )
        .await;
    r.assert_problem(400, "invalid_field");
    let r = t.get(&path, Role::Specialist).await;
    assert_eq!(
        r.body["contact"],
        json!({"street": null, "city": null, "phone": null, "email": null, "preferred_channel": null})
    );

    let r = t
        .patch(
            &path,
            Role::Specialist,
            json!({"contact": {
                "street": "Luisenstraße 105", "city": "Düsseldorf", "phone": "+49 211 123456",
                "email": "erika.mueller@example.de", "preferred_channel": "email"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["contact"]["city"], "Düsseldorf");

    let placement = place(&t, &c, &o).await;
    let seen = t
        .get(&format!("/api/v1/allocations/{placement}"), Role::Provider)
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(
        seen.body["participant"]["contact"],
        json!({"channel": "email", "reach": "erika.mueller@example.de"})
    );
    let text = seen.body.to_string();
    assert!(
        !text.contains("123456") && !text.contains("Luisenstra"),
        "only the chosen channel: {text}"
    );

    // by post: the address on one line
    let r = t
        .patch(
            &path,
            Role::Specialist,
            json!({"contact": {"preferred_channel": "post", "email": null}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let seen = t
        .get(&format!("/api/v1/allocations/{placement}"), Role::Provider)
        .await;
    assert_eq!(
        seen.body["participant"]["contact"],
        json!({"channel": "post", "reach": "Luisenstraße 105, 40210 Düsseldorf"})
    );

    // once the placement ends, the provider sees nobody
    let r = t
        .post(
            &format!("/api/v1/allocations/{placement}/transitions"),
            Role::Specialist,
            json!({"to": "cancelled", "reason": "moved away"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let seen = t
        .get(&format!("/api/v1/allocations/{placement}"), Role::Provider)
        .await;
    assert!(seen.body.get("participant").is_none(), "{}", seen.body);
}
