package domain

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// NotificationType says what a notification is about.
type NotificationType string

// The notification types, as they appear in the API.
const (
	NotificationLike          NotificationType = "like"           // someone liked your thought
	NotificationBoost         NotificationType = "boost"          // someone boosted your thought
	NotificationFollowRequest NotificationType = "follow_request" // someone asked to follow your locked account
	NotificationFollow        NotificationType = "follow"         // someone now follows you
	NotificationReply         NotificationType = "reply"          // someone replied to your thought
	NotificationMention       NotificationType = "mention"        // someone @mentioned you
)

// NotificationTypes lists every notification type.
var NotificationTypes = []NotificationType{
	NotificationLike, NotificationBoost, NotificationFollowRequest,
	NotificationFollow, NotificationReply, NotificationMention,
}

// ParseNotificationType validates s.
func ParseNotificationType(s string) (NotificationType, error) {
	for _, t := range NotificationTypes {
		if string(t) == s {
			return t, nil
		}
	}
	names := make([]string, len(NotificationTypes))
	for i, t := range NotificationTypes {
		names[i] = string(t)
	}
	return "", Invalid("types", "unknown notification type %q; must be one of %s", s, strings.Join(names, ", "))
}

// Notification tells RecipientID that ActorID did something, possibly about a
// thought. At most one exists per (EventID, Type, RecipientID): that triple is
// its identity for de-duplication, because events are delivered at least once.
// ID is a UUIDv7 drawn when it is stored, so listing by ID lists newest first.
type Notification struct {
	ID            uuid.UUID
	EventID       uuid.UUID
	Type          NotificationType
	RecipientID   uuid.UUID
	ActorID       uuid.UUID
	ThoughtID     *uuid.UUID
	CorrelationID string
	// CreatedAt is when the event happened, not when it was processed.
	CreatedAt time.Time
	ReadAt    *time.Time
}
