//! `passgenau-load`: load against a running Passgenau. Each of `--concurrency` threads
//! keeps one HTTP/1.1 keep-alive connection and sends the scenario's requests back to back
//! for `--seconds` (closed loop), or on a fixed schedule with `--rate` (open loop, latency
//! counted from when each request was due); latencies are recorded per request. Prints one summary line and
//! a JSON line. Traffic only goes to the `--base` address given (loopback in the scripts).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser, Clone)]
#[command(about = "HTTP load for Passgenau: closed loop, or open loop with --rate")]
struct Args {
    /// host:port of the server, e.g. 127.0.0.1:8080
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    #[arg(long, default_value = "admin")]
    user: String,
    #[arg(long, env = "PASSGENAU_LOAD_PASSWORD")]
    password: String,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// healthz | availability | customers | search | recommendations | placements | reports | compare |
    /// hostile (half the clients send hostile bodies, the other half read availability) |
    /// logins (the first 4 clients read availability, the others log in with correct
    /// passwords, as `--login-users` accounts made before the run)
    #[arg(long)]
    scenario: String,
    /// Scenario `logins`: how many accounts the clients log in as (made by the admin).
    #[arg(long, default_value_t = 1)]
    login_users: usize,
    /// Before the run: create this many open offers (admin) so rankings have work to do.
    #[arg(long, default_value_t = 0)]
    setup_offers: usize,
    /// Open loop: send this many requests per second in all, spread evenly over the
    /// connections, each on a fixed schedule. A request's latency counts from when it was
    /// due, not from when it was sent, so a slow answer that delays the next request is
    /// charged in full (no coordinated omission). Without it: closed loop, back to back.
    #[arg(long)]
    rate: Option<f64>,
}

/// One keep-alive connection.
struct Conn {
    addr: String,
    reader: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(addr: &str) -> Self {
        Conn {
            addr: addr.to_string(),
            reader: None,
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        for attempt in 0..2 {
            if self.reader.is_none() {
                let s = TcpStream::connect(&self.addr)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(30)))?;
                self.reader = Some(BufReader::new(s));
            }
            match self.try_send(method, path, token, body) {
                Ok(r) => return Ok(r),
                Err(e) if attempt == 0 => {
                    self.reader = None;
                    let _ = e;
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!()
    }

    /// Sends raw bytes as a JSON body (hostile payloads) on a fresh connection: the
    /// server may close it after refusing the body.
    fn send_raw(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        raw: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let s = TcpStream::connect(&self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut reader = BufReader::new(s);
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            raw.len()
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        req.push_str("\r\n");
        reader.get_mut().write_all(req.as_bytes())?;
        // the server may answer 413 before it has read everything
        let _ = reader.get_mut().write_all(raw);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, Vec::new()))
    }

    fn try_send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let reader = self.reader.as_mut().expect("connected");
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if body.is_some() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                payload.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&payload);
        reader.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        let mut close = false;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if h.starts_with("connection:") && h.contains("close") {
                close = true;
            }
        }
        let mut buf = vec![0; len];
        reader.read_exact(&mut buf)?;
        if close {
            self.reader = None;
        }
        Ok((status, buf))
    }
}

/// Bodies a hostile client sends: too large, nested too deep, not UTF-8, absurd numbers,
/// NUL bytes, overlong strings. Each must be refused with a 4xx.
fn hostile_body(n: u64) -> Vec<u8> {
    match n % 6 {
        0 => vec![b'['; 300 * 1024],
        1 => format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        2 => b"{\"first_name\": \"\xff\xfe\xfd\"}".to_vec(),
        3 => b"{\"planned_places\": 1e999999, \"customer_number\": 123456789012345678901234567890}".to_vec(),
        4 => b"{\"first_name\": \"a\\u0000b\"}".to_vec(),
        _ => format!("{{\"last_name\": \"{}\"}}", "x".repeat(200_000)).into_bytes(),
    }
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct Fixture {
    token: String,
    customers: Vec<String>,
    offers: Vec<String>,
    /// Scenario `logins`: the accounts the clients log in as.
    login_users: Vec<String>,
}

/// Scenario `logins`: clients that read availability while the others log in.
const LOGIN_PROBES: usize = 4;
/// The password of the accounts of scenario `logins`.
const LOGIN_PASSWORD: &str = "Lasttest-Anmeldung-2026";

fn prepare(args: &Args) -> Fixture {
    let mut c = Conn::new(&args.addr);
    let (s, body) = c
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": args.user, "password": args.password})),
        )
        .expect("login");
    assert_eq!(s, 200, "login failed: {}", String::from_utf8_lossy(&body));
    let token = json_of(&body)["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    if args.setup_offers > 0 {
        let (_, p) = c
            .send(
                "POST",
                "/api/v1/providers",
                Some(&token),
                Some(&json!({"name": "Lasttest-Träger", "azav_certified_until": "2035-12-31"})),
            )
            .expect("provider");
        let pid = json_of(&p)["id"].as_str().expect("provider id").to_string();
        let codes = ["AVGS_MAT", "AGH", "EGZ", "ESG", "MAG", "P16E"];
        for i in 0..args.setup_offers {
            let (s, b) = c
                .send(
                    "POST",
                    "/api/v1/offers",
                    Some(&token),
                    Some(&json!({
                        "instrument_code": codes[i % codes.len()], "provider_id": pid,
                        "title": format!("Lasttest-Angebot {i}"), "district": format!("Stadtbezirk {}", i % 10 + 1),
                        "starts_on": "2026-01-01", "ends_on": "2035-12-31", "entry": "rolling",
                        "planned_places": 40, "cost_per_place_cents": 100_000
                    })),
                )
                .expect("offer");
            assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
        }
    }
    let mut customers = Vec::new();
    if matches!(args.scenario.as_str(), "recommendations" | "placements") {
        let mut cursor: Option<String> = None;
        while customers.len() < 5_000 {
            let path = match &cursor {
                Some(k) => format!("/api/v1/customers?limit=500&cursor={k}"),
                None => "/api/v1/customers?limit=500".into(),
            };
            let (_, b) = c.send("GET", &path, Some(&token), None).expect("customers");
            let v = json_of(&b);
            for it in v["items"].as_array().cloned().unwrap_or_default() {
                customers.push(it["id"].as_str().unwrap_or_default().to_string());
            }
            match v["next_cursor"].as_str() {
                Some(k) => cursor = Some(k.to_string()),
                None => break,
            }
        }
    }
    let mut offers = Vec::new();
    if args.scenario == "placements" {
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(k) => format!("/api/v1/availability?limit=500&cursor={k}"),
                None => "/api/v1/availability?limit=500".into(),
            };
            let (_, b) = c.send("GET", &path, Some(&token), None).expect("availability");
            let v = json_of(&b);
            for it in v["items"].as_array().cloned().unwrap_or_default() {
                if it["free"].as_i64().unwrap_or(0) > 0 && it["instrument_code"] != "P16I" {
                    offers.push(it["offer_id"].as_str().unwrap_or_default().to_string());
                }
            }
            match v["next_cursor"].as_str() {
                Some(k) => cursor = Some(k.to_string()),
                None => break,
            }
        }
    }
    let mut login_users = Vec::new();
    if args.scenario == "logins" {
        for k in 0..args.login_users.max(1) {
            let name = format!("load-login-{k}");
            let (s, b) = c
                .send(
                    "POST",
                    "/api/v1/users",
                    Some(&token),
                    Some(&json!({"username": name, "password": LOGIN_PASSWORD, "role": "specialist"})),
                )
                .expect("user");
            assert!(s == 201 || s == 409, "{}", String::from_utf8_lossy(&b));
            login_users.push(name);
        }
    }
    Fixture {
        token,
        customers,
        offers,
        login_users,
    }
}

/// The request for call number `n` of worker `w`.
fn request(
    scenario: &str,
    f: &Fixture,
    w: usize,
    n: u64,
    seconds_in: f64,
) -> (&'static str, String, Option<Value>) {
    let mix = (w as u64)
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(n.wrapping_mul(2_654_435_761));
    match scenario {
        "healthz" => ("GET", "/healthz".into(), None),
        "availability" => ("GET", "/api/v1/availability?limit=50".into(), None),
        "customers" => ("GET", "/api/v1/customers?limit=500".into(), None),
        "search" => {
            // spellings, beginnings and sounds of the demo's names
            const QUERIES: &[&str] = &[
                "Mueller",
                "M%C3%BCl",
                "Meier",
                "Schmidt",
                "Sch",
                "Kowalsky",
                "Fischer+Anna",
                "Hofman",
                "Wagner",
                "Richter+Thomas",
            ];
            let q = QUERIES[(mix % QUERIES.len() as u64) as usize];
            ("GET", format!("/api/v1/customers?q={q}&limit=20"), None)
        }
        "recommendations" => {
            let c = &f.customers[(mix % f.customers.len() as u64) as usize];
            (
                "GET",
                format!("/api/v1/customers/{c}/recommendations?limit=20"),
                None,
            )
        }
        "placements" => {
            let c = &f.customers[(mix % f.customers.len() as u64) as usize];
            let o = &f.offers[((mix >> 16) % f.offers.len() as u64) as usize];
            (
                "POST",
                "/api/v1/allocations".into(),
                Some(json!({"customer_id": c, "offer_id": o})),
            )
        }
        "reports" => {
            let r = ["plan", "utilisation", "budget", "target-groups", "outcomes"][(n % 5) as usize];
            ("GET", format!("/api/v1/reports/{r}?year=2021"), None)
        }
        "logins" => {
            if w < LOGIN_PROBES {
                ("GET", "/api/v1/availability?limit=50".into(), None)
            } else {
                let user = &f.login_users[w % f.login_users.len()];
                (
                    "LOGIN",
                    "/api/v1/auth/login".into(),
                    Some(json!({"username": user, "password": LOGIN_PASSWORD})),
                )
            }
        }
        "hostile" => {
            if w.is_multiple_of(2) {
                ("GET", "/api/v1/availability?limit=50".into(), None)
            } else {
                // marked for the worker loop, which sends the raw hostile body itself
                ("HOSTILE", "/api/v1/customers".into(), None)
            }
        }
        // alternate second by second between the in-process ceiling and availability
        "compare" => {
            if (seconds_in as u64).is_multiple_of(2) {
                ("GET", "/healthz".into(), None)
            } else {
                ("GET", "/api/v1/availability?limit=50".into(), None)
            }
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// How much of `[0, elapsed)` falls into even (`even`) or odd seconds.
fn phase_seconds(elapsed: f64, even: bool) -> f64 {
    let mut total = 0.0;
    let mut second = 0u64;
    while (second as f64) < elapsed {
        if second.is_multiple_of(2) == even {
            total += (elapsed - second as f64).min(1.0);
        }
        second += 1;
    }
    total
}

fn main() {
    let args = Args::parse();
    let fixture = Arc::new(prepare(&args));
    if (args.scenario == "recommendations" || args.scenario == "placements") && fixture.customers.is_empty() {
        panic!("no customers: seed the database first");
    }
    if args.scenario == "placements" && fixture.offers.is_empty() {
        panic!("no offer with a free place");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..args.concurrency)
        .map(|w| {
            let f = fixture.clone();
            let stop = stop.clone();
            let errors = errors.clone();
            let args = args.clone();
            std::thread::spawn(move || {
                let mut c = Conn::new(&args.addr);
                // (latency µs, status, label)
                let mut lat: Vec<(u64, u16, &'static str)> = Vec::with_capacity(100_000);
                let mut n = 0u64;
                // open loop: connection w sends at w/C of the interval, then every C/rate s
                let interval = args
                    .rate
                    .map(|r| Duration::from_secs_f64(args.concurrency as f64 / r));
                let phase = interval.map(|i| i.mul_f64(w as f64 / args.concurrency as f64));
                while !stop.load(Ordering::Relaxed) {
                    let t = start.elapsed().as_secs_f64();
                    let (method, path, body) = request(&args.scenario, &f, w, n, t);
                    let label = if path.starts_with("/healthz") {
                        "healthz"
                    } else if method == "HOSTILE" {
                        "hostile"
                    } else if method == "LOGIN" {
                        "login"
                    } else {
                        "api"
                    };
                    let t0 = match (interval, phase) {
                        (Some(i), Some(p)) => {
                            let due = start + p + i.mul_f64(n as f64);
                            let now = Instant::now();
                            if due > now {
                                std::thread::sleep(due - now);
                            }
                            due
                        }
                        _ => Instant::now(),
                    };
                    let result = if method == "HOSTILE" {
                        c.send_raw("POST", &path, Some(&f.token), &hostile_body(n))
                    } else if method == "LOGIN" {
                        c.send("POST", &path, None, body.as_ref())
                    } else {
                        c.send(method, &path, Some(&f.token), body.as_ref())
                    };
                    match result {
                        Ok((status, _)) => lat.push((t0.elapsed().as_micros() as u64, status, label)),
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    n += 1;
                }
                lat
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(args.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<(u64, u16, &'static str)> = Vec::new();
    for h in handles {
        all.extend(h.join().expect("worker"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut statuses: std::collections::BTreeMap<u16, u64> = Default::default();
    for (_, s, _) in &all {
        *statuses.entry(*s).or_default() += 1;
    }
    let summarise = |label: Option<&str>| {
        let mut l: Vec<u64> = all
            .iter()
            .filter(|x| label.is_none_or(|lb| x.2 == lb))
            .map(|x| x.0)
            .collect();
        l.sort_unstable();
        // compare: each label had the even or the odd seconds of the run, which are not
        // half of it each when the run lasts an odd number of seconds
        let seconds = match label {
            Some(lb) if args.scenario == "compare" => phase_seconds(elapsed, lb == "healthz"),
            _ => elapsed,
        };
        json!({
            "requests": l.len(),
            "rps": (l.len() as f64 / seconds).round(),
            "p50_ms": percentile(&l, 0.50),
            "p90_ms": percentile(&l, 0.90),
            "p99_ms": percentile(&l, 0.99),
            "max_ms": percentile(&l, 1.0),
        })
    };
    let mut out = json!({
        "scenario": args.scenario,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "seconds": (elapsed * 10.0).round() / 10.0,
        "all": summarise(None),
        "statuses": statuses,
        "io_errors": errors.load(Ordering::Relaxed),
    });
    if args.scenario == "compare" {
        out["healthz"] = summarise(Some("healthz"));
        out["availability"] = summarise(Some("api"));
    }
    if args.scenario == "hostile" {
        out["availability"] = summarise(Some("api"));
        out["hostile"] = summarise(Some("hostile"));
    }
    if args.scenario == "logins" {
        out["availability"] = summarise(Some("api"));
        out["logins"] = summarise(Some("login"));
    }
    let a = &out["all"];
    let summary = format!(
        "{}: {} requests in {:.1}s, {} req/s, p50 {:.2} ms, p99 {:.2} ms, statuses {}",
        args.scenario,
        a["requests"],
        elapsed,
        a["rps"],
        a["p50_ms"].as_f64().unwrap_or(0.0),
        a["p99_ms"].as_f64().unwrap_or(0.0),
        out["statuses"]
    );
    // A reader that stops early (`| head -1`) is not an error of the run.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{summary}").and_then(|()| writeln!(stdout, "{out}"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn phases_of_an_odd_run() {
        // 5 s: healthz had seconds 0, 2 and 4, availability 1 and 3
        assert_eq!(super::phase_seconds(5.0, true), 3.0);
        assert_eq!(super::phase_seconds(5.0, false), 2.0);
        assert!((super::phase_seconds(4.5, true) - 2.5).abs() < 1e-9);
        assert!((super::phase_seconds(4.5, false) - 2.0).abs() < 1e-9);
    }
}
