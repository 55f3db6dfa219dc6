-- +goose Up
-- A remote reply may arrive before its parent: it is stored with the
-- parent's IRI (in_reply_to_iri) and linked (in_reply_to_id set) when the
-- parent arrives. The live-replies counter followed only inserts and
-- tombstoning; it now follows a reply being linked (or moved) too.
-- +goose StatementBegin
CREATE FUNCTION replies_link_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deleted_at IS NULL AND NEW.visibility <> 'followers' THEN
        IF OLD.in_reply_to_id IS NOT NULL THEN
            PERFORM thought_stats_add(OLD.in_reply_to_id, -1, 0, 0);
        END IF;
        IF NEW.in_reply_to_id IS NOT NULL THEN
            PERFORM thought_stats_add(NEW.in_reply_to_id, 1, 0, 0);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER thoughts_replies_count_link AFTER UPDATE OF in_reply_to_id ON thoughts
    FOR EACH ROW WHEN (OLD.in_reply_to_id IS DISTINCT FROM NEW.in_reply_to_id)
    EXECUTE FUNCTION replies_link_trg();

-- +goose Down
DROP TRIGGER thoughts_replies_count_link ON thoughts;
DROP FUNCTION replies_link_trg();
