package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Users is the user repository.
type Users struct{ db querier }

const userColumns = `id, username, email, password_hash, display_name, bio, locked, created_at, updated_at`

func scanUser(row pgx.Row) (domain.User, error) {
	var u domain.User
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.DisplayName, &u.Bio, &u.Locked, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

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
	u, err := scanUser(r.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// ByUsername loads a user by username, case-insensitively.
func (r Users) ByUsername(ctx context.Context, username string) (domain.User, error) {
	u, err := scanUser(r.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username))
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// Update saves the editable profile fields.
func (r Users) Update(ctx context.Context, u domain.User) error {
	tag, err := r.db.Exec(ctx, `UPDATE users SET display_name = $2, bio = $3, locked = $4, updated_at = $5 WHERE id = $1`,
		u.ID, u.DisplayName, u.Bio, u.Locked, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "user not found")
	}
	return nil
}
