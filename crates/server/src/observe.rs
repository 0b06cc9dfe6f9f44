//! Observability: a request ID on every request and response, one structured log line per
//! request (method, route pattern, status, duration — never a path with IDs, a body or
//! any personal data), and Prometheus metrics.

use std::collections::BTreeMap;
use std::future::{ready, Ready};
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpMessage;
use futures_util::future::LocalBoxFuture;

/// Latency buckets in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// Process-wide metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    placements: Mutex<BTreeMap<String, u64>>,
    runs: Mutex<Histogram>,
}

pub fn metrics() -> &'static Metrics {
    static M: std::sync::OnceLock<Metrics> = std::sync::OnceLock::new();
    M.get_or_init(Metrics::default)
}

impl Metrics {
    fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut r = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *r.entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        drop(r);
        let mut l = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        l.entry((method.to_string(), route.to_string()))
            .or_default()
            .observe(seconds);
    }

    /// A placement request's outcome: `reserved` or the refusal code.
    pub fn placement(&self, outcome: &str) {
        let mut p = self.placements.lock().unwrap_or_else(|p| p.into_inner());
        *p.entry(outcome.to_string()).or_default() += 1;
    }

    pub fn cohort_run(&self, seconds: f64) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(seconds);
    }

    /// The Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP passgenau_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE passgenau_http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "passgenau_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                esc(r)
            );
        }
        out.push_str("# HELP passgenau_http_request_duration_seconds Request latency by method and route.\n");
        out.push_str("# TYPE passgenau_http_request_duration_seconds histogram\n");
        for ((m, r), h) in self.latency.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let labels = format!("method=\"{m}\",route=\"{}\"", esc(r));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "passgenau_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "passgenau_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "passgenau_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "passgenau_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP passgenau_placements_total Placement requests by outcome.\n");
        out.push_str("# TYPE passgenau_placements_total counter\n");
        for (o, n) in self.placements.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "passgenau_placements_total{{outcome=\"{}\"}} {n}", esc(o));
        }
        out.push_str("# HELP passgenau_cohort_run_duration_seconds Duration of cohort runs.\n");
        out.push_str("# TYPE passgenau_cohort_run_duration_seconds histogram\n");
        let h = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "passgenau_cohort_run_duration_seconds_bucket{{le=\"{b}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "passgenau_cohort_run_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "passgenau_cohort_run_duration_seconds_sum {}", h.sum);
        let _ = writeln!(out, "passgenau_cohort_run_duration_seconds_count {}", h.count);
        out
    }
}

/// The request's ID, as given by the client (`X-Request-Id`, if sane) or made here.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub struct Observe;

impl<S, B> Transform<S, ServiceRequest> for Observe
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = ObserveMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ObserveMiddleware { service }))
    }
}

pub struct ObserveMiddleware<S> {
    service: S,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

impl<S, B> Service<ServiceRequest> for ObserveMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        req.extensions_mut().insert(RequestId(id.clone()));
        let method = req.method().to_string();
        let fut = self.service.call(req);
        Box::pin(async move {
            let mut res = fut.await?;
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into());
            let status = res.status().as_u16();
            let seconds = started.elapsed().as_secs_f64();
            metrics().request(&method, &route, status, seconds);
            tracing::info!(request_id = %id, %method, %route, status, duration_ms = seconds * 1000.0, "request");
            if let Ok(v) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID, v);
            }
            Ok(res)
        })
    }
}
