//! Passwords: argon2id hashes, and a check that takes as long for an unknown user.
//!
//! Hashing runs with bounded concurrency: each argon2id run takes 19 MiB and a core for
//! tens of milliseconds, so a flood of correct logins would otherwise take the memory and
//! every core (measured in `docs/benchmarks.md`). At most [`hashing_slots`] run at once;
//! the others wait their turn, and other requests keep a core.

use std::sync::{Condvar, Mutex, OnceLock};

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

/// A counting semaphore for the blocking threads that hash.
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
}

static SLOTS: Slots = Slots {
    busy: Mutex::new(0),
    freed: Condvar::new(),
};

/// Runs `f` when a hashing slot is free.
fn in_slot<T>(f: impl FnOnce() -> T) -> T {
    let limit = hashing_slots();
    {
        let mut busy = SLOTS.busy.lock().unwrap_or_else(|p| p.into_inner());
        while *busy >= limit {
            busy = SLOTS.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy += 1;
    }
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            let mut busy = SLOTS.busy.lock().unwrap_or_else(|p| p.into_inner());
            *busy -= 1;
            SLOTS.freed.notify_one();
        }
    }
    let _release = Release;
    f()
}

/// An argon2id hash (PHC string with its own random salt).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    in_slot(|| {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
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
    let hash = real.unwrap_or(dummy);
    let ok = in_slot(|| {
        PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    });
    ok && real.is_some()
}
