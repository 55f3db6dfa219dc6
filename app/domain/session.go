package domain

import (
	"context"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxUserAgentLen bounds the user agent kept with a session, in characters.
const MaxUserAgentLen = 200

// Session is one sign-in: every access token names its session, and is
// accepted only while the session is live (not revoked). Only a coarse trace
// of the client is kept, enough for its owner to recognise it in a list.
type Session struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	CreatedAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	// IPPrefix is the client's network: its address cut to a /24 (IPv4) or a
	// /48 (IPv6); empty when the address is unknown.
	IPPrefix  string
	RevokedAt *time.Time
}

// NewSession starts userID's session for a client with the given user agent
// (cleaned and cut to MaxUserAgentLen characters) at addr.
func NewSession(id, userID uuid.UUID, userAgent string, addr netip.Addr, now time.Time) (Session, error) {
	if err := requireIDs("session", id, userID); err != nil {
		return Session{}, err
	}
	return Session{ID: id, UserID: userID, CreatedAt: now, LastSeenAt: now,
		UserAgent: cleanUserAgent(userAgent), IPPrefix: IPPrefix(addr)}, nil
}

// IPPrefix is the network kept for a client address: a /24 of IPv4, a /48 of
// IPv6 (one site); "" for an invalid address.
func IPPrefix(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	addr = addr.Unmap()
	bits := 24
	if addr.Is6() {
		bits = 48
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

func cleanUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "")
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, ua)
	ua = strings.TrimSpace(ua)
	if utf8.RuneCountInString(ua) > MaxUserAgentLen {
		ua = string([]rune(ua)[:MaxUserAgentLen])
	}
	return ua
}

// SessionRepository stores sessions.
type SessionRepository interface {
	Create(ctx context.Context, s Session) error
	// Revoke ends userID's live session id; an unknown, foreign or already
	// revoked session is ErrNotFound.
	Revoke(ctx context.Context, userID, id uuid.UUID, at time.Time) error
	// RevokeAll ends every live session of userID but except (uuid.Nil:
	// none spared) and returns how many it ended.
	RevokeAll(ctx context.Context, userID, except uuid.UUID, at time.Time) (int64, error)
}
