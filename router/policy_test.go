package router_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

// TestHandlersRetryByTheirOwnPolicy: two handlers on the same events with
// different retry policies. "patient" fails its first event once and then
// pauses eight seconds before retrying, longer than the whole redelivery
// timeout of "quick" (testPolicy.AckWait): meanwhile "quick" handles every
// event, including five published after the failure, and the broker never
// redelivers the held event to "patient" in parallel, because its consumers'
// redelivery timeout follows its own policy, not "quick"'s.
func TestHandlersRetryByTheirOwnPolicy(t *testing.T) {
	t.Parallel()
	patientPolicy := router.Policy{MaxRetries: 1, InitialInterval: 8 * time.Second, Multiplier: 1, MaxInterval: 8 * time.Second, Timeout: time.Second}
	if pause := patientPolicy.Span() - 2*patientPolicy.Timeout; pause <= testPolicy.AckWait() {
		t.Fatalf("the patient pause %s must outlast quick's AckWait %s for the test to mean anything", pause, testPolicy.AckWait())
	}
	eachBackend(t, func(t *testing.T, r *rig) {
		first := like("corr-first")
		patient, quick := newRecorder(), newRecorder()
		failed := make(chan time.Time, 1)
		retried := make(chan time.Time, 1)
		patientHandler := onLikes("patient", func(ctx context.Context, env events.Envelope) error {
			n, exit := patient.enter(ctx, env)
			defer exit()
			if env.ID == first.ID {
				switch n {
				case 1:
					failed <- time.Now()
					return errors.New("not yet")
				case 2:
					retried <- time.Now()
				}
			}
			patient.succeed(env)
			return nil
		})
		patientHandler.Policy = patientPolicy
		quickHandler := onLikes("quick", func(ctx context.Context, env events.Envelope) error {
			quick.succeed(env)
			return nil
		})
		quickHandler.Policy = testPolicy
		r.start([]router.Handler{patientHandler, quickHandler})

		r.publish(first)
		var failedAt time.Time
		select {
		case failedAt = <-failed:
		case <-time.After(patience):
			t.Fatal("patient never attempted the first event")
		}
		later := make([]events.Envelope, 5)
		for i := range later {
			later[i] = like("corr-later")
		}
		r.publish(later...)
		eventually(t, patience, "quick handles all six events", func() bool { return quick.handledCount() == 6 })
		quickDone := time.Now()

		var retriedAt time.Time
		select {
		case retriedAt = <-retried:
		case <-time.After(patience):
			t.Fatal("patient never retried the first event")
		}
		if !quickDone.Before(retriedAt) {
			t.Errorf("quick finished %s after patient's failure, not before its retry (%s after): the retrying handler held the other back",
				quickDone.Sub(failedAt), retriedAt.Sub(failedAt))
		}
		if pause := retriedAt.Sub(failedAt); pause < patientPolicy.InitialInterval {
			t.Errorf("patient retried after %s, its policy says %s", pause, patientPolicy.InitialInterval)
		}
		eventually(t, patience, "patient handles all six events", func() bool { return patient.handledCount() == 6 })
		if n := patient.callsOf(first.ID); n != 2 {
			t.Errorf("patient ran the first event %d times, want 2 (one failure, one retry)", n)
		}
		if m := patient.max(); m != 1 {
			t.Errorf("the held event ran %d times concurrently: redelivered while its handler was retrying", m)
		}
		if p := r.poisoned(); len(p) != 0 {
			t.Errorf("poisoned: %+v", p)
		}
	})
}
