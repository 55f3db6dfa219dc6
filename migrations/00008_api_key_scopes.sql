-- +goose Up
-- What an API key may do: read (GET), write (every other method). Keys made
-- before scopes existed could do both, and keep doing so.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{read,write}'
    CHECK (cardinality(scopes) > 0 AND scopes <@ '{read,write}'::text[]);

-- +goose Down
ALTER TABLE api_keys DROP COLUMN scopes;
