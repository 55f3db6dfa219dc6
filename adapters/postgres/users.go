package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Users is the user repository.
type Users struct{ db querier }

const userColumns = `id, username, email, password_hash, display_name, bio, locked, created_at, updated_at`

// userSelect reads userColumns and, for a remote account, its host and actor.
const userSelect = `SELECT ` + userColumns + `, coalesce(host, ''), coalesce(actor_iri, '') FROM users`

func scanUser(row pgx.Row) (domain.User, error) {
	var u domain.User
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.DisplayName, &u.Bio, &u.Locked, &u.CreatedAt,
		&u.UpdatedAt, &u.Host, &u.ActorIRI)
	return u, err
}

// acct is the SQL naming account alias a as people see it: the username, with
// @host for a remote account.
func acct(a string) string { return a + ".username || coalesce('@' || " + a + ".host, '')" }

// Create inserts u; a taken username is a domain.ErrConflict.
func (r Users) Create(ctx context.Context, u domain.User) error {
	_, err := r.db.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		u.ID, u.Username, u.Email, u.PasswordHash, u.DisplayName, u.Bio, u.Locked, u.CreatedAt, u.UpdatedAt)
	if c, ok := uniqueViolation(err); ok {
		if c == "users_username_key" {
			return &domain.DetailedError{Kind: domain.ErrConflict, Detail: "username is already taken"}
		}
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// ByID loads a user.
func (r Users) ByID(ctx context.Context, id uuid.UUID) (domain.User, error) {
	u, err := scanUser(r.db.QueryRow(ctx, userSelect+` WHERE id = $1 AND deleted_at IS NULL`, id))
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// ByUsername loads a user by username, case-insensitively.
func (r Users) ByUsername(ctx context.Context, username string) (domain.User, error) {
	u, err := scanUser(r.db.QueryRow(ctx, userSelect+` WHERE lower(username) = lower($1) AND host IS NULL AND deleted_at IS NULL`, username))
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// Update saves the editable profile fields.
func (r Users) Update(ctx context.Context, u domain.User) error {
	tag, err := r.db.Exec(ctx, `UPDATE users SET display_name = $2, bio = $3, locked = $4, updated_at = $5
		WHERE id = $1 AND deleted_at IS NULL`,
		u.ID, u.DisplayName, u.Bio, u.Locked, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "user not found")
	}
	return nil
}

// SetPassword replaces the password hash of a live account.
func (r Users) SetPassword(ctx context.Context, id uuid.UUID, passwordHash string, at time.Time) error {
	tag, err := r.db.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL`,
		id, passwordHash, at)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "user not found")
	}
	return nil
}

// Delete scrubs a live account and marks it deleted. The row stays: its
// username stays taken (the unique index) and its tombstones keep their
// author. An empty password hash matches no password.
func (r Users) Delete(ctx context.Context, id uuid.UUID, at time.Time) error {
	tag, err := r.db.Exec(ctx, `UPDATE users SET email = '', password_hash = '', display_name = '', bio = '',
		locked = false, updated_at = $2, deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`, id, at)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "user not found")
	}
	return nil
}
