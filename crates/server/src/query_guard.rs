//! An unknown query parameter is an error (400 `invalid_query`, naming it), not silently
//! ignored: `?first_name=Müller` must not answer with the first page of everybody — and
//! write audited reads of people nobody looked for.
//!
//! The parameters each route takes are read from the served OpenAPI document, which a
//! test keeps identical to the handlers, so the check and the documentation cannot
//! drift apart. A path the document does not describe is left to the router (404, 405).

use std::sync::OnceLock;

use actix_web::http::Method;

use crate::error::ApiError;

struct Route {
    method: Method,
    /// The path's segments; `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    allowed: Vec<String>,
}

impl Route {
    fn matches(&self, parts: &[&str]) -> bool {
        self.segments.len() == parts.len()
            && self
                .segments
                .iter()
                .zip(parts)
                .all(|(s, p)| s.as_deref().is_none_or(|lit| lit == *p))
    }
}

fn segments_of(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

/// The routes of the OpenAPI document with the query parameters each takes.
pub struct QueryGuard {
    routes: Vec<Route>,
}

impl QueryGuard {
    /// From a serialised OpenAPI document.
    pub fn from_spec(spec: &serde_json::Value) -> QueryGuard {
        let mut routes = Vec::new();
        let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) else {
            return QueryGuard { routes };
        };
        for (path, item) in paths {
            let segments: Vec<Option<String>> = path
                .trim_matches('/')
                .split('/')
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                .collect();
            let Some(ops) = item.as_object() else { continue };
            for (method, op) in ops {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                let allowed = op
                    .get("parameters")
                    .and_then(|p| p.as_array())
                    .into_iter()
                    .flatten()
                    .filter(|p| p.get("in").and_then(|i| i.as_str()) == Some("query"))
                    .filter_map(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect();
                routes.push(Route {
                    method,
                    segments: segments.clone(),
                    allowed,
                });
            }
        }
        // the most literal template first: `/customers/export` before `/customers/{id}`
        routes.sort_by_key(|r| std::cmp::Reverse(r.segments.iter().filter(|s| s.is_some()).count()));
        QueryGuard { routes }
    }

    /// The guard of the served document, built once.
    pub fn served() -> &'static QueryGuard {
        static GUARD: OnceLock<QueryGuard> = OnceLock::new();
        GUARD.get_or_init(|| {
            let spec = serde_json::from_str(crate::openapi::spec_json()).unwrap_or_default();
            QueryGuard::from_spec(&spec)
        })
    }

    fn route(&self, method: &Method, path: &str) -> Option<&Route> {
        let parts = segments_of(path);
        self.routes
            .iter()
            .find(|r| r.method == method && r.matches(&parts))
    }

    /// The methods the document gives the path, for a 405's `Allow`; `None` for a path
    /// it does not describe (404). The most literal template decides, as in the router.
    pub fn methods_of(&self, path: &str) -> Option<String> {
        let parts = segments_of(path);
        let template = &self.routes.iter().find(|r| r.matches(&parts))?.segments;
        let mut methods: Vec<&str> = self
            .routes
            .iter()
            .filter(|r| &r.segments == template)
            .map(|r| r.method.as_str())
            .collect();
        methods.sort_by_key(|m| {
            ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .iter()
                .position(|k| k == m)
        });
        Some(methods.join(", "))
    }

    /// Refuses the first query parameter the route does not take. A query string that is
    /// not even `key=value` pairs is left to the handler's own parsing (also a 400).
    pub fn check(&self, method: &Method, path: &str, query: &str) -> Result<(), ApiError> {
        if query.is_empty() {
            return Ok(());
        }
        let Some(route) = self.route(method, path) else {
            return Ok(());
        };
        let Ok(pairs) = actix_web::web::Query::<Vec<(String, String)>>::from_query(query) else {
            return Ok(());
        };
        for (key, _) in pairs.iter() {
            if !route.allowed.iter().any(|a| a == key) {
                let takes = if route.allowed.is_empty() {
                    "this route takes no query parameters".to_string()
                } else {
                    format!("this route takes {}", route.allowed.join(", "))
                };
                let shown: String = key.chars().take(64).collect();
                return Err(ApiError::bad_request(
                    "invalid_query",
                    &shown,
                    format!("unknown query parameter; {takes}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> QueryGuard {
        QueryGuard::from_spec(&serde_json::json!({"paths": {
            "/api/v1/customers": {"get": {"parameters": [
                {"in": "query", "name": "last_name"}, {"in": "query", "name": "limit"},
                {"in": "header", "name": "Idempotency-Key"}]}, "post": {}},
            "/api/v1/customers/{id}": {"get": {"parameters": [{"in": "path", "name": "id"}, {"in": "query", "name": "as_of"}]}},
            "/api/v1/customers/export": {"get": {}}
        }}))
    }

    #[test]
    fn only_the_documented_parameters_pass() {
        let g = guard();
        assert!(g
            .check(&Method::GET, "/api/v1/customers", "last_name=M%C3%BCller&limit=5")
            .is_ok());
        let e = g
            .check(&Method::GET, "/api/v1/customers", "first_name=Erika")
            .unwrap_err();
        assert_eq!(
            (e.code, e.errors[0].field.as_str()),
            ("invalid_query", "first_name")
        );
        assert!(
            g.check(&Method::GET, "/api/v1/customers", "Idempotency-Key=x")
                .is_err(),
            "a header is no query"
        );
        assert!(g.check(&Method::POST, "/api/v1/customers", "x=1").is_err());
        assert!(g
            .check(&Method::GET, "/api/v1/customers/0190", "as_of=2026-01-01")
            .is_ok());
        assert!(g
            .check(&Method::GET, "/api/v1/customers/0190", "limit=1")
            .is_err());
        // the literal route wins over the template
        assert!(g
            .check(&Method::GET, "/api/v1/customers/export", "as_of=2026-01-01")
            .is_err());
        assert_eq!(g.methods_of("/api/v1/customers").as_deref(), Some("GET, POST"));
        assert_eq!(g.methods_of("/api/v1/customers/export").as_deref(), Some("GET"));
        assert_eq!(g.methods_of("/api/v1/customers/0190").as_deref(), Some("GET"));
        assert_eq!(g.methods_of("/api/v1/nowhere/at/all"), None);
        // undocumented paths and methods are the router's
        assert!(g.check(&Method::GET, "/nowhere", "x=1").is_ok());
        assert!(g.check(&Method::DELETE, "/api/v1/customers", "x=1").is_ok());
    }
}
