-- Staff and machine identities (issue #17, api-contract "Users and machine clients").
-- A token is valid only while its user is active and its version is the user's
-- token_version (or it is the one token a user's own password change kept, kept_token):
-- disabling, a role or provider change, a password reset bump the version, which ends
-- every token the user holds. docs/identities.md has the design.
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'));
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc'));
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN kept_token TEXT;
-- the issuer's subject of a single-sign-on user (source 'oidc')
ALTER TABLE users ADD COLUMN external_subject TEXT;
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMP;
-- failed logins before this instant no longer lock the user out (an admin lifted it)
ALTER TABLE users ADD COLUMN lockout_lifted_at TIMESTAMP;
CREATE UNIQUE INDEX users_external_subject ON users (external_subject);

-- Tokens ended by a logout, until they would have expired anyway.
CREATE TABLE revoked_tokens (
    user_id TEXT NOT NULL REFERENCES users (id),
    token_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, token_id)
);
CREATE INDEX revoked_tokens_user ON revoked_tokens (user_id, expires_at);

-- Keys of partner systems and reporting jobs: only a SHA-256 of the key is kept (a key is
-- 256 random bits, so a slow password hash adds nothing but latency).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('provider', 'reporting')),
    provider_id TEXT REFERENCES providers (id),
    key_hash TEXT NOT NULL UNIQUE,
    expires_on DATE,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

-- the account (a user or an API key) an entry of account management is about
ALTER TABLE audit_log ADD COLUMN account_id TEXT;
