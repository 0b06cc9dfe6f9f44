//! Passwords: argon2id hashes, and a check that takes as long for an unknown user.
//!
//! Hashing runs with bounded concurrency: each argon2id run takes 19 MiB and a core for
//! tens of milliseconds, so a flood of correct logins would otherwise take the memory and
//! every core (measured in `docs/benchmarks.md`). They run on [`hashing_slots`] threads
//! of their own; the others wait their turn, and other requests keep a core.

use std::sync::{mpsc, Mutex, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// How many hashes may run at once: all cores but one, at least one
/// (`PASSGENAU_HASHING_SLOTS` overrides).
pub fn hashing_slots() -> usize {
    static SLOTS: OnceLock<usize> = OnceLock::new();
    *SLOTS.get_or_init(|| {
        std::env::var("PASSGENAU_HASHING_SLOTS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get().saturating_sub(1))
                    .unwrap_or(1)
                    .max(1)
            })
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, [`hashing_slots`] of them, started on first use. Hashes run on
/// these threads only, not on whichever request thread asks: the allocator keeps a freed
/// 19 MiB block in the arena of the thread that used it, so hashing on 64 request threads
/// left 64 such blocks resident (peak 0.8 GB in `scripts/bench-logins.sh`).
fn hashing_queue() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for n in 0..hashing_slots() {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("passgenau-hash-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    };
                    job();
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Mutex::new(tx)
    })
}

/// Runs `f` on a hashing thread when one is free and waits for it; `None` if no hashing
/// thread could run it.
fn in_slot<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    hashing_queue()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .ok()?;
    rx.recv().ok()
}

/// An argon2id hash (PHC string with its own random salt).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let password = password.to_string();
    in_slot(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .unwrap_or(Err(argon2::password_hash::Error::Internal))
}

/// Constant-effort check: with no stored hash (an unknown user, or one without a local
/// password) a dummy hash is verified, so the answer time does not tell which it was.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"not a real password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let real = stored.filter(|h| PasswordHash::new(h).is_ok());
    let hash = real.unwrap_or(dummy).to_string();
    let password = password.to_string();
    let ok = in_slot(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    });
    ok == Some(true) && real.is_some()
}
