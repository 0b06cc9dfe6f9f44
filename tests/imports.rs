//! Bringing in people (issue #18): `POST /imports` of NDJSON and CSV, each line whole or
//! not at all, errors by line and field, a second run changing nothing, and hostile files
//! (too long a line, invalid UTF-8, a missing column, too large an upload) refused clearly
//! with nothing half-written.

mod common;

use actix_web::http::{Method, StatusCode};
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(
    good_lines_are_imported_bad_ones_reported_and_a_rerun_changes_nothing,
    csv_files_and_refused_uploads,
    hostile_lines_are_rejected_alone,
    two_imports_of_one_file_at_once_record_each_person_once,
);

fn customer_line(number: &str, first: &str, last: &str, born: &str) -> Value {
    json!({
        "kind": "customer",
        "customer_number": number,
        "first_name": first,
        "last_name": last,
        "date_of_birth": born,
        "gender": "female",
        "nationality": "DE",
        "postal_code": "40210",
        "district": "Stadtbezirk 1",
        "vocational_qualification": "none",
        "german_level": "native",
        "benefit_spells": [{"from": "2019-01-01", "to": null}],
    })
}

fn ndjson(lines: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        match l {
            // a raw line, as written
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
        out.push(b'\n');
    }
    out
}

/// Uploads a file and waits for its job to end; the job.
async fn import(t: &TestApp, content_type: &str, body: Vec<u8>) -> Value {
    let r = t
        .raw(Method::POST, "/api/v1/imports", Role::Admin, content_type, body)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let location = r.header("location").expect("Location").to_string();
    assert_eq!(
        location,
        format!("/api/v1/imports/{}", r.body["id"].as_str().unwrap())
    );
    for _ in 0..600 {
        let job = t.get(&location, Role::Admin).await;
        assert_eq!(job.status, StatusCode::OK, "{}", job.body);
        if job.body["status"] == "done" || job.body["status"] == "failed" {
            return job.body;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the import did not end");
}

fn rejected(job: &Value) -> Vec<(u64, String)> {
    job["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

async fn good_lines_are_imported_bad_ones_reported_and_a_rerun_changes_nothing(b: Backend) {
    let t = TestApp::new(b).unwrap();
    // a person recorded before the import, whom line 9 probably is
    let mut recorded = TestApp::customer_body("K-0");
    recorded["first_name"] = json!("Jürgen");
    recorded["last_name"] = json!("Groß");
    recorded["date_of_birth"] = json!("1975-07-07");
    let r = t.post("/api/v1/customers", Role::Specialist, recorded).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let mut bad_email = customer_line("K-3", "Anna", "Schmidt", "1990-09-09");
    bad_email["contact"] = json!({"email": "anna@", "preferred_channel": "email"});
    let mut in_house = customer_line("K-4", "Ute", "Schneider", "1981-05-05");
    in_house["household_number"] = json!("BG-1");
    in_house["household_role"] = json!("applicant");
    in_house["prior_participations"] =
        json!([{"instrument_code": "AGH", "from": "2020-01-01", "to": "2020-06-30"}]);
    let mut unknown_code = customer_line("K-5", "Paul", "Meier", "1969-03-03");
    unknown_code["prior_participations"] =
        json!([{"instrument_code": "NOPE", "from": "2020-01-01", "to": null}]);
    let mut unknown_field = customer_line("K-6", "Hans", "Maier", "1970-01-01");
    unknown_field["shoe_size"] = json!(44);
    let mut confirmed = customer_line("K-8", "Juergen", "Gross", "1975-07-07");
    confirmed["confirm_distinct_person"] = json!(true);
    let file = ndjson(&[
        json!({"kind": "household", "household_number": "BG-1", "district": "Stadtbezirk 1",
               "members": [{"role": "child", "date_of_birth": "2015-05-01"}]}),
        customer_line("K-1", "Erika", "Müller", "1988-04-12"),
        bad_email,
        in_house,
        unknown_code,
        unknown_field,
        json!("{not json"),
        customer_line("K-7", "Jürgen", "Groß", "1975-07-07"),
        json!(""),
        confirmed,
        json!({"kind": "pet", "name": "Rex"}),
        customer_line("K-9", "Eva", "Weber", "2990-01-01"),
    ]);
    let job = import(&t, "application/x-ndjson", file.clone()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        (
            job["imported"].as_u64(),
            job["updated"].as_u64(),
            job["unchanged"].as_u64(),
            job["rejected_count"].as_u64()
        ),
        (Some(4), Some(0), Some(0), Some(7)),
        "{job}"
    );
    assert_eq!(job["lines"], 12);
    assert_eq!(job["progress"], 1.0);
    assert_eq!(
        rejected(&job),
        vec![
            (3, "contact.email".to_string()),
            (5, "prior_participations[0].instrument_code".to_string()),
            (6, "shoe_size".to_string()),
            (7, "-".to_string()),
            (8, "-".to_string()),
            (11, "kind".to_string()),
            (12, "benefit_spells".to_string()),
            (12, "date_of_birth".to_string()),
        ],
        "{job}"
    );
    let messages = job["rejected"].to_string();
    assert!(
        messages.contains("shoe_size") && messages.contains("possible_duplicate"),
        "{messages}"
    );
    assert_eq!(t.count("customers"), 4, "K-0 and the three good customer lines");
    assert_eq!(t.count("households"), 1);
    let found = t
        .get("/api/v1/customers?customer_number=K-4", Role::Specialist)
        .await;
    let k4 = &found.body["items"][0];
    assert!(k4["household_id"].is_string(), "{k4}");
    assert_eq!(k4["prior_participations"][0]["instrument_code"], "AGH");
    let hh = t
        .get(
            &format!("/api/v1/households/{}", k4["household_id"].as_str().unwrap()),
            Role::Specialist,
        )
        .await;
    assert_eq!(hh.body["members"].as_array().unwrap().len(), 2, "{}", hh.body);

    // the same file again: nothing changes, and the job says so
    let audit_before = t.count("audit_log WHERE action <> 'read'");
    let versions = |t: &TestApp| t.count("customers WHERE version > 1");
    let job = import(&t, "application/x-ndjson", file).await;
    assert_eq!(
        (
            job["imported"].as_u64(),
            job["updated"].as_u64(),
            job["unchanged"].as_u64(),
            job["rejected_count"].as_u64()
        ),
        (Some(0), Some(0), Some(4), Some(7)),
        "{job}"
    );
    assert_eq!(t.count("customers"), 4);
    assert_eq!(t.count("household_members"), 2);
    assert_eq!(versions(&t), 0);
    assert_eq!(
        t.count("audit_log WHERE action <> 'read'"),
        audit_before,
        "no change was written"
    );

    // a line that changes a field updates that record, merging what it leaves out
    let change =
        ndjson(&[json!({"kind": "customer", "customer_number": "K-1", "district": "Stadtbezirk 2"})]);
    let job = import(&t, "application/x-ndjson", change).await;
    assert_eq!(
        (job["updated"].as_u64(), job["rejected_count"].as_u64()),
        (Some(1), Some(0)),
        "{job}"
    );
    let k1 = t
        .get("/api/v1/customers?customer_number=K-1", Role::Specialist)
        .await;
    assert_eq!(k1.body["items"][0]["district"], "Stadtbezirk 2");
    assert_eq!(k1.body["items"][0]["first_name"], "Erika", "left out, kept");
    assert_eq!(k1.body["items"][0]["version"], 2);
    let updates = t.count("audit_log WHERE action = 'update' AND fields = 'district'");
    assert_eq!(updates, 1);

    let list = t.get("/api/v1/imports", Role::Admin).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3, "{}", list.body);
}

async fn csv_files_and_refused_uploads(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let header = "customer_number,first_name,last_name,date_of_birth,gender,nationality,vocational_qualification,german_level,unemployment_spells,contact_phone,contact_preferred_channel,household_number,household_role,refugee";
    let csv = format!(
        "\u{feff}{header}\r\nC-1,Erika,Müller,1988-04-12,female,DE,none,native,\"[{{\"\"from\"\": \"\"2024-01-01\"\"}}]\",+49 211 123456,phone,BG-7,applicant,false\r\n\
         C-2,Hans,\"Müller, geb. Maier\",1970-01-01,male,DE,vocational,B2,,,,BG-7,partner,yes\r\n\
         C-3,Ute,Schneider,1981-05-05,female,DE,none,native,,,,,,\r\n\
         C-4,too,few\r\n"
    );
    let job = import(&t, "text/csv; charset=utf-8", csv.into_bytes()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        (job["imported"].as_u64(), job["rejected_count"].as_u64()),
        (Some(2), Some(2)),
        "{job}"
    );
    assert_eq!(
        rejected(&job),
        vec![(3, "refugee".to_string()), (5, "-".to_string())]
    );
    let c1 = t
        .get("/api/v1/customers?customer_number=C-1", Role::Specialist)
        .await;
    let c1 = &c1.body["items"][0];
    assert_eq!(c1["contact"]["phone"], "+49 211 123456", "{c1}");
    assert_eq!(c1["unemployment_spells"][0]["from"], "2024-01-01");
    assert!(
        c1["household_id"].is_string(),
        "the household was made on its first line"
    );

    // refused before any line: a missing column, an empty file, another type, a role
    let before = t.count("customers");
    let r = t
        .raw(
            Method::POST,
            "/api/v1/imports",
            Role::Admin,
            "text/csv",
            b"customer_number,first_name,last_name\nX-1,A,B\n".to_vec(),
        )
        .await;
    r.assert_problem(422, "invalid_import");
    assert!(
        r.body["detail"].as_str().unwrap().contains("date_of_birth"),
        "{}",
        r.body
    );
    t.raw(
        Method::POST,
        "/api/v1/imports",
        Role::Admin,
        "text/csv",
        Vec::new(),
    )
    .await
    .assert_problem(422, "invalid_import");
    t.raw(
        Method::POST,
        "/api/v1/imports",
        Role::Admin,
        "text/plain",
        b"x".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
    let r = t
        .raw(
            Method::POST,
            "/api/v1/imports",
            Role::Specialist,
            "application/x-ndjson",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(t.count("customers"), before);
    t.get(
        "/api/v1/imports/01a235c1-7014-75fc-b648-1d6b3d7e022b",
        Role::Admin,
    )
    .await
    .assert_problem(404, "not_found");
}

async fn hostile_lines_are_rejected_alone(b: Backend) {
    let mut t = TestApp::new(b).unwrap();
    let mut file = ndjson(&[customer_line("H-1", "Erika", "Müller", "1988-04-12")]);
    // a line of 2 MB
    let mut long = customer_line("H-2", "Hans", "Maier", "1970-01-01");
    long["district"] = json!("x".repeat(2 << 20));
    file.extend_from_slice(long.to_string().as_bytes());
    file.push(b'\n');
    // invalid UTF-8 inside a string
    file.extend_from_slice(
        b"{\"kind\": \"customer\", \"customer_number\": \"H-3\", \"first_name\": \"\xff\xfe\"}\n",
    );
    file.extend(ndjson(&[customer_line("H-4", "Ute", "Schneider", "1981-05-05")]));
    let job = import(&t, "application/x-ndjson", file).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        (job["imported"].as_u64(), job["rejected_count"].as_u64()),
        (Some(2), Some(2)),
        "{job}"
    );
    let messages: Vec<(u64, String)> = job["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        messages[0].0 == 2 && messages[0].1.contains("longer than"),
        "{messages:?}"
    );
    assert!(
        messages[1].0 == 3 && messages[1].1.contains("not UTF-8"),
        "{messages:?}"
    );

    // an upload beyond the limit is refused as it arrives, and nothing stays behind
    let dir = tempfile::tempdir().unwrap();
    t.state.imports = std::sync::Arc::new(passgenau_server::config::ImportSettings {
        dir: dir.path().to_path_buf(),
        max_bytes: 10_000,
    });
    let big = ndjson(&vec![customer_line("H-9", "Eva", "Weber", "1990-01-01"); 100]);
    let r = t
        .raw(
            Method::POST,
            "/api/v1/imports",
            Role::Admin,
            "application/x-ndjson",
            big,
        )
        .await;
    r.assert_problem(413, "import_too_large");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the spool is removed"
    );
    assert_eq!(t.count("customers"), 2);
}

async fn two_imports_of_one_file_at_once_record_each_person_once(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let lines: Vec<Value> = (0..2_500)
        .map(|i| {
            let mut l = customer_line(&format!("P-{i}"), "Erika", "Mustermann", "1980-01-01");
            l["confirm_distinct_person"] = json!(true);
            l["date_of_birth"] = json!(format!("19{:02}-0{}-1{}", 50 + i % 40, 1 + i % 9, i % 10));
            l
        })
        .collect();
    let file = ndjson(&lines);
    let started: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let r = t
                .raw(
                    Method::POST,
                    "/api/v1/imports",
                    Role::Admin,
                    "application/x-ndjson",
                    file.clone(),
                )
                .await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
            ids.push(r.body["id"].as_str().unwrap().to_string());
        }
        ids
    };
    let mut jobs = Vec::new();
    for id in started {
        loop {
            let job = t.get(&format!("/api/v1/imports/{id}"), Role::Admin).await;
            if job.body["status"] == "done" || job.body["status"] == "failed" {
                jobs.push(job.body);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    for job in &jobs {
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(job["rejected_count"], 0, "{job}");
        assert_eq!(
            job["imported"].as_u64().unwrap() + job["unchanged"].as_u64().unwrap(),
            2_500,
            "{job}"
        );
    }
    assert_eq!(
        jobs[0]["imported"].as_u64().unwrap() + jobs[1]["imported"].as_u64().unwrap(),
        2_500
    );
    assert_eq!(t.count("customers"), 2_500);
}
