package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// MarkAllNotificationsRead marks every notification of the user read.
type MarkAllNotificationsRead struct {
	UserID uuid.UUID
}

// MarkAllNotificationsReadHandler marks all notifications read.
type MarkAllNotificationsReadHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle marks every unread notification of the user read and returns how many
// it marked.
func (h MarkAllNotificationsReadHandler) Handle(ctx context.Context, cmd MarkAllNotificationsRead) (int64, error) {
	now := h.Clock()
	var n int64
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		n, err = tx.Notifications().MarkAllRead(ctx, cmd.UserID, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark all notifications of %s read: %w", cmd.UserID, err)
	}
	return n, nil
}
