package domain

import (
	"time"

	"github.com/google/uuid"
)

// InboxActivity is an activity a remote server delivered with a valid
// signature, kept until the inbox handler has applied it.
type InboxActivity struct {
	ID uuid.UUID
	// IRI is the activity's id: an activity is applied once, however often
	// it is delivered.
	IRI  string
	Type string
	// ActorID is the remote account that signed the delivery (the activity's
	// actor: the inbox refuses any other).
	ActorID uuid.UUID
	KeyID   string
	// Raw is the document as received; nil once processed.
	Raw         []byte
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	// Outcome says what processing did: "applied", "ignored: …" or
	// "rejected: …".
	Outcome string
}

// Processed reports whether the activity was applied (or refused) already.
func (a InboxActivity) Processed() bool { return a.ProcessedAt != nil }
