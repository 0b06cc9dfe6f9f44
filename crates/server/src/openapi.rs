//! The OpenAPI document, generated from the handlers as [`crate::routes::documented`]
//! registers them. `openapi/openapi.json` is this
//! document committed; a test fails when the two differ (`UPDATE_OPENAPI=1 cargo test`
//! rewrites the file).

use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passgenau",
        description = "Case management and allocation engine of a German Jobcenter (SGB II). \
                       Errors are application/problem+json with a machine-readable `code`.",
        license(name = "EUPL-1.2")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login, logout, the caller and their own password"),
        (name = "users", description = "Accounts of staff and partners, and API keys of partner systems and reporting jobs (admin)"),
        (name = "customers", description = "Customer records (specialist, admin); every access is audited"),
        (name = "households", description = "Bedarfsgemeinschaften (specialist, admin); every access is audited"),
        (name = "catalogue", description = "Instruments of the AMIP 2021"),
        (name = "providers", description = "Providers (Träger)"),
        (name = "offers", description = "Offers with planned places"),
        (name = "audit", description = "Who accessed which social data (admin)"),
        (name = "engine", description = "Eligibility with reasons and ranked recommendations (specialist, admin)"),
        (name = "placements", description = "Availability, placements and waiting lists"),
        (name = "plans", description = "Yearly plans and budgets"),
        (name = "cohort runs", description = "Whole cohorts planned at once by the min-cost-flow engine; a person decides each proposal"),
        (name = "reports", description = "Plan versus actual, utilisation, budget, target groups, outcomes (reporting, admin, specialist)"),
        (name = "operations", description = "Health and the API description"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn spec_json() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| {
        let app = actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi());
        let (_, api) = crate::routes::documented(app).split_for_parts();
        let mut doc = serde_json::to_value(api).expect("the OpenAPI document serialises");
        open_composed_schemas(&mut doc);
        document_common_responses(&mut doc);
        let mut s = serde_json::to_string_pretty(&doc).expect("JSON");
        s.push('\n');
        s
    })
}

/// A response that adds fields to a request body type (`allOf: [CustomerData, {id, …}]`)
/// must not inherit the body's `additionalProperties: false` (which rejects unknown fields
/// in requests), or every response would violate its own schema. The composed schemas
/// refer to an open copy, `<Name>Fields`, instead.
fn open_composed_schemas(doc: &mut serde_json::Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    else {
        return;
    };
    let closed: Vec<String> = schemas
        .iter()
        .filter(|(_, v)| v.get("additionalProperties") == Some(&serde_json::Value::Bool(false)))
        .map(|(k, _)| k.clone())
        .collect();
    let mut copies = Vec::new();
    for (_, schema) in schemas.iter_mut() {
        let Some(all_of) = schema.get_mut("allOf").and_then(|a| a.as_array_mut()) else {
            continue;
        };
        for part in all_of {
            let Some(r) = part.get("$ref").and_then(|r| r.as_str()) else {
                continue;
            };
            let name = r.trim_start_matches("#/components/schemas/").to_string();
            if closed.contains(&name) {
                part["$ref"] = serde_json::Value::String(format!("#/components/schemas/{name}Fields"));
                copies.push(name);
            }
        }
    }
    for name in copies {
        if let Some(mut copy) = schemas.get(&name).cloned() {
            if let Some(o) = copy.as_object_mut() {
                o.remove("additionalProperties");
            }
            schemas.insert(format!("{name}Fields"), copy);
        }
    }
}

/// Answers every operation can give, documented once here: 400 (malformed query, path,
/// header or body), 401/403 where a token is needed, 404 (unknown resource), 413/415 for
/// bodies, 429 and 503 (busy or unavailable database).
fn document_common_responses(doc: &mut serde_json::Value) {
    let problem = |description: &str| {
        serde_json::json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let secured = op.get("security").is_some();
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| problem(description));
            };
            if path.starts_with("/api/") {
                add(
                    "400",
                    "malformed query or an unknown query parameter, path parameter, header or body",
                );
                add("404", "unknown resource");
                add("503", "the database is unavailable or busy");
            }
            if path == "/readyz" {
                add("503", "the database does not answer");
            }
            if secured {
                add("401", "no, expired or invalid token");
                add("403", "the role may not do this");
            }
            if has_body {
                add("413", "body over 256 KiB");
                add("415", "body not application/json");
                add("422", "the body breaks a rule");
            }
        }
    }
}
