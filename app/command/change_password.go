package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ChangePassword sets a new password for the caller, who proves they know the
// current one. Every other session ends, and every API key is revoked unless
// KeepAPIKeys: whoever may have learnt the old password may have signed in
// or made keys with it.
type ChangePassword struct {
	UserID uuid.UUID
	// SessionID is the caller's session, which stays live.
	SessionID   uuid.UUID
	Current     string
	New         string
	KeepAPIKeys bool
}

// ChangePasswordHandler changes passwords.
type ChangePasswordHandler struct {
	UoW    UnitOfWork
	Hasher PasswordHasher
	Clock  Clock
}

// errWrongPassword answers a wrong current password: the caller is signed in
// (so not 401, which a client would take for an expired token) but may not
// do this without it.
var errWrongPassword = domain.Errorf(domain.ErrForbidden, "the password is wrong")

var errPasswordRequired = domain.Invalid("password", "is required")

// Handle checks the current password, validates the new one as registration
// does, stores its hash and ends the other sessions (and keys) in one
// transaction.
func (h ChangePasswordHandler) Handle(ctx context.Context, cmd ChangePassword) error {
	if cmd.Current == "" {
		return domain.Invalid("current_password", "is required")
	}
	if err := domain.ValidatePassword(cmd.New); err != nil {
		var v *domain.ValidationError
		if errors.As(err, &v) {
			return domain.Invalid("new_password", "%s", v.Reason)
		}
		return err
	}
	if err := checkPassword(ctx, h.UoW, h.Hasher, cmd.UserID, cmd.Current); err != nil {
		return err
	}
	hash, err := h.Hasher.Hash(cmd.New)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := h.Clock()
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.Users().SetPassword(ctx, cmd.UserID, hash, now); err != nil {
			return err
		}
		if _, err := tx.Sessions().RevokeAll(ctx, cmd.UserID, cmd.SessionID, now); err != nil {
			return err
		}
		if !cmd.KeepAPIKeys {
			if _, err := tx.APIKeys().RevokeAll(ctx, cmd.UserID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("change password of %s: %w", cmd.UserID, err)
	}
	return nil
}

// checkPassword verifies password against the user's stored hash; a wrong
// one is errWrongPassword.
func checkPassword(ctx context.Context, uow UnitOfWork, hasher PasswordHasher, userID uuid.UUID, password string) error {
	if len(password) > domain.MaxPasswordLen {
		return errWrongPassword
	}
	var u domain.User
	err := uow.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		u, err = tx.Users().ByID(ctx, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("load user %s: %w", userID, err)
	}
	ok, err := hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of %s: %w", userID, err)
	}
	if !ok {
		return errWrongPassword
	}
	return nil
}
