package command

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
)

// DeleteAccount deletes the caller's account; they prove they know its
// password.
type DeleteAccount struct {
	UserID   uuid.UUID
	Password string
}

// AccountEraser removes what an account made, inside a command's
// transaction.
type AccountEraser interface {
	// EraseContent turns every live thought of userID into a tombstone the
	// way deleting one thought does (domain.Thought.Tombstone: content,
	// warning and sensitivity cleared, the row kept so replies keep their
	// parent) and removes the account's likes, boosts, follows and follow
	// requests (both ways), blocks (both ways), top friends (both ways) and
	// notifications (to it and by it).
	EraseContent(ctx context.Context, userID uuid.UUID, at time.Time) error
}

// DeleteAccountHandler deletes accounts.
type DeleteAccountHandler struct {
	UoW    UnitOfWork
	Hasher PasswordHasher
	Clock  Clock
}

// Handle checks the password, then in one transaction erases the account's
// content, revokes its API keys and sessions, scrubs the account (its row
// stays, so the username stays reserved) and appends UserDeleted.
func (h DeleteAccountHandler) Handle(ctx context.Context, cmd DeleteAccount) error {
	if cmd.Password == "" {
		return errPasswordRequired
	}
	if err := checkPassword(ctx, h.UoW, h.Hasher, cmd.UserID, cmd.Password); err != nil {
		return err
	}
	now := h.Clock()
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.Users().ByID(ctx, cmd.UserID)
		if err != nil {
			return err
		}
		if err := tx.Accounts().EraseContent(ctx, u.ID, now); err != nil {
			return err
		}
		if _, err := tx.APIKeys().RevokeAll(ctx, u.ID, now); err != nil {
			return err
		}
		if _, err := tx.Sessions().RevokeAll(ctx, u.ID, uuid.Nil, now); err != nil {
			return err
		}
		if err := tx.Users().Delete(ctx, u.ID, now); err != nil {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, u.ID, events.UserDeleted{UserID: u.ID, Username: u.Username}, now))
	})
	if err != nil {
		return fmt.Errorf("delete account %s: %w", cmd.UserID, err)
	}
	return nil
}
