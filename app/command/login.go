package command

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Login signs a user in by username. Email addresses are not sign-in names:
// they are not unique, so that registration cannot reveal whether an address
// has an account (see README, "Email addresses").
type Login struct {
	Login    string
	Password string
	Client   Client
}

// LoginHandler checks credentials, starts a session and issues its token.
type LoginHandler struct {
	UoW    UnitOfWork
	Hasher PasswordHasher
	Tokens TokenIssuer
	Clock  Clock
}

// errBadCredentials is the one answer for an unknown user and a wrong password.
var errBadCredentials = domain.Errorf(domain.ErrUnauthenticated, "invalid login or password")

// Handle answers the same error, after the same work, for an unknown login and
// a wrong password.
func (h LoginHandler) Handle(ctx context.Context, cmd Login) (AuthResult, error) {
	// "@alice" is how users are written in thoughts.
	login := strings.TrimPrefix(strings.TrimSpace(cmd.Login), "@")
	if login == "" {
		return AuthResult{}, domain.Invalid("login", "is required")
	}
	if strings.Contains(login, "@") {
		// Said from the input's shape alone: it tells nothing about accounts.
		return AuthResult{}, domain.Invalid("login", "sign in with your username; email addresses are not sign-in names")
	}
	if cmd.Password == "" {
		return AuthResult{}, domain.Invalid("password", "is required")
	}
	if len(cmd.Password) > domain.MaxPasswordLen {
		if err := h.Hasher.VerifyDummy(cmd.Password[:domain.MaxPasswordLen]); err != nil {
			return AuthResult{}, fmt.Errorf("verify password: %w", err)
		}
		return AuthResult{}, errBadCredentials
	}
	var u domain.User
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		u, err = tx.Users().ByUsername(ctx, login)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		if err := h.Hasher.VerifyDummy(cmd.Password); err != nil {
			return AuthResult{}, fmt.Errorf("verify password: %w", err)
		}
		return AuthResult{}, errBadCredentials
	}
	if err != nil {
		return AuthResult{}, fmt.Errorf("load user for login: %w", err)
	}
	ok, err := h.Hasher.Verify(cmd.Password, u.PasswordHash)
	if err != nil {
		return AuthResult{}, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	if !ok {
		return AuthResult{}, errBadCredentials
	}
	var res AuthResult
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		res, err = startSession(ctx, tx, h.Tokens, u, cmd.Client, h.Clock())
		return err
	})
	if err != nil {
		return AuthResult{}, fmt.Errorf("start session of %s: %w", u.ID, err)
	}
	return res, nil
}
