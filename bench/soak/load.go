package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The operations of the mix.
const (
	opPost          = "post"
	opLike          = "like"
	opFollow        = "follow"
	opFeed          = "feed"
	opNotifications = "notifications"
	// opLagPoll is the lag sampler's polling of notifications (not part of
	// the offered mix, counted apart).
	opLagPoll = "lag poll"
)

var mixOps = []string{opPost, opLike, opFollow, opFeed, opNotifications}

// OpStats counts one operation's answers.
type OpStats struct {
	Sent        int64    `json:"sent"`
	OK          int64    `json:"ok"`           // the expected status
	Status4xx   int64    `json:"status_4xx"`   // unexpected 4xx
	Status5xx   int64    `json:"status_5xx"`   // must be zero
	Transport   int64    `json:"transport"`    // no answer: timeout, refused, reset
	NotSent     int64    `json:"not_sent"`     // dropped: too many in flight
	P50ms       float64  `json:"p50_ms"`       // of answered requests
	P99ms       float64  `json:"p99_ms"`       //
	MaxMs       float64  `json:"max_ms"`       //
	FailSamples []string `json:"fail_samples"` // first few distinct failures
}

type opCounter struct {
	mu    sync.Mutex
	s     OpStats
	lats  []time.Duration
	seen  map[string]bool
	first time.Time
}

func (c *opCounter) record(lat time.Duration, status int, want int, failure string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Sent++
	switch {
	case status == want:
		c.s.OK++
	case status >= 500:
		c.s.Status5xx++
	case status >= 400:
		c.s.Status4xx++
	case status == 0:
		c.s.Transport++
	default:
		c.s.Status4xx++ // an unexpected 2xx/3xx: counted as a client-visible failure
	}
	if status != 0 {
		c.lats = append(c.lats, lat)
	}
	if failure != "" {
		if c.seen == nil {
			c.seen = map[string]bool{}
		}
		key := truncate(failure, 120)
		if !c.seen[key] && len(c.s.FailSamples) < 6 {
			c.seen[key] = true
			c.s.FailSamples = append(c.s.FailSamples, time.Now().UTC().Format("15:04:05.000")+" "+truncate(failure, 400))
		}
	}
}

func (c *opCounter) notSent() {
	c.mu.Lock()
	c.s.Sent++
	c.s.NotSent++
	c.mu.Unlock()
}

func (c *opCounter) stats() OpStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	if len(c.lats) > 0 {
		l := slices.Clone(c.lats)
		slices.Sort(l)
		s.P50ms, s.P99ms, s.MaxMs = ms(quantile(l, 0.5)), ms(quantile(l, 0.99)), ms(l[len(l)-1])
	}
	return s
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*100) / 100 }

// LagStats are the sampled notification lags: from the like's or follow's
// response to the notification in the recipient's list.
type LagStats struct {
	Sampled  int64   `json:"sampled"`
	Seen     int64   `json:"seen"`
	NotSeen  int64   `json:"not_seen"` // not visible within the timeout
	P50ms    float64 `json:"p50_ms"`
	P90ms    float64 `json:"p90_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	PollMs   float64 `json:"poll_interval_ms"`
	Timeout  string  `json:"timeout"`
	Skipped  int64   `json:"skipped"` // samples not taken: too many watchers at once
	Abandons int64   `json:"abandoned_at_end"`
}

// load is the mixed workload against one API base URL.
type load struct {
	o      options
	base   string
	client *http.Client
	log    *slog.Logger
	users  []seedUser

	mu       sync.Mutex
	thoughts []seedThought // likeable: seeded and posted; the newest at the end
	liked    map[[2]uuid.UUID]bool
	follows  map[[2]int]bool

	ops      map[string]*opCounter
	inFlight atomic.Int64

	lagMu      sync.Mutex
	lags       []time.Duration
	lagSampled atomic.Int64
	lagNotSeen atomic.Int64
	lagSkipped atomic.Int64
	lagAbandon atomic.Int64
	watchers   atomic.Int64
	watchWG    sync.WaitGroup

	start   time.Time // of the load
	winMu   sync.Mutex
	windows map[int]*window
}

// windowLen is the span of one window of the time series.
const windowLen = 10 * time.Second

type window struct {
	lats []time.Duration
	n5xx int64
	fail int64
}

// Window is one span of the load: how steady it was.
type Window struct {
	StartS    float64 `json:"start_s"`
	Requests  int     `json:"requests"` // of the mix, by send time
	Status5xx int64   `json:"status_5xx"`
	Failures  int64   `json:"failures"` // any answer but the expected one, or none
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

func (l *load) record(sent time.Time, lat time.Duration, status, want int) {
	if l.start.IsZero() {
		return
	}
	k := int(sent.Sub(l.start) / windowLen)
	l.winMu.Lock()
	defer l.winMu.Unlock()
	w := l.windows[k]
	if w == nil {
		w = &window{}
		l.windows[k] = w
	}
	w.lats = append(w.lats, lat)
	if status >= 500 {
		w.n5xx++
	}
	if status != want {
		w.fail++
	}
}

// series returns the windows in time order.
func (l *load) series() []Window {
	l.winMu.Lock()
	defer l.winMu.Unlock()
	var keys []int
	for k := range l.windows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Window, 0, len(keys))
	for _, k := range keys {
		w := l.windows[k]
		lats := slices.Clone(w.lats)
		slices.Sort(lats)
		out = append(out, Window{StartS: (time.Duration(k) * windowLen).Seconds(), Requests: len(lats), Status5xx: w.n5xx, Failures: w.fail,
			P50ms: ms(quantile(lats, 0.5)), P99ms: ms(quantile(lats, 0.99))})
	}
	return out
}

func newLoad(o options, base string, s seeded, log *slog.Logger) *load {
	l := &load{o: o, base: base, log: log, users: s.Users, thoughts: slices.Clone(s.Thoughts),
		liked: map[[2]uuid.UUID]bool{}, follows: map[[2]int]bool{}, ops: map[string]*opCounter{}, windows: map[int]*window{}}
	for _, f := range s.Follows {
		l.follows[f] = true
	}
	for _, op := range append(slices.Clone(mixOps), opLagPoll) {
		l.ops[op] = &opCounter{}
	}
	l.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	return l
}

// maxInFlight bounds the open loop against a server that stops answering.
const maxInFlight = 2000

// maxWatchers bounds concurrent lag samples (each polls every PollInterval).
const maxWatchers = 200

// run offers the mix at o.rate requests per second on a fixed schedule until
// ctx ends or d has passed, each request on its own goroutine.
func (l *load) run(ctx context.Context, d time.Duration, onTick func(elapsed time.Duration)) {
	weights := l.o.mix.weights()
	total := 0.0
	for _, w := range weights {
		total += w
	}
	pick := rand.New(rand.NewPCG(l.o.seed, 0x6d6978)) // "mix"
	interval := time.Duration(float64(time.Second) / l.o.rate)
	start := time.Now()
	l.start = start
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d {
			break
		}
		if w := time.Until(at); w > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-time.After(w):
			}
		}
		if onTick != nil && i%int(max(1, l.o.rate)) == 0 {
			onTick(time.Since(start))
		}
		x := pick.Float64() * total
		op := mixOps[len(mixOps)-1]
		for j, w := range weights {
			if x < w {
				op = mixOps[j]
				break
			}
			x -= w
		}
		if l.inFlight.Load() >= maxInFlight {
			l.ops[op].notSent()
			continue
		}
		seed := pick.Uint64()
		l.inFlight.Add(1)
		wg.Go(func() {
			defer l.inFlight.Add(-1)
			l.do(ctx, op, rand.New(rand.NewPCG(seed, uint64(i))))
		})
	}
	wg.Wait()
}

// call sends one request and records it under op; it returns the status
// (0: no answer) and the body.
func (l *load) call(ctx context.Context, op, method, path, token string, body []byte, want int) (int, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		l.ops[op].record(0, 0, want, err.Error())
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sent := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			l.ops[op].record(time.Since(sent), 0, want, method+" "+path+": "+err.Error())
			if op != opLagPoll {
				l.record(sent, time.Since(sent), 0, want)
			}
		}
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	lat := time.Since(sent)
	if err != nil {
		l.ops[op].record(lat, 0, want, method+" "+path+": read body: "+err.Error())
		if op != opLagPoll {
			l.record(sent, lat, 0, want)
		}
		return 0, nil
	}
	failure := ""
	if resp.StatusCode != want {
		failure = fmt.Sprintf("%s %s: status %d: %s", method, routeOf(path), resp.StatusCode, truncate(string(b), 300))
	}
	l.ops[op].record(lat, resp.StatusCode, want, failure)
	if op != opLagPoll {
		l.record(sent, lat, resp.StatusCode, want)
	}
	return resp.StatusCode, b
}

// routeOf strips IDs and queries from a path for failure samples.
func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if _, err := uuid.Parse(p); err == nil {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// do runs one operation of the mix.
func (l *load) do(ctx context.Context, op string, r *rand.Rand) {
	u := r.IntN(len(l.users))
	me := l.users[u]
	switch op {
	case opPost:
		body, _ := json.Marshal(map[string]string{"content": words(r, 5+r.IntN(15)), "visibility": "public"})
		status, resp := l.call(ctx, op, http.MethodPost, "/api/v1/thoughts", me.Token, body, http.StatusCreated)
		if status == http.StatusCreated {
			var t struct {
				ID uuid.UUID `json:"id"`
			}
			if json.Unmarshal(resp, &t) == nil && t.ID != uuid.Nil {
				l.mu.Lock()
				l.thoughts = append(l.thoughts, seedThought{ID: t.ID, Author: u})
				l.mu.Unlock()
			}
		}
	case opLike:
		t, ok := l.pickLike(r, u)
		if !ok {
			return
		}
		status, _ := l.call(ctx, op, http.MethodPost, "/api/v1/thoughts/"+t.ID.String()+"/like", me.Token, nil, http.StatusOK)
		if status == http.StatusOK {
			l.maybeWatch(ctx, r, t.Author, "like", me.ID, t.ID)
		}
	case opFollow:
		v, ok := l.pickFollow(r, u)
		if !ok {
			return
		}
		status, _ := l.call(ctx, op, http.MethodPost, "/api/v1/users/"+l.users[v].Username+"/follow", me.Token, nil, http.StatusOK)
		if status == http.StatusOK {
			l.maybeWatch(ctx, r, v, "follow", me.ID, uuid.Nil)
		}
	case opFeed:
		l.call(ctx, op, http.MethodGet, "/api/v1/feed", me.Token, nil, http.StatusOK)
	case opNotifications:
		l.call(ctx, op, http.MethodGet, "/api/v1/notifications", me.Token, nil, http.StatusOK)
	}
}

// pickLike draws a thought of another user that u has not liked: mostly
// among the newest 2,000, as people like what is in their feeds.
func (l *load) pickLike(r *rand.Rand, u int) (seedThought, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 20 {
		n := len(l.thoughts)
		var t seedThought
		if r.IntN(4) > 0 {
			t = l.thoughts[n-1-r.IntN(min(n, 2000))]
		} else {
			t = l.thoughts[r.IntN(n)]
		}
		key := [2]uuid.UUID{l.users[u].ID, t.ID}
		if t.Author == u || l.liked[key] {
			continue
		}
		l.liked[key] = true
		return t, true
	}
	return seedThought{}, false
}

// pickFollow draws an account u does not follow yet.
func (l *load) pickFollow(r *rand.Rand, u int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 20 {
		v := r.IntN(len(l.users))
		if v == u || l.follows[[2]int{u, v}] {
			continue
		}
		l.follows[[2]int{u, v}] = true
		return v, true
	}
	return 0, false
}

// maybeWatch samples o.lagSample of the likes and follows: it polls the
// recipient's notifications until the expected one shows up, from the
// moment the request was answered, every o.lagPoll or a tenth of the time
// waited so far, whichever is longer.
func (l *load) maybeWatch(ctx context.Context, r *rand.Rand, recipient int, typ string, actor, thought uuid.UUID) {
	if r.Float64() >= l.o.lagSample {
		return
	}
	answered := time.Now()
	if l.watchers.Load() >= maxWatchers {
		l.lagSkipped.Add(1)
		return
	}
	l.lagSampled.Add(1)
	l.watchers.Add(1)
	l.watchWG.Go(func() {
		defer l.watchers.Add(-1)
		tok := l.users[recipient].Token
		path := "/api/v1/notifications?limit=40&types=" + typ
		deadline := answered.Add(l.o.lagTimeout)
		for {
			status, body := l.call(ctx, opLagPoll, http.MethodGet, path, tok, nil, http.StatusOK)
			seenAt := time.Now()
			if status == http.StatusOK && containsNotification(body, typ, actor, thought) {
				l.lagMu.Lock()
				l.lags = append(l.lags, seenAt.Sub(answered))
				l.lagMu.Unlock()
				return
			}
			if ctx.Err() != nil {
				l.lagAbandon.Add(1)
				return
			}
			if seenAt.After(deadline) {
				l.lagNotSeen.Add(1)
				l.log.Warn("notification not visible within the timeout", "type", typ, "actor", actor, "thought", thought,
					"recipient", l.users[recipient].Username, "timeout", l.o.lagTimeout)
				return
			}
			// Polls back off to a tenth of the lag so far: the figure stays
			// within 10% (or one -lag-poll), and a backlog of seconds does
			// not turn the samplers into the main load.
			select {
			case <-ctx.Done():
			case <-time.After(max(l.o.lagPoll, seenAt.Sub(answered)/10)):
			}
		}
	})
}

func containsNotification(body []byte, typ string, actor, thought uuid.UUID) bool {
	var list []struct {
		Type    string `json:"type"`
		Account struct {
			ID uuid.UUID `json:"id"`
		} `json:"account"`
		Thought *struct {
			ID uuid.UUID `json:"id"`
		} `json:"thought"`
	}
	if json.Unmarshal(body, &list) != nil {
		return false
	}
	for _, n := range list {
		if n.Type != typ || n.Account.ID != actor {
			continue
		}
		if thought == uuid.Nil || (n.Thought != nil && n.Thought.ID == thought) {
			return true
		}
	}
	return false
}

// lagStats summarises the samples; call after the watchers have finished.
func (l *load) lagStats() LagStats {
	l.lagMu.Lock()
	lags := slices.Clone(l.lags)
	l.lagMu.Unlock()
	s := LagStats{Sampled: l.lagSampled.Load(), Seen: int64(len(lags)), NotSeen: l.lagNotSeen.Load(), Skipped: l.lagSkipped.Load(),
		Abandons: l.lagAbandon.Load(), PollMs: ms(l.o.lagPoll), Timeout: l.o.lagTimeout.String()}
	if len(lags) > 0 {
		slices.Sort(lags)
		s.P50ms, s.P90ms, s.P99ms, s.MaxMs = ms(quantile(lags, 0.5)), ms(quantile(lags, 0.9)), ms(quantile(lags, 0.99)), ms(lags[len(lags)-1])
	}
	return s
}

// opStats returns every operation's figures.
func (l *load) opStats() map[string]OpStats {
	out := map[string]OpStats{}
	for op, c := range l.ops {
		out[op] = c.stats()
	}
	return out
}
