// The tables of `migrations/*/…_records/up.sql`, identical on both backends.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        provider_id -> Nullable<Text>,
        created_at -> Timestamp,
        status -> Text,
        source -> Text,
        token_version -> BigInt,
        kept_token -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        last_login_at -> Nullable<Timestamp>,
        lockout_lifted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    providers (id) {
        id -> Text,
        name -> Text,
        azav_certified_until -> Nullable<Date>,
        contact_email -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instruments (code) {
        code -> Text,
        name -> Text,
        legal_basis -> Text,
        purpose_group -> Text,
        funding -> Text,
        builtin -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    households (id) {
        id -> Text,
        household_number -> Text,
        district -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        customer_number -> Text,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        gender -> Text,
        nationality -> Text,
        postal_code -> Nullable<Text>,
        district -> Nullable<Text>,
        household_id -> Nullable<Text>,
        vocational_qualification -> Text,
        german_level -> Text,
        health_restrictions -> Bool,
        severely_disabled -> Bool,
        rehabilitant -> Bool,
        refugee -> Bool,
        solo_self_employed -> Bool,
        benefit_spells -> Text,
        unemployment_spells -> Text,
        employment_spells -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        self_employment_spells -> Text,
        prior_participations -> Text,
        job_ready -> Bool,
        seriously_impeded_placement -> Bool,
        contact -> Text,
        merged_into -> Nullable<Text>,
        merged_at -> Nullable<Timestamp>,
        merge_reason -> Nullable<Text>,
        closed_on -> Nullable<Date>,
        closure_reason -> Nullable<Text>,
        legal_hold -> Bool,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    household_members (id) {
        id -> Text,
        household_id -> Text,
        customer_id -> Nullable<Text>,
        role -> Text,
        date_of_birth -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    offers (id) {
        id -> Text,
        instrument_code -> Text,
        provider_id -> Text,
        title -> Text,
        district -> Text,
        postal_code -> Nullable<Text>,
        starts_on -> Date,
        ends_on -> Date,
        entry -> Text,
        planned_places -> Integer,
        max_places -> Integer,
        cost_per_place_cents -> BigInt,
        target_groups -> Text,
        min_age -> Nullable<Integer>,
        max_age -> Nullable<Integer>,
        min_german_level -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        max_german_level -> Nullable<Text>,
        measure_approved_until -> Nullable<Date>,
        intake_status -> Text,
        intake_reason -> Nullable<Text>,
        places_now -> Nullable<Integer>,
        intake_changed_at -> Nullable<Timestamp>,
        intake_changed_by -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (actor, scope, key) {
        actor -> Text,
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
        subjects -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        role -> Text,
        action -> Text,
        route -> Text,
        customer_id -> Nullable<Text>,
        household_id -> Nullable<Text>,
        fields -> Nullable<Text>,
        account_id -> Nullable<Text>,
        seal_pos -> Nullable<BigInt>,
        seal -> Nullable<Text>,
    }
}

diesel::joinable!(customers -> households (household_id));
diesel::joinable!(household_members -> households (household_id));
diesel::joinable!(offers -> providers (provider_id));
diesel::joinable!(offers -> instruments (instrument_code));

diesel::table! {
    allocations (id) {
        id -> Text,
        customer_id -> Text,
        offer_id -> Text,
        instrument_code -> Text,
        status -> Text,
        note -> Nullable<Text>,
        cost_cents -> BigInt,
        budget_year -> Integer,
        started_on -> Nullable<Date>,
        ended_on -> Nullable<Date>,
        status_reason -> Nullable<Text>,
        override_reason -> Nullable<Text>,
        override_by -> Nullable<Text>,
        source -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        entry_target_groups -> Nullable<Text>,
        verdict -> Nullable<Text>,
    }
}

diesel::table! {
    waitlist (id) {
        id -> Text,
        offer_id -> Text,
        customer_id -> Text,
        status -> Text,
        allocation_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plans (year) {
        year -> Integer,
        budget_cents -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_instruments (year, code) {
        year -> Integer,
        code -> Text,
        planned_entries -> Integer,
        previous_year_planned_entries -> Nullable<Integer>,
        budget_cents -> Nullable<BigInt>,
        committed_cents -> BigInt,
    }
}

diesel::table! {
    allocation_events (seq) {
        seq -> BigInt,
        id -> Text,
        allocation_id -> Text,
        customer_id -> Text,
        offer_id -> Text,
        instrument_code -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        on_date -> Nullable<Date>,
        reason -> Nullable<Text>,
        actor -> Text,
        role -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    allocation_runs (id) {
        id -> Text,
        status -> Text,
        request -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        heartbeat_at -> Nullable<Timestamp>,
        progress_done -> BigInt,
        progress_total -> BigInt,
        customers -> Nullable<BigInt>,
        offers -> Nullable<BigInt>,
        arcs -> Nullable<BigInt>,
        objective -> Nullable<BigInt>,
        assigned -> Nullable<BigInt>,
        optimal -> Nullable<Bool>,
        duration_ms -> Nullable<BigInt>,
        error -> Nullable<Text>,
        claim -> Nullable<Text>,
        left_out -> Nullable<Text>,
    }
}

diesel::table! {
    run_proposals (id) {
        id -> Text,
        run_id -> Text,
        customer_id -> Text,
        offer_id -> Text,
        score -> BigInt,
        explanation -> Text,
        decision -> Text,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        allocation_id -> Nullable<Text>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Text,
        at -> Timestamp,
        username -> Text,
        address -> Text,
        success -> Bool,
    }
}

diesel::table! {
    revoked_tokens (user_id, token_id) {
        token_id -> Text,
        user_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        provider_id -> Nullable<Text>,
        key_hash -> Text,
        expires_on -> Nullable<Date>,
        created_at -> Timestamp,
        created_by -> Text,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    customer_name_words (customer_id, part, word) {
        customer_id -> Text,
        part -> Text,
        word -> Text,
        sound -> Text,
    }
}

diesel::table! {
    customer_birth_keys (birth_key, customer_id) {
        birth_key -> Text,
        customer_id -> Text,
    }
}

diesel::table! {
    import_jobs (id) {
        id -> Text,
        status -> Text,
        format -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        heartbeat_at -> Nullable<Timestamp>,
        bytes_total -> BigInt,
        bytes_read -> BigInt,
        lines -> BigInt,
        imported -> BigInt,
        updated -> BigInt,
        unchanged -> BigInt,
        rejected_count -> BigInt,
        rejected -> Text,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(customer_name_words -> customers (customer_id));
diesel::joinable!(allocations -> offers (offer_id));
diesel::joinable!(allocations -> customers (customer_id));
diesel::joinable!(waitlist -> offers (offer_id));
diesel::joinable!(plan_instruments -> plans (year));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    users,
    providers,
    instruments,
    households,
    customers,
    household_members,
    offers,
    idempotency_keys,
    audit_log,
    allocations,
    waitlist,
    plans,
    plan_instruments,
    allocation_events,
    allocation_runs,
    run_proposals,
    login_attempts,
    revoked_tokens,
    api_keys,
    customer_name_words,
    customer_birth_keys,
    import_jobs,
);
