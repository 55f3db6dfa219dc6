package httpapi

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// SessionCacheTTL bounds how long this process trusts that a session it has
// checked is still live without asking the database again. A revocation
// made through this process (sign-out, DELETE /me/sessions/{id}, a password
// change, account deletion) invalidates its entries at once; one made
// anywhere else reaches it as a database notification (API.ForgetSession,
// fed by the composition root's listener), also at once. The TTL is the
// bound only while that listener is down: it clears the cache when it loses
// its connection, and a notification sent meanwhile may be missed.
const SessionCacheTTL = time.Minute

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

	mu      sync.RWMutex
	gen     uint64
	entries map[uuid.UUID]cachedSession
}

type cachedSession struct {
	userID uuid.UUID
	until  time.Time
}

func newSessionCache() *sessionCache {
	return &sessionCache{ttl: SessionCacheTTL, now: time.Now, entries: map[uuid.UUID]cachedSession{}}
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

// forgetAll drops every entry.
func (c *sessionCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
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
