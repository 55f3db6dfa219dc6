package query

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// OutboundReads are the reads about remote accounts and delivery that the
// client API makes.
type OutboundReads interface {
	// ProfileByID loads any live account's profile (remote ones included)
	// as viewer sees it, or ErrNotFound.
	ProfileByID(ctx context.Context, viewer Viewer, id uuid.UUID) (Profile, error)
	// ThoughtAuthor returns a thought's author, or ErrNotFound.
	ThoughtAuthor(ctx context.Context, thoughtID uuid.UUID) (uuid.UUID, error)
	// ThoughtDeliveries lists the deliveries of what authorID sent about
	// the thought.
	ThoughtDeliveries(ctx context.Context, authorID, thoughtID uuid.UUID) ([]domain.Delivery, error)
}

// ProfileByIDHandler returns any account's profile by ID (a remote account
// resolved by name@host).
type ProfileByIDHandler struct{ Reads OutboundReads }

// Handle loads the profile.
func (h ProfileByIDHandler) Handle(ctx context.Context, viewer Viewer, id uuid.UUID) (Profile, error) {
	if h.Reads == nil {
		return Profile{}, domain.Errorf(domain.ErrNotFound, "user not found")
	}
	p, err := h.Reads.ProfileByID(ctx, viewer, id)
	if err != nil {
		return Profile{}, fmt.Errorf("load profile %s: %w", id, err)
	}
	return p, nil
}

// ThoughtDeliveriesHandler shows a thought's author where what they sent
// about it stands, per remote inbox.
type ThoughtDeliveriesHandler struct{ Reads OutboundReads }

// Handle lists the deliveries; a thought that is not the viewer's is
// ErrNotFound (whether it federated is the author's business).
func (h ThoughtDeliveriesHandler) Handle(ctx context.Context, viewer, thoughtID uuid.UUID) ([]domain.Delivery, error) {
	if h.Reads == nil {
		return nil, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	author, err := h.Reads.ThoughtAuthor(ctx, thoughtID)
	if err != nil {
		return nil, fmt.Errorf("load thought %s: %w", thoughtID, err)
	}
	if author != viewer {
		return nil, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	ds, err := h.Reads.ThoughtDeliveries(ctx, viewer, thoughtID)
	if err != nil {
		return nil, fmt.Errorf("load deliveries of %s: %w", thoughtID, err)
	}
	return ds, nil
}
