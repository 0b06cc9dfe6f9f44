//! Test harness: every test gets its own fresh database — an SQLite file in a temporary
//! folder, or a PostgreSQL database created for it and dropped afterwards — so tests run
//! in parallel. PostgreSQL comes from `PASSGENAU_TEST_POSTGRES_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/test`); without it the PostgreSQL variants skip,
//! unless `PASSGENAU_REQUIRE_POSTGRES=1`, which makes them fail instead.

#![allow(dead_code)]

pub mod http;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use passgenau_domain::user::Role;
use passgenau_server::state::AppState;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The admin URL of the test PostgreSQL server, if there is one.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("PASSGENAU_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("PASSGENAU_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PASSGENAU_REQUIRE_POSTGRES=1 but PASSGENAU_TEST_POSTGRES_URL is not set");
            }
            None
        }
    }
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, database name)
}

impl TestDb {
    /// `None` when the backend is PostgreSQL and no server is configured (test skipped).
    pub fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir.path().join("test.db").to_string_lossy().into_owned();
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!("passgenau_test_{}", Uuid::new_v4().simple());
                let mut conn =
                    diesel::PgConnection::establish(&admin).expect("connect to the test PostgreSQL server");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = replace_db_name(&admin, &name);
                Some(TestDb {
                    url,
                    _dir: None,
                    pg: Some((admin, name)),
                })
            }
        }
    }

    /// Drops a PostgreSQL test database now (connections are terminated).
    pub fn drop_now(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            if let Ok(mut conn) = diesel::PgConnection::establish(&admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// `postgres://user@host:port/db?x` with another database name.
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret!";

/// The account `username`, made with `role` and `provider` when there is none (without a
/// usable password: such test accounts only hold tokens).
pub fn ensure_user(
    store: &passgenau_store::Store,
    username: &str,
    role: Role,
    provider: Option<passgenau_domain::ids::ProviderId>,
) -> passgenau_store::users::UserRecord {
    use passgenau_store::users;
    store
        .write(|conn| {
            if let Some(u) = users::by_username(conn, username)? {
                return Ok::<_, passgenau_store::StoreError>(u);
            }
            let u = users::UserRecord::new(
                username.to_string(),
                String::new(),
                role,
                provider,
                passgenau_domain::user::UserSource::Local,
            );
            users::insert(conn, &u)?;
            Ok(u)
        })
        .expect("test account")
}

/// A token of the account `username` (made if missing) as `state` issues it.
pub fn token_for(
    state: &AppState,
    username: &str,
    role: Role,
    provider: Option<passgenau_domain::ids::ProviderId>,
) -> String {
    let u = ensure_user(&state.store, username, role, provider);
    state
        .tokens
        .issue(&passgenau_server::auth::Subject {
            user_id: u.id,
            role: u.role,
            provider_id: u.provider_id,
            token_version: u.token_version,
        })
        .expect("token")
}

/// Tokens for the database at `url`, of accounts made there on first use.
pub struct StoredTokens {
    state: AppState,
}

impl StoredTokens {
    pub fn new(url: &str) -> StoredTokens {
        StoredTokens {
            state: passgenau_server::config::prepare(url, Some(TEST_SECRET), 1).expect("prepare"),
        }
    }

    pub fn issue(
        &self,
        username: &str,
        role: Role,
        provider: Option<passgenau_domain::ids::ProviderId>,
    ) -> Result<String, std::convert::Infallible> {
        Ok(token_for(&self.state, username, role, provider))
    }
}

/// A fresh application on a fresh database, with a token per role.
pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    pub provider_id: passgenau_domain::ids::ProviderId,
}

impl TestApp {
    /// A migrated database with nothing in it but the catalogue.
    pub fn new_empty(backend: Backend) -> Option<TestApp> {
        let db = TestDb::new(backend)?;
        let state = passgenau_server::config::prepare(&db.url, Some(TEST_SECRET), 4).expect("prepare");
        Some(TestApp {
            db,
            state,
            provider_id: Default::default(),
        })
    }

    /// A fresh database with one provider.
    pub fn new(backend: Backend) -> Option<TestApp> {
        let db = TestDb::new(backend)?;
        let state = passgenau_server::config::prepare(&db.url, Some(TEST_SECRET), 4).expect("prepare");
        let provider_id = state
            .store
            .write(|conn| {
                let rec = passgenau_store::providers::ProviderRecord {
                    meta: passgenau_store::Meta::new(
                        passgenau_domain::ids::ProviderId::new(),
                        passgenau_store::records::now(),
                    ),
                    data: passgenau_domain::provider::ProviderData {
                        name: "Bildungsträger Rhein GmbH".into(),
                        azav_certified_until: Some("2030-12-31".parse().unwrap()),
                        contact_email: None,
                    },
                };
                passgenau_store::providers::insert(conn, &rec)?;
                Ok::<_, passgenau_store::StoreError>(rec.meta.id)
            })
            .expect("provider");
        Some(TestApp {
            db,
            state,
            provider_id,
        })
    }

    /// A token of the account `{role}-user` (made on first use: tokens are bound to
    /// stored accounts).
    pub fn token(&self, role: Role) -> String {
        let pid = (role == Role::Provider).then_some(self.provider_id);
        token_for(&self.state, &format!("{}-user", role.as_str()), role, pid)
    }

    /// Whom [`TestApp::token`] issues a token to, for tokens made otherwise.
    pub fn subject(&self, role: Role) -> passgenau_server::auth::Subject {
        let pid = (role == Role::Provider).then_some(self.provider_id);
        let u = ensure_user(&self.state.store, &format!("{}-user", role.as_str()), role, pid);
        passgenau_server::auth::Subject {
            user_id: u.id,
            role: u.role,
            provider_id: u.provider_id,
            token_version: u.token_version,
        }
    }

    /// Sends one request through the real application.
    pub async fn call(&self, req: test::TestRequest) -> Reply {
        let app = test::init_service(passgenau_server::router::build(
            self.state.clone(),
            &["https://frontend.example".to_string()],
        ))
        .await;
        let resp = app.call(req.to_request()).await;
        match resp {
            Ok(resp) => Reply::from(resp).await,
            Err(e) => {
                let resp = e.error_response();
                let status = resp.status();
                let headers = resp.headers().clone();
                let bytes = actix_web::body::to_bytes(resp.into_body())
                    .await
                    .unwrap_or_default();
                Reply::new(status, headers, bytes.to_vec())
            }
        }
    }

    pub async fn req(&self, method: Method, path: &str, role: Option<Role>, body: Option<Value>) -> Reply {
        let mut r = test::TestRequest::default().method(method).uri(path);
        if let Some(role) = role {
            r = r.insert_header(("authorization", format!("Bearer {}", self.token(role))));
        }
        if let Some(b) = body {
            r = r
                .insert_header(("content-type", "application/json"))
                .set_payload(b.to_string());
        }
        self.call(r).await
    }

    /// A request with the given bearer credential (a token or an API key).
    pub async fn bearer(&self, method: Method, path: &str, bearer: &str, body: Option<Value>) -> Reply {
        let mut r = test::TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("authorization", format!("Bearer {bearer}")));
        if let Some(b) = body {
            r = r
                .insert_header(("content-type", "application/json"))
                .set_payload(b.to_string());
        }
        self.call(r).await
    }

    pub async fn get(&self, path: &str, role: Role) -> Reply {
        self.req(Method::GET, path, Some(role), None).await
    }

    pub async fn post(&self, path: &str, role: Role, body: Value) -> Reply {
        self.req(Method::POST, path, Some(role), Some(body)).await
    }

    /// Waits until the cohort run `id` is done or failed and returns it.
    pub async fn wait_for_run(&self, id: &str) -> Value {
        for _ in 0..300 {
            let r = self
                .get(&format!("/api/v1/allocation-runs/{id}"), Role::Specialist)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            if r.body["status"] == "done" || r.body["status"] == "failed" {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("run {id} did not finish");
    }

    pub async fn patch(&self, path: &str, role: Role, body: Value) -> Reply {
        self.req(Method::PATCH, path, Some(role), Some(body)).await
    }

    /// Sends a raw body with the given content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        role: Role,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let r = test::TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("authorization", format!("Bearer {}", self.token(role))))
            .insert_header(("content-type", content_type))
            .set_payload(body);
        self.call(r).await
    }

    /// Counts rows of a table straight from the database.
    pub fn count(&self, table: &str) -> i64 {
        use diesel::sql_types::BigInt;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        self.state
            .store
            .read(|conn| {
                Ok::<_, passgenau_store::StoreError>(
                    diesel::RunQueryDsl::get_result::<N>(
                        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")),
                        conn,
                    )?
                    .n,
                )
            })
            .expect("count")
    }

    /// A valid customer body with the given number.
    /// Every test person is Erika Mustermann, born 1988-04-12: recorded as distinct
    /// people (`confirm_distinct_person`), as the duplicate check would refuse the second.
    pub fn customer_body(number: &str) -> Value {
        serde_json::json!({
            "confirm_distinct_person": true,
            "customer_number": number,
            "first_name": "Erika",
            "last_name": "Mustermann",
            "date_of_birth": "1988-04-12",
            "gender": "female",
            "nationality": "DE",
            "postal_code": "40210",
            "district": "Stadtbezirk 1",
            "vocational_qualification": "vocational",
            "german_level": "native",
            "benefit_spells": [{"from": "2018-01-01", "to": null}],
            "unemployment_spells": [{"from": "2019-06-01"}],
            "employment_spells": []
        })
    }

    pub async fn create_customer(&self, number: &str) -> Value {
        let r = self
            .post("/api/v1/customers", Role::Specialist, Self::customer_body(number))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    pub fn offer_body(&self) -> Value {
        serde_json::json!({
            "instrument_code": "AVGS_MAT",
            "provider_id": self.provider_id,
            "title": "Bewerbungscenter U25",
            "district": "Stadtbezirk 1",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "entry": "rolling",
            "planned_places": 10,
            "cost_per_place_cents": 150000,
            "measure_approved_until": "2035-12-31"
        })
    }
}

/// A response: status, headers and the body parsed as JSON (or `Value::String` if not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    fn new(status: StatusCode, headers: HeaderMap, raw: Vec<u8>) -> Reply {
        let body = serde_json::from_slice(&raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into()));
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    async fn from<B: MessageBody>(resp: ServiceResponse<B>) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = actix_web::body::to_bytes(resp.into_body())
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Reply::new(status, headers, bytes)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with the given status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
    }

    /// The field names of a validation problem.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Declares each listed `async fn name(b: Backend)` as two tests, `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if $crate::common::postgres_admin_url().is_none() {
                        eprintln!("skipped on PostgreSQL: PASSGENAU_TEST_POSTGRES_URL is not set");
                        return;
                    }
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// An audit entry of a read by `actor` of `customer`, as the read routes write them.
/// The access of a test that reads records from the store directly.
pub fn test_access() -> passgenau_store::Access {
    passgenau_store::Access {
        actor: "test".into(),
        role: "admin".into(),
        action: passgenau_store::audit::Action::Read,
        route: "test".into(),
    }
}

pub fn read_entry(
    actor: String,
    route: String,
    customer: passgenau_domain::ids::CustomerId,
) -> passgenau_store::audit::AuditEntry {
    passgenau_store::audit::AuditEntry {
        id: passgenau_domain::ids::new_id(),
        at: passgenau_store::records::now(),
        actor,
        role: "specialist".into(),
        action: passgenau_store::audit::Action::Read,
        route,
        customer_id: Some(customer),
        household_id: None,
        fields: None,
        account_id: None,
    }
}
