package command

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// InboxRepository keeps received activities until they are processed.
type InboxRepository interface {
	// Add stores a unless an activity with its IRI was received before;
	// added reports which.
	Add(ctx context.Context, a domain.InboxActivity) (added bool, err error)
	// ByID loads an activity, locked until the transaction ends, or
	// ErrNotFound.
	ByID(ctx context.Context, id uuid.UUID) (domain.InboxActivity, error)
	// MarkProcessed records the outcome and drops the raw document.
	MarkProcessed(ctx context.Context, id uuid.UUID, outcome string, at time.Time) error
}

// FederatedRepository reads and writes what links local rows to
// ActivityPub IRIs.
type FederatedRepository interface {
	// ThoughtByIRI loads the remote thought whose Note has iri (tombstone
	// or not), or ErrNotFound.
	ThoughtByIRI(ctx context.Context, iri string) (domain.Thought, error)
	// LinkReplies makes the thoughts waiting for parent (by its IRI) its
	// replies, and returns how many there were.
	LinkReplies(ctx context.Context, parent domain.Thought) (int64, error)
	// LocalFollowerOf reports whether a local account follows userID
	// (accepted).
	LocalFollowerOf(ctx context.Context, userID uuid.UUID) (bool, error)

	FollowByID(ctx context.Context, id uuid.UUID) (domain.Follow, error)
	// FollowByActivity, LikeByActivity, BoostByActivity and BlockByActivity
	// find the row made by the activity iri, or ErrNotFound.
	FollowByActivity(ctx context.Context, iri string) (domain.Follow, error)
	LikeByActivity(ctx context.Context, iri string) (domain.Like, error)
	BoostByActivity(ctx context.Context, iri string) (domain.Boost, error)
	BlockByActivity(ctx context.Context, iri string) (domain.Block, error)
	// SetActivity records the activity iri behind the row id of kind
	// (follow, like, boost or block).
	SetActivity(ctx context.Context, kind ActivityKind, id uuid.UUID, iri string) error
}

// ActivityKind names the relationship tables that remember the activity
// behind a row.
type ActivityKind string

// The kinds of rows made by activities.
const (
	KindFollow ActivityKind = "follow"
	KindLike   ActivityKind = "like"
	KindBoost  ActivityKind = "boost"
	KindBlock  ActivityKind = "block"
)

// ObjectFetcher fetches remote objects (a Note by its IRI) with signed GETs.
type ObjectFetcher interface {
	// FetchObject returns the document at iri. An error wrapping
	// ErrFetchPermanent will not go away by asking again (404, 410, a
	// refusal, a malformed document); others may.
	FetchObject(ctx context.Context, iri string) ([]byte, error)
}

// KeyOwnerFetcher finds who owns a key whose id does not name its owner
// (GoToSocial's …/main-key): a signed GET of the key.
type KeyOwnerFetcher interface {
	FetchKeyOwner(ctx context.Context, keyID string) (ownerIRI string, err error)
}

// HTMLSanitizer cleans remote HTML.
type HTMLSanitizer interface {
	// HTML keeps only the allowed elements and attributes.
	HTML(s string) string
	// Text renders HTML as plain text.
	Text(s string) string
}
