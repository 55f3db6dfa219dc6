-- +goose Up
-- Every API process caches the sessions it found live (ports/httpapi,
-- session_cache.go). A revocation, however made (sign-out, a password change,
-- an account deletion, an operator's UPDATE), is announced on channel
-- thoughts_sessions with the session's id when its transaction commits, and
-- every process listening drops that session at once.
-- +goose StatementBegin
CREATE FUNCTION thoughts_session_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('thoughts_sessions', NEW.id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sessions_revoked_notify AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION thoughts_session_revoked();

-- +goose Down
DROP TRIGGER sessions_revoked_notify ON sessions;
DROP FUNCTION thoughts_session_revoked();
