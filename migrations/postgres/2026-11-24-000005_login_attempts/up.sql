-- Every login attempt (failed ones are audited and rate-limited per user and address).
CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    success BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (username, at);
CREATE INDEX login_attempts_address ON login_attempts (address, at);
