//! The `passgenau` command line: serve the API, migrate, manage users, seed, solve. The
//! binary (`src/main.rs` of the workspace root) only calls [`main`].

use passgenau_domain::ids::{CustomerId, ProviderId};
use std::io::Read;

use crate::config::{self, DEFAULT_DATABASE_URL};
use clap::{Parser, Subcommand};
use passgenau_domain::user::Role;

#[derive(Parser)]
#[command(
    name = "passgenau",
    version,
    about = "Case management and allocation for a Jobcenter (SGB II)"
)]
struct Cli {
    /// SQLite file (default) or postgres:// URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database if needed and serve the API.
    Serve {
        /// Address and port to listen on (0.0.0.0:8080 for every interface).
        #[arg(long, env = "PASSGENAU_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Worker threads (default: one per core).
        #[arg(long, env = "PASSGENAU_WORKERS")]
        workers: Option<usize>,
        /// Database connections per instance.
        #[arg(long, env = "PASSGENAU_DB_POOL_SIZE", default_value_t = 16)]
        pool_size: u32,
        /// Threads for database work per instance (default: SQLite 4 per core, PostgreSQL
        /// one per pooled connection). More threads than SQLite can use only add context
        /// switches (docs/benchmarks.md).
        #[arg(long, env = "PASSGENAU_DB_THREADS")]
        db_threads: Option<usize>,
        /// Also serve /healthz, /readyz and /metrics without authentication here.
        #[arg(long, env = "PASSGENAU_OPS_BIND")]
        ops_bind: Option<String>,
    },
    /// Migrate the database and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Solve a min-cost-flow problem in DIMACS format; prints {"status", "cost", "solve_ms"}.
    Solve {
        /// The problem file (DIMACS min-cost-flow format).
        #[arg(long)]
        dimacs: std::path::PathBuf,
    },
    /// Plan a cohort now (with a progress bar) and store its proposals, like
    /// POST /allocation-runs; prints the run's figures.
    Allocate {
        /// A customer of the cohort (repeat the option for more); none: every customer
        /// the filters select.
        #[arg(long = "customer-id")]
        customer_ids: Vec<CustomerId>,
        /// Only customers of this target group (e.g. long_term_unemployed).
        #[arg(long)]
        target_group: Option<String>,
        /// Only customers of this district (Stadtbezirk).
        #[arg(long)]
        district: Option<String>,
        /// Only offers of this instrument (repeat for more); none: every open offer.
        #[arg(long = "instrument")]
        instruments: Vec<String>,
        /// The day the rules are applied on (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Load data.
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Import households and customers from a CSV or NDJSON file (docs/import.md), with a
    /// progress bar; each line is written whole or not at all, and a second run of the
    /// same file changes nothing. Prints the counts and the rejected lines.
    Import {
        /// The file to import.
        file: std::path::PathBuf,
        /// `ndjson` or `csv` (default: `csv` for a `.csv` file, else `ndjson`).
        #[arg(long, value_parser = parse_format)]
        format: Option<passgenau_domain::import::ImportFormat>,
        /// Rejected lines to print (all are counted).
        #[arg(long, default_value_t = 20)]
        show_rejected: usize,
    },
    /// Erase closed cases whose retention period has ended (the server also runs this
    /// daily).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Seal and verify the audit log (docs/data-protection.md, "The audit log").
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent copy of the SQLite database to a new file while the server
    /// runs (restore: stop the server and put the copy in the database's place; README,
    /// "Keys and backups"). For PostgreSQL, use its own tools (pg_dump, pg_basebackup).
    Backup {
        /// The new file (an existing one is never overwritten).
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Erase every closed case without a legal hold whose retention period
    /// (`PASSGENAU_RETENTION_YEARS`, default 10) has ended; prints the counts.
    Run {
        /// Only count the cases that are due; erase none.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check that no sealed audit entry was changed, inserted or removed: exit 0, or
    /// exit 1 naming the first break. Prints the chain's head to note for later.
    Verify {
        /// A head printed by an earlier verify (`PLACE:SEAL`): it must still be in the
        /// chain, which shows that no newest entries were cut off since.
        #[arg(long, value_parser = parse_head)]
        expect_head: Option<(i64, String)>,
    },
    /// Seal every entry written so far (the server does it every
    /// `PASSGENAU_AUDIT_SEAL_S` seconds).
    Seal,
}

fn parse_head(s: &str) -> Result<(i64, String), String> {
    let (pos, seal) = s.split_once(':').ok_or("PLACE:SEAL, as verify prints it")?;
    let pos = pos
        .parse::<i64>()
        .map_err(|_| "PLACE must be a number".to_string())?;
    if seal.len() != 64 || !seal.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("SEAL must be 64 hexadecimal digits".into());
    }
    Ok((pos, seal.to_ascii_lowercase()))
}

#[derive(Subcommand)]
enum SeedCommand {
    /// The AMIP 2021 demo: catalogue, plans, providers, offers, a synthetic population,
    /// placements, and one user per role (their passwords are printed).
    Demo {
        /// Customers to create (1,000–200,000).
        #[arg(long, default_value_t = 45_000)]
        customers: usize,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Load even if the database holds other data.
        #[arg(long)]
        force: bool,
    },
    /// Write the demo's population (households and customers) as an import file
    /// (NDJSON, docs/import.md) instead of loading it; no database is opened.
    Export {
        /// The import file to write (NDJSON).
        file: std::path::PathBuf,
        /// Customers to write (1,000–1,000,000).
        #[arg(long, default_value_t = 45_000)]
        customers: usize,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// The login name (case is ignored when logging in).
        #[arg(long)]
        username: String,
        /// admin, specialist, provider or reporting.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The provider a provider user acts for (required for that role).
        #[arg(long)]
        provider_id: Option<ProviderId>,
    },
    /// Set a user's password, read from standard input: for an admin who cannot log in
    /// to the API any more.
    ResetPassword {
        /// The user whose password is set.
        #[arg(long)]
        username: String,
    },
}

fn parse_format(s: &str) -> Result<passgenau_domain::import::ImportFormat, String> {
    match s {
        "ndjson" => Ok(passgenau_domain::import::ImportFormat::Ndjson),
        "csv" => Ok(passgenau_domain::import::ImportFormat::Csv),
        _ => Err("ndjson or csv".into()),
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "one of admin, specialist, provider, reporting".to_string())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PASSGENAU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("PASSGENAU_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Parses the command line and runs it; exits the process with the command's status.
pub fn main() {
    init_tracing();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("passgenau: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> config::anyhow_like::Result<()> {
    let secret = std::env::var("PASSGENAU_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let db = Db {
        url: &cli.database_url,
        secret: secret.as_deref(),
    };
    match cli.command {
        Command::Serve {
            bind,
            workers,
            pool_size,
            db_threads,
            ops_bind,
        } => serve(db, &bind, workers, pool_size, db_threads, ops_bind),
        Command::Migrate => migrate(db),
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    provider_id,
                },
        } => user_add(db, &username, role, provider_id),
        Command::User {
            command: UserCommand::ResetPassword { username },
        } => user_reset_password(db, &username),
        Command::Seed {
            command:
                SeedCommand::Demo {
                    customers,
                    seed,
                    force,
                },
        } => seed_demo(db, customers, seed, force),
        Command::Seed {
            command:
                SeedCommand::Export {
                    file,
                    customers,
                    seed,
                },
        } => seed_export(&file, customers, seed),
        Command::Allocate {
            customer_ids,
            target_group,
            district,
            instruments,
            as_of,
        } => allocate(db, customer_ids, target_group, district, instruments, as_of),
        Command::Solve { dimacs } => solve(&dimacs),
        Command::Import {
            file,
            format,
            show_rejected,
        } => import(db, &file, format, show_rejected),
        Command::Backup { to } => backup(db, &to),
        Command::Retention {
            command: RetentionCommand::Run { dry_run },
        } => retention_run(db, dry_run),
        Command::Audit {
            command: AuditCommand::Verify { expect_head },
        } => audit_verify(db, expect_head),
        Command::Audit {
            command: AuditCommand::Seal,
        } => audit_seal(db),
        Command::Openapi => {
            print!("{}", crate::openapi::spec_json());
            Ok(())
        }
    }
}

/// The database every subcommand opens, and the token secret from the environment.
#[derive(Clone, Copy)]
struct Db<'a> {
    url: &'a str,
    secret: Option<&'a str>,
}

impl Db<'_> {
    /// For `serve`.
    fn prepare(self, pool_size: u32) -> config::anyhow_like::Result<crate::state::AppState> {
        config::prepare(self.url, self.secret, pool_size)
    }

    /// For a command that exits when done (`config::prepare_for_command`).
    fn prepare_command(self, pool_size: u32) -> config::anyhow_like::Result<crate::state::AppState> {
        config::prepare_for_command(self.url, self.secret, pool_size)
    }
}

type CliResult = config::anyhow_like::Result<()>;

/// `serve`: migrate if needed and serve until SIGTERM or SIGINT.
fn serve(
    db: Db,
    bind: &str,
    workers: Option<usize>,
    pool_size: u32,
    db_threads: Option<usize>,
    ops_bind: Option<String>,
) -> CliResult {
    let state = db.prepare(pool_size)?;
    let origins = config::cors_origins(std::env::var("PASSGENAU_CORS_ORIGINS").ok().as_deref());
    tracing::info!(bind, backend = ?state.store.backend(), "serving");
    let workers = workers.unwrap_or_else(cores).max(1);
    let db_threads = db_threads.unwrap_or(match state.store.backend() {
        // SQLite works in-process: a few threads per core keep both cores busy;
        // a thread per client (64 at 64 clients) only adds context switches: a longer p99
        // at lower throughput (docs/benchmarks.md).
        passgenau_store::Backend::Sqlite => 4 * cores(),
        // PostgreSQL: a thread waits for each round trip, so one per connection.
        passgenau_store::Backend::Postgres => pool_size as usize,
    });
    let worker = state.start_worker();
    crate::app::housekeeping::start(&state)?;
    let served = actix_web::rt::System::new().block_on(async move {
        // actix handles SIGTERM/SIGINT: stop accepting, drain in-flight requests
        // (up to the shutdown timeout), then return, and the process exits 0.
        let ops_state = state.clone();
        let api = actix_web::HttpServer::new(move || crate::router::build(state.clone(), &origins))
            .workers(workers)
            .worker_max_blocking_threads(db_threads.div_ceil(workers).max(1))
            .shutdown_timeout(30)
            .bind(bind)?
            .run();
        match ops_bind {
            Some(ops) => {
                let ops = actix_web::HttpServer::new(move || crate::router::build_ops(ops_state.clone()))
                    .workers(1)
                    .bind(&ops)?
                    .run();
                let (a, b) = futures_util::future::join(api, ops).await;
                a.and(b)
            }
            None => api.await,
        }
    });
    // requests are drained; the cohort worker finishes or hands back its run (30 s of
    // draining + 8 s stay within docker-compose.yml's stop_grace_period of 40 s)
    worker.stop(std::time::Duration::from_secs(8));
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// `migrate`: migrate and exit.
fn migrate(db: Db) -> CliResult {
    let state = db.prepare_command(2)?;
    drop(state);
    println!("migrated");
    Ok(())
}

/// `user add`: a user with the password read from standard input.
fn user_add(db: Db, username: &str, role: Role, provider_id: Option<ProviderId>) -> CliResult {
    let state = db.prepare_command(2)?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let user = crate::app::users::add(&state.store, None, username, password, role, provider_id)
        .map_err(|e| crate::error::ApiError::from(e).to_string())?;
    println!("added user {} ({})", user.username, user.role.as_str());
    Ok(())
}

/// `user reset-password`: a new password, read from standard input, checked like a new
/// user's.
fn user_reset_password(db: Db, username: &str) -> CliResult {
    let state = db.prepare_command(2)?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    crate::app::users::reset_password(&state.store, username, password)
        .map_err(|e| crate::error::ApiError::from(e).to_string())?;
    println!("set a new password for {username}");
    Ok(())
}

/// `backup --to FILE`.
fn backup(db: Db, to: &std::path::Path) -> CliResult {
    use passgenau_store::connection::{parse_url, Backend};
    if let (Backend::Sqlite, file) = parse_url(db.url) {
        // opening a file that is not there would make an empty database to back up
        if !std::path::Path::new(&file).exists() {
            return Err(format!("{file}: no such database").into());
        }
    }
    let store = passgenau_store::db::Store::open(
        db.url,
        &passgenau_store::db::StoreOptions {
            min_idle: 0,
            ..Default::default()
        },
    )?;
    let started = std::time::Instant::now();
    let written = store
        .backup_to(to)
        .map_err(|e| format!("the backup failed: {e}"))?;
    if !written {
        return Err(
            "a PostgreSQL database is backed up with its own tools: pg_dump for a \
                    copy, pg_basebackup with WAL archiving for point-in-time recovery \
                    (README, \"Keys and backups\")"
                .into(),
        );
    }
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up to {} ({} bytes) in {:.1} s",
        to.display(),
        bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `retention run`: erase (or with `dry_run` count) the closed cases that are due.
fn retention_run(db: Db, dry_run: bool) -> CliResult {
    let state = db.prepare_command(2)?;
    let report = crate::app::lifecycle::run_retention(
        &state.store,
        state.retention_years,
        crate::app::today(),
        dry_run,
    )
    .map_err(|e| crate::error::ApiError::from(e).to_string())?;
    let before = report
        .closed_on_or_before
        .map_or_else(|| "-".to_string(), |d| d.to_string());
    if dry_run {
        println!(
            "{} closed cases are due for erasure (closed on or before {before}, retention {} years); none erased (dry run)",
            report.due, state.retention_years
        );
    } else {
        println!(
            "erased {} of {} closed cases due (closed on or before {before}, retention {} years){}",
            report.erased,
            report.due,
            state.retention_years,
            if report.failed > 0 {
                format!("; {} failed and stay due (see the log)", report.failed)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// `audit verify`: walk the chain; exit 1 naming the first break.
fn audit_verify(db: Db, expect_head: Option<(i64, String)>) -> CliResult {
    let state = db.prepare_command(2)?;
    let expect = expect_head.as_ref().map(|(p, s)| (*p, s.as_str()));
    let v = crate::app::audit_seal::verify(&state.store, &state.audit_key, expect)
        .map_err(|e| crate::error::ApiError::from(e).to_string())?;
    if let Some(b) = &v.first_break {
        return Err(format!("the audit log was tampered with: {b}").into());
    }
    match &v.head {
        Some((pos, seal)) => println!("{} sealed audit entries verified; head {pos}:{seal}", v.sealed),
        None => println!("no sealed audit entries yet"),
    }
    if v.unsealed > 0 {
        let oldest = v.oldest_unsealed.map(|t| t.to_rfc3339()).unwrap_or_default();
        println!(
            "{} entries not sealed yet (oldest {oldest}): the server seals them within PASSGENAU_AUDIT_SEAL_S, or run `passgenau audit seal`",
            v.unsealed
        );
    }
    Ok(())
}

/// `audit seal`: seal what is written so far.
fn audit_seal(db: Db) -> CliResult {
    let state = db.prepare_command(2)?;
    let n = crate::app::audit_seal::seal_pending(&state.store, &state.audit_key)
        .map_err(|e| crate::error::ApiError::from(e).to_string())?;
    println!("sealed {n} audit entries");
    Ok(())
}

/// `import FILE`: the file through the import, with a progress bar by bytes.
fn import(
    db: Db,
    file: &std::path::Path,
    format: Option<passgenau_domain::import::ImportFormat>,
    show_rejected: usize,
) -> CliResult {
    use crate::app::imports;
    use passgenau_domain::import::ImportStatus;
    let format = format.unwrap_or_else(|| crate::app::import_format::format_of(file));
    let input = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let size = input.metadata()?.len();
    let state = db.prepare_command(4)?;
    let actor = imports::Actor {
        name: "cli:import".into(),
        role: Role::Admin.as_str().into(),
        route: "passgenau import".into(),
    };
    let job = imports::create(&state.store, format, size, &actor.name)
        .map_err(|e| crate::error::ApiError::from(e).to_string())?;
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bar:30} {msg} {elapsed_precise} (ETA {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let job = imports::run(
        &state.store,
        job,
        std::io::BufReader::with_capacity(1 << 20, input),
        &actor,
        crate::app::today(),
        &mut |j| {
            bar.set_position(u64::try_from(j.bytes_read).unwrap_or(0));
            bar.set_message(format!(
                "{} lines: {} new, {} updated, {} unchanged, {} rejected",
                j.lines, j.counts.imported, j.counts.updated, j.counts.unchanged, j.counts.rejected
            ));
        },
    );
    bar.finish_and_clear();
    println!(
        "import {}: {} lines in {:.1} s: {} imported, {} updated, {} unchanged, {} rejected",
        job.id,
        job.lines,
        started.elapsed().as_secs_f64(),
        job.counts.imported,
        job.counts.updated,
        job.counts.unchanged,
        job.counts.rejected
    );
    for r in job.rejected.iter().take(show_rejected) {
        println!(
            "  line {}: {}{}",
            r.line,
            r.field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default(),
            r.message
        );
    }
    if job.rejected.len() > show_rejected || job.counts.rejected > job.rejected.len() as u64 {
        println!(
            "  … {} rejected lines in all; GET /api/v1/imports/{} lists the first {}",
            job.counts.rejected,
            job.id,
            job.rejected.len()
        );
    }
    match job.status {
        ImportStatus::Failed => Err(job.error.unwrap_or_else(|| "the import failed".into()).into()),
        _ => Ok(()),
    }
}

/// `seed export`: the demo population as an import file.
fn seed_export(file: &std::path::Path, customers: usize, seed: u64) -> CliResult {
    let started = std::time::Instant::now();
    let out = std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let (households, people) = crate::demo::export(&mut out, customers, seed)?;
    std::io::Write::flush(&mut out)?;
    println!(
        "wrote {households} households and {people} customers to {} in {:.1} s",
        file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `seed demo`: the AMIP 2021 demo.
fn seed_demo(db: Db, customers: usize, seed: u64, force: bool) -> CliResult {
    let state = db.prepare_command(4)?;
    let started = std::time::Instant::now();
    let summary = crate::demo::demo(
        &state.store,
        &crate::demo::DemoOptions {
            customers,
            seed,
            force,
            progress: true,
        },
    )?;
    if summary.already_loaded {
        println!("the demo (seed {seed}, {customers} customers) is already loaded: nothing to do");
        return Ok(());
    }
    println!(
        "loaded {} customers in {} Bedarfsgemeinschaften ({} minor children), {} offers, {} placements in {:.1} s",
        summary.customers,
        summary.households,
        summary.children,
        summary.offers,
        summary.placements,
        started.elapsed().as_secs_f64()
    );
    if !summary.users.is_empty() {
        println!("users (write the passwords down: they are shown once):");
        for (name, role, password) in &summary.users {
            println!("  {name:<16} {:<11} {password}", role.as_str());
        }
    }
    Ok(())
}

/// `allocate`: plan a cohort now, with a progress bar, and store its proposals.
fn allocate(
    db: Db,
    customer_ids: Vec<CustomerId>,
    target_group: Option<String>,
    district: Option<String>,
    instruments: Vec<String>,
    as_of: Option<chrono::NaiveDate>,
) -> CliResult {
    use crate::app::cohort_runs::{execute, Heartbeat, RunFilter, RunRequest};
    let state = db.prepare_command(4)?;
    let target_group = target_group
        .map(|g| {
            serde_json::from_value(serde_json::Value::String(g)).map_err(|e| format!("--target-group: {e}"))
        })
        .transpose()?;
    let req = RunRequest {
        customer_ids: (!customer_ids.is_empty()).then_some(customer_ids),
        filter: (target_group.is_some() || district.is_some()).then_some(RunFilter {
            target_group,
            district,
        }),
        instrument_codes: (!instruments.is_empty()).then_some(instruments),
        as_of,
    };
    let id = passgenau_domain::ids::new_id();
    let request = serde_json::to_string(&req)?;
    state
        .store
        .write(|conn| passgenau_store::runs::create(conn, id, &request, "cli"))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} scoring {pos}/{len} customers {bar:30} {elapsed_precise}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let claim = state
        .store
        .write(|conn| passgenau_store::runs::mark_running(conn, id))?;
    let mut beat = Heartbeat::new(&state.store, id, &claim);
    let outcome = execute(
        &state.store,
        &state.rules,
        &state.scoring,
        id,
        &claim,
        &req,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            // the heartbeat keeps a server's worker from taking the run over
            beat.beat(done, total)
        },
    )
    .and_then(|o| o.ok_or_else(|| "the run was taken over by another worker".to_string()));
    bar.finish_and_clear();
    match outcome {
        Ok(o) => {
            println!(
                "run {id}: {} customers, {} offers, {} arcs, {} assigned, objective {}, optimal {}, {} ms; decide with the API",
                o.customers, o.offers, o.arcs, o.assigned, o.objective, o.optimal, o.duration_ms
            );
            Ok(())
        }
        Err(e) => {
            let _ = state
                .store
                .write(|conn| passgenau_store::runs::fail(conn, id, &claim, &e));
            Err(e.into())
        }
    }
}

/// `solve`: a DIMACS min-cost-flow problem, one JSON line.
fn solve(dimacs: &std::path::Path) -> CliResult {
    let text = std::fs::read_to_string(dimacs).map_err(|e| format!("{}: {e}", dimacs.display()))?;
    let net = passgenau_allocation::dimacs::parse(&text).map_err(|e| format!("{}: {e}", dimacs.display()))?;
    drop(text);
    let started = std::time::Instant::now();
    let sol = passgenau_allocation::flow::solve(&net);
    let solve_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = match sol.status {
        passgenau_allocation::flow::Status::Optimal => "optimal",
        passgenau_allocation::flow::Status::Infeasible => "infeasible",
        passgenau_allocation::flow::Status::Failed => "failed",
    };
    let cost = if status == "optimal" {
        sol.cost.to_string()
    } else {
        "null".into()
    };
    println!("{{\"status\": \"{status}\", \"cost\": {cost}, \"solve_ms\": {solve_ms:.3}}}");
    if status == "failed" {
        return Err("the solution failed its optimality certificate".into());
    }
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    /// `passgenau … --help` says what every option and argument does.
    #[test]
    fn every_option_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "passgenau", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }
}
