//! The audit log, for admins.

use actix_web::get;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_domain::user::Role;
use passgenau_store::audit::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Pagination;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit).service(list_logins);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditItem {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The username.
    pub actor: String,
    pub role: Role,
    /// `read`, `create`, `update` or `delete`.
    pub action: String,
    /// Method and route pattern, e.g. `GET /api/v1/customers/{id}`.
    pub route: String,
    pub customer_id: Option<CustomerId>,
    pub household_id: Option<HouseholdId>,
    /// For updates: the names of the changed fields, comma-separated (never values), so
    /// that changes to health data can be found (§ 67a SGB X, § 22 Abs. 2 BDSG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
    /// For changes to accounts: the user's or API key's ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
}

/// An entry as the API shows it.
pub fn item(e: passgenau_store::audit::AuditEntry) -> AuditItem {
    AuditItem {
        id: e.id,
        at: e.at,
        actor: e.actor,
        // the retention job acts with an admin's authority (app::lifecycle)
        role: Role::parse(&e.role).unwrap_or(Role::Admin),
        action: e.action.as_str().to_string(),
        route: e.route,
        customer_id: e.customer_id,
        household_id: e.household_id,
        fields: e.fields,
        account_id: e.account_id,
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub customer_id: Option<CustomerId>,
    pub actor: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Entries about one account (a user's or an API key's ID).
    pub account_id: Option<Uuid>,
}

/// Read the audit log (admin)
#[utoipa::path(tag = "audit",
    params(AuditQuery, Pagination),
    responses(
        (status = 200, description = "a page of audit entries, oldest first", body = AuditList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AuditQuery>,
    p: web::Query<Pagination>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let page = p.uuid_page()?;
    let q = q.into_inner();
    let filter = AuditFilter {
        customer_id: q.customer_id,
        actor: q.actor,
        since: q.since,
        account_id: q.account_id,
    };
    let list = state
        .db(move |store| {
            let page = crate::app::audit::entries(store, &filter, &page)?;
            Ok::<_, ApiError>(AuditList {
                items: page.items.into_iter().map(item).collect(),
                next_cursor: page.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    pub username: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginAttempt {
    pub at: DateTime<Utc>,
    pub username: String,
    /// The client's address: the connection's, or from `X-Forwarded-For` when the
    /// connection comes from a trusted proxy (`PASSGENAU_TRUSTED_PROXIES`).
    pub address: String,
    pub success: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginAttemptList {
    pub items: Vec<LoginAttempt>,
}

/// Login attempts, newest first (admin; at most 1,000)
#[utoipa::path(tag = "audit",
    params(LoginQuery),
    responses(
        (status = 200, description = "login attempts", body = LoginAttemptList),
        (status = 400, description = "bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/audit/logins")]
pub async fn list_logins(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<LoginQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let q = q.into_inner();
    let items = state
        .db(move |store| {
            Ok(crate::app::audit::logins(
                store,
                q.username.as_deref(),
                q.since,
                1_000,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(LoginAttemptList {
        items: items
            .into_iter()
            .map(|a| LoginAttempt {
                at: a.at,
                username: a.username,
                address: a.address,
                success: a.success,
            })
            .collect(),
    }))
}
