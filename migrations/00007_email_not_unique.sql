-- +goose Up
-- An email address is a contact detail, not an identifier: registration must
-- not reveal whether an address has an account (issue 9), and no unique index
-- can exist without a registration that fails on it. Accounts sign in by
-- username. The plain index serves future lookups by address (a reset mail
-- to every account holding it).
DROP INDEX users_email_key;
CREATE INDEX users_email_idx ON users (lower(email));

-- +goose Down
DROP INDEX users_email_idx;
-- Fails if two accounts share an address since the Up migration.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
