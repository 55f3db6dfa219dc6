package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestSessionCacheExpiresInvalidatesAndStaysBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newSessionCache()
	c.now = func() time.Time { return now }
	u, s, other := uuid.New(), uuid.New(), uuid.New()
	// Not trusted yet (revocations made elsewhere are not announced): it
	// keeps nothing.
	_, gen := c.live(u, s)
	c.add(u, s, gen)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("an untrusted cache kept a session")
	}
	c.setTrusted(true)
	ok, gen := c.live(u, s)
	if ok {
		t.Fatal("an unseen session is live")
	}
	c.add(u, s, gen)
	if ok, _ := c.live(u, s); !ok {
		t.Fatal("not live after add")
	}
	if ok, _ := c.live(other, s); ok {
		t.Fatal("live for another user")
	}
	now = now.Add(SessionCacheTTL)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("still live after the TTL")
	}

	_, gen = c.live(u, s)
	c.add(u, s, gen)
	c.forget(s)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("live after forget")
	}
	// A lookup that began before a revocation does not put the session back.
	_, gen = c.live(u, s)
	c.forgetUser(u)
	c.add(u, s, gen)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("a lookup racing a revocation put the session back")
	}
	_, gen = c.live(u, s)
	c.add(u, s, gen)
	c.forgetUser(u)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("live after forgetUser")
	}

	// The announcements stop (the listener lost its connection): the cache
	// empties and keeps nothing until they are back.
	_, gen = c.live(u, s)
	c.add(u, s, gen)
	c.setTrusted(false)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("live after the cache stopped being trusted")
	}
	_, gen = c.live(u, s)
	c.add(u, s, gen)
	if ok, _ := c.live(u, s); ok {
		t.Fatal("an untrusted cache kept a session")
	}
	c.setTrusted(true)

	_, gen = c.live(u, s)
	for range maxCachedSessions + 10 {
		c.add(u, uuid.New(), gen)
	}
	if n := len(c.entries); n > maxCachedSessions {
		t.Fatalf("%d entries, bound %d", n, maxCachedSessions)
	}
}
