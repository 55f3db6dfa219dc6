package pubsub

import (
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// An idle topic is polled less and less often, up to the cap; a poll that
// finds messages polls again at once and starts the backoff over.
func TestIdleBackoff(t *testing.T) {
	b := &idleBackoff{errors: wsql.NewDefaultBackoffManager(10*time.Millisecond, time.Second), first: 10 * time.Millisecond, max: 50 * time.Millisecond}
	log := watermill.NopLogger{}
	want := []time.Duration{10, 20, 40, 50, 50}
	for i, w := range want {
		if got := b.HandleError(log, true, nil); got != w*time.Millisecond {
			t.Errorf("empty poll %d: wait %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	if got := b.HandleError(log, false, nil); got != 0 {
		t.Errorf("poll with messages: wait %s, want 0", got)
	}
	if got := b.HandleError(log, true, nil); got != 10*time.Millisecond {
		t.Errorf("empty poll after messages: wait %s, want 10ms", got)
	}
	if got := b.HandleError(log, false, errors.New("connection refused")); got != time.Second {
		t.Errorf("error: wait %s, want the retry interval 1s", got)
	}
}
