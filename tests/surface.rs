//! The API's outer surface: the committed OpenAPI document, Swagger UI, CORS, the CLI.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::{Backend, TestApp};
use passgenau_domain::user::Role;

const SPEC_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

/// `openapi/openapi.json` is the generated document; `UPDATE_OPENAPI=1` rewrites it.
#[test]
fn committed_openapi_matches_the_code() {
    let generated = passgenau_server::openapi::spec_json();
    if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(SPEC_FILE, generated).unwrap();
    }
    let committed = std::fs::read_to_string(SPEC_FILE).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the handlers' spec: run `UPDATE_OPENAPI=1 cargo test -p passgenau-server --test surface` and commit"
    );
}

/// The router and the document are made from one registration: every documented
/// operation is routed (no 404 or 405 for it), and a method the document does not give a
/// path is 405 with the document's methods in `Allow`.
#[actix_web::test]
async fn every_documented_operation_is_routed() {
    let t = TestApp::new(Backend::Sqlite).unwrap();
    let spec: serde_json::Value = serde_json::from_str(passgenau_server::openapi::spec_json()).unwrap();
    let mut operations = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let path: String = template
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let methods: Vec<&String> = item.as_object().unwrap().keys().collect();
        for method in &methods {
            let m: Method = method.to_uppercase().parse().unwrap();
            let r = t.req(m.clone(), &path, None, None).await;
            assert!(
                r.status != StatusCode::METHOD_NOT_ALLOWED && r.body["detail"] != "resource not found",
                "{m} {template} is documented but not routed: {} {}",
                r.status,
                r.body
            );
            operations += 1;
        }
        let unused = ["GET", "POST", "PUT", "PATCH", "DELETE"]
            .into_iter()
            .find(|m| !methods.iter().any(|d| d.eq_ignore_ascii_case(m)));
        if let Some(unused) = unused {
            let r = t.req(unused.parse().unwrap(), &path, None, None).await;
            assert_eq!(r.status.as_u16(), 405, "{unused} {template}");
            let mut documented: Vec<String> = methods.iter().map(|m| m.to_uppercase()).collect();
            let mut allowed: Vec<String> = r
                .header("allow")
                .unwrap()
                .split(", ")
                .map(str::to_string)
                .collect();
            documented.sort();
            allowed.sort();
            assert_eq!(allowed, documented, "Allow of {template}");
        }
    }
    assert!(operations > 50, "{operations} operations");
}

#[actix_web::test]
async fn served_spec_and_docs() {
    let t = TestApp::new(Backend::Sqlite).unwrap();
    let r = t.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(r.raw.clone()).unwrap(),
        passgenau_server::openapi::spec_json()
    );
    assert_eq!(r.body["openapi"], "3.1.0");
    let docs = t.req(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.header("content-type").unwrap().starts_with("text/html"));
    let redirect = t.req(Method::GET, "/docs", None, None).await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    // the UI's assets are served from the binary (vendored), not from the internet
    let init = t
        .req(Method::GET, "/docs/swagger-initializer.js", None, None)
        .await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&init.raw).contains("/openapi.json"));
    let bundle = t.req(Method::GET, "/docs/swagger-ui-bundle.js", None, None).await;
    assert_eq!(bundle.status, StatusCode::OK);
}

#[actix_web::test]
async fn cors_admits_only_configured_origins() {
    let t = TestApp::new(Backend::Sqlite).unwrap();
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/api/v1/customers")
            .insert_header(("origin", origin.to_string()))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header((
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            ))
    };
    let ok = t.call(preflight("https://frontend.example")).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://frontend.example")
    );
    let evil = t.call(preflight("https://evil.example")).await;
    assert_ne!(
        evil.header("access-control-allow-origin"),
        Some("https://evil.example")
    );
    assert!(evil.header("access-control-allow-origin").is_none());
    let get = t
        .call(
            TestRequest::get()
                .uri("/api/v1/instruments")
                .insert_header(("origin", "https://frontend.example"))
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Reporting)))),
        )
        .await;
    assert_eq!(
        get.header("access-control-allow-origin"),
        Some("https://frontend.example")
    );
}

/// `passgenau user add` reads the password from stdin and stores a hash that logs in.
#[actix_web::test]
async fn cli_user_add_then_login() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let t = TestApp::new(Backend::Sqlite).unwrap();
    let bin = env!("CARGO_BIN_EXE_passgenau");
    let run = |args: &[&str], password: &str| {
        let mut child = Command::new(bin)
            .args(args)
            .env("DATABASE_URL", &t.db.url)
            .env("PASSGENAU_JWT_SECRET", common::TEST_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(
        &["user", "add", "--username", "reporter", "--role", "reporting"],
        "a long password\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pid = t.provider_id.to_string();
    let out = run(
        &[
            "user",
            "add",
            "--username",
            "traeger",
            "--role",
            "provider",
            "--provider-id",
            &pid,
        ],
        "another long one",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // refused: short password, unknown role, provider without provider id
    assert!(
        !run(&["user", "add", "--username", "x1x", "--role", "admin"], "short")
            .status
            .success()
    );
    assert!(!run(
        &["user", "add", "--username", "x2x", "--role", "boss"],
        "a long password"
    )
    .status
    .success());
    assert!(!run(
        &["user", "add", "--username", "x3x", "--role", "provider"],
        "a long password"
    )
    .status
    .success());

    let stored: String = t
        .state
        .store
        .read(|conn| {
            Ok::<_, passgenau_store::StoreError>(
                passgenau_store::users::by_username(conn, "reporter")?
                    .unwrap()
                    .password_hash,
            )
        })
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$"),
        "argon2id hash, not the password"
    );
    let login = t
        .req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"username": "traeger", "password": "another long one"})),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body["role"], "provider");
    // `user reset-password`: the new password logs in, the old one no longer; a short one
    // and an unknown user are refused
    let out = run(
        &["user", "reset-password", "--username", "traeger"],
        "a brand new password\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let login = |password: &'static str| {
        t.req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"username": "traeger", "password": password})),
        )
    };
    assert_eq!(login("a brand new password").await.status, StatusCode::OK);
    assert_eq!(login("another long one").await.status, StatusCode::UNAUTHORIZED);
    assert!(
        !run(&["user", "reset-password", "--username", "traeger"], "short")
            .status
            .success()
    );
    assert!(!run(
        &["user", "reset-password", "--username", "nobody-here"],
        "a long password"
    )
    .status
    .success());
}

/// Every answer says `nosniff`; API answers are not cached (they may hold social data or a
/// token) unless the route says so; `/docs` runs under a content security policy.
#[actix_web::test]
async fn security_headers() {
    let t = TestApp::new(Backend::Sqlite).unwrap();
    let customers = t.get("/api/v1/customers", Role::Specialist).await;
    assert_eq!(customers.header("cache-control"), Some("no-store"));
    assert_eq!(customers.header("x-content-type-options"), Some("nosniff"));
    let refused = t.get("/api/v1/customers?colour=x", Role::Specialist).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    let login = t
        .req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"username": "nobody", "password": "wrong wrong"})),
        )
        .await;
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let availability = t.get("/api/v1/availability", Role::Provider).await;
    assert_eq!(availability.header("cache-control"), Some("no-cache"));
    let docs = t.req(Method::GET, "/docs/", None, None).await;
    assert_eq!(
        docs.header("content-security-policy"),
        Some(passgenau_server::router::DOCS_CSP)
    );
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
    let health = t.req(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.header("x-content-type-options"), Some("nosniff"));
    assert!(health.header("cache-control").is_none());
}

/// The real binary with `PASSGENAU_LOG_FORMAT=json`: every request is one JSON log line
/// with its `request_id`, method, route pattern, status and `duration_ms`, and none of 200
/// customers' last names (created, read, listed and searched for) appears in the log
/// (§ 35 SGB I: social data stays out of logs).
#[test]
fn json_logs_carry_the_request_and_name_nobody() {
    use common::http::{free_port, request};
    use std::time::{Duration, Instant};
    let db = common::TestDb::new(Backend::Sqlite).unwrap();
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_passgenau"))
        .args(["serve", "--bind", &addr, "--workers", "2"])
        .env("DATABASE_URL", &db.url)
        .env("PASSGENAU_JWT_SECRET", common::TEST_SECRET)
        .env("PASSGENAU_LOG", "info")
        .env("PASSGENAU_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&addr).is_err()
        || request(&addr, "GET", "/healthz", None, None).0 != 200
    {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let tokens = common::StoredTokens::new(&db.url);
    let ifk = tokens.issue("ifk", Role::Specialist, None).unwrap();
    let names: Vec<String> = (0..200).map(|i| format!("Qzname{i:03}x")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut body = TestApp::customer_body(&format!("K-{i:04}"));
        body["last_name"] = serde_json::Value::String(name.clone());
        let (status, created) = request(&addr, "POST", "/api/v1/customers", Some(&ifk), Some(&body));
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        let (status, _) = request(&addr, "GET", &format!("/api/v1/customers/{id}"), Some(&ifk), None);
        assert_eq!(status, 200);
        if i % 20 == 0 {
            let (status, _) = request(
                &addr,
                "GET",
                &format!("/api/v1/customers?last_name={name}"),
                Some(&ifk),
                None,
            );
            assert_eq!(status, 200);
        }
    }
    // a refused body names its field, never the value sent
    let mut bad = TestApp::customer_body("K-bad");
    bad["last_name"] = serde_json::Value::String(names[0].clone());
    bad["date_of_birth"] = serde_json::Value::String("2999-01-01".into());
    assert_eq!(
        request(&addr, "POST", "/api/v1/customers", Some(&ifk), Some(&bad)).0,
        422
    );
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "request")
        .collect();
    assert!(requests.len() >= 400, "{} request lines", requests.len());
    for r in &requests {
        let f = &r["fields"];
        for key in ["request_id", "method", "route", "status", "duration_ms"] {
            assert!(!f[key].is_null(), "{key} missing in {r}");
        }
    }
    assert!(requests
        .iter()
        .any(|r| r["fields"]["route"] == "/api/v1/customers/{id}" && r["fields"]["status"] == 200));
    for (i, name) in names.iter().enumerate() {
        assert!(!log.contains(name.as_str()), "{name} appears in the log");
        let number = format!("K-{i:04}");
        assert!(!log.contains(&number), "{number} appears in the log");
    }
}
