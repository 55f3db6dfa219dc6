package domain

import (
	"math"
	"time"

	"github.com/google/uuid"
)

// DeliveryState is where one delivery of an activity to one inbox stands.
type DeliveryState string

// The states of a delivery.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed: given up (a permanent refusal, the last attempt
	// failed, or the host is unavailable); the row keeps the last status and
	// error.
	DeliveryFailed DeliveryState = "failed"
)

// Host states of delivery.
const (
	HostAvailable   = "available"
	HostUnavailable = "unavailable"
)

// RetrySchedule is how a failed delivery is retried: capped exponential
// backoff with jitter, for at least RetryFor after it was enqueued. The
// attempt that would fall after that is made at the deadline itself, and is
// the last.
type RetrySchedule struct {
	// Initial is the pause after the first failure; each next is Multiplier
	// times longer, up to Max.
	Initial    time.Duration
	Multiplier float64
	Max        time.Duration
	// Jitter spreads each pause by up to ± this fraction, so a host that
	// comes back is not hit by every delivery at once.
	Jitter float64
	// RetryFor is how long after enqueueing attempts go on.
	RetryFor time.Duration
}

// DefaultRetrySchedule retries for 48 hours: 30 s, 1 min, 2 min … up to 6 h
// apart (Mastodon: 16 attempts over about 2–3 days).
func DefaultRetrySchedule() RetrySchedule {
	return RetrySchedule{Initial: 30 * time.Second, Multiplier: 2, Max: 6 * time.Hour, Jitter: 0.2, RetryFor: 48 * time.Hour}
}

// Pause is the pause after the attempts-th failed attempt (1 for the first),
// before jitter.
func (s RetrySchedule) Pause(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	p := float64(s.Initial) * math.Pow(s.Multiplier, float64(attempts-1))
	if p > float64(s.Max) || math.IsInf(p, 0) || math.IsNaN(p) {
		return s.Max
	}
	return time.Duration(p)
}

// Next is when to try again after the attempts-th attempt failed at now, for
// a delivery enqueued at created; retryAfter is what the server asked for
// (Retry-After; 0 if nothing), honoured even beyond Max. rnd is a uniform
// number in [0, 1) for the jitter. ok is false when that attempt was the
// last: it was made at or after the deadline.
func (s RetrySchedule) Next(attempts int, created, now time.Time, retryAfter time.Duration, rnd float64) (next time.Time, ok bool) {
	deadline := created.Add(s.RetryFor)
	if !now.Before(deadline) {
		return time.Time{}, false
	}
	pause := s.Pause(attempts)
	pause = time.Duration(float64(pause) * (1 + s.Jitter*(2*rnd-1)))
	pause = max(pause, retryAfter, time.Millisecond)
	next = now.Add(pause)
	if next.After(deadline) {
		next = deadline
	}
	return next, true
}

// Valid reports whether the schedule can work.
func (s RetrySchedule) Valid() bool {
	return s.Initial > 0 && s.Multiplier >= 1 && s.Max >= s.Initial && s.Jitter >= 0 && s.Jitter < 1 && s.RetryFor > 0
}

// DeliveryVerdict is what a delivery attempt's answer means.
type DeliveryVerdict int

// The verdicts.
const (
	// Delivered: a 2xx.
	Delivered DeliveryVerdict = iota
	// Retry: a transient failure (no answer, 5xx, 401, 408, 429, a redirect).
	Retry
	// Refused: a permanent refusal (any other 4xx); retrying cannot help.
	Refused
)

// JudgeDelivery judges an attempt by its HTTP status (0: no answer). A 401 is
// retried: it is often a key fetch of ours the other side could not make
// yet. hostFault says whether the answer counts against the host's health
// (no answer, 5xx, 408): a host that answers 4xx is up.
func JudgeDelivery(status int) (v DeliveryVerdict, hostFault bool) {
	switch {
	case status >= 200 && status < 300:
		return Delivered, false
	case status == 0 || status >= 500 || status == 408:
		return Retry, true
	case status == 401 || status == 429 || (status >= 300 && status < 400):
		return Retry, false
	case status >= 400 && status < 500:
		return Refused, false
	}
	return Retry, true
}

// HostPolicy is how delivery treats failing hosts.
type HostPolicy struct {
	// BreakerThreshold consecutive failures open the host's breaker: no
	// deliveries to it until BreakerCooldown has passed, then one probe; each
	// failed probe doubles the cooldown, up to BreakerMaxCooldown.
	BreakerThreshold   int
	BreakerCooldown    time.Duration
	BreakerMaxCooldown time.Duration
	// UnavailableDays separate days with failures and no success between
	// mark the host unavailable.
	UnavailableDays int
}

// DefaultHostPolicy opens a breaker after 10 failures in a row (as
// Mastodon's per-inbox one), probes after a minute, then up to an hour
// apart, and marks a host unavailable after failures on 7 separate days.
func DefaultHostPolicy() HostPolicy {
	return HostPolicy{BreakerThreshold: 10, BreakerCooldown: time.Minute, BreakerMaxCooldown: time.Hour, UnavailableDays: 7}
}

// Cooldown is how long the breaker stays open after consecutive failures
// (0 while they are below the threshold).
func (p HostPolicy) Cooldown(consecutive int) time.Duration {
	if consecutive < p.BreakerThreshold {
		return 0
	}
	c := float64(p.BreakerCooldown) * math.Pow(2, float64(consecutive-p.BreakerThreshold))
	if c > float64(p.BreakerMaxCooldown) || math.IsInf(c, 0) {
		return p.BreakerMaxCooldown
	}
	return time.Duration(c)
}

// Valid reports whether the policy can work.
func (p HostPolicy) Valid() bool {
	return p.BreakerThreshold > 0 && p.BreakerCooldown > 0 && p.BreakerMaxCooldown >= p.BreakerCooldown && p.UnavailableDays > 0
}

// Delivery is one activity's delivery to one inbox, as the author sees it.
type Delivery struct {
	ID            int64
	EventID       uuid.UUID
	ActivityType  string
	Inbox         string
	Host          string
	State         DeliveryState
	Attempts      int
	LastStatus    int
	LastError     string
	LastAttemptAt *time.Time
	NextAttemptAt *time.Time
	DoneAt        *time.Time
	CreatedAt     time.Time
}

// FederationHost is what delivery knows of a remote host.
type FederationHost struct {
	Host                string
	State               string
	ConsecutiveFailures int
	FailureDays         int
	OpenUntil           *time.Time
	LastSuccessAt       *time.Time
	LastFailureAt       *time.Time
	LastStatus          int
	LastError           string
	UnavailableSince    *time.Time
	Pending             int
}
