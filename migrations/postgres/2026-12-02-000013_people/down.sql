DROP TABLE import_jobs;
DROP TABLE customer_birth_keys;
DROP INDEX customers_date_of_birth;
ALTER TABLE customers DROP COLUMN merge_reason;
ALTER TABLE customers DROP COLUMN merged_at;
ALTER TABLE customers DROP COLUMN merged_into;
ALTER TABLE customers DROP COLUMN contact;
