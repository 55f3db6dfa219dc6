package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

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

// remoteActorSelect reads remote_actors ra with the id of the account that
// stands for it (the zero UUID if none yet).
const remoteActorSelect = `SELECT ra.iri, ra.host, ra.username, ra.actor_type, ra.display_name, ra.summary, ra.url,
	ra.inbox, ra.shared_inbox, ra.outbox, ra.followers, ra.following, ra.locked, ra.key_id, ra.public_key_pem,
	ra.fetched_at, coalesce(u.id, '00000000-0000-0000-0000-000000000000'::uuid)
	FROM remote_actors ra LEFT JOIN users u ON u.actor_iri = ra.iri`

func scanRemoteActor(row pgx.Row) (domain.RemoteActor, error) {
	var a domain.RemoteActor
	err := row.Scan(&a.IRI, &a.Host, &a.Username, &a.Type, &a.DisplayName, &a.Summary, &a.URL, &a.Inbox, &a.SharedInbox,
		&a.Outbox, &a.Followers, &a.Following, &a.Locked, &a.KeyID, &a.PublicKeyPEM, &a.FetchedAt, &a.UserID)
	return a, err
}

// ByIRI loads a cached actor.
func (r RemoteActors) ByIRI(ctx context.Context, iri string) (domain.RemoteActor, error) {
	a, err := scanRemoteActor(r.pool.QueryRow(ctx, remoteActorSelect+` WHERE ra.iri = $1`, iri))
	if err != nil {
		return domain.RemoteActor{}, notFound(err, "remote actor")
	}
	return a, nil
}

// ByHandle loads a cached actor by name@host.
func (r RemoteActors) ByHandle(ctx context.Context, username, host string) (domain.RemoteActor, error) {
	a, err := scanRemoteActor(r.pool.QueryRow(ctx, remoteActorSelect+`
		WHERE lower(ra.username) = lower($1) AND ra.host = lower($2) ORDER BY ra.fetched_at DESC LIMIT 1`, username, host))
	if err != nil {
		return domain.RemoteActor{}, notFound(err, "remote actor")
	}
	return a, nil
}

// Save upserts a by IRI, and the account that stands for it. A key ID
// belongs to one actor: an actor that moved to a new IRI with its key keeps
// its account (the row's IRI changes, and the account's with it); a row
// left holding the key under another IRI loses it.
func (r RemoteActors) Save(ctx context.Context, a domain.RemoteActor) (domain.RemoteActor, error) {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE remote_actors SET iri = $2 WHERE key_id = $1 AND iri <> $2
			AND NOT EXISTS (SELECT 1 FROM remote_actors WHERE iri = $2)`, a.KeyID, a.IRI); err != nil {
			return fmt.Errorf("move remote actor: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE remote_actors SET key_id = iri || '#superseded-key'
			WHERE key_id = $1 AND iri <> $2`, a.KeyID, a.IRI); err != nil {
			return fmt.Errorf("supersede remote key: %w", err)
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
		// The account: its profile follows the actor's, unless it was
		// deleted (a Delete of the actor is final).
		err = tx.QueryRow(ctx, `INSERT INTO users (id, username, email, password_hash, display_name, bio, locked,
				created_at, updated_at, host, actor_iri)
			VALUES ($1, $2, '', '', $3, $4, $5, $6, $6, $7, $8)
			ON CONFLICT (actor_iri) DO UPDATE SET username = EXCLUDED.username, host = EXCLUDED.host,
				display_name = EXCLUDED.display_name, bio = EXCLUDED.bio, locked = EXCLUDED.locked,
				updated_at = EXCLUDED.updated_at
			WHERE users.deleted_at IS NULL
			RETURNING id`,
			uuid.Must(uuid.NewV7()), a.Username, a.DisplayName, a.Summary, a.Locked, a.FetchedAt, a.Host, a.IRI).
			Scan(&a.UserID)
		if errors.Is(err, pgx.ErrNoRows) { // a deleted account
			err = tx.QueryRow(ctx, `SELECT id FROM users WHERE actor_iri = $1`, a.IRI).Scan(&a.UserID)
		}
		if err != nil {
			return fmt.Errorf("save remote account: %w", err)
		}
		return nil
	})
	if err != nil {
		return domain.RemoteActor{}, err
	}
	return a, nil
}
