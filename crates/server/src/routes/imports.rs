//! Imports over HTTP (admin): the file is spooled to disk as it arrives (never held in
//! memory), its header checked, and the job runs on this instance (`app::imports`).

use std::io::Write;

use actix_web::http::{header, StatusCode};
use actix_web::{get, post};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use passgenau_domain::ids::ImportId;
use passgenau_domain::import::{ImportFormat, ImportStatus, Rejection};
use passgenau_domain::user::Role;
use passgenau_store::imports::ImportJob;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::today;
use crate::app::import_format::Lines;
use crate::app::imports::{self, Actor};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{route_of, Pagination};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_import)
        .service(list_imports)
        .service(get_import);
}

/// An import job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportResponse {
    pub id: ImportId,
    pub status: ImportStatus,
    pub format: ImportFormat,
    /// Share of the file read, 0 to 1.
    pub progress: f64,
    /// Lines read so far.
    pub lines: i64,
    pub bytes_read: i64,
    pub bytes_total: i64,
    /// Records created.
    pub imported: u64,
    /// Records that were there and changed.
    pub updated: u64,
    /// Records that were there as the file says (nothing written).
    pub unchanged: u64,
    /// Lines rejected; the first 1,000 are listed in `rejected`.
    pub rejected_count: u64,
    pub rejected: Vec<Rejection>,
    /// Why a failed job stopped.
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportList {
    pub items: Vec<ImportResponse>,
    pub next_cursor: Option<String>,
}

pub fn respond(j: &ImportJob) -> ImportResponse {
    let progress = if j.status == ImportStatus::Done {
        1.0
    } else if j.bytes_total > 0 {
        (j.bytes_read as f64 / j.bytes_total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ImportResponse {
        id: j.id,
        status: j.status,
        format: j.format,
        progress,
        lines: j.lines,
        bytes_read: j.bytes_read,
        bytes_total: j.bytes_total,
        imported: j.counts.imported,
        updated: j.counts.updated,
        unchanged: j.counts.unchanged,
        rejected_count: j.counts.rejected,
        rejected: j.rejected.clone(),
        error: j.error.clone(),
        created_by: j.created_by.clone(),
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
    }
}

fn format_of(req: &HttpRequest) -> ApiResult<ImportFormat> {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(ImportFormat::Ndjson),
        "text/csv" => Ok(ImportFormat::Csv),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as application/x-ndjson or text/csv",
        )),
    }
}

/// Removes the spooled file when the upload does not become a job.
struct Spool {
    path: std::path::PathBuf,
    keep: bool,
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn spool_failed(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "the import could not be spooled");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "import_unavailable",
        "the upload could not be stored; retry later",
    )
}

/// Import households and customers (admin)
///
/// The body is the file: NDJSON (`application/x-ndjson`, one object per line with
/// `"kind": "household"` or `"customer"`) or CSV (`text/csv`, a header and one customer
/// per line). The format is in `docs/import.md`. Each line is written whole or not at all;
/// records are found by `customer_number` and `household_number`, so importing a file
/// again changes nothing. The answer is the queued job; follow it at the `Location`.
#[utoipa::path(tag = "customers",
    request_body(content = String, description = "the file", content_type = "application/x-ndjson"),
    responses(
        (status = 202, description = "queued; follow it at the Location", body = ImportResponse),
        (status = 400, description = "the upload broke off", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "import_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported_media_type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid_import: empty, or a CSV header that lacks a required column", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    mut body: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let format = format_of(&req)?;
    let settings = state.imports.clone();
    let mut spool = Spool {
        path: settings
            .dir
            .join(format!("passgenau-import-{}.part", uuid::Uuid::now_v7())),
        keep: false,
    };
    let mut file = std::fs::File::create(&spool.path).map_err(spool_failed)?;
    let mut total: u64 = 0;
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "upload_failed",
                format!("the upload broke off: {e}"),
            )
        })?;
        total += piece.len() as u64;
        if total > settings.max_bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "import_too_large",
                format!(
                    "an upload is at most {} bytes (PASSGENAU_IMPORT_MAX_BYTES); import larger files with `passgenau import FILE`",
                    settings.max_bytes
                ),
            ));
        }
        file.write_all(&piece).map_err(spool_failed)?;
    }
    file.flush().map_err(spool_failed)?;
    drop(file);
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_import", m);
    if total == 0 {
        return Err(invalid("the file is empty".into()));
    }
    let first = std::fs::File::open(&spool.path)
        .map_err(spool_failed)
        .and_then(|f| {
            Lines::new(std::io::BufReader::new(f))
                .next_line()
                .map_err(spool_failed)
        })?;
    if let Some(first) = first {
        imports::check_header(format, first).map_err(invalid)?;
    }
    let actor = Actor {
        name: caller.username.clone(),
        role: caller.role.as_str().to_string(),
        route: route_of(&req),
    };
    let path = spool.path.clone();
    let job = state
        .db(move |store| {
            let job = imports::create(store, format, total, &actor.name)?;
            imports::start(store.clone(), job.clone(), path, actor, today());
            Ok(job)
        })
        .await?;
    spool.keep = true;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/imports/{}", job.id)))
        .json(respond(&job)))
}

/// List imports (admin), newest first
#[utoipa::path(tag = "customers",
    params(Pagination),
    responses(
        (status = 200, description = "a page of import jobs", body = ImportList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    caller: Caller,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let page = p.uuid_page()?;
    let list = state
        .db(move |store| {
            let page = imports::list(store, &page)?;
            Ok(ImportList {
                items: page.items.iter().map(respond).collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read an import job (admin)
#[utoipa::path(tag = "customers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the job", body = ImportResponse),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown import", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ImportId>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let job = state.db(move |store| Ok(imports::get(store, id)?)).await?;
    Ok(HttpResponse::Ok().json(respond(&job)))
}
