//! Records, auth, errors and audit through the real application, on SQLite and PostgreSQL.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::json;

on_both_backends!(
    login_and_token_checks,
    roles_are_enforced,
    customer_lifecycle_with_etags,
    ugly_customer_inputs_change_nothing,
    idempotent_customer_creation,
    households_and_single_parents,
    offers_default_and_validation,
    instruments_admin_edits,
    providers_crud,
    audit_records_every_access,
    concurrent_reads_are_each_audited,
    pagination_walks_every_record,
    migrations_revert_cleanly,
    readyz_reports_database,
    unknown_query_parameters_are_refused,
);

/// `?first_name=` is not a parameter of the customer list (search is `?q=`): 400 naming
/// it, and nobody's record is read (no audit entries of people nobody looked for).
async fn unknown_query_parameters_are_refused(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.create_customer("K-1").await;
    let before = t.count("audit_log");
    for (url, field) in [
        ("/api/v1/customers?first_name=Erika", "first_name"),
        ("/api/v1/customers?q=M%C3%BCller&limit=5&sort=name", "sort"),
        ("/api/v1/offers?limit=5&sort=title", "sort"),
        ("/api/v1/instruments?verbose=1", "verbose"),
    ] {
        let r = t.get(url, Role::Specialist).await;
        r.assert_problem(400, "invalid_query");
        assert_eq!(r.body["errors"][0]["field"], field, "{url}: {}", r.body);
    }
    assert_eq!(t.count("audit_log"), before, "a refused list reads nobody");
    // the documented ones still work
    let ok = t
        .get("/api/v1/customers?last_name=Mustermann&limit=5", Role::Specialist)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

async fn login_and_token_checks(b: Backend) {
    let t = TestApp::new(b).unwrap();
    passgenau_server::app::users::add(
        &t.state.store,
        None,
        "ifk.meier",
        "correct horse battery",
        Role::Specialist,
        None,
    )
    .unwrap();
    let ok = t
        .req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "ifk.meier", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["role"], "specialist");
    assert!(ok.body["expires_in"].as_i64().unwrap() > 0);
    let token = ok.body["access_token"].as_str().unwrap().to_string();
    let me = t
        .call(
            TestRequest::get()
                .uri("/api/v1/me")
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await;
    assert_eq!(
        me.body,
        json!({"username": "ifk.meier", "role": "specialist", "provider_id": null})
    );

    for body in [
        json!({"username": "ifk.meier", "password": "wrong password!"}),
        json!({"username": "nobody", "password": "correct horse battery"}),
    ] {
        t.req(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
            .assert_problem(401, "invalid_credentials");
    }

    // no token, garbage, wrong secret, alg none, expired
    t.req(Method::GET, "/api/v1/me", None, None)
        .await
        .assert_problem(401, "unauthorized");
    let bad = |tok: String| {
        TestRequest::get()
            .uri("/api/v1/me")
            .insert_header(("authorization", format!("Bearer {tok}")))
    };
    t.call(bad("not.a.token".into()))
        .await
        .assert_problem(401, "unauthorized");
    let other = passgenau_server::auth::Tokens::new(b"another-secret-another-secret-another", 60);
    t.call(bad(other.issue(&t.subject(Role::Admin)).unwrap()))
        .await
        .assert_problem(401, "unauthorized");
    use base64::Engine;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = chrono::Utc::now().timestamp() + 600;
    let none_token = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"sub": "x", "role": "admin", "iss": "passgenau", "iat": 0, "exp": exp}))
    );
    t.call(bad(none_token)).await.assert_problem(401, "unauthorized");
    let expired = passgenau_server::auth::Tokens::new(common::TEST_SECRET.as_bytes(), -3600);
    let r = t.call(bad(expired.issue(&t.subject(Role::Admin)).unwrap())).await;
    r.assert_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"));
}

async fn roles_are_enforced(b: Backend) {
    let t = TestApp::new(b).unwrap();
    for role in [Role::Provider, Role::Reporting] {
        t.get("/api/v1/customers", role)
            .await
            .assert_problem(403, "forbidden");
        t.post("/api/v1/customers", role, TestApp::customer_body("K-1"))
            .await
            .assert_problem(403, "forbidden");
        t.get("/api/v1/households", role)
            .await
            .assert_problem(403, "forbidden");
        t.post("/api/v1/offers", role, t.offer_body())
            .await
            .assert_problem(403, "forbidden");
        // every role reads the catalogue, providers and offers
        assert_eq!(t.get("/api/v1/instruments", role).await.status, StatusCode::OK);
        assert_eq!(t.get("/api/v1/providers", role).await.status, StatusCode::OK);
        assert_eq!(t.get("/api/v1/offers", role).await.status, StatusCode::OK);
    }
    for role in [Role::Specialist, Role::Provider, Role::Reporting] {
        t.post(
            "/api/v1/users",
            role,
            json!({"username": "new.user", "password": "long enough pw", "role": "admin"}),
        )
        .await
        .assert_problem(403, "forbidden");
        t.get("/api/v1/audit", role)
            .await
            .assert_problem(403, "forbidden");
        t.post("/api/v1/providers", role, json!({"name": "X"}))
            .await
            .assert_problem(403, "forbidden");
    }
    t.post(
        "/api/v1/instruments",
        Role::Specialist,
        json!({"code": "NEW", "name": "n", "legal_basis": "l", "purpose_group": "I", "funding": "egt"}),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(
        t.post("/api/v1/offers", Role::Specialist, t.offer_body())
            .await
            .status,
        StatusCode::CREATED
    );
    let u = t
        .post(
            "/api/v1/users",
            Role::Admin,
            json!({"username": "traeger.rhein", "password": "long enough pw", "role": "provider", "provider_id": t.provider_id}),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.body);
    assert_eq!(u.body["role"], "provider");
    assert!(u.body.get("password").is_none() && u.body.get("password_hash").is_none());
    t.post(
        "/api/v1/users",
        Role::Admin,
        json!({"username": "traeger.rhein", "password": "long enough pw", "role": "reporting"}),
    )
    .await
    .assert_problem(409, "duplicate_username");
    // unique regardless of case
    t.post(
        "/api/v1/users",
        Role::Admin,
        json!({"username": "Traeger.Rhein", "password": "long enough pw", "role": "reporting"}),
    )
    .await
    .assert_problem(409, "duplicate_username");
    // weak passwords: only blanks, one character repeated, the username
    for weak in ["            ", "xxxxxxxxxxxx", "Weak.User.Name"] {
        let r = t
            .post(
                "/api/v1/users",
                Role::Admin,
                json!({"username": "weak.user.name", "password": weak, "role": "reporting"}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert!(r.fields().contains(&"password".to_string()), "{weak:?}");
    }
    let r = t
        .post(
            "/api/v1/users",
            Role::Admin,
            json!({"username": "p2", "password": "short", "role": "provider"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.fields().contains(&"password".to_string()) && r.fields().contains(&"provider_id".to_string()));
}

async fn customer_lifecycle_with_etags(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = t.create_customer("K-100").await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(c["version"], 1);
    // in need since 2018, unemployed since mid-2019: LZB and LZA today
    let groups = c["target_groups"].as_array().unwrap();
    assert!(
        groups.contains(&json!("long_term_recipient")) && groups.contains(&json!("long_term_unemployed"))
    );
    // as of 2019-07-01 neither
    let early = t
        .get(
            &format!("/api/v1/customers/{id}?as_of=2019-07-01"),
            Role::Specialist,
        )
        .await;
    assert_eq!(early.body["target_groups"], json!([]));
    assert_eq!(early.body["as_of"], "2019-07-01");
    let r = t.get(&format!("/api/v1/customers/{id}"), Role::Admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("etag"), Some("\"1\""));

    // PATCH with the current ETag
    let p = t
        .call(
            TestRequest::patch()
                .uri(&format!("/api/v1/customers/{id}"))
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-match", "\"1\""))
                .set_json(json!({"district": "Stadtbezirk 6", "postal_code": null, "refugee": true})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["district"], "Stadtbezirk 6");
    assert_eq!(p.body["postal_code"], json!(null));
    assert_eq!(p.body["version"], 2);
    assert_eq!(p.header("etag"), Some("\"2\""));
    assert!(p.body["target_groups"]
        .as_array()
        .unwrap()
        .contains(&json!("refugee")));

    // a stale ETag is refused and changes nothing
    let stale = t
        .call(
            TestRequest::patch()
                .uri(&format!("/api/v1/customers/{id}"))
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-match", "\"1\""))
                .set_json(json!({"district": "Stadtbezirk 9"})),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    let now = t.get(&format!("/api/v1/customers/{id}"), Role::Specialist).await;
    assert_eq!(now.body["district"], "Stadtbezirk 6");

    // duplicate number through PATCH
    let other = t.create_customer("K-101").await;
    t.patch(
        &format!("/api/v1/customers/{}", other["id"].as_str().unwrap()),
        Role::Specialist,
        json!({"customer_number": "K-100"}),
    )
    .await
    .assert_problem(409, "duplicate_customer_number");

    // filters
    let l = t
        .get("/api/v1/customers?customer_number=K-101", Role::Specialist)
        .await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(l.body["next_cursor"], json!(null));
    let l = t
        .get("/api/v1/customers?district=Stadtbezirk%206", Role::Specialist)
        .await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(l.body["items"][0]["customer_number"], "K-100");
}

async fn ugly_customer_inputs_change_nothing(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let existing = t.create_customer("K-1").await;
    let id = existing["id"].as_str().unwrap();
    let before = t.count("customers");

    let post = |body: Vec<u8>| {
        t.raw(
            Method::POST,
            "/api/v1/customers",
            Role::Specialist,
            "application/json",
            body,
        )
    };
    post(b"{\"customer_number\": ".to_vec())
        .await
        .assert_problem(400, "malformed_json");
    post(b"{\"customer_number\": \"K-3\",".to_vec())
        .await
        .assert_problem(400, "malformed_json");
    assert_eq!(post(b"[1,2".to_vec()).await.status.as_u16(), 400);
    post(b"\xff\xfe{}".to_vec())
        .await
        .assert_problem(400, "malformed_json");
    post(b"".to_vec()).await.assert_problem(400, "malformed_json");
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(post(nested.into_bytes()).await.status.as_u16(), 400);

    let with = |k: &str, v: serde_json::Value| {
        let mut body = TestApp::customer_body("K-2");
        body[k] = v;
        body
    };
    let cases = [
        (with("shoe_size", json!(42)), 400, "invalid_field", ""),
        (
            with("date_of_birth", json!("1990-02-30")),
            400,
            "invalid_field",
            "date_of_birth",
        ),
        (
            with("date_of_birth", json!("12.04.1988")),
            400,
            "invalid_field",
            "date_of_birth",
        ),
        (with("gender", json!("robot")), 400, "invalid_field", "gender"),
        (
            with("german_level", json!("B3")),
            400,
            "invalid_field",
            "german_level",
        ),
        (with("refugee", json!("yes")), 400, "invalid_field", "refugee"),
        (with("first_name", json!(17)), 400, "invalid_field", "first_name"),
        (
            with("benefit_spells", json!([{"from": "2020-01-01", "until": "x"}])),
            400,
            "invalid_field",
            "benefit_spells[0]",
        ),
        (
            with("first_name", json!("")),
            422,
            "validation_failed",
            "first_name",
        ),
        (
            with("first_name", json!("a\u{0}b")),
            422,
            "validation_failed",
            "first_name",
        ),
        (
            with("last_name", json!("x".repeat(5000))),
            422,
            "validation_failed",
            "last_name",
        ),
        (
            with("nationality", json!("Germany")),
            422,
            "validation_failed",
            "nationality",
        ),
        (
            with("postal_code", json!("4021")),
            422,
            "validation_failed",
            "postal_code",
        ),
        (
            with("date_of_birth", json!("2999-01-01")),
            422,
            "validation_failed",
            "date_of_birth",
        ),
        (
            with(
                "benefit_spells",
                json!([{"from": "2020-01-01", "to": "2019-01-01"}]),
            ),
            422,
            "validation_failed",
            "benefit_spells[0].to",
        ),
    ];
    for (body, status, code, field) in cases {
        let r = t.post("/api/v1/customers", Role::Specialist, body.clone()).await;
        r.assert_problem(status, code);
        if !field.is_empty() {
            assert!(
                r.fields().iter().any(|f| f.starts_with(field)),
                "{field} not named in {}",
                r.body
            );
        } else {
            assert!(
                r.body["detail"].as_str().unwrap().contains("shoe_size"),
                "{}",
                r.body
            );
        }
    }
    t.post(
        "/api/v1/customers",
        Role::Specialist,
        TestApp::customer_body("K-1"),
    )
    .await
    .assert_problem(409, "duplicate_customer_number");
    // huge body
    let huge = format!("{{\"first_name\": \"{}\"}}", "x".repeat(400_000));
    post(huge.into_bytes())
        .await
        .assert_problem(413, "payload_too_large");
    // wrong content type
    t.raw(
        Method::POST,
        "/api/v1/customers",
        Role::Specialist,
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
    // unknown and malformed IDs
    t.get(
        &format!("/api/v1/customers/{}", uuid::Uuid::now_v7()),
        Role::Specialist,
    )
    .await
    .assert_problem(404, "not_found");
    t.get("/api/v1/customers/not-a-uuid", Role::Specialist)
        .await
        .assert_problem(400, "invalid_id");
    t.get("/api/v1/customers?limit=0", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
    t.get("/api/v1/customers?limit=abc", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
    t.get("/api/v1/customers?cursor=zzz", Role::Specialist)
        .await
        .assert_problem(400, "invalid_cursor");
    t.get("/api/v1/customers?as_of=2021-13-01", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
    // PATCH garbage
    let path = format!("/api/v1/customers/{id}");
    t.patch(&path, Role::Specialist, json!({"date_of_birth": "1990-02-31"}))
        .await
        .assert_problem(400, "invalid_field");
    t.patch(&path, Role::Specialist, json!({"first_name": null}))
        .await
        .assert_problem(400, "invalid_field");
    t.patch(&path, Role::Specialist, json!([1]))
        .await
        .assert_problem(400, "invalid_field");
    t.patch(&path, Role::Specialist, json!({"id": "x"}))
        .await
        .assert_problem(400, "invalid_field");
    t.patch(&path, Role::Specialist, json!({"target_groups": ["u25"]}))
        .await
        .assert_problem(400, "invalid_field");
    // unknown routes and methods
    t.get("/api/v1/nothing-here", Role::Admin)
        .await
        .assert_problem(404, "not_found");
    let r = t.req(Method::DELETE, &path, Some(Role::Admin), None).await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, PATCH"));

    assert_eq!(t.count("customers"), before, "nothing was written");
    let after = t.get(&path, Role::Specialist).await;
    assert_eq!(after.body["version"], 1);
}

async fn idempotent_customer_creation(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let send = |key: &str, number: &str| {
        t.call(
            TestRequest::post()
                .uri("/api/v1/customers")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("idempotency-key", key.to_string()))
                .set_json(TestApp::customer_body(number)),
        )
    };
    let first = send("key-1", "K-9").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = send("key-1", "K-9").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(t.count("customers"), 1);
    send("key-1", "K-10")
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(t.count("customers"), 1);
    // a bad key is refused
    let bad = t
        .call(
            TestRequest::post()
                .uri("/api/v1/customers")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("idempotency-key", "x".repeat(300)))
                .set_json(TestApp::customer_body("K-11")),
        )
        .await;
    bad.assert_problem(400, "invalid_header");
    // concurrent retries with one key create one customer
    let futs: Vec<_> = (0..8).map(|_| send("key-2", "K-12")).collect();
    let replies = futures_util::future::join_all(futs).await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| r.body["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one customer for one key");
    assert_eq!(t.count("customers"), 2);
}

async fn households_and_single_parents(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = t.create_customer("K-200").await;
    let cid = c["id"].as_str().unwrap();
    let h = t
        .post(
            "/api/v1/households",
            Role::Specialist,
            json!({
                "household_number": "BG-1",
                "district": "Stadtbezirk 1",
                "members": [
                    {"customer_id": cid, "role": "applicant"},
                    {"role": "child", "date_of_birth": "2015-05-01"}
                ]
            }),
        )
        .await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.body);
    let hid = h.body["id"].as_str().unwrap().to_string();
    assert_eq!(h.body["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        h.body["members"][0]["date_of_birth"], "1988-04-12",
        "taken from the customer"
    );

    let c = t.get(&format!("/api/v1/customers/{cid}"), Role::Specialist).await;
    assert_eq!(c.body["household_id"], hid.as_str());
    assert!(c.body["target_groups"]
        .as_array()
        .unwrap()
        .contains(&json!("single_parent")));
    // as of a date when the child is 18, no longer single parent
    let later = t
        .get(
            &format!("/api/v1/customers/{cid}?as_of=2033-06-01"),
            Role::Specialist,
        )
        .await;
    assert!(!later.body["target_groups"]
        .as_array()
        .unwrap()
        .contains(&json!("single_parent")));

    // a partner joins: no longer single parent
    let p = t
        .post(
            &format!("/api/v1/households/{hid}/members"),
            Role::Specialist,
            json!({"role": "partner", "date_of_birth": "1986-01-01"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED);
    let partner_id = p.body["id"].as_str().unwrap().to_string();
    let c = t.get(&format!("/api/v1/customers/{cid}"), Role::Specialist).await;
    assert!(!c.body["target_groups"]
        .as_array()
        .unwrap()
        .contains(&json!("single_parent")));

    // the same customer cannot join a second household
    let h2 = t
        .post(
            "/api/v1/households",
            Role::Specialist,
            json!({"household_number": "BG-2"}),
        )
        .await;
    let h2id = h2.body["id"].as_str().unwrap();
    t.post(
        &format!("/api/v1/households/{h2id}/members"),
        Role::Specialist,
        json!({"customer_id": cid, "role": "applicant"}),
    )
    .await
    .assert_problem(409, "already_member");
    // bad members
    let r = t
        .post(
            &format!("/api/v1/households/{h2id}/members"),
            Role::Specialist,
            json!({"role": "child"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    t.post(
        &format!("/api/v1/households/{h2id}/members"),
        Role::Specialist,
        json!({"role": "cousin", "date_of_birth": "2010-01-01"}),
    )
    .await
    .assert_problem(400, "invalid_field");
    t.post(
        &format!("/api/v1/households/{h2id}/members"),
        Role::Specialist,
        json!({"customer_id": uuid::Uuid::now_v7(), "role": "other"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/households",
        Role::Specialist,
        json!({"household_number": "BG-2"}),
    )
    .await
    .assert_problem(409, "duplicate_household_number");
    // a failed create with members leaves nothing behind
    let before = t.count("households");
    t.post(
        "/api/v1/households",
        Role::Specialist,
        json!({"household_number": "BG-3", "members": [{"customer_id": cid, "role": "applicant"}]}),
    )
    .await
    .assert_problem(409, "already_member");
    assert_eq!(t.count("households"), before);

    // remove members
    let del = t
        .req(
            Method::DELETE,
            &format!("/api/v1/households/{hid}/members/{partner_id}"),
            Some(Role::Specialist),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    t.req(
        Method::DELETE,
        &format!("/api/v1/households/{hid}/members/{partner_id}"),
        Some(Role::Specialist),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let applicant = t
        .get(&format!("/api/v1/households/{hid}"), Role::Specialist)
        .await;
    assert_eq!(applicant.body["members"].as_array().unwrap().len(), 2);
    let app_member = applicant.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["customer_id"] == cid)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.req(
        Method::DELETE,
        &format!("/api/v1/households/{hid}/members/{app_member}"),
        Some(Role::Specialist),
        None,
    )
    .await;
    let c = t.get(&format!("/api/v1/customers/{cid}"), Role::Specialist).await;
    assert_eq!(c.body["household_id"], json!(null));

    // PATCH household with If-Match
    let cur = t
        .get(&format!("/api/v1/households/{hid}"), Role::Specialist)
        .await;
    let etag = cur.header("etag").unwrap().to_string();
    let ok = t
        .call(
            TestRequest::patch()
                .uri(&format!("/api/v1/households/{hid}"))
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-match", etag.clone()))
                .set_json(json!({"district": "Stadtbezirk 3"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let stale = t
        .call(
            TestRequest::patch()
                .uri(&format!("/api/v1/households/{hid}"))
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Specialist))))
                .insert_header(("if-match", etag))
                .set_json(json!({"district": "Stadtbezirk 4"})),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    t.patch(
        &format!("/api/v1/households/{hid}"),
        Role::Specialist,
        json!({"members": []}),
    )
    .await
    .assert_problem(400, "invalid_field");
}

async fn offers_default_and_validation(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let r = t.post("/api/v1/offers", Role::Admin, t.offer_body()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["max_places"], 12, "120 % of 10");
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["target_groups"], json!([]));
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut b7 = t.offer_body();
    b7["planned_places"] = json!(7);
    assert_eq!(
        t.post("/api/v1/offers", Role::Admin, b7).await.body["max_places"],
        8,
        "8.4 rounds down"
    );
    let mut explicit = t.offer_body();
    explicit["max_places"] = json!(10);
    explicit["target_groups"] = json!(["u25", "single_parent"]);
    explicit["min_age"] = json!(18);
    explicit["max_age"] = json!(24);
    explicit["min_german_level"] = json!("B1");
    let e = t.post("/api/v1/offers", Role::Specialist, explicit).await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.body);
    assert_eq!(e.body["max_places"], 10);
    assert_eq!(e.body["min_german_level"], "B1");

    let before = t.count("offers");
    let bad = |k: &str, v: serde_json::Value| {
        let mut body = t.offer_body();
        body[k] = v;
        body
    };
    for (body, status, field) in [
        (bad("planned_places", json!(-1)), 422, "planned_places"),
        (bad("max_places", json!(-5)), 422, "max_places"),
        (
            bad("cost_per_place_cents", json!(-1)),
            422,
            "cost_per_place_cents",
        ),
        (bad("ends_on", json!("2025-12-31")), 422, "ends_on"),
        (bad("instrument_code", json!("NOPE")), 422, "instrument_code"),
        (
            bad("provider_id", json!(uuid::Uuid::now_v7())),
            422,
            "provider_id",
        ),
        (bad("min_age", json!(70)), 422, "min_age"),
        (bad("target_groups", json!(["u25", "u25"])), 422, "target_groups"),
        (
            bad("target_groups", json!(["astronauts"])),
            400,
            "target_groups[0]",
        ),
        (bad("entry", json!("sometimes")), 400, "entry"),
        (bad("planned_places", json!(1e30)), 400, "planned_places"),
        (
            bad("planned_places", json!(99999999999i64)),
            400,
            "planned_places",
        ),
        (bad("starts_on", json!("2026-02-29")), 400, "starts_on"),
        (bad("provider_id", json!("not-a-uuid")), 400, "provider_id"),
    ] {
        let r = t.post("/api/v1/offers", Role::Admin, body).await;
        assert_eq!(r.status.as_u16(), status, "{field}: {}", r.body);
        assert!(
            r.fields().iter().any(|f| f == field),
            "{field} not named: {}",
            r.body
        );
    }
    assert_eq!(t.count("offers"), before);

    let p = t
        .patch(
            &format!("/api/v1/offers/{id}"),
            Role::Specialist,
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["status"], "closed");
    t.patch(
        &format!("/api/v1/offers/{id}"),
        Role::Specialist,
        json!({"planned_places": -3}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let l = t.get("/api/v1/offers?status=closed", Role::Provider).await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
    let l = t
        .get(
            "/api/v1/offers?instrument=AVGS_MAT&starts_from=2026-01-01&starts_to=2026-01-01",
            Role::Reporting,
        )
        .await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 3);
    t.get("/api/v1/offers?status=maybe", Role::Reporting)
        .await
        .assert_problem(400, "invalid_query");
}

async fn instruments_admin_edits(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let all = t.get("/api/v1/instruments?limit=500", Role::Provider).await;
    let codes: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    for code in [
        "AVGS_MAT", "FBW", "AGH", "P16I", "P16E", "EGZ", "ESG", "MAG", "EQ", "BAE", "ASA",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    let vi = t
        .get("/api/v1/instruments?purpose_group=VI", Role::Reporting)
        .await;
    assert_eq!(vi.body["items"].as_array().unwrap().len(), 3);
    let i = t.get("/api/v1/instruments/P16I", Role::Specialist).await;
    assert_eq!(i.body["legal_basis"], "§ 16i SGB II");
    assert_eq!(i.body["purpose_group"], "VI");
    t.get("/api/v1/instruments/NOPE", Role::Specialist)
        .await
        .assert_problem(404, "not_found");

    let created = t
        .post(
            "/api/v1/instruments",
            Role::Admin,
            json!({"code": "P16A", "name": "Kommunale Eingliederungsleistungen", "legal_basis": "§ 16a SGB II", "purpose_group": "I", "funding": "municipal"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["builtin"], false);
    t.post(
        "/api/v1/instruments",
        Role::Admin,
        json!({"code": "P16A", "name": "x", "legal_basis": "y", "purpose_group": "I", "funding": "egt"}),
    )
    .await
    .assert_problem(409, "duplicate_instrument_code");
    t.post(
        "/api/v1/instruments",
        Role::Admin,
        json!({"code": "bad code", "name": "x", "legal_basis": "y", "purpose_group": "IX", "funding": "egt"}),
    )
    .await
    .assert_problem(400, "invalid_field");
    let p = t
        .call(
            TestRequest::patch()
                .uri("/api/v1/instruments/AGH")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Admin))))
                .insert_header(("if-match", "\"1\""))
                .set_json(json!({"name": "Arbeitsgelegenheiten (AGH-MAE)"})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.header("etag"), Some("\"2\""));
    t.patch("/api/v1/instruments/AGH", Role::Admin, json!({"code": "AGH2"}))
        .await
        .assert_problem(422, "validation_failed");
    // restarting keeps the admin's edit (the built-in catalogue never overwrites)
    t.state
        .store
        .read(passgenau_store::instruments::ensure_builtin)
        .unwrap();
    let again = t.get("/api/v1/instruments/AGH", Role::Specialist).await;
    assert_eq!(again.body["name"], "Arbeitsgelegenheiten (AGH-MAE)");
}

async fn providers_crud(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let r = t
        .post(
            "/api/v1/providers",
            Role::Admin,
            json!({"name": "Job AG", "azav_certified_until": "2027-06-30", "contact_email": "kontakt@jobag.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    t.post(
        "/api/v1/providers",
        Role::Admin,
        json!({"name": "X", "contact_email": "no-at-sign"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/providers",
        Role::Admin,
        json!({"name": "X", "azav_certified_until": "2027-02-30"}),
    )
    .await
    .assert_problem(400, "invalid_field");
    let g = t.get(&format!("/api/v1/providers/{id}"), Role::Provider).await;
    assert_eq!(g.body["azav_certified_until"], "2027-06-30");
    let p = t
        .patch(
            &format!("/api/v1/providers/{id}"),
            Role::Admin,
            json!({"azav_certified_until": null}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.body["azav_certified_until"], json!(null));
    let l = t.get("/api/v1/providers?name=Job%20AG", Role::Reporting).await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
}

async fn audit_records_every_access(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = t.create_customer("K-300").await;
    let cid = c["id"].as_str().unwrap();
    t.get(&format!("/api/v1/customers/{cid}"), Role::Specialist).await;
    t.patch(
        &format!("/api/v1/customers/{cid}"),
        Role::Admin,
        json!({"health_restrictions": true}),
    )
    .await;
    t.get("/api/v1/customers", Role::Specialist).await;
    // a refused read is not a read
    t.get(&format!("/api/v1/customers/{cid}"), Role::Provider).await;

    let a = t
        .get(&format!("/api/v1/audit?customer_id={cid}"), Role::Admin)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let items = a.body["items"].as_array().unwrap();
    let seen: Vec<(String, String, String)> = items
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["route"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "create".into(),
                "specialist-user".into(),
                "POST /api/v1/customers".into()
            ),
            (
                "read".into(),
                "specialist-user".into(),
                "GET /api/v1/customers/{id}".into()
            ),
            (
                "update".into(),
                "admin-user".into(),
                "PATCH /api/v1/customers/{id}".into()
            ),
            (
                "read".into(),
                "specialist-user".into(),
                "GET /api/v1/customers".into()
            ),
        ]
    );
    assert_eq!(items[2]["role"], "admin");
    assert_eq!(
        items[2]["fields"], "health_restrictions",
        "which fields changed, never their values"
    );
    assert!(items[1].get("fields").is_none());
    assert!(items[0]["at"].as_str().unwrap().ends_with('Z'));
    let by_actor = t.get("/api/v1/audit?actor=admin-user", Role::Admin).await;
    assert_eq!(by_actor.body["items"].as_array().unwrap().len(), 1);
    let future = t
        .get("/api/v1/audit?since=2999-01-01T00:00:00Z", Role::Admin)
        .await;
    assert_eq!(future.body["items"], json!([]));
    t.get("/api/v1/audit?since=yesterday", Role::Admin)
        .await
        .assert_problem(400, "invalid_query");
}

/// Reads share one audit transaction when they come together (group commit): every read
/// must still leave its own entry, also when many threads append at once.
async fn concurrent_reads_are_each_audited(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let c = t.create_customer("K-301").await;
    let cid = c["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/customers/{cid}");
    let reads = (0..24).map(|_| t.get(&path, Role::Specialist));
    for r in futures_util::future::join_all(reads).await {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let before = t.count("audit_log");
    let store = t.state.store.clone();
    let id: passgenau_domain::ids::CustomerId = cid.parse().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                for k in 0..25 {
                    let entry = common::read_entry(format!("thread-{i}"), format!("test {k}"), id);
                    store.audit_reads(vec![entry]).wait().unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(t.count("audit_log") - before, 8 * 25);
    let a = t
        .get(&format!("/api/v1/audit?customer_id={cid}&limit=500"), Role::Admin)
        .await;
    let items = a.body["items"].as_array().unwrap();
    let http_reads = items
        .iter()
        .filter(|e| e["route"] == "GET /api/v1/customers/{id}")
        .count();
    assert_eq!(http_reads, 24, "one entry per read");
}

async fn pagination_walks_every_record(b: Backend) {
    let t = TestApp::new(b).unwrap();
    for i in 0..7 {
        t.create_customer(&format!("K-P{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/customers?limit=3&cursor={c}"),
            None => "/api/v1/customers?limit=3".to_string(),
        };
        let page = t.get(&path, Role::Specialist).await;
        for c in page.body["items"].as_array().unwrap() {
            seen.push(c["customer_number"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("K-P{i}")).collect::<Vec<_>>());
    t.get("/api/v1/customers?limit=501", Role::Specialist)
        .await
        .assert_problem(400, "invalid_query");
}

async fn migrations_revert_cleanly(b: Backend) {
    let t = TestApp::new(b).unwrap();
    t.state
        .store
        .read(|conn| {
            passgenau_store::connection::revert_all_migrations(conn).unwrap();
            // only diesel's own bookkeeping table remains
            let tables = table_names(conn);
            assert_eq!(
                tables,
                vec!["__diesel_schema_migrations".to_string()],
                "{tables:?}"
            );
            passgenau_store::connection::run_migrations(conn).unwrap();
            assert!(table_names(conn).contains(&"customers".to_string()));
            Ok::<_, passgenau_store::StoreError>(())
        })
        .unwrap();
}

fn table_names(conn: &mut passgenau_store::DbConnection) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let sql = match conn {
        passgenau_store::DbConnection::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        passgenau_store::DbConnection::Postgresql(_) => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
        }
    };
    diesel::sql_query(sql)
        .load::<T>(conn)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect()
}

async fn readyz_reports_database(b: Backend) {
    let mut t = TestApp::new(b).unwrap();
    let r = t.req(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        t.req(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    if b == Backend::Postgres {
        // the database disappears: readiness fails with 503, liveness stays
        let token = t.token(Role::Specialist);
        t.db.drop_now();
        let r = t.req(Method::GET, "/readyz", None, None).await;
        r.assert_problem(503, "database_unavailable");
        assert_eq!(
            t.req(Method::GET, "/healthz", None, None).await.status,
            StatusCode::OK
        );
        let r = t.bearer(Method::GET, "/api/v1/customers", &token, None).await;
        r.assert_problem(503, "database_unavailable");
    }
}
