//! The OpenAPI document, generated from the handlers. `openapi/openapi.json` is this
//! document committed; a test fails when the two differ (`UPDATE_OPENAPI=1 cargo test`
//! rewrites the file).

use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passgenau",
        description = "Case management and allocation engine of a German Jobcenter (SGB II). \
                       Errors are application/problem+json with a machine-readable `code`.",
        license(name = "EUPL-1.2")
    ),
    paths(
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::openapi_json,
        routes::ops::metrics,
        routes::users::login,
        routes::users::me,
        routes::users::create_user,
        routes::customers::create_customer,
        routes::customers::list_customers,
        routes::customers::get_customer,
        routes::customers::update_customer,
        routes::households::create_household,
        routes::households::list_households,
        routes::households::get_household,
        routes::households::update_household,
        routes::households::add_member,
        routes::households::remove_member,
        routes::instruments::list_instruments,
        routes::instruments::get_instrument,
        routes::instruments::create_instrument,
        routes::instruments::update_instrument,
        routes::providers::list_providers,
        routes::providers::get_provider,
        routes::providers::create_provider,
        routes::providers::update_provider,
        routes::offers::list_offers,
        routes::offers::get_offer,
        routes::offers::create_offer,
        routes::offers::update_offer,
        routes::audit::list_audit,
        routes::audit::list_logins,
        routes::engine::get_eligibility,
        routes::engine::get_recommendations,
        routes::availability::get_availability,
        routes::allocations::create_allocation,
        routes::allocations::list_allocations,
        routes::allocations::get_allocation,
        routes::allocations::transition_allocation,
        routes::allocations::add_to_waitlist,
        routes::allocations::list_waitlist,
        routes::plans::get_plan,
        routes::plans::put_plan,
        routes::reports::plan_report,
        routes::reports::utilisation_report,
        routes::reports::budget_report,
        routes::reports::target_group_report,
        routes::reports::outcome_report,
        routes::reports::utilisation_chart,
        routes::exports::allocation_events,
        routes::runs::create_run,
        routes::runs::get_run,
        routes::runs::list_proposals,
        routes::runs::decide,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login and users"),
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
        let mut s = ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises");
        s.push('\n');
        s
    })
}
