package federation

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// SigningKeys returns the key a local actor signs deliveries with.
type SigningKeys func(ctx context.Context, actorID uuid.UUID) (keyID string, key crypto.PrivateKey, err error)

// DelivererConfig tunes a Deliverer; zero values take the defaults.
type DelivererConfig struct {
	// Concurrency is how many deliveries are in flight at once (default
	// 16); PerHost how many of them may go to one host (default 4), so a
	// slow or dead host takes at most that many.
	Concurrency int
	PerHost     int
	// Timeout bounds each POST (default 30 s, the client's own bound).
	Timeout time.Duration
	// Poll is how often due deliveries are looked for without a wake-up
	// (default 1 s): retries come due, and other processes' enqueues may
	// not have been announced to us.
	Poll     time.Duration
	Schedule domain.RetrySchedule
	Hosts    domain.HostPolicy
}

// Deliverer posts the queued deliveries: signed as their activity's actor,
// retried on the schedule, with the per-host breaker and concurrency caps.
// Several (in several processes) share one queue.
type Deliverer struct {
	Queue  command.DeliveryQueue
	Client *Client
	Keys   SigningKeys
	Config DelivererConfig
	Logger *slog.Logger
	// Clock is the time attempts are scheduled by; nil is the system clock.
	Clock func() time.Time
	// Observe, if set, is told each attempt's outcome: "delivered",
	// "retry", "failed" (given up) or "released" (shutdown).
	Observe func(outcome string)

	wake     chan struct{}
	mu       sync.Mutex
	inFlight map[string]int
	total    int
	once     sync.Once
}

func (d *Deliverer) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		d.inFlight = map[string]int{}
		c := &d.Config
		if c.Concurrency <= 0 {
			c.Concurrency = 16
		}
		if c.PerHost <= 0 {
			c.PerHost = 4
		}
		if c.Timeout <= 0 {
			c.Timeout = DefaultTimeout
		}
		if c.Poll <= 0 {
			c.Poll = time.Second
		}
		if !c.Schedule.Valid() {
			c.Schedule = domain.DefaultRetrySchedule()
		}
		if !c.Hosts.Valid() {
			c.Hosts = domain.DefaultHostPolicy()
		}
		if d.Logger == nil {
			d.Logger = slog.Default()
		}
		if d.Clock == nil {
			d.Clock = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
		}
	})
}

// Notify wakes the worker: deliveries were enqueued.
func (d *Deliverer) Notify() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then waits for the attempts in flight
// (cut short by ctx: their deliveries are released, not counted).
func (d *Deliverer) Run(ctx context.Context) error {
	d.init()
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		claimed, err := d.claim(ctx)
		if err != nil && ctx.Err() == nil {
			d.Logger.WarnContext(ctx, "delivery: claim failed", "err", err)
		}
		for _, c := range claimed {
			wg.Go(func() { d.deliver(ctx, c) })
		}
		if len(claimed) > 0 && d.room() > 0 {
			continue // more may be due
		}
		timer.Reset(d.Config.Poll)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

func (d *Deliverer) room() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Config.Concurrency - d.total
}

func (d *Deliverer) claim(ctx context.Context) ([]command.ClaimedDelivery, error) {
	d.mu.Lock()
	room := d.Config.Concurrency - d.total
	busy := make(map[string]int, len(d.inFlight))
	for h, n := range d.inFlight {
		busy[h] = n
	}
	d.mu.Unlock()
	if room <= 0 {
		return nil, nil
	}
	claimed, err := d.Queue.Claim(ctx, command.ClaimRequest{
		Limit: room, PerHost: d.Config.PerHost, InFlight: busy, BreakerThreshold: d.Config.Hosts.BreakerThreshold,
		Lease: d.Config.Timeout + 30*time.Second, Now: d.Clock(),
	})
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	for _, c := range claimed {
		d.inFlight[c.Host]++
		d.total++
	}
	d.mu.Unlock()
	return claimed, nil
}

func (d *Deliverer) done(host string) {
	d.mu.Lock()
	d.inFlight[host]--
	if d.inFlight[host] <= 0 {
		delete(d.inFlight, host)
	}
	d.total--
	d.mu.Unlock()
	d.Notify() // a slot is free
}

func (d *Deliverer) observe(outcome string) {
	if d.Observe != nil {
		d.Observe(outcome)
	}
}

// deliver makes one attempt and records it.
func (d *Deliverer) deliver(ctx context.Context, c command.ClaimedDelivery) {
	defer d.done(c.Host)
	status, retryAfter, err := d.post(ctx, c)
	if ctx.Err() != nil {
		// Shutting down: the attempt says nothing about the host.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := d.Queue.Release(rctx, c.ID); err != nil {
			d.Logger.WarnContext(rctx, "delivery: release failed; its lease expires", "delivery_id", c.ID, "err", err)
		}
		d.observe("released")
		return
	}
	now := d.Clock()
	a := command.DeliveryAttempt{ID: c.ID, Host: c.Host, At: now, Status: status}
	if err != nil {
		a.Error = err.Error()
	}
	verdict, hostFault := domain.JudgeDelivery(status)
	if err != nil && status == 0 && errors.Is(err, errNotSent) {
		verdict, hostFault = domain.Retry, false // our side failed (key, request): not the host's fault
	}
	a.HostFault = hostFault
	a.HostUp = status != 0 && !hostFault
	if retryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		a.HostPauseUntil = now.Add(min(retryAfter, d.Config.Schedule.Max))
	}
	attempt := c.Attempts + 1
	log := d.Logger.With("delivery_id", c.ID, "activity", c.ActivityIRI, "type", c.ActivityType, "inbox", c.Inbox,
		"attempt", attempt, "status", status)
	switch verdict {
	case domain.Delivered:
		a.State = domain.DeliveryDelivered
		log.DebugContext(ctx, "delivery: delivered")
	case domain.Refused:
		a.State = domain.DeliveryFailed
		log.WarnContext(ctx, "delivery: refused; not retried", "err", a.Error)
	default:
		next, ok := d.Config.Schedule.Next(attempt, c.CreatedAt, now, retryAfter, rand.Float64())
		if ok {
			a.State, a.Next = domain.DeliveryPending, next
			log.InfoContext(ctx, "delivery: failed; will retry", "next_attempt_at", next, "err", a.Error)
		} else {
			a.State = domain.DeliveryFailed
			log.ErrorContext(ctx, "delivery: poisoned after the last attempt", "err", a.Error,
				"since", c.CreatedAt)
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.Queue.Record(rctx, a, d.Config.Hosts); err != nil {
		// The lease runs out and the delivery is attempted again: at least
		// once.
		log.ErrorContext(rctx, "delivery: recording the attempt failed", "err", err)
		return
	}
	switch a.State {
	case domain.DeliveryDelivered:
		d.observe("delivered")
	case domain.DeliveryPending:
		d.observe("retry")
	default:
		d.observe("failed")
	}
}

// errNotSent marks a failure on our side, before anything was sent.
var errNotSent = errors.New("not sent")

// post signs and sends the activity; status is 0 without an answer.
func (d *Deliverer) post(ctx context.Context, c command.ClaimedDelivery) (status int, retryAfter time.Duration, err error) {
	keyID, key, err := d.Keys(ctx, c.ActorID)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: signing key of %s: %v", errNotSent, c.ActorID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Config.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Inbox, bytes.NewReader(c.Payload))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errNotSent, err)
	}
	req.Header.Set("Content-Type", `application/activity+json`)
	req.Header.Set("Accept", `application/activity+json, application/ld+json`)
	if err := SignRequest(req, c.Payload, keyID, key, time.Now()); err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errNotSent, err)
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode >= 300 {
		msg := strings.TrimSpace(string(snippet))
		if msg != "" {
			msg = ": " + strings.ToValidUTF8(msg, "?")
		}
		return resp.StatusCode, retryAfter, fmt.Errorf("HTTP %d%s", resp.StatusCode, msg)
	}
	return resp.StatusCode, retryAfter, nil
}

// parseRetryAfter reads Retry-After: seconds, or an HTTP date; 0 if absent
// or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
