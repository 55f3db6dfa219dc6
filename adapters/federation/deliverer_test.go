package federation_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// testKey is the key every delivery in these tests is signed with.
var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

const testKeyID = "http://thoughts.test/users/alice#main-key"

type staticKeys struct{}

func (staticKeys) PublicKey(_ context.Context, keyID string, _ bool) (crypto.PublicKey, error) {
	if keyID != testKeyID {
		return nil, fmt.Errorf("unknown key %s", keyID)
	}
	return &testKey.PublicKey, nil
}

// received is one POST a peer got.
type received struct {
	Path      string
	At        time.Time
	UserAgent string
	Body      []byte
	Verified  error
	SignedHdr string
}

// peer is a remote server's inbox on loopback: it verifies each POST's
// signature as a real server would and answers as respond says.
type peer struct {
	srv     *httptest.Server
	host    string
	mu      sync.Mutex
	got     []received
	respond func(n int) (status int, header http.Header) // n: 0-based index of the request
}

func newPeer(t testing.TB, respond func(n int) (int, http.Header)) *peer {
	t.Helper()
	p := &peer{respond: respond}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v := federation.Verifier{Keys: staticKeys{}, PublicURL: "http://" + r.Host}
		_, verr := v.Verify(r, body)
		p.mu.Lock()
		n := len(p.got)
		p.got = append(p.got, received{Path: r.URL.Path, At: time.Now(), UserAgent: r.Header.Get("User-Agent"), Body: body,
			Verified: verr, SignedHdr: r.Header.Get("Signature")})
		respond := p.respond
		p.mu.Unlock()
		status, h := http.StatusAccepted, http.Header(nil)
		if respond != nil {
			status, h = respond(n)
		}
		if status < 0 { // hang until the client gives up
			<-r.Context().Done()
			return
		}
		for k, vs := range h {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(p.srv.Close)
	p.host = strings.TrimPrefix(p.srv.URL, "http://")
	return p
}

func (p *peer) received() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.got...)
}

func (p *peer) target(path string) command.Target {
	return command.Target{URL: p.srv.URL + path, Host: p.host}
}

// rig is a queue on a fresh database and a way to run workers on it.
type rig struct {
	t     testing.TB
	db    pgtest.DB
	store postgres.Outbound
	queue postgres.Deliveries
	actor uuid.UUID
}

func newRig(t testing.TB) *rig {
	t.Helper()
	db := pgtest.New(t)
	return &rig{t: t, db: db, store: postgres.NewOutbound(db.Pool), queue: postgres.NewDeliveries(db.Pool), actor: uuid.Must(uuid.NewV7())}
}

// enqueue stores an activity with deliveries to targets and returns its event ID.
func (r *rig) enqueue(targets ...command.Target) uuid.UUID {
	r.t.Helper()
	id := uuid.Must(uuid.NewV7())
	iri := "http://thoughts.test/users/alice/activities/" + id.String()
	body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "Create",
		"actor": "http://thoughts.test/users/alice", "object": map[string]any{"type": "Note", "content": "hi"}})
	ok, err := r.store.Enqueue(context.Background(), command.OutboundActivity{EventID: id, Kind: command.ActivitySent, IRI: iri,
		Type: "Create", ActorID: r.actor, Payload: body, OccurredAt: time.Now()}, targets)
	if err != nil || !ok {
		r.t.Fatalf("enqueue: %v %v", ok, err)
	}
	return id
}

type deliveryRow struct {
	State      string
	Attempts   int
	LastStatus int
	LastError  string
	Next       time.Time
}

func (r *rig) deliveries(event uuid.UUID) []deliveryRow {
	r.t.Helper()
	rows, err := r.db.Pool.Query(context.Background(), `SELECT state, attempts, coalesce(last_status, 0), last_error, next_attempt_at
		FROM deliveries WHERE event_id = $1 ORDER BY id`, event)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	var out []deliveryRow
	for rows.Next() {
		var d deliveryRow
		if err := rows.Scan(&d.State, &d.Attempts, &d.LastStatus, &d.LastError, &d.Next); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func (r *rig) countState(host, state string) int {
	r.t.Helper()
	var n int
	if err := r.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries WHERE host = $1 AND state = $2`, host, state).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// fastConfig is a compressed schedule: retries 100 ms apart at first, for 3 s.
func fastConfig() federation.DelivererConfig {
	return federation.DelivererConfig{
		Concurrency: 8, PerHost: 2, Timeout: 2 * time.Second, Poll: 50 * time.Millisecond,
		Schedule: domain.RetrySchedule{Initial: 100 * time.Millisecond, Multiplier: 2, Max: 400 * time.Millisecond, Jitter: 0.1, RetryFor: 3 * time.Second},
		Hosts:    domain.HostPolicy{BreakerThreshold: 3, BreakerCooldown: 300 * time.Millisecond, BreakerMaxCooldown: time.Second, UnavailableDays: 7},
	}
}

// start runs a worker until the returned stop (or the test's end).
func (r *rig) start(cfg federation.DelivererConfig, clock func() time.Time) (d *federation.Deliverer, stop func()) {
	r.t.Helper()
	d = &federation.Deliverer{
		Queue:  r.queue,
		Client: federation.NewClient(federation.ClientConfig{AllowPrivate: true, UserAgent: "Thoughts/test (+http://thoughts.test)", Timeout: cfg.Timeout}),
		Keys: func(context.Context, uuid.UUID) (string, crypto.PrivateKey, error) {
			return testKeyID, testKey, nil
		},
		Config: cfg,
		Logger: testLogger(),
		Clock:  clock,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	r.t.Cleanup(stop)
	return d, stop
}

func testLogger() *slog.Logger {
	if os.Getenv("DELIVERY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDeliverySigned: a delivery arrives once, POSTed with a cavage
// signature over (request-target) host date digest that the receiver
// verifies, a Digest, the activity as stored, and a User-Agent naming
// Thoughts and its URL.
func TestDeliverySigned(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	p := newPeer(t, nil)
	ev := r.enqueue(p.target("/inbox"))
	d, _ := r.start(fastConfig(), nil)
	d.Notify()
	waitFor(t, "not delivered", 120*time.Second, func() bool { ds := r.deliveries(ev); return ds[0].State == "delivered" })
	got := p.received()
	if len(got) != 1 {
		t.Fatalf("peer got %d requests, want 1", len(got))
	}
	g := got[0]
	if g.Verified != nil {
		t.Errorf("signature did not verify: %v", g.Verified)
	}
	if !strings.Contains(g.SignedHdr, `headers="(request-target) host date digest"`) || !strings.Contains(g.SignedHdr, `algorithm="rsa-sha256"`) {
		t.Errorf("Signature %q", g.SignedHdr)
	}
	if !strings.HasPrefix(g.UserAgent, "Thoughts/") || !strings.Contains(g.UserAgent, "http://thoughts.test") {
		t.Errorf("User-Agent %q", g.UserAgent)
	}
	if !strings.Contains(string(g.Body), ev.String()) {
		t.Errorf("body %s", g.Body)
	}
	if ds := r.deliveries(ev); ds[0].Attempts != 1 || ds[0].LastStatus != 202 {
		t.Errorf("row %+v", ds[0])
	}
}

// TestDeliveryRetryAfterAnd4xx: a 503 with Retry-After is retried no sooner
// than asked (beyond the schedule's 100 ms); a 401 and a 429 are retried; a
// 400 or 404 is not (failed at once, status kept).
func TestDeliveryRetryAfterAnd4xx(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	retryAfter := newPeer(t, func(n int) (int, http.Header) {
		if n == 0 {
			return 503, http.Header{"Retry-After": {"1"}}
		}
		return 202, nil
	})
	unauthorized := newPeer(t, func(n int) (int, http.Header) {
		switch n {
		case 0:
			return 401, nil
		case 1:
			return 429, nil
		}
		return 200, nil
	})
	refused := newPeer(t, func(int) (int, http.Header) { return 400, nil })
	gone := newPeer(t, func(int) (int, http.Header) { return 404, nil })
	evRA := r.enqueue(retryAfter.target("/inbox"))
	evU := r.enqueue(unauthorized.target("/inbox"))
	evR := r.enqueue(refused.target("/inbox"), gone.target("/users/x/inbox"))
	r.start(fastConfig(), nil)
	waitFor(t, "retry-after delivery not delivered", 120*time.Second, func() bool { return r.deliveries(evRA)[0].State == "delivered" })
	waitFor(t, "401/429 delivery not delivered", 120*time.Second, func() bool { return r.deliveries(evU)[0].State == "delivered" })
	waitFor(t, "4xx deliveries not failed", 120*time.Second, func() bool {
		ds := r.deliveries(evR)
		return ds[0].State == "failed" && ds[1].State == "failed"
	})
	got := retryAfter.received()
	if len(got) != 2 {
		t.Fatalf("retry-after peer got %d requests", len(got))
	}
	if gap := got[1].At.Sub(got[0].At); gap < 950*time.Millisecond {
		t.Errorf("retried %v after a Retry-After of 1 s", gap)
	}
	if n := len(unauthorized.received()); n != 3 {
		t.Errorf("401, 429 then 200: %d requests, want 3", n)
	}
	for i, d := range r.deliveries(evR) {
		if d.Attempts != 1 || (d.LastStatus != 400 && d.LastStatus != 404) || !strings.Contains(d.LastError, "HTTP 4") {
			t.Errorf("refused delivery %d: %+v", i, d)
		}
	}
	if n := len(refused.received()) + len(gone.received()); n != 2 {
		t.Errorf("4xx peers got %d requests, want one each", n)
	}
}

// A redirected inbox is not a delivery: the 3xx is recorded and the
// delivery retried (to the same inbox), never turned into a GET whose 2xx
// would count it delivered.
func TestDeliveryNotFooledByRedirect(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	moved := newPeer(t, func(n int) (int, http.Header) {
		if n == 0 {
			return http.StatusMovedPermanently, http.Header{"Location": {"/elsewhere"}}
		}
		return http.StatusAccepted, nil
	})
	ev := r.enqueue(moved.target("/inbox"))
	r.start(fastConfig(), nil)
	waitFor(t, "redirected delivery not delivered on its retry", 120*time.Second, func() bool { return r.deliveries(ev)[0].State == "delivered" })
	got := moved.received()
	if len(got) != 2 {
		t.Fatalf("peer got %d requests, want 2 (the redirected attempt and its retry)", len(got))
	}
	for i, g := range got {
		if g.Path != "/inbox" || g.Verified != nil || len(g.Body) == 0 {
			t.Errorf("request %d: %s, signature %v, %d bytes; want a signed POST of the activity to /inbox", i, g.Path, g.Verified, len(g.Body))
		}
	}
	if d := r.deliveries(ev)[0]; d.Attempts != 2 {
		t.Errorf("delivered after %d attempts, want 2", d.Attempts)
	}
}

// TestDeliveryPoisonedAfterLastAttempt: a host answering 500 forever is
// retried on the schedule (pauses growing) until the deadline; the last
// attempt leaves the delivery failed with its status and error.
func TestDeliveryPoisonedAfterLastAttempt(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	p := newPeer(t, func(int) (int, http.Header) { return 500, nil })
	cfg := fastConfig()
	cfg.Schedule.RetryFor = 3 * time.Second
	cfg.Hosts.BreakerThreshold = 100 // this test is about the schedule
	start := time.Now()
	ev := r.enqueue(p.target("/inbox"))
	r.start(cfg, nil)
	waitFor(t, "never given up", 120*time.Second, func() bool { return r.deliveries(ev)[0].State == "failed" })
	d := r.deliveries(ev)[0]
	got := p.received()
	if d.Attempts != len(got) || d.Attempts < 2 || d.LastStatus != 500 || d.LastError != "HTTP 500" {
		t.Fatalf("row %+v after %d requests", d, len(got))
	}
	last := got[len(got)-1].At.Sub(start)
	if last < cfg.Schedule.RetryFor {
		t.Errorf("last attempt %v after enqueueing, before the %v deadline", last, cfg.Schedule.RetryFor)
	}
	// The pauses grow: the second is longer than the first (100 ms, then
	// 200 ms, ±10 %).
	if len(got) >= 3 {
		if first, second := got[1].At.Sub(got[0].At), got[2].At.Sub(got[1].At); second <= first {
			t.Errorf("pauses %v then %v: not growing", first, second)
		}
	}
}

// TestDeadHostDoesNotDelayHealthy: deliveries to a host that never answers
// take at most its per-host slots; the same number to a healthy host, queued
// behind them, are delivered in about the time they take alone, far less
// than one timeout of the dead host. The breaker opens on the dead host.
func TestDeadHostDoesNotDelayHealthy(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	dead := newPeer(t, func(int) (int, http.Header) { return -1, nil })
	healthy := newPeer(t, nil)
	cfg := fastConfig()
	cfg.Timeout = 6 * time.Second
	cfg.Schedule.RetryFor = time.Minute
	const n = 30

	// Alone first: the baseline.
	for range n {
		r.enqueue(healthy.target("/inbox"))
	}
	start := time.Now()
	_, stop := r.start(cfg, nil)
	waitFor(t, "healthy deliveries not delivered", 120*time.Second, func() bool { return r.countState(healthy.host, "delivered") == n })
	alone := time.Since(start)
	stop()

	// Then queued behind as many to a dead host.
	for range n {
		r.enqueue(dead.target("/inbox"))
	}
	for range n {
		r.enqueue(healthy.target("/inbox"))
	}
	start = time.Now()
	r.start(cfg, nil)
	waitFor(t, "healthy deliveries held up", 120*time.Second, func() bool { return r.countState(healthy.host, "delivered") == 2*n })
	beside := time.Since(start)
	t.Logf("%d deliveries to a healthy host: %v alone, %v beside a dead host (timeout %v)", n, alone, beside, cfg.Timeout)
	if beside >= cfg.Timeout {
		t.Errorf("beside a dead host the healthy host's deliveries took %v, at least one of its timeouts (%v): held up", beside, cfg.Timeout)
	}
	if got := len(dead.received()); got > cfg.PerHost {
		t.Errorf("dead host got %d concurrent requests, cap %d", got, cfg.PerHost)
	}
	// The dead host's failures open its breaker: further attempts wait.
	waitFor(t, "breaker never opened", 40*time.Second, func() bool {
		var open bool
		err := r.db.Pool.QueryRow(context.Background(), `SELECT coalesce(open_until > now(), false) FROM federation_hosts WHERE host = $1`,
			dead.host).Scan(&open)
		return err == nil && open
	})
	// And once it half-opens, its probe (hanging) does not hold up the
	// healthy host either: the dead host's backlog is not even a candidate
	// while its one probe is out.
	time.Sleep(cfg.Hosts.BreakerMaxCooldown)
	for range n {
		r.enqueue(healthy.target("/inbox"))
	}
	start = time.Now()
	waitFor(t, "healthy deliveries held up by a probing breaker", 120*time.Second, func() bool {
		return r.countState(healthy.host, "delivered") == 3*n
	})
	// Held up, they would take most of a timeout (the probe's); alone they
	// take well under a second.
	if probing := time.Since(start); probing >= cfg.Timeout/2 {
		t.Errorf("beside a probing dead host the healthy host's deliveries took %v, half its timeout (%v) or more", probing, cfg.Timeout)
	} else {
		t.Logf("%d more beside the dead host's probe: %v", n, probing)
	}
}

// TestRestartLosesNothing: deliveries a worker claimed when it crashed (its
// lease never released) and ones it had not reached are all delivered by
// the next worker; a worker stopped mid-attempt releases its deliveries.
func TestRestartLosesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	p := newPeer(t, func(n int) (int, http.Header) {
		if n < 2 {
			return -1, nil // the first two hang until the worker stops
		}
		return 202, nil
	})
	var events []uuid.UUID
	for range 5 {
		events = append(events, r.enqueue(p.target("/inbox")))
	}
	// A crashed worker: it leased two and never came back.
	claimed, err := r.queue.Claim(context.Background(), command.ClaimRequest{Limit: 2, PerHost: 2, Lease: 300 * time.Millisecond, Now: time.Now()})
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	// A worker stopped mid-attempt.
	cfg := fastConfig()
	_, stop := r.start(cfg, nil)
	waitFor(t, "first worker never posted", 30*time.Second, func() bool { return len(p.received()) >= 2 })
	stop()
	if n := r.countState(p.host, "delivered"); n == 5 {
		t.Fatal("everything delivered by the first worker; the test shows nothing")
	}
	// The next worker delivers all five.
	r.start(cfg, nil)
	waitFor(t, "not everything delivered after the restart", 120*time.Second, func() bool { return r.countState(p.host, "delivered") == 5 })
	for _, ev := range events {
		if d := r.deliveries(ev)[0]; d.State != "delivered" {
			t.Errorf("%s: %+v", ev, d)
		}
	}
}

// TestHostUnavailableAfterSevenDays: a host failing on seven separate days
// (with no success between) is marked unavailable; its pending deliveries
// are failed, new ones are stored failed without an attempt, and
// MarkAlive (a valid signed request from it) makes it available again.
func TestHostUnavailableAfterSevenDays(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	p := newPeer(t, func(int) (int, http.Header) { return 502, nil })
	ctx := context.Background()
	policy := domain.HostPolicy{BreakerThreshold: 100, BreakerCooldown: time.Second, BreakerMaxCooldown: time.Second, UnavailableDays: 7}
	day0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := r.enqueue(p.target("/inbox"), p.target("/users/a/inbox"))
	var ids []int64
	if err := r.db.Pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM deliveries WHERE event_id = $1`, ev).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	for day := range 7 {
		for try := range 3 { // several failures a day count once
			at := day0.Add(time.Duration(day)*24*time.Hour + time.Duration(try)*time.Hour)
			err := r.queue.Record(ctx, command.DeliveryAttempt{ID: ids[0], Host: p.host, At: at, Status: 502, Error: "HTTP 502",
				State: domain.DeliveryPending, Next: at.Add(time.Minute), HostFault: true}, policy)
			if err != nil {
				t.Fatal(err)
			}
		}
		hosts, err := r.queue.Hosts(ctx)
		if err != nil || len(hosts) != 1 {
			t.Fatalf("hosts: %v %v", hosts, err)
		}
		if want := map[bool]string{true: "unavailable", false: "available"}[day == 6]; hosts[0].State != want || hosts[0].FailureDays != day+1 {
			t.Errorf("after day %d: %+v, want %s", day+1, hosts[0], want)
		}
	}
	for _, d := range r.deliveries(ev) {
		if d.State != "failed" || !strings.Contains(d.LastError, "host unavailable") {
			t.Errorf("pending delivery to the unavailable host: %+v", d)
		}
	}
	later := r.enqueue(p.target("/inbox"))
	if d := r.deliveries(later)[0]; d.State != "failed" || d.Attempts != 0 || !strings.Contains(d.LastError, "host unavailable") {
		t.Errorf("new delivery to an unavailable host: %+v", d)
	}
	if err := r.queue.MarkAlive(ctx, strings.ToUpper(p.host)); err != nil {
		t.Fatal(err)
	}
	hosts, _ := r.queue.Hosts(ctx)
	if hosts[0].State != "available" || hosts[0].FailureDays != 0 || hosts[0].ConsecutiveFailures != 0 {
		t.Errorf("after MarkAlive: %+v", hosts[0])
	}
	p.mu.Lock()
	p.respond = nil // it is back
	p.mu.Unlock()
	again := r.enqueue(p.target("/inbox"))
	r.start(fastConfig(), nil)
	waitFor(t, "not delivered once available", 120*time.Second, func() bool { return r.deliveries(again)[0].State == "delivered" })
}

// TestSharedQueueSkipLocked: two workers on one queue deliver each
// delivery exactly once.
func TestSharedQueueSkipLocked(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	p := newPeer(t, nil)
	const n = 20
	for i := range n {
		r.enqueue(p.target(fmt.Sprintf("/users/u%d/inbox", i)))
	}
	cfg := fastConfig()
	cfg.PerHost = 8
	r.start(cfg, nil)
	r.start(cfg, nil)
	waitFor(t, "not all delivered", 120*time.Second, func() bool { return r.countState(p.host, "delivered") == n })
	if got := len(p.received()); got != n {
		t.Errorf("peer got %d requests for %d deliveries", got, n)
	}
}
