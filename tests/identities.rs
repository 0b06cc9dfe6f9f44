//! Staff and machine identities (issue #17): accounts over their life, tokens bound to
//! what the database says and ended across instances within a second, API keys, single
//! sign-on, and the login throttle an admin can lift.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::http::{request, Server};
use common::{Backend, TestApp, TestDb, TEST_SECRET};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    accounts_over_their_life,
    tokens_are_bound_to_the_database,
    api_keys_act_with_their_role_only,
    an_admin_lifts_a_lockout_and_correct_logins_are_limited,
    forwarded_addresses_count_only_from_trusted_proxies,
    single_sign_on_tokens_are_checked,
    revocation_holds_across_instances,
    parallel_changes_keep_an_admin_and_count_every_guess
);

const PASSWORD: &str = "Rheinufer-2026";

async fn login(t: &TestApp, username: &str, password: &str) -> common::Reply {
    t.req(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": username, "password": password})),
    )
    .await
}

async fn token_of(t: &TestApp, username: &str, password: &str) -> String {
    let r = login(t, username, password).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_string()
}

async fn me(t: &TestApp, token: &str) -> StatusCode {
    t.bearer(Method::GET, "/api/v1/me", token, None).await.status
}

async fn new_user(t: &TestApp, username: &str, role: &str) -> String {
    let r = t
        .post(
            "/api/v1/users",
            Role::Admin,
            json!({"username": username, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn accounts_over_their_life(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let id = new_user(&t, "anna.schmitz", "specialist").await;

    // listed and read, with status, source and last login
    let token = token_of(&t, "anna.schmitz", PASSWORD).await;
    let one = t.get(&format!("/api/v1/users/{id}"), Role::Admin).await;
    assert_eq!(one.body["status"], "active");
    assert_eq!(one.body["source"], "local");
    assert!(one.body["last_login_at"].is_string(), "{}", one.body);
    let list = t
        .get("/api/v1/users?role=specialist&status=active", Role::Admin)
        .await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"anna.schmitz") && !names.contains(&"admin-user"),
        "{names:?}"
    );
    t.get("/api/v1/users?colour=red", Role::Admin)
        .await
        .assert_problem(400, "invalid_query");
    t.get("/api/v1/users", Role::Specialist)
        .await
        .assert_problem(403, "forbidden");
    t.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), Role::Admin)
        .await
        .assert_problem(404, "not_found");

    // a role change ends the token; a new login carries the new role
    let r = t
        .patch(
            &format!("/api/v1/users/{id}"),
            Role::Admin,
            json!({"role": "reporting"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(me(&t, &token).await, StatusCode::UNAUTHORIZED);
    let token = token_of(&t, "anna.schmitz", PASSWORD).await;
    let who = t.bearer(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(who.body["role"], "reporting");

    // a role and provider that do not fit change nothing
    t.patch(
        &format!("/api/v1/users/{id}"),
        Role::Admin,
        json!({"role": "provider"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.patch(
        &format!("/api/v1/users/{id}"),
        Role::Admin,
        json!({"status": "gone"}),
    )
    .await
    .assert_problem(400, "invalid_field");
    assert_eq!(me(&t, &token).await, StatusCode::OK);

    // disabled: the token ends and the password no longer logs in, alike to a wrong one
    let r = t
        .patch(
            &format!("/api/v1/users/{id}"),
            Role::Admin,
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(r.body["status"], "disabled");
    assert_eq!(me(&t, &token).await, StatusCode::UNAUTHORIZED);
    login(&t, "anna.schmitz", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    t.patch(
        &format!("/api/v1/users/{id}"),
        Role::Admin,
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(
        me(&t, &token).await,
        StatusCode::UNAUTHORIZED,
        "enabling revives no old token"
    );

    // an admin reset ends the tokens; the new password works
    let token = token_of(&t, "anna.schmitz", PASSWORD).await;
    let r = t
        .post(
            &format!("/api/v1/users/{id}/password"),
            Role::Admin,
            json!({"new_password": "Königsallee-42"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(me(&t, &token).await, StatusCode::UNAUTHORIZED);
    t.post(
        &format!("/api/v1/users/{id}/password"),
        Role::Admin,
        json!({"new_password": "aaaaaaaaaaaa"}),
    )
    .await
    .assert_problem(422, "validation_failed");

    // my own change: the current password proves it; this token stays, the other ends
    let here = token_of(&t, "anna.schmitz", "Königsallee-42").await;
    let elsewhere = token_of(&t, "anna.schmitz", "Königsallee-42").await;
    let wrong = t
        .bearer(
            Method::POST,
            "/api/v1/me/password",
            &here,
            Some(json!({"current_password": "nope-nope-nope", "new_password": "Benrather-Schloss-7"})),
        )
        .await;
    wrong.assert_problem(403, "invalid_credentials");
    let ok = t
        .bearer(
            Method::POST,
            "/api/v1/me/password",
            &here,
            Some(json!({"current_password": "Königsallee-42", "new_password": "Benrather-Schloss-7"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert_eq!(me(&t, &here).await, StatusCode::OK);
    assert_eq!(me(&t, &elsewhere).await, StatusCode::UNAUTHORIZED);

    // logout ends the presented token only
    let other = token_of(&t, "anna.schmitz", "Benrather-Schloss-7").await;
    let out = t.bearer(Method::POST, "/api/v1/auth/logout", &here, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(me(&t, &here).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&t, &other).await, StatusCode::OK);

    // an admin neither disables nor demotes themselves, and the last admin stays
    let admin_id = common::ensure_user(&t.state.store, "admin-user", Role::Admin, None).id;
    t.patch(
        &format!("/api/v1/users/{admin_id}"),
        Role::Admin,
        json!({"status": "disabled"}),
    )
    .await
    .assert_problem(409, "own_account");

    // every change is audited with the account and the fields, never a secret
    let audit = t
        .get(&format!("/api/v1/audit?account_id={id}&limit=100"), Role::Admin)
        .await;
    let entries = audit.body["items"].as_array().unwrap();
    let fields: Vec<&str> = entries.iter().filter_map(|e| e["fields"].as_str()).collect();
    for expected in ["role", "status", "password"] {
        assert!(
            fields.iter().any(|f| f.split(',').any(|x| x == expected)),
            "{fields:?}"
        );
    }
    assert!(entries
        .iter()
        .all(|e| e["actor"] == "admin-user" || e["actor"] == "anna.schmitz"));
    let text = audit.body.to_string();
    for secret in [PASSWORD, "Königsallee-42", "Benrather-Schloss-7", here.as_str()] {
        assert!(!text.contains(secret), "a secret in the audit log");
    }
}

fn sign_hs256(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn tokens_are_bound_to_the_database(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let now = chrono::Utc::now().timestamp();
    let spec = common::ensure_user(&t.state.store, "specialist-user", Role::Specialist, None);
    let claims = |sub: String, role: &str, iat: i64, exp: i64| {
        json!({"sub": sub, "role": role, "ver": 0, "jti": uuid::Uuid::new_v4().to_string(),
               "iss": "passgenau", "iat": iat, "exp": exp})
    };
    // the right secret and the right shape, as a control
    let good = sign_hs256(claims(spec.id.to_string(), "specialist", now, now + 600));
    assert_eq!(me(&t, &good).await, StatusCode::OK);
    // an admin token for an account that never existed
    let nobody = sign_hs256(claims(uuid::Uuid::now_v7().to_string(), "admin", now, now + 600));
    t.bearer(Method::GET, "/api/v1/users", &nobody, None)
        .await
        .assert_problem(401, "unauthorized");
    // a role the account does not have
    let promoted = sign_hs256(claims(spec.id.to_string(), "admin", now, now + 600));
    assert_eq!(me(&t, &promoted).await, StatusCode::UNAUTHORIZED);
    // an iat in the future, and an exp beyond the lifetime
    let future = sign_hs256(claims(spec.id.to_string(), "specialist", now + 3600, now + 7200));
    assert_eq!(me(&t, &future).await, StatusCode::UNAUTHORIZED);
    let ttl = t.state.tokens.ttl_seconds;
    let long = sign_hs256(claims(
        spec.id.to_string(),
        "specialist",
        now - ttl - 60,
        now + 86_400 * 365,
    ));
    let r = t.bearer(Method::GET, "/api/v1/me", &long, None).await;
    r.assert_problem(401, "unauthorized");
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.body
    );
    // an account deleted under its token
    let gone = common::ensure_user(&t.state.store, "leaver", Role::Specialist, None);
    let token = common::token_for(&t.state, "leaver", Role::Specialist, None);
    assert_eq!(me(&t, &token).await, StatusCode::OK);
    t.state
        .store
        .write(|conn| {
            Ok::<_, passgenau_store::StoreError>(diesel::RunQueryDsl::execute(
                diesel::sql_query(format!("DELETE FROM users WHERE id = '{}'", gone.id)),
                conn,
            )?)
        })
        .unwrap();
    t.state.sessions.forget_user(gone.id);
    assert_eq!(me(&t, &token).await, StatusCode::UNAUTHORIZED);
}

async fn api_keys_act_with_their_role_only(b: Backend) {
    let t = TestApp::new(b).unwrap();
    // people log in: a key is provider or reporting
    t.post(
        "/api/v1/api-keys",
        Role::Admin,
        json!({"name": "x", "role": "admin"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/api-keys",
        Role::Admin,
        json!({"name": "x", "role": "provider"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/api-keys",
        Role::Admin,
        json!({"name": "x", "role": "reporting", "expires_on": "2001-01-01"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        "/api/v1/api-keys",
        Role::Specialist,
        json!({"name": "x", "role": "reporting"}),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(t.count("api_keys"), 0);

    let made = t
        .post(
            "/api/v1/api-keys",
            Role::Admin,
            json!({"name": "Controlling-Export", "role": "reporting", "expires_on": "2099-12-31"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let key = made.body["key"].as_str().unwrap().to_string();
    let id = made.body["id"].as_str().unwrap().to_string();
    // the reporting job reads reports, nothing personal, and manages nobody
    let r = t
        .bearer(Method::GET, "/api/v1/reports/utilisation?year=2026", &key, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for path in ["/api/v1/customers", "/api/v1/users", "/api/v1/api-keys"] {
        t.bearer(Method::GET, path, &key, None)
            .await
            .assert_problem(403, "forbidden");
    }
    t.bearer(Method::POST, "/api/v1/auth/logout", &key, None)
        .await
        .assert_problem(403, "forbidden");
    let who = t.bearer(Method::GET, "/api/v1/me", &key, None).await;
    assert_eq!(who.body["role"], "reporting");
    // listed with its last use, never with the key; stored only as a hash
    let list = t.get("/api/v1/api-keys", Role::Admin).await;
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert!(list.body["items"][0]["last_used_at"].is_string(), "{}", list.body);
    assert!(!list.body.to_string().contains(&key));
    let stored: Vec<String> = t
        .state
        .store
        .read(|conn| {
            use diesel::prelude::*;
            Ok::<_, passgenau_store::StoreError>(
                passgenau_store::schema::api_keys::table
                    .select(passgenau_store::schema::api_keys::key_hash)
                    .load::<String>(conn)?,
            )
        })
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], key);
    // revoked at once
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            Some(Role::Admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(me(&t, &key).await, StatusCode::UNAUTHORIZED);
    let again = t
        .req(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            Some(Role::Admin),
            None,
        )
        .await;
    again.assert_problem(404, "not_found");
    // wrong keys are throttled like logins
    let mut statuses = Vec::new();
    for i in 0..7 {
        let wrong = format!("pgk_{:064x}", i);
        statuses.push(me(&t, &wrong).await.as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(statuses[6], 429, "{statuses:?}");
}

async fn an_admin_lifts_a_lockout_and_correct_logins_are_limited(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let id = new_user(&t, "bernd.koch", "specialist").await;
    for _ in 0..5 {
        login(&t, "bernd.koch", "wrong-password-1")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    login(&t, "bernd.koch", PASSWORD)
        .await
        .assert_problem(429, "too_many_attempts");
    // the same for an unknown user: same answer, and the argon2 check runs either way
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/users/{id}/lockout"),
            Some(Role::Specialist),
            None,
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/users/{id}/lockout"),
            Some(Role::Admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // usernames ignore case at login as they do when made
    let mut last = StatusCode::OK;
    for i in 0..12 {
        let name = if i % 2 == 0 { "bernd.koch" } else { "Bernd.Koch" };
        last = login(&t, name, PASSWORD).await.status;
        if i < 10 {
            assert_eq!(last, StatusCode::OK, "login {i}");
        }
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "more than 10 correct logins a minute"
    );
}

async fn forwarded_addresses_count_only_from_trusted_proxies(b: Backend) {
    let mut t = TestApp::new(b).unwrap();
    t.state.trusted_proxies = Arc::new(passgenau_server::net::parse_trusted_proxies("10.0.0.0/8").unwrap());
    let attempt = |peer: &str, xff: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr(format!("{peer}:5000").parse().unwrap())
            .insert_header(("x-forwarded-for", xff.to_string()))
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"username": "nobody-here", "password": "wrong-password-2"}).to_string())
    };
    t.call(attempt("10.1.2.3", "198.51.100.7")).await;
    t.call(attempt("203.0.113.9", "198.51.100.8")).await;
    let logins = t
        .get("/api/v1/audit/logins?username=nobody-here", Role::Admin)
        .await;
    let mut addresses: Vec<&str> = logins.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    addresses.sort();
    assert_eq!(addresses, vec!["198.51.100.7", "203.0.113.9"]);
}

/// An ES256 key pair made here: its JWK set and its signing key.
fn es256_pair(kid: &str) -> (Value, jsonwebtoken::EncodingKey) {
    use base64::Engine;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::EncodePrivateKey;
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[0] &= 0x7f; // below the group order
    let secret = p256::SecretKey::from_slice(&bytes).unwrap();
    let pem = secret.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                     "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
    (
        jwk,
        jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    )
}

async fn single_sign_on_tokens_are_checked(b: Backend) {
    let mut t = TestApp::new(b).unwrap();
    let (jwk, key) = es256_pair("k1");
    let (_, stranger) = es256_pair("k1");
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [jwk]}).to_string()).unwrap();
    let settings = passgenau_server::oidc::OidcSettings {
        issuer: "https://login.jobcenter.example/realms/jc".into(),
        audience: "passgenau".into(),
        jwks: jwks.to_string_lossy().into_owned(),
        role_claim: "roles".into(),
        provider_claim: "provider_id".into(),
        username_claim: "preferred_username".into(),
        leeway_seconds: 30,
    };
    let oidc = passgenau_server::oidc::Oidc::new(settings, t.state.tokens.ttl_seconds).unwrap();
    t.state.oidc = Some(Arc::new(oidc));
    let now = chrono::Utc::now().timestamp();
    let claims = |over: Value| {
        let mut c = json!({"iss": "https://login.jobcenter.example/realms/jc", "aud": "passgenau",
            "sub": "f3c1-77", "preferred_username": "carla.sso", "roles": ["offline_access", "specialist"],
            "iat": now, "nbf": now, "exp": now + 300});
        for (k, v) in over.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let sign = |c: Value, k: &jsonwebtoken::EncodingKey| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("k1".into());
        jsonwebtoken::encode(&h, &c, k).unwrap()
    };
    let good = sign(claims(json!({})), &key);
    let who = t.bearer(Method::GET, "/api/v1/me", &good, None).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.body);
    assert_eq!(who.body["role"], "specialist");
    assert_eq!(who.body["username"], "carla.sso");
    // recorded on first use, and the issuer's role works like a local one
    let users = t.get("/api/v1/users?role=specialist", Role::Admin).await;
    let carla = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "carla.sso")
        .expect("recorded")
        .clone();
    assert_eq!(carla["source"], "oidc");
    assert_eq!(
        t.bearer(Method::GET, "/api/v1/customers", &good, None)
            .await
            .status,
        StatusCode::OK
    );
    // refused: another audience, expired, not yet valid, another key, no role, alg none
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let refused = [
        sign(claims(json!({"aud": "another-app"})), &key),
        sign(
            claims(json!({"iat": now - 900, "nbf": now - 900, "exp": now - 600})),
            &key,
        ),
        sign(claims(json!({"nbf": now + 600, "exp": now + 900})), &key),
        sign(claims(json!({"iss": "https://evil.example"})), &key),
        sign(claims(json!({})), &stranger),
        sign(claims(json!({"roles": ["offline_access"]})), &key),
        sign(claims(json!({"roles": ["admin", "specialist"]})), &key),
        format!(
            "{}.{}.",
            b64(json!({"alg": "none", "typ": "JWT"})),
            b64(claims(json!({})))
        ),
    ];
    for (i, token) in refused.iter().enumerate() {
        let r = t.bearer(Method::GET, "/api/v1/me", token, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "case {i}: {}", r.body);
    }
    // a single-sign-on account has no password here, and an admin can disable it
    let cid = carla["id"].as_str().unwrap();
    t.patch(
        &format!("/api/v1/users/{cid}"),
        Role::Admin,
        json!({"role": "admin"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    t.post(
        &format!("/api/v1/users/{cid}/password"),
        Role::Admin,
        json!({"new_password": "Rhein-Ruhr-Hafen-1"}),
    )
    .await
    .assert_problem(409, "external_identity");
    let r = t
        .patch(
            &format!("/api/v1/users/{cid}"),
            Role::Admin,
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(me(&t, &good).await, StatusCode::UNAUTHORIZED);
    // local passwords still work unless turned off
    let _ = new_user(&t, "dora.lokal", "specialist").await;
    assert_eq!(login(&t, "dora.lokal", PASSWORD).await.status, StatusCode::OK);
    t.state.local_login = false;
    login(&t, "dora.lokal", PASSWORD)
        .await
        .assert_problem(403, "forbidden");
}

/// Polls `GET /me` on `addr` until it is 401; how long that took.
fn until_refused(addr: &str, token: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (status, _) = request(addr, "GET", "/api/v1/me", Some(token), None);
        if status == 401 {
            return start.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "still accepted after 3 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn login_at(addr: &str, username: &str, password: &str) -> String {
    let (status, body) = request(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": username, "password": password})),
    );
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn revocation_holds_across_instances(b: Backend) {
    let db = TestDb::new(b).unwrap();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || revocation_scenario(&url))
        .await
        .unwrap();
    drop(db);
}

fn revocation_scenario(url: &str) {
    let a = Server::start(url, TEST_SECRET);
    let b = Server::start(url, TEST_SECRET);
    let tokens = common::StoredTokens::new(url);
    let admin = tokens.issue("admin", Role::Admin, None).unwrap();
    let (status, user) = request(
        &a.addr,
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some(&json!({"username": "emil.weiss", "password": PASSWORD, "role": "specialist"})),
    );
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_string();
    let limit = Duration::from_secs(1);

    // logout on A: the token is refused on B within a second
    let t = login_at(&b.addr, "emil.weiss", PASSWORD);
    assert_eq!(request(&b.addr, "GET", "/api/v1/me", Some(&t), None).0, 200);
    assert_eq!(
        request(&a.addr, "POST", "/api/v1/auth/logout", Some(&t), None).0,
        204
    );
    assert_eq!(
        request(&a.addr, "GET", "/api/v1/me", Some(&t), None).0,
        401,
        "at once where it was done"
    );
    let took = until_refused(&b.addr, &t);
    assert!(took < limit, "logout took {took:?} to reach B");

    // a password change on A ends the token B serves
    let kept = login_at(&a.addr, "emil.weiss", PASSWORD);
    let t = login_at(&b.addr, "emil.weiss", PASSWORD);
    assert_eq!(request(&b.addr, "GET", "/api/v1/me", Some(&t), None).0, 200);
    let body = json!({"current_password": PASSWORD, "new_password": "Oberkassel-Brücke-3"});
    assert_eq!(
        request(&a.addr, "POST", "/api/v1/me/password", Some(&kept), Some(&body)).0,
        204
    );
    let took = until_refused(&b.addr, &t);
    assert!(took < limit, "password change took {took:?}");
    assert_eq!(request(&b.addr, "GET", "/api/v1/me", Some(&kept), None).0, 200);

    // a role change on A
    let t = login_at(&b.addr, "emil.weiss", "Oberkassel-Brücke-3");
    assert_eq!(request(&b.addr, "GET", "/api/v1/me", Some(&t), None).0, 200);
    let patch = |body: Value| {
        request(
            &a.addr,
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(&body),
        )
    };
    assert_eq!(patch(json!({"role": "reporting"})).0, 200);
    let took = until_refused(&b.addr, &t);
    assert!(took < limit, "role change took {took:?}");

    // disabling on A
    let t = login_at(&b.addr, "emil.weiss", "Oberkassel-Brücke-3");
    assert_eq!(request(&b.addr, "GET", "/api/v1/me", Some(&t), None).0, 200);
    assert_eq!(patch(json!({"status": "disabled"})).0, 200);
    let took = until_refused(&b.addr, &t);
    assert!(took < limit, "disabling took {took:?}");
    let (status, _) = request(
        &b.addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "emil.weiss", "password": "Oberkassel-Brücke-3"})),
    );
    assert_eq!(status, 401);
}

async fn parallel_changes_keep_an_admin_and_count_every_guess(b: Backend) {
    let t = TestApp::new(b).unwrap();
    // two admins demote each other at the same moment: one of them stays an admin
    let one = common::ensure_user(&t.state.store, "admin-user", Role::Admin, None);
    let two = common::ensure_user(&t.state.store, "admin-two", Role::Admin, None);
    let t1 = t.token(Role::Admin);
    let t2 = common::token_for(&t.state, "admin-two", Role::Admin, None);
    let demote = |token: String, id: passgenau_domain::ids::UserId| {
        let t = &t;
        async move {
            t.bearer(
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                &token,
                Some(json!({"role": "specialist"})),
            )
            .await
        }
    };
    let (a, c) = futures_util::join!(demote(t1, two.id), demote(t2, one.id));
    let ok = [&a, &c].iter().filter(|r| r.status == StatusCode::OK).count();
    assert!(ok <= 1, "both demoted: {} / {}", a.body, c.body);
    let admins = t.get("/api/v1/users?role=admin&status=active", Role::Admin).await;
    let left = [&a, &c].iter().any(|r| r.status == StatusCode::OK);
    let count = if left {
        // the one who was demoted lost the token used for this list: ask as the other
        let survivor = if a.status == StatusCode::OK {
            "admin-user"
        } else {
            "admin-two"
        };
        let token = common::token_for(&t.state, survivor, Role::Admin, None);
        t.bearer(
            Method::GET,
            "/api/v1/users?role=admin&status=active",
            &token,
            None,
        )
        .await
        .body["items"]
            .as_array()
            .unwrap()
            .len()
    } else {
        admins.body["items"].as_array().unwrap().len()
    };
    assert!(count >= 1, "no admin left");

    // ten parallel guesses at one password: five are judged, the rest refused
    let _ = new_user_as(&t, "frieda.nord").await;
    let guesses = (0..10).map(|i| {
        let t = &t;
        async move {
            login(t, "frieda.nord", &format!("wrong-guess-{i:02}"))
                .await
                .status
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let judged = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((judged, refused), (5, 5), "{statuses:?}");
}

/// [`new_user`] made by whichever admin is still one.
async fn new_user_as(t: &TestApp, username: &str) -> String {
    let ids = t
        .state
        .store
        .read(|conn| {
            passgenau_store::users::list(
                conn,
                &passgenau_store::users::UserFilter {
                    role: Some(Role::Admin),
                    ..Default::default()
                },
                &passgenau_store::Page {
                    limit: 10,
                    after: None,
                },
            )
        })
        .unwrap();
    let admin = &ids.items[0];
    let token = common::token_for(&t.state, &admin.username, Role::Admin, None);
    let r = t
        .bearer(
            Method::POST,
            "/api/v1/users",
            &token,
            Some(json!({"username": username, "password": PASSWORD, "role": "specialist"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}
