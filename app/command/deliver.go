package command

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// ClaimedDelivery is a delivery a worker holds (leased) to attempt.
type ClaimedDelivery struct {
	ID           int64
	EventID      uuid.UUID
	Inbox        string
	Host         string
	Attempts     int // before this one
	CreatedAt    time.Time
	ActivityType string
	ActivityIRI  string
	Payload      []byte
	ActorID      uuid.UUID
}

// ClaimRequest says which due deliveries a worker may take.
type ClaimRequest struct {
	Limit int
	// PerHost caps the deliveries in flight to one host; InFlight are the
	// worker's own in flight, by host. A host whose breaker has tripped
	// (BreakerThreshold failures in a row) gets one at a time: its probe.
	PerHost          int
	InFlight         map[string]int
	BreakerThreshold int
	// Lease is how long the claimed rows are the worker's; past it (a
	// crash), another worker may take them.
	Lease time.Duration
	Now   time.Time
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	ID     int64
	Host   string
	At     time.Time
	Status int // 0: no answer
	Error  string
	// State is pending (retry at Next), delivered, or failed (given up).
	State domain.DeliveryState
	Next  time.Time
	// HostFault counts the attempt against the host's health; HostUp says
	// the host answered (it resets the host's failures).
	HostFault bool
	HostUp    bool
	// HostPauseUntil, if set, holds every delivery to the host until then
	// (a 429 or 503 with Retry-After).
	HostPauseUntil time.Time
}

// DeliveryQueue is the durable queue of deliveries and the hosts registry.
type DeliveryQueue interface {
	// Claim leases due deliveries: pending, due, not leased, to hosts not
	// unavailable and whose breaker is not open; oldest first, within the
	// per-host caps. Several workers may claim at once: each row goes to
	// one (SKIP LOCKED).
	Claim(ctx context.Context, r ClaimRequest) ([]ClaimedDelivery, error)
	// Record stores an attempt's outcome and updates the host's health
	// under policy (breaker, days with failures, unavailability: a host
	// marked unavailable gets its pending deliveries failed).
	Record(ctx context.Context, a DeliveryAttempt, policy domain.HostPolicy) error
	// Release gives a claimed delivery back unattempted (shutdown).
	Release(ctx context.Context, id int64) error
}
