package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestKnownUsersExpireAndStayBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := newKnownUsers()
	k.now = func() time.Time { return now }
	a, b := uuid.New(), uuid.New()
	if k.has(a) {
		t.Fatal("an unseen user is known")
	}
	k.add(a)
	if !k.has(a) || k.has(b) {
		t.Fatalf("after add(a): has(a) = %v, has(b) = %v", k.has(a), k.has(b))
	}
	now = now.Add(knownUserTTL - time.Second)
	if !k.has(a) {
		t.Fatal("forgotten before the TTL")
	}
	now = now.Add(time.Second)
	if k.has(a) {
		t.Fatal("still known after the TTL")
	}
	k.add(a) // seen again: known for another TTL
	if !k.has(a) {
		t.Fatal("not known again after a fresh lookup")
	}
	for range maxKnownUsers + 10 {
		k.add(uuid.New())
	}
	if n := k.n.Load(); n > maxKnownUsers {
		t.Fatalf("%d entries, bound %d", n, maxKnownUsers)
	}
}
