-- Usernames are unique regardless of case (issue #17): `Admin` cannot be added beside
-- `admin`. Usernames are ASCII (`valid_username`), so lower() folds them alike on both
-- backends.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
