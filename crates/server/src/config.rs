//! Configuration from flags and environment, and what `serve` needs at start-up.

use passgenau_store::{settings, Store};
use rand::RngCore;

use crate::state::AppState;
use crate::tokens::Tokens;

/// Default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "passgenau.db";
/// Tokens live for a working day.
pub const DEFAULT_TOKEN_TTL_SECONDS: i64 = 8 * 3600;

/// Opens the database, migrates it, installs the built-in catalogue and loads the keys:
/// the token secret from `PASSGENAU_JWT_SECRET`, else `PASSGENAU_JWT_SECRET_FILE`, else
/// one created once and kept in the database, so tokens survive restarts and hold across
/// instances; the pseudonym key alike (`PASSGENAU_PSEUDONYM_KEY_FILE`). What a database
/// backup exposes when the keys are kept in it: README, "Keys and backups".
pub fn prepare(
    database_url: &str,
    jwt_secret: Option<&str>,
    pool_size: u32,
) -> anyhow_like::Result<AppState> {
    prepare_pool(database_url, jwt_secret, pool_size, 1)
}

/// [`prepare`] for a command that exits when done: its pool opens connections only when
/// asked (`StoreOptions::min_idle`).
pub fn prepare_for_command(
    database_url: &str,
    jwt_secret: Option<&str>,
    pool_size: u32,
) -> anyhow_like::Result<AppState> {
    prepare_pool(database_url, jwt_secret, pool_size, 0)
}

fn prepare_pool(
    database_url: &str,
    jwt_secret: Option<&str>,
    pool_size: u32,
    min_idle: u32,
) -> anyhow_like::Result<AppState> {
    let options = passgenau_store::db::StoreOptions {
        pool_size,
        min_idle,
        sqlite_busy_timeout_ms: std::env::var("PASSGENAU_SQLITE_BUSY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(passgenau_store::connection::SQLITE_BUSY_TIMEOUT_MS),
        ..Default::default()
    };
    prepare_with(database_url, jwt_secret, &options)
}

/// A key from a file: its content without surrounding whitespace, at least 32 bytes.
fn key_file(var: &str) -> anyhow_like::Result<Option<Vec<u8>>> {
    let Some(path) = std::env::var(var).ok().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{var} {path}: {e}"))?;
    let key = text.trim();
    if key.len() < 32 {
        return Err(format!("{var} {path}: the key must be at least 32 bytes").into());
    }
    Ok(Some(key.as_bytes().to_vec()))
}

/// A key kept in the database's settings, made once.
fn kept_key(store: &Store, name: &str) -> anyhow_like::Result<Vec<u8>> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let fresh = hex::encode(bytes);
    Ok(store
        .read(|conn| settings::get_or_insert(conn, name, &fresh))?
        .into_bytes())
}

/// The retention period of closed cases in years: `PASSGENAU_RETENTION_YEARS` (1–100,
/// default 10: § 84 SGB X with the Jobcenter's retention rules, domain-rules.md).
fn retention_years() -> anyhow_like::Result<u32> {
    match std::env::var("PASSGENAU_RETENTION_YEARS")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => Ok(10),
        Some(v) => match v.parse::<u32>() {
            Ok(y @ 1..=100) => Ok(y),
            _ => {
                Err(format!("PASSGENAU_RETENTION_YEARS: {v:?} is not a number of years from 1 to 100").into())
            }
        },
    }
}

/// A boolean setting: `true`/`false` (also `1`/`0`, `yes`/`no`), else `default`.
fn flag(var: &str, default: bool) -> anyhow_like::Result<bool> {
    match std::env::var(var).ok().as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(format!("{var}: {other:?} is neither true nor false").into()),
    }
}

/// [`prepare`] with the store's options given instead of read from the environment.
pub fn prepare_with(
    database_url: &str,
    jwt_secret: Option<&str>,
    options: &passgenau_store::db::StoreOptions,
) -> anyhow_like::Result<AppState> {
    let store = Store::open(database_url, options)?;
    store.migrate()?;
    store.write(passgenau_store::instruments::ensure_builtin)?;
    let indexed = crate::app::customers::index_names(&store).map_err(|e| format!("the name index: {e}"))?;
    if indexed > 0 {
        tracing::info!(
            customers = indexed,
            "name index written for customers recorded before it"
        );
    }
    let secret = match jwt_secret {
        Some(s) if s.len() >= 32 => s.as_bytes().to_vec(),
        Some(_) => return Err("PASSGENAU_JWT_SECRET must be at least 32 bytes".into()),
        None => match key_file("PASSGENAU_JWT_SECRET_FILE")? {
            Some(key) => key,
            None => kept_key(&store, "jwt_secret")?,
        },
    };
    let ttl = std::env::var("PASSGENAU_TOKEN_TTL_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(DEFAULT_TOKEN_TTL_SECONDS);
    let engine = EngineConfig::load()?;
    let pseudonym_key = match key_file("PASSGENAU_PSEUDONYM_KEY_FILE")? {
        Some(key) => key,
        None => kept_key(&store, "pseudonym_key")?,
    };
    let audit_key = match key_file("PASSGENAU_AUDIT_KEY_FILE")? {
        Some(key) => key,
        None => kept_key(&store, "audit_seal_key")?,
    };
    let oidc = match crate::oidc::OidcSettings::from_env()? {
        Some(settings) => Some(std::sync::Arc::new(crate::oidc::Oidc::new(settings, ttl)?)),
        None => None,
    };
    let trusted_proxies =
        crate::net::parse_trusted_proxies(&std::env::var("PASSGENAU_TRUSTED_PROXIES").unwrap_or_default())?;
    Ok(AppState {
        store,
        tokens: Tokens::new(&secret, ttl),
        rules: std::sync::Arc::new(engine.rule_book()?),
        scoring: std::sync::Arc::new(engine.scoring),
        pseudonym_key: std::sync::Arc::new(pseudonym_key),
        audit_key: std::sync::Arc::new(audit_key),
        retention_years: retention_years()?,
        offer_snapshot: Default::default(),
        run_signal: Default::default(),
        availability: Default::default(),
        sessions: Default::default(),
        oidc,
        trusted_proxies: std::sync::Arc::new(trusted_proxies),
        local_login: flag("PASSGENAU_LOCAL_LOGIN", true)?,
        imports: std::sync::Arc::new(ImportSettings::from_env()?),
    })
}

/// Largest upload taken by default; larger files go through `passgenau import FILE`,
/// which streams any size.
pub const DEFAULT_IMPORT_MAX_BYTES: u64 = 512 << 20;

/// Uploads of `POST /imports`: spooled in `PASSGENAU_IMPORT_DIR` (default the system's
/// temporary directory), at most `PASSGENAU_IMPORT_MAX_BYTES` each (default 512 MiB).
#[derive(Debug, Clone)]
pub struct ImportSettings {
    /// Spool directory.
    pub dir: std::path::PathBuf,
    pub max_bytes: u64,
}

impl ImportSettings {
    pub fn from_env() -> anyhow_like::Result<ImportSettings> {
        let dir = match std::env::var("PASSGENAU_IMPORT_DIR") {
            Ok(d) if !d.is_empty() => std::path::PathBuf::from(d),
            _ => std::env::temp_dir(),
        };
        let max_bytes = match std::env::var("PASSGENAU_IMPORT_MAX_BYTES") {
            Ok(v) if !v.is_empty() => v
                .parse()
                .map_err(|_| format!("PASSGENAU_IMPORT_MAX_BYTES: {v:?} is not a number of bytes"))?,
            _ => DEFAULT_IMPORT_MAX_BYTES,
        };
        Ok(ImportSettings { dir, max_bytes })
    }
}

/// The engine's configuration file (`PASSGENAU_CONFIG`, JSON): administrative practice of
/// the eligibility rules and the scoring factors. Anything left out keeps its default;
/// an unknown key is an error, so a typo cannot silently change nothing.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// One set of parameters for every day.
    pub eligibility: Option<passgenau_domain::eligibility::RuleParams>,
    /// Parameters over time: `[{valid_from, params}]`, each in force from its day until
    /// the next one's (the earliest also before its day). Not together with `eligibility`.
    pub eligibility_versions: Option<Vec<passgenau_domain::eligibility::ParamVersion>>,
    pub scoring: passgenau_allocation::ScoringConfig,
}

impl EngineConfig {
    /// The versioned parameters the rules use.
    pub fn rule_book(&self) -> anyhow_like::Result<passgenau_domain::eligibility::RuleBook> {
        use passgenau_domain::eligibility::{ParamVersion, RuleBook, RECORD_START};
        let versions = match (&self.eligibility, &self.eligibility_versions) {
            (Some(_), Some(_)) => {
                return Err("PASSGENAU_CONFIG: give `eligibility` or `eligibility_versions`, not both".into())
            }
            (Some(params), None) => vec![ParamVersion {
                valid_from: RECORD_START,
                params: params.clone(),
            }],
            (None, Some(versions)) => versions.clone(),
            (None, None) => return Ok(RuleBook::default()),
        };
        Ok(RuleBook::new(versions).map_err(|e| format!("PASSGENAU_CONFIG: {e}"))?)
    }

    pub fn load() -> anyhow_like::Result<EngineConfig> {
        match std::env::var("PASSGENAU_CONFIG") {
            Ok(path) if !path.is_empty() => {
                let text =
                    std::fs::read_to_string(&path).map_err(|e| format!("PASSGENAU_CONFIG {path}: {e}"))?;
                Ok(serde_json::from_str(&text).map_err(|e| format!("PASSGENAU_CONFIG {path}: {e}"))?)
            }
            _ => Ok(EngineConfig::default()),
        }
    }
}

/// A tiny boxed-error result for start-up code, where the message is all that matters.
pub mod anyhow_like {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
    pub type Result<T> = std::result::Result<T, Error>;
}

/// Origins from `PASSGENAU_CORS_ORIGINS` (comma-separated).
pub fn cors_origins(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
