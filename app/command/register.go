package command

import (
	"context"
	"fmt"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Register creates an account.
type Register struct {
	Username string
	Email    string
	Password string
	Client   Client
}

// RegisterHandler creates accounts and signs the new user in.
type RegisterHandler struct {
	UoW    UnitOfWork
	Hasher PasswordHasher
	Tokens TokenIssuer
	Clock  Clock
}

// Handle validates, hashes the password, stores the user with a first
// session and issues that session's token.
// The password is validated first: the user is built from its hash.
func (h RegisterHandler) Handle(ctx context.Context, cmd Register) (AuthResult, error) {
	if err := domain.ValidatePassword(cmd.Password); err != nil {
		return AuthResult{}, err
	}
	hash, err := h.Hasher.Hash(cmd.Password)
	if err != nil {
		return AuthResult{}, fmt.Errorf("hash password: %w", err)
	}
	u, err := domain.NewUser(newID(), cmd.Username, cmd.Email, hash, h.Clock())
	if err != nil {
		return AuthResult{}, err
	}
	var res AuthResult
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.Users().Create(ctx, u); err != nil {
			return err
		}
		res, err = startSession(ctx, tx, h.Tokens, u, cmd.Client, u.CreatedAt)
		return err
	})
	if err != nil {
		return AuthResult{}, fmt.Errorf("register %q: %w", cmd.Username, err)
	}
	return res, nil
}
