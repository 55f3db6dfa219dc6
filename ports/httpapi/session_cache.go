package httpapi

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// SessionCacheTTL bounds how long this process trusts that a session it has
// checked is still live without asking the database again. Revocations do
// not wait for it: one made through this process (sign-out, DELETE
// /me/sessions/{id}, a password change, account deletion) invalidates its
// entries at once, one made anywhere else reaches it as a database
// notification (API.ForgetSession, fed by the composition root's listener),
// also at once; and the cache is used only while that listener listens
// (API.SessionsAnnounced), so a notification missed while it reconnects
// cannot leave a revoked session accepted. The TTL is a second line (a
// notification lost for a reason nobody foresaw) and what makes a session
// that is no longer used leave the cache; ten minutes keeps an active
// client's checks in memory (bench/social's session A/B: with one minute,
// 10,000 clients each calling about once a minute missed the cache on most
// requests, and each miss costs a read and a "last seen" write).
const SessionCacheTTL = 10 * time.Minute

// maxCachedSessions bounds the cache's memory (~100 bytes an entry): past
// it, the cache starts over.
const maxCachedSessions = 100_000

// sessionCache remembers, for SessionCacheTTL, the sessions found live, so
// that a client's stream of requests costs one session lookup every few
// seconds rather than one per request. Only liveness is cached, never a
// refusal.
//
// A lookup that raced a revocation must not put back what the revocation
// took out: every invalidation bumps gen, and a lookup's answer is stored
// only if gen is what it was before the lookup began.
type sessionCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.RWMutex
	// trusted: revocations made elsewhere are being announced, so entries
	// may be used; while false the cache holds and answers nothing.
	trusted bool
	gen     uint64
	entries map[uuid.UUID]cachedSession
}

type cachedSession struct {
	userID uuid.UUID
	until  time.Time
}

// newSessionCache returns a cache that is not trusted yet (see setTrusted).
func newSessionCache() *sessionCache {
	return &sessionCache{ttl: SessionCacheTTL, now: time.Now, entries: map[uuid.UUID]cachedSession{}}
}

// setTrusted empties the cache and says whether it may be used from now on:
// true once revocations made elsewhere are announced to this process, false
// as soon as they may not be.
func (c *sessionCache) setTrusted(trusted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trusted = trusted
	c.gen++
	clear(c.entries)
}

// live reports whether sessionID of userID was found live within the TTL.
// It also returns the generation to hand to add after a lookup.
func (c *sessionCache) live(userID, sessionID uuid.UUID) (bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[sessionID]
	return ok && e.userID == userID && c.now().Before(e.until), c.gen
}

// add records a session found live by a lookup begun at generation gen.
func (c *sessionCache) add(userID, sessionID uuid.UUID, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.trusted {
		return // a revocation made elsewhere would not reach this entry
	}
	if c.gen != gen {
		return // invalidated while the lookup ran: its answer may be stale
	}
	if len(c.entries) >= maxCachedSessions {
		clear(c.entries)
	}
	c.entries[sessionID] = cachedSession{userID: userID, until: c.now().Add(c.ttl)}
}

// forget drops one session.
func (c *sessionCache) forget(sessionID uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, sessionID)
}

// forgetUser drops every session of userID (a password change, an account
// deletion). Rare enough for a scan.
func (c *sessionCache) forgetUser(userID uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for id, e := range c.entries {
		if e.userID == userID {
			delete(c.entries, id)
		}
	}
}
