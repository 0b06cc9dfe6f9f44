//! Finding people (issue #18): `GET /customers?q=` by customer number, folded name,
//! prefix and sound, best matches first, and only the customers answered audited.

mod common;

use actix_web::http::{Method, StatusCode};
use common::{Backend, TestApp};
use passgenau_domain::user::Role;
use serde_json::{json, Value};

on_both_backends!(search_finds_spellings_prefixes_and_sounds);

async fn person(t: &TestApp, number: &str, first: &str, last: &str, born: &str) -> String {
    let mut body = TestApp::customer_body(number);
    body["first_name"] = json!(first);
    body["last_name"] = json!(last);
    body["date_of_birth"] = json!(born);
    let r = t.post("/api/v1/customers", Role::Specialist, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// (customer number, match) of a search's answer, in its order.
async fn found(t: &TestApp, query: &str) -> Vec<(String, String)> {
    let r = t
        .get(&format!("/api/v1/customers?{query}"), Role::Specialist)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["customer_number"].as_str().unwrap().to_string(),
                c["match"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn search_finds_spellings_prefixes_and_sounds(b: Backend) {
    let t = TestApp::new(b).unwrap();
    person(&t, "K-1", "Erika", "Müller", "1988-04-12").await;
    person(&t, "K-2", "Hans", "Maier", "1970-01-01").await;
    person(&t, "K-3", "Ute", "Schneider", "1981-05-05").await;
    person(&t, "K-4", "Jürgen", "Groß", "1975-07-07").await;
    let schmidt = person(&t, "K-5", "Anna", "Schmidt", "1990-09-09").await;
    person(&t, "K-6", "Erika", "Mustermann", "1992-02-02").await;
    person(&t, "K-7", "Paul", "Meier", "1969-03-03").await;

    for q in ["q=Mueller", "q=m%C3%BCller", "q=M%C3%9CLLER"] {
        assert_eq!(found(&t, q).await, pairs(&[("K-1", "exact")]), "{q}");
    }
    assert_eq!(found(&t, "q=M%C3%BCl").await, pairs(&[("K-1", "prefix")]));
    assert_eq!(found(&t, "q=GROSS").await, pairs(&[("K-4", "exact")]));
    assert_eq!(found(&t, "q=Gro%C3%9F").await, pairs(&[("K-4", "exact")]));
    assert_eq!(found(&t, "q=k-3").await, pairs(&[("K-3", "number")]));
    // by sound: Meyer finds Maier and Meier; an exact name comes before a sound
    assert_eq!(
        found(&t, "q=Meyer").await,
        pairs(&[("K-2", "phonetic"), ("K-7", "phonetic")])
    );
    assert_eq!(
        found(&t, "q=Maier").await,
        pairs(&[("K-2", "exact"), ("K-7", "phonetic")])
    );
    // Schmidt is not Schneider
    assert_eq!(found(&t, "q=Schmidt").await, pairs(&[("K-5", "exact")]));
    // every word must match; filters combine; limit holds
    assert_eq!(found(&t, "q=erika+mueller").await, pairs(&[("K-1", "exact")]));
    assert_eq!(found(&t, "q=erika").await.len(), 2);
    assert_eq!(
        found(&t, "q=erika&date_of_birth=1992-02-02").await,
        pairs(&[("K-6", "exact")])
    );
    assert_eq!(found(&t, "q=erika&limit=1").await.len(), 1);
    assert_eq!(found(&t, "q=Zyxw").await, pairs(&[]));
    // the list's filter works without q too
    assert_eq!(
        found(&t, "date_of_birth=1990-09-09").await,
        pairs(&[("K-5", "-")])
    );

    // bad searches are refused, not answered with a first page
    for q in [
        "q=",
        "q=%20%20",
        "q=erika&cursor=01a2351a-4875-770c-b54a-76858e75aef0",
    ] {
        t.get(&format!("/api/v1/customers?{q}"), Role::Specialist)
            .await
            .assert_problem(400, "invalid_query");
    }
    t.get("/api/v1/customers?q=erika", Role::Provider)
        .await
        .assert_problem(403, "forbidden");

    // only the customers answered are audited as read
    let reads = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["route"] == "GET /api/v1/customers")
            .map(|e| e["customer_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let before = reads(&t.get("/api/v1/audit?limit=500", Role::Admin).await.body);
    assert_eq!(found(&t, "q=Schmidt").await.len(), 1);
    let after = reads(&t.get("/api/v1/audit?limit=500", Role::Admin).await.body);
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().unwrap(), &schmidt);

    // customers recorded before the index get theirs at start-up
    t.state
        .store
        .write(|conn| {
            // as a database migrated from before the index: no words, not marked complete
            diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM customer_name_words"), conn)?;
            Ok::<_, passgenau_store::StoreError>(diesel::RunQueryDsl::execute(
                diesel::sql_query("DELETE FROM settings WHERE key = 'customer_name_words_complete'"),
                conn,
            )?)
        })
        .unwrap();
    assert_eq!(found(&t, "q=Mueller").await, pairs(&[]));
    let written = passgenau_server::app::customers::index_names(&t.state.store).unwrap();
    assert_eq!(written, 7);
    assert_eq!(found(&t, "q=Mueller").await, pairs(&[("K-1", "exact")]));
    // and once complete, a start does not look again
    assert_eq!(
        passgenau_server::app::customers::index_names(&t.state.store).unwrap(),
        0
    );
    // a changed name is found by its new spelling only
    let r = t
        .req(
            Method::PATCH,
            &format!("/api/v1/customers/{schmidt}"),
            Some(Role::Specialist),
            Some(json!({"last_name": "Schmitz"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(found(&t, "q=Schmitz").await, pairs(&[("K-5", "exact")]));
    assert_eq!(found(&t, "q=Schmidt").await, pairs(&[]));
}
