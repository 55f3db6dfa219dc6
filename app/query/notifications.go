package query

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// MaxExcerptLen bounds the excerpt of a thought shown in a notification, in
// characters.
const MaxExcerptLen = 100

// NotificationView is a notification as its recipient sees it.
type NotificationView struct {
	ID        uuid.UUID
	Type      domain.NotificationType
	CreatedAt time.Time
	Read      bool
	// Account is the user who acted.
	Account UserSummary
	// Thought is what the notification is about, if anything.
	Thought *ThoughtExcerpt
}

// ThoughtExcerpt identifies a thought with the start of its content.
type ThoughtExcerpt struct {
	ID uuid.UUID
	// Excerpt is at most MaxExcerptLen characters of the content, plus "…"
	// when cut. (The read model fills it with the whole content; the query
	// handlers shorten it.)
	Excerpt        string
	ContentWarning string
}

// NotificationFilter narrows a notification list.
type NotificationFilter struct {
	// Types keeps only these types; empty keeps all.
	Types []domain.NotificationType
	// UnreadOnly keeps only unread notifications.
	UnreadOnly bool
}

// NotificationsReads is what NotificationsHandler reads. The notification
// reads (this one, NotificationReads, UnreadNotificationsCountReads) show a
// recipient only notifications that are still appropriate: none while either
// of the two users blocks the other, none about a thought that is deleted or
// that the recipient may no longer see.
type NotificationsReads interface {
	// Notifications lists the recipient's notifications, newest first.
	Notifications(ctx context.Context, recipientID uuid.UUID, f NotificationFilter, page domain.Page) ([]NotificationView, error)
}

// NotificationsHandler lists the caller's notifications.
type NotificationsHandler struct{ Reads NotificationsReads }

// Handle lists the user's notifications, newest first.
func (h NotificationsHandler) Handle(ctx context.Context, userID uuid.UUID, f NotificationFilter, page domain.Page) ([]NotificationView, error) {
	vs, err := h.Reads.Notifications(ctx, userID, f, page)
	if err != nil {
		return nil, fmt.Errorf("list notifications of %s: %w", userID, err)
	}
	for i := range vs {
		shorten(&vs[i])
	}
	return vs, nil
}

// NotificationReads is what NotificationHandler reads (the rules of
// NotificationsReads hold).
type NotificationReads interface {
	// Notification returns one of the recipient's notifications, or ErrNotFound.
	Notification(ctx context.Context, recipientID, id uuid.UUID) (NotificationView, error)
}

// NotificationHandler returns one of the caller's notifications.
type NotificationHandler struct{ Reads NotificationReads }

// Handle loads the notification; another user's is ErrNotFound.
func (h NotificationHandler) Handle(ctx context.Context, userID, id uuid.UUID) (NotificationView, error) {
	v, err := h.Reads.Notification(ctx, userID, id)
	if err != nil {
		return NotificationView{}, fmt.Errorf("load notification %s: %w", id, err)
	}
	shorten(&v)
	return v, nil
}

// UnreadNotificationsCountReads is what UnreadNotificationsCountHandler reads
// (the rules of NotificationsReads hold).
type UnreadNotificationsCountReads interface {
	// UnreadNotificationsCount counts the recipient's unread notifications.
	UnreadNotificationsCount(ctx context.Context, recipientID uuid.UUID) (int, error)
}

// UnreadNotificationsCountHandler counts the caller's unread notifications.
type UnreadNotificationsCountHandler struct{ Reads UnreadNotificationsCountReads }

// Handle counts the user's unread notifications (those a list would show).
func (h UnreadNotificationsCountHandler) Handle(ctx context.Context, userID uuid.UUID) (int, error) {
	n, err := h.Reads.UnreadNotificationsCount(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications of %s: %w", userID, err)
	}
	return n, nil
}

func shorten(v *NotificationView) {
	if v.Thought != nil {
		v.Thought.Excerpt = Excerpt(v.Thought.Excerpt)
	}
}

// Excerpt returns the first MaxExcerptLen characters of content, whitespace
// runs collapsed, with "…" appended when it was cut.
func Excerpt(content string) string {
	s := strings.Join(strings.Fields(content), " ")
	if utf8.RuneCountInString(s) <= MaxExcerptLen {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxExcerptLen {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		n++
	}
	return s
}
