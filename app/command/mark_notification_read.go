package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// MarkNotificationRead marks one of the user's notifications read.
type MarkNotificationRead struct {
	UserID         uuid.UUID
	NotificationID uuid.UUID
}

// MarkNotificationReadHandler marks notifications read.
type MarkNotificationReadHandler struct {
	UoW   UnitOfWork
	Clock Clock
}

// Handle marks the notification read; marking a read one again changes
// nothing. Someone else's notification is ErrNotFound: its existence is not
// revealed.
func (h MarkNotificationReadHandler) Handle(ctx context.Context, cmd MarkNotificationRead) error {
	now := h.Clock()
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.Notifications().MarkRead(ctx, cmd.UserID, cmd.NotificationID, now)
	})
	if err != nil {
		return fmt.Errorf("mark notification %s read: %w", cmd.NotificationID, err)
	}
	return nil
}
