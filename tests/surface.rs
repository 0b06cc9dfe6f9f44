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
}
