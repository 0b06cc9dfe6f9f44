//! The AMIP 2021 demo and the reports, on SQLite and PostgreSQL.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use passgenau_server::demo::{demo, DemoOptions};
use serde_json::{json, Value};

on_both_backends!(
    demo_reproduces_the_seed,
    feed_resumes_without_gaps_or_repeats,
    csv_cells_never_run_as_formulas,
    reports_open_in_german_excel_and_the_chart_renders
);

fn opts(customers: usize) -> DemoOptions {
    DemoOptions {
        customers,
        seed: 7,
        force: false,
        progress: false,
    }
}

async fn demo_reproduces_the_seed(b: Backend) {
    let t = TestApp::new_empty(b).unwrap();
    let summary = demo(&t.state.store, &opts(2_000)).unwrap();
    assert_eq!(summary.customers, 2_000);
    assert_eq!(summary.users.len(), 4);
    let placements = t.count("allocations");
    assert!(placements > 500, "{placements}");
    // idempotent; another size is refused
    assert!(demo(&t.state.store, &opts(2_000)).unwrap().already_loaded);
    assert_eq!(t.count("allocations"), placements);
    assert!(demo(&t.state.store, &opts(3_000)).is_err());

    // the plan report reproduces the seed's table, row by row
    let r = t.get("/api/v1/reports/plan?year=2021", Role::Reporting).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.body["items"].as_array().unwrap();
    let group = |g: &str| {
        rows.iter()
            .find(|r| r["purpose_group"] == g && r["instrument_code"].is_null())
            .unwrap()
            .clone()
    };
    for (g, planned, previous, change) in [
        ("I", 6_392, 8_480, -25),
        ("II", 1_800, 1_800, 0),
        ("III", 1_460, 1_400, 4),
        ("IV", 195, 266, -27),
        ("V", 50, 50, 0),
        ("VI", 1_850, 1_850, 0),
        ("VII", 50, 50, 0),
        ("VIII", 0, 25, -100),
    ] {
        let row = group(g);
        assert_eq!(
            (
                row["planned_entries"].as_i64(),
                row["previous_year_planned_entries"].as_i64()
            ),
            (Some(planned), Some(previous)),
            "{g}"
        );
        assert_eq!(row["change_percent"], change, "{g}");
    }
    let total = rows.last().unwrap();
    assert!(total["purpose_group"].is_null() && total["instrument_code"].is_null());
    assert_eq!(
        (
            total["planned_entries"].as_i64(),
            total["previous_year_planned_entries"].as_i64()
        ),
        (Some(11_797), Some(13_921))
    );
    assert_eq!(total["change_percent"], -15);
    let esg = rows.iter().find(|r| r["instrument_code"] == "ESG").unwrap();
    assert_eq!(
        (esg["planned_entries"].as_i64(), esg["change_percent"].as_i64()),
        (Some(1_000), Some(6))
    );
    // actual entries: group rows are the sums of their instruments, the total of the groups
    let actual_sum: i64 = rows
        .iter()
        .filter(|r| r["instrument_code"].is_null() && !r["purpose_group"].is_null())
        .map(|r| r["actual_entries"].as_i64().unwrap())
        .sum();
    assert_eq!(total["actual_entries"].as_i64(), Some(actual_sum));
    assert!(actual_sum > 0);

    // CSV and JSON agree
    let csv = csv_report(&t, "/api/v1/reports/plan?year=2021").await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(csv.raw.clone()).unwrap();
    let mut reader = csv_rows(&text);
    let header = reader.remove(0);
    assert_eq!(
        header,
        [
            "purpose_group",
            "instrument_code",
            "label",
            "planned_entries",
            "previous_year_planned_entries",
            "change_percent",
            "actual_entries"
        ]
    );
    assert_eq!(reader.len(), rows.len());
    for (line, row) in reader.iter().zip(rows) {
        for (i, field) in header.iter().enumerate() {
            let v = &row[field.as_str()];
            let expected = match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(line[i], expected, "{field}");
        }
    }

    // the other reports
    for path in ["utilisation", "budget", "target-groups", "outcomes"] {
        for year in [2021, 2026] {
            let r = t
                .get(&format!("/api/v1/reports/{path}?year={year}"), Role::Specialist)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            assert!(!r.body["items"].as_array().unwrap().is_empty(), "{path}");
            assert!(
                !r.body.to_string().contains("DUS-"),
                "no customer numbers in reports"
            );
        }
        t.get(&format!("/api/v1/reports/{path}?year=2021"), Role::Provider)
            .await
            .assert_problem(403, "forbidden");
        t.get(&format!("/api/v1/reports/{path}"), Role::Reporting)
            .await
            .assert_problem(400, "invalid_query");
    }
    let outcomes = t.get("/api/v1/reports/outcomes?year=2021", Role::Admin).await;
    let total = outcomes.body["items"].as_array().unwrap().last().unwrap().clone();
    for k in ["starts", "non_starts", "drop_outs", "completions"] {
        assert!(total[k].as_i64().unwrap() > 0, "{k}: {total}");
    }
    let tg = t
        .get("/api/v1/reports/target-groups?year=2021", Role::Reporting)
        .await;
    let nvq = tg.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target_group"] == "no_vocational_qualification")
        .unwrap()
        .clone();
    assert!(nvq["entries"].as_i64().unwrap() > 0);
    let util = t
        .get("/api/v1/reports/utilisation?year=2021", Role::Reporting)
        .await;
    for row in util.body["items"].as_array().unwrap() {
        assert!(["below", "within", "above"].contains(&row["corridor"].as_str().unwrap()));
    }
    let svg = t
        .get("/api/v1/reports/utilisation.svg?year=2021", Role::Reporting)
        .await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    let svg = String::from_utf8(svg.raw).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Arbeitsgelegenheiten") && svg.contains("Einstiegsgeld"));

    // the population resembles the seed's figures (±5 points)
    let customers = t
        .state
        .store
        .read(|conn| {
            passgenau_store::customers::list(
                conn,
                &Default::default(),
                &passgenau_store::Page {
                    limit: 10_000,
                    after: None,
                },
            )
        })
        .unwrap()
        .disclose(&t.state.store, &common::test_access())
        .0
        .items;
    let n = customers.len() as f64;
    let share = |f: &dyn Fn(&passgenau_store::customers::CustomerRecord) -> bool| {
        customers.iter().filter(|c| f(c)).count() as f64 * 100.0 / n
    };
    use passgenau_domain::VocationalQualification as Q;
    let close = |got: f64, want: f64, what: &str| {
        assert!((got - want).abs() <= 5.0, "{what}: {got:.1} % (seed {want} %)")
    };
    close(
        share(&|c| matches!(c.data.vocational_qualification, Q::None | Q::Partial)),
        71.0,
        "without vocational qualification",
    );
    close(share(&|c| c.data.nationality != "DE"), 47.5, "other nationality");
    close(share(&|c| c.data.health_restrictions), 19.0, "health");
    let day = passgenau_server::demo::reference_day();
    let unemployed: Vec<_> = customers
        .iter()
        .filter(|c| passgenau_domain::target_groups::unemployed_since(&c.data, day).is_some())
        .collect();
    let u25 = unemployed.iter().filter(|c| c.data.age_on(day) < 25).count() as f64 * 100.0
        / unemployed.len() as f64;
    close(u25, 7.0, "U25 among the unemployed");
    // Bedarfsgemeinschaften: 9,700 of 45,000 with 18,940 minor children, 4,830 single parents
    let scale = 2_000.0 / 45_000.0;
    let (families, children) = t
        .state
        .store
        .read(|conn| {
            let hh = passgenau_store::households::list(
                conn,
                None,
                None,
                &passgenau_store::Page {
                    limit: 10_000,
                    after: None,
                },
            )?
            .disclose(&t.state.store, &common::test_access())
            .0
            .items;
            let fam = hh
                .iter()
                .filter(|h| {
                    h.members
                        .iter()
                        .any(|m| m.role == passgenau_domain::HouseholdRole::Child)
                })
                .count();
            let kids: usize = hh
                .iter()
                .map(|h| {
                    h.members
                        .iter()
                        .filter(|m| m.role == passgenau_domain::HouseholdRole::Child)
                        .count()
                })
                .sum();
            Ok::<_, passgenau_store::StoreError>((fam, kids))
        })
        .unwrap();
    assert!(
        (families as f64 - 9_700.0 * scale).abs() <= 9_700.0 * scale * 0.05,
        "{families}"
    );
    assert!(
        (children as f64 - 18_940.0 * scale).abs() <= 18_940.0 * scale * 0.05,
        "{children}"
    );

    // the demo users log in
    let (name, _, password) = summary.users.iter().find(|u| u.1 == Role::Reporting).unwrap();
    let login = t
        .req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": name, "password": password})),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
}

/// A tiny CSV reader for the test (quoted fields with doubled quotes).
/// Titles a user typed that a spreadsheet would run (OWASP's CSV injection): the CSV
/// report shows them as text (`'` before), the JSON report as typed.
async fn csv_cells_never_run_as_formulas(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let hostile = [
        "=HYPERLINK(\"http://evil.example\",\"Hier klicken\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
    ];
    // a tab or carriage return at the start is neutralised too (`safe_csv`'s unit test),
    // but no title can hold one: control characters are refused when it is written
    for title in hostile {
        let mut body = t.offer_body();
        body["title"] = json!(title);
        let r = t.post("/api/v1/offers", Role::Admin, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{title:?}: {}", r.body);
    }
    let json = t
        .get("/api/v1/reports/utilisation?year=2026", Role::Reporting)
        .await;
    let titles: Vec<&str> = json.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    let csv = csv_report(&t, "/api/v1/reports/utilisation?year=2026").await;
    assert_eq!(csv.status, StatusCode::OK);
    let rows = csv_rows(&String::from_utf8(csv.raw.clone()).unwrap());
    let column = rows[0].iter().position(|h| h == "title").unwrap();
    let cells: Vec<&str> = rows[1..].iter().map(|r| r[column].as_str()).collect();
    for title in hostile {
        assert!(titles.contains(&title), "JSON keeps {title:?} as typed");
        let shown = format!("'{title}");
        assert!(
            cells.contains(&shown.as_str()),
            "CSV shows {title:?} as text: {cells:?}"
        );
        assert!(!cells.contains(&title), "{title:?} reaches the CSV as a formula");
    }
    // figures stay figures
    let planned = rows[0].iter().position(|h| h == "planned_places").unwrap();
    assert!(rows[1..].iter().all(|r| r[planned].parse::<i64>().is_ok()));
}

/// A report as CSV, asked for as a reporting job.
async fn csv_report(t: &TestApp, path: &str) -> common::Reply {
    t.call(
        TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {}", t.token(Role::Reporting))))
            .insert_header(("accept", "text/csv")),
    )
    .await
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

async fn feed_resumes_without_gaps_or_repeats(b: Backend) {
    let t = TestApp::new(b).unwrap();
    let mut body = t.offer_body();
    body["starts_on"] = json!("2026-01-01");
    body["ends_on"] = json!("2030-12-31");
    body["planned_places"] = json!(100);
    let offer = t.post("/api/v1/offers", Role::Admin, body).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let t = &t;
    let read_page = |cursor: Option<String>| {
        let path = match cursor {
            Some(c) => format!("/api/v1/exports/allocation-events?limit=3&cursor={c}"),
            None => "/api/v1/exports/allocation-events?limit=3".to_string(),
        };
        async move { t.get(&path, Role::Reporting).await }
    };
    // placements change between the pages
    for i in 0..6 {
        let c = t.create_customer(&format!("K-{i}")).await;
        let p = t
            .post(
                "/api/v1/allocations",
                Role::Specialist,
                json!({"customer_id": c["id"], "offer_id": offer}),
            )
            .await;
        let id = p.body["id"].as_str().unwrap().to_string();
        t.post(
            &format!("/api/v1/allocations/{id}/transitions"),
            Role::Provider,
            json!({"to": "confirmed"}),
        )
        .await;
        let page = read_page(cursor.clone()).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().cloned());
        cursor = page.body["resume_cursor"].as_str().map(str::to_string);
    }
    loop {
        let page = read_page(cursor.clone()).await;
        let items = page.body["items"].as_array().unwrap().clone();
        seen.extend(items.iter().cloned());
        cursor = page.body["resume_cursor"].as_str().map(str::to_string);
        if page.body["next_cursor"].is_null() {
            break;
        }
    }
    assert_eq!(
        seen.len() as i64,
        t.count("allocation_events"),
        "every event once"
    );
    let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, no repeats: {seqs:?}"
    );
    let text = serde_json::to_string(&seen).unwrap();
    assert!(
        !text.contains("Erika") && !text.contains("Mustermann") && !text.contains("1988-04-12"),
        "pseudonymous"
    );
    assert!(!text.contains("customer_id"));
    // the pseudonym is stable per customer: reserved and confirmed events of one placement agree
    for pair in seen.chunks(2) {
        assert_eq!(pair[0]["allocation_id"], pair[1]["allocation_id"]);
        assert_eq!(pair[0]["customer_pseudonym"], pair[1]["customer_pseudonym"]);
        assert_eq!(
            (pair[0]["to_status"].as_str(), pair[1]["to_status"].as_str()),
            (Some("reserved"), Some("confirmed"))
        );
    }
    // an empty page keeps the position
    let end = read_page(cursor.clone()).await;
    assert_eq!(end.body["items"], json!([]));
    assert_eq!(end.body["resume_cursor"].as_str(), cursor.as_deref());
    t.get("/api/v1/exports/allocation-events?cursor=abc", Role::Reporting)
        .await
        .assert_problem(400, "invalid_cursor");
    t.get("/api/v1/exports/allocation-events", Role::Specialist)
        .await
        .assert_problem(403, "forbidden");
    let since = t
        .get(
            "/api/v1/exports/allocation-events?since=2999-01-01T00:00:00Z",
            Role::Admin,
        )
        .await;
    assert_eq!(since.body["items"], json!([]));
}

/// The excel-de dialect read as German Excel reads it (Python's `csv` with `;` and the
/// BOM), with euros beside cents and names beside IDs; the chart rendered to PNG.
async fn reports_open_in_german_excel_and_the_chart_renders(b: Backend) {
    let t = TestApp::new_empty(b).unwrap();
    demo(&t.state.store, &opts(1_000)).unwrap();
    let by_query = t
        .get(
            "/api/v1/reports/budget?year=2021&dialect=excel-de",
            Role::Reporting,
        )
        .await;
    assert_eq!(by_query.status, StatusCode::OK);
    assert!(by_query.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        by_query.raw.starts_with("\u{feff}".as_bytes()),
        "a byte-order mark"
    );
    let by_accept = t
        .call(
            TestRequest::get()
                .uri("/api/v1/reports/budget?year=2021")
                .insert_header(("authorization", format!("Bearer {}", t.token(Role::Reporting))))
                .insert_header(("accept", "text/csv; dialect=excel-de")),
        )
        .await;
    assert_eq!(by_accept.raw, by_query.raw, "the query and the media type agree");
    t.get("/api/v1/reports/budget?year=2021&dialect=excel", Role::Reporting)
        .await
        .assert_problem(400, "invalid_query");
    let json = t.get("/api/v1/reports/budget?year=2021", Role::Reporting).await;
    let total = json.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        total["committed_eur"].as_f64().unwrap(),
        total["committed_cents"].as_i64().unwrap() as f64 / 100.0
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("budget.csv");
    std::fs::write(&file, &by_query.raw).unwrap();
    // the instrument rows add up to the total row, read as an office would
    let script = r#"
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    rows = list(csv.DictReader(f, delimiter=";"))
eur = lambda s: float(s.replace(",", ".")) if s else 0.0
parts = [r for r in rows if r["instrument_code"]]
total = [r for r in rows if not r["instrument_code"]][0]
assert abs(sum(eur(r["committed_eur"]) for r in parts) - eur(total["committed_eur"])) < 0.005, total
assert any("ä" in r["label"] or "ü" in r["label"] or "ö" in r["label"] for r in rows), [r["label"] for r in rows]
assert all("," in r["committed_eur"] or r["committed_eur"].lstrip("-").isdigit() for r in rows)
print(len(rows), total["label"])
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Summe"));
    let util = t
        .get("/api/v1/reports/utilisation?year=2021", Role::Reporting)
        .await;
    assert!(util.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["provider_name"].as_str().unwrap().is_empty()));

    // the chart: a legend, the corridor shaded; rendered to PNG at its own size
    let svg = t
        .get("/api/v1/reports/utilisation.svg?year=2021", Role::Reporting)
        .await;
    let svg = String::from_utf8(svg.raw).unwrap();
    for text in [
        "unter 70 %",
        "im Korridor",
        "über 120 %",
        "Korridor der Rahmenverträge",
    ] {
        assert!(svg.contains(text), "legend: {text}");
    }
    t.get(
        "/api/v1/reports/utilisation.svg?year=2021&dialect=excel-de",
        Role::Reporting,
    )
    .await
    .assert_problem(400, "invalid_query");
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    // fontdb's sans-serif is Arial; Debian has DejaVu
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let tree = resvg::usvg::Tree::from_str(&svg, &options).expect("a valid SVG");
    let size = tree.size().to_int_size();
    assert_eq!(size.width(), 1100);
    assert!(size.height() > 300, "{}", size.height());
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let png = pixmap.encode_png().unwrap();
    if let Ok(path) = std::env::var("PASSGENAU_CHART_PNG") {
        // to look at the chart: PASSGENAU_CHART_PNG=/tmp/chart.png cargo test --test reports
        std::fs::write(path, &png).unwrap();
    }
    assert!(
        png.len() > 10_000,
        "a drawn chart, not a blank page: {} bytes",
        png.len()
    );
    // the corridor's shade (220, 237, 200) is on the page
    let shaded = pixmap
        .pixels()
        .iter()
        .filter(|p| (p.red(), p.green(), p.blue()) == (220, 237, 200))
        .count();
    assert!(shaded > 1_000, "corridor pixels: {shaded}");
}
