package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/domain"
)

// RemoteActors is the cache of remote actors.
type RemoteActors struct{ pool *pgxpool.Pool }

// NewRemoteActors returns the cache on pool.
func NewRemoteActors(pool *pgxpool.Pool) RemoteActors { return RemoteActors{pool: pool} }

var _ domain.RemoteActorRepository = RemoteActors{}

const remoteActorColumns = `iri, host, username, actor_type, display_name, summary, url, inbox, shared_inbox,
	outbox, followers, following, locked, key_id, public_key_pem, fetched_at`

func scanRemoteActor(row pgx.Row) (domain.RemoteActor, error) {
	var a domain.RemoteActor
	err := row.Scan(&a.IRI, &a.Host, &a.Username, &a.Type, &a.DisplayName, &a.Summary, &a.URL, &a.Inbox, &a.SharedInbox,
		&a.Outbox, &a.Followers, &a.Following, &a.Locked, &a.KeyID, &a.PublicKeyPEM, &a.FetchedAt)
	return a, err
}

// ByIRI loads a cached actor.
func (r RemoteActors) ByIRI(ctx context.Context, iri string) (domain.RemoteActor, error) {
	a, err := scanRemoteActor(r.pool.QueryRow(ctx, `SELECT `+remoteActorColumns+` FROM remote_actors WHERE iri = $1`, iri))
	if err != nil {
		return domain.RemoteActor{}, notFound(err, "remote actor")
	}
	return a, nil
}

// ByHandle loads a cached actor by name@host.
func (r RemoteActors) ByHandle(ctx context.Context, username, host string) (domain.RemoteActor, error) {
	a, err := scanRemoteActor(r.pool.QueryRow(ctx, `SELECT `+remoteActorColumns+` FROM remote_actors
		WHERE lower(username) = lower($1) AND host = lower($2) ORDER BY fetched_at DESC LIMIT 1`, username, host))
	if err != nil {
		return domain.RemoteActor{}, notFound(err, "remote actor")
	}
	return a, nil
}

// Save upserts a by IRI. A key ID belongs to one actor: a row holding it
// under another IRI (an actor that moved) is replaced.
func (r RemoteActors) Save(ctx context.Context, a domain.RemoteActor) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM remote_actors WHERE key_id = $1 AND iri <> $2`, a.KeyID, a.IRI); err != nil {
			return fmt.Errorf("save remote actor: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO remote_actors (`+remoteActorColumns+`)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
			ON CONFLICT (iri) DO UPDATE SET host = EXCLUDED.host, username = EXCLUDED.username,
				actor_type = EXCLUDED.actor_type, display_name = EXCLUDED.display_name, summary = EXCLUDED.summary,
				url = EXCLUDED.url, inbox = EXCLUDED.inbox, shared_inbox = EXCLUDED.shared_inbox,
				outbox = EXCLUDED.outbox, followers = EXCLUDED.followers, following = EXCLUDED.following,
				locked = EXCLUDED.locked, key_id = EXCLUDED.key_id, public_key_pem = EXCLUDED.public_key_pem,
				fetched_at = EXCLUDED.fetched_at`,
			a.IRI, a.Host, a.Username, a.Type, a.DisplayName, a.Summary, a.URL, a.Inbox, a.SharedInbox,
			a.Outbox, a.Followers, a.Following, a.Locked, a.KeyID, a.PublicKeyPEM, a.FetchedAt)
		if err != nil {
			return fmt.Errorf("save remote actor: %w", err)
		}
		return nil
	})
}
