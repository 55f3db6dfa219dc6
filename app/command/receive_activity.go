package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// ReceiveActivity is a delivery to an inbox whose HTTP signature verified
// with the key KeyID.
type ReceiveActivity struct {
	KeyID string
	Body  []byte
}

// Received says what became of a delivery.
type Received struct {
	// Signer is the actor whose key signed it.
	Signer domain.RemoteActor
	// ID is the inbox entry; Duplicate is true when the activity had been
	// received before (nothing was stored or published again).
	ID        uuid.UUID
	Duplicate bool
}

// ReceiveActivityHandler accepts signed deliveries into the inbox.
type ReceiveActivityHandler struct {
	UoW     UnitOfWork
	Signers RemoteSignerHandler
	Clock   Clock
}

// Handle checks the activity's shape (vocab.ParseActivity: a validation
// error otherwise) and that its actor is the key's owner
// (ErrUnauthenticated otherwise: one account cannot speak for another),
// then stores it with its ActivityReceived event in one transaction. An
// activity id received before is stored and published once.
func (h ReceiveActivityHandler) Handle(ctx context.Context, cmd ReceiveActivity) (Received, error) {
	act, err := vocab.ParseActivity(cmd.Body)
	if err != nil {
		return Received{}, domain.Invalid("activity", "%v", err)
	}
	signer, err := h.Signers.Handle(ctx, cmd.KeyID, false)
	if err != nil {
		return Received{}, fmt.Errorf("signer of %s: %w", cmd.KeyID, err)
	}
	if act.Actor != signer.IRI {
		return Received{Signer: signer}, domain.Errorf(domain.ErrUnauthenticated,
			"the activity's actor %s is not the owner of the key it was signed with", act.Actor)
	}
	if signer.UserID == uuid.Nil {
		return Received{Signer: signer}, errors.New("receive activity: the signer has no account")
	}
	now := h.Clock()
	row := domain.InboxActivity{
		ID: newID(), IRI: act.ID, Type: act.Type, ActorID: signer.UserID, KeyID: cmd.KeyID,
		Raw: cmd.Body, ReceivedAt: now,
	}
	added := false
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if added, err = tx.Inbox().Add(ctx, row); err != nil || !added {
			return err
		}
		return tx.Publish(ctx, events.New(ctx, signer.UserID, events.ActivityReceived{ID: row.ID}, now))
	})
	if err != nil {
		return Received{Signer: signer}, fmt.Errorf("receive activity %s: %w", act.ID, err)
	}
	return Received{Signer: signer, ID: row.ID, Duplicate: !added}, nil
}
