package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/app/domain"
)

func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	s := domain.DefaultRetrySchedule()
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := created
	var attempts int
	for {
		attempts++
		next, ok := s.Next(attempts, created, now, 0, 0.5) // no jitter at 0.5
		if !ok {
			break
		}
		if pause := next.Sub(now); pause > s.Max {
			t.Fatalf("attempt %d: pause %v beyond the cap %v", attempts, pause, s.Max)
		}
		now = next
		if attempts > 100 {
			t.Fatal("never gives up")
		}
	}
	if span := now.Sub(created); span < 48*time.Hour {
		t.Errorf("last attempt %v after enqueueing, want at least 48 h", span)
	}
	if attempts < 15 {
		t.Errorf("%d attempts over 48 h", attempts)
	}
	// Pauses double from 30 s.
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute} {
		if got := s.Pause(i + 1); got != want {
			t.Errorf("pause %d = %v, want %v", i+1, got, want)
		}
	}
	// Jitter stays within ±20 %.
	for _, rnd := range []float64{0, 0.999} {
		next, _ := s.Next(1, created, created, 0, rnd)
		if p := next.Sub(created); p < 24*time.Second || p > 36*time.Second {
			t.Errorf("jittered first pause %v", p)
		}
	}
	// Retry-After wins over a shorter pause, but not past the deadline.
	if next, _ := s.Next(1, created, created, time.Hour, 0.5); next.Sub(created) != time.Hour {
		t.Errorf("Retry-After 1 h: next in %v", next.Sub(created))
	}
	if next, ok := s.Next(1, created, created.Add(47*time.Hour), 10*time.Hour, 0.5); !ok || !next.Equal(created.Add(48*time.Hour)) {
		t.Errorf("near the deadline: %v %v", next, ok)
	}
}

func TestJudgeDelivery(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]struct {
		v     domain.DeliveryVerdict
		fault bool
	}{
		200: {domain.Delivered, false}, 202: {domain.Delivered, false},
		0: {domain.Retry, true}, 500: {domain.Retry, true}, 502: {domain.Retry, true}, 503: {domain.Retry, true},
		408: {domain.Retry, true}, 401: {domain.Retry, false}, 429: {domain.Retry, false},
		400: {domain.Refused, false}, 403: {domain.Refused, false}, 404: {domain.Refused, false}, 410: {domain.Refused, false},
		418: {domain.Refused, false}, 422: {domain.Refused, false},
	} {
		if v, fault := domain.JudgeDelivery(status); v != want.v || fault != want.fault {
			t.Errorf("%d: %v %v, want %v %v", status, v, fault, want.v, want.fault)
		}
	}
}

func TestHostPolicyCooldown(t *testing.T) {
	t.Parallel()
	p := domain.DefaultHostPolicy()
	if c := p.Cooldown(p.BreakerThreshold - 1); c != 0 {
		t.Errorf("below the threshold: %v", c)
	}
	if c := p.Cooldown(p.BreakerThreshold); c != time.Minute {
		t.Errorf("at the threshold: %v", c)
	}
	if c := p.Cooldown(p.BreakerThreshold + 1); c != 2*time.Minute {
		t.Errorf("one more: %v", c)
	}
	if c := p.Cooldown(p.BreakerThreshold + 1000); c != time.Hour {
		t.Errorf("capped: %v", c)
	}
}

func TestParseRemoteMentions(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"hi @bob@remote.example!":                      {"bob@remote.example"},
		"@Bob@Remote.Example. and @bob@remote.example": {"Bob@remote.example"},
		"@alice local, mail bob@example.com":           nil,
		"port @eve@127.0.0.1:8080, ok":                 {"eve@127.0.0.1:8080"},
		"@a.b-c@x.y @nohost@ @x@localhost":             {"a.b-c@x.y"},
		"url https://x.example/@bob@y.example":         nil,
	} {
		if got := domain.ParseRemoteMentions(in); !slices.Equal(got, want) {
			t.Errorf("ParseRemoteMentions(%q) = %v, want %v", in, got, want)
		}
	}
}
