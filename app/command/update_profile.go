package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// UpdateProfile changes the caller's own profile.
type UpdateProfile struct {
	UserID uuid.UUID
	Change domain.ProfileChange
}

// UpdateProfileHandler applies profile changes.
type UpdateProfileHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle validates and saves the change, returning the updated user.
func (h UpdateProfileHandler) Handle(ctx context.Context, cmd UpdateProfile) (domain.User, error) {
	var u domain.User
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if u, err = tx.Users().ByID(ctx, cmd.UserID); err != nil {
			return err
		}
		if err := cmd.Change.Apply(&u, h.Clock()); err != nil {
			return err
		}
		return tx.Users().Update(ctx, u)
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("update profile of %s: %w", cmd.UserID, err)
	}
	return u, nil
}
