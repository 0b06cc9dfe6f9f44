//! The actix application: the documented routes, CORS, error handlers, limits.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{web, App, HttpResponse};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::ApiError;
use crate::extract::{json_config_error, path_error, query_error, MAX_BODY_BYTES};
use crate::routes;
use crate::state::AppState;

/// Builds the application; the same for `serve` and for the tests.
pub fn build(
    state: AppState,
    cors_origins: &[String],
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let app = App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(routes::ops::ServedSpec(
            crate::openapi::spec_json(),
        )))
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY_BYTES)
                .error_handler(json_config_error),
        )
        // innermost: after CORS has answered a preflight, before any handler reads
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service;
            use futures_util::future::{ready, Either, FutureExt};
            let checked =
                crate::query_guard::QueryGuard::served().check(req.method(), req.path(), req.query_string());
            match checked {
                Ok(()) => Either::Left(srv.call(req).map(|r| r.map(ServiceResponse::map_into_left_body))),
                Err(e) => {
                    let resp = actix_web::ResponseError::error_response(&e);
                    Either::Right(ready(Ok(req.into_response(resp).map_into_right_body())))
                }
            }
        })
        .wrap(cors(cors_origins))
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service;
            use futures_util::future::FutureExt;
            let area = Area::of(req.path());
            srv.call(req).map(move |res| {
                res.map(|mut res| {
                    secure(area, res.headers_mut());
                    res
                })
            })
        })
        .wrap(crate::observe::Observe)
        .wrap(actix_web::middleware::NormalizePath::new(
            actix_web::middleware::TrailingSlash::MergeOnly,
        ))
        .into_utoipa_app();
    crate::routes::documented(app)
        .map(|app| {
            app.service(web::resource("/docs").route(web::get().to(|| async {
                HttpResponse::Found()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            })))
            .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/openapi.json")))
        })
        .default_service(web::to(not_routed))
        .into_app()
}

/// What no route took: 405 with `Allow` when the document gives the path other methods
/// (the router's routes carry their method as a guard), else 404.
async fn not_routed(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    match crate::query_guard::QueryGuard::served().methods_of(req.path()) {
        Some(allow) => Err(ApiError::method_not_allowed(&allow)),
        None => Err(ApiError::not_found("resource")),
    }
}

/// Headers every answer carries. No browser sniffs a type other than the one sent; no
/// cache keeps an API answer, which may hold social data or a token (§ 35 SGB I), unless
/// the route said otherwise (availability: `no-cache`, counts only); the docs run under a
/// content security policy that admits only their own files (Swagger UI 5 needs no
/// inline or evaluated script; its icons are `data:` images).
fn secure(area: Area, headers: &mut header::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if area == Area::Api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    if area == Area::Docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(DOCS_CSP),
        );
    }
}

/// Which part of the server a request is for, told apart before the handler runs, so the
/// answer's headers need no copy of the path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Area {
    Api,
    Docs,
    Other,
}

impl Area {
    fn of(path: &str) -> Area {
        if path.starts_with("/api/") {
            Area::Api
        } else if path == "/docs" || path.starts_with("/docs/") {
            Area::Docs
        } else {
            Area::Other
        }
    }
}

/// The content security policy of `/docs`.
pub const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// CORS for the front end: exactly the configured origins, nothing else.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER])
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

/// The operations port (`PASSGENAU_OPS_BIND`): health, readiness and metrics without
/// authentication, meant for a network only the platform reaches.
pub fn build_ops(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .service(routes::ops::healthz)
        .service(routes::ops::readyz)
        .service(web::resource("/metrics").route(web::get().to(routes::ops::metrics_open)))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::not_found("resource"))
        }))
}
