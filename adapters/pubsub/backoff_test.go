package pubsub

import (
	"testing"
	"time"
)

// An idle topic is polled less and less often, up to the busy cap while no
// listener wakes the consumer, up to the idle cap while one does; a poll that
// finds messages (wait 0) starts the backoff over.
func TestPollSchedule(t *testing.T) {
	listening := false
	p := pollSchedule{first: 10 * time.Millisecond, busyMax: 50 * time.Millisecond, idleMax: time.Second, listening: func() bool { return listening }}
	var wait time.Duration
	for i, want := range []time.Duration{10, 20, 40, 50, 50} {
		if wait = p.next(wait); wait != want*time.Millisecond {
			t.Errorf("empty poll %d without listener: wait %s, want %s", i+1, wait, want*time.Millisecond)
		}
	}
	listening = true
	for i, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		if wait = p.next(wait); wait != want*time.Millisecond {
			t.Errorf("empty poll %d with listener: wait %s, want %s", i+1, wait, want*time.Millisecond)
		}
	}
	if got := p.next(0); got != 10*time.Millisecond {
		t.Errorf("empty poll after messages: wait %s, want 10ms", got)
	}
	listening = false
	if got := p.next(time.Second); got != 50*time.Millisecond {
		t.Errorf("listener lost: wait %s, want the busy cap 50ms", got)
	}
}
