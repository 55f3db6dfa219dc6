package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/events"
)

// TestSmokeBothBackends runs the whole benchmark at a tiny scale — pipeline,
// reference and handler alone, on both backends, against real PostgreSQL and
// embedded NATS — and checks that what it reports adds up: every event made
// exactly one notification, nothing was poisoned, every phase measured what
// it offered, and the JSON round-trips.
func TestSmokeBothBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts both event pipelines")
	}
	t.Parallel()
	cfg := config{
		N: 200, Slices: 2, Writers: 4, Warmup: 20, Rate: 200, Duration: 500 * time.Millisecond,
		Backends:  []string{pubsub.NATS, pubsub.Postgres},
		Reference: true, HandlerAlone: true, HandlerEvents: 30, Users: 10,
		DrainTimeout: time.Minute, Rounds: 2, TraceDir: t.TempDir(),
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	env := environment{
		Database: func(_ context.Context, name string, migrated bool) (database, func(), error) {
			db := pgtest.NewEmpty(t)
			if migrated {
				db = pgtest.New(t)
			}
			return database{Name: name, URL: db.URL, Pool: db.Pool}, func() {}, nil
		},
		Logger:   slog.New(slog.DiscardHandler),
		Progress: &bytes.Buffer{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := benchmark(ctx, cfg, env)
	if err != nil {
		t.Fatal(err)
	}

	if len(rep.Backends) != 2 || rep.Backends[0].Backend != pubsub.NATS || rep.Backends[1].Backend != pubsub.Postgres {
		t.Fatalf("backends = %+v", rep.Backends)
	}
	latencyEvents := 100 // 200/s for 0.5 s
	for _, b := range rep.Backends {
		// -trace: the events of the latency phase, and the server's activity
		// beside them (sampled every 100 ms).
		for _, sys := range []string{"pipeline", "reference"} {
			base := filepath.Join(cfg.TraceDir, "round2", b.Backend+"-"+sys)
			lat, err := os.ReadFile(base + "-latency.csv")
			if err != nil || strings.Count(string(lat), "\n") != latencyEvents+1 {
				t.Errorf("%s %s latency trace: %d lines, %v", b.Backend, sys, strings.Count(string(lat), "\n"), err)
			}
			if sys == "pipeline" {
				rid, err := os.ReadFile(base + "-rowid.csv")
				if err != nil || strings.Count(string(rid), "\n") != latencyEvents+1 {
					t.Errorf("%s row-ID trace: %d lines, %v", b.Backend, strings.Count(string(rid), "\n"), err)
				}
			}
			srv, err := os.ReadFile(base + "-server.csv")
			if err != nil || !strings.HasPrefix(string(srv), "ms,autovacuum,") || strings.Count(string(srv), "\n") < 2 {
				t.Errorf("%s %s server trace: %q, %v", b.Backend, sys, srv, err)
			}
		}
		if len(b.Rounds) != cfg.Rounds {
			t.Errorf("%s: %d rounds reported, want %d", b.Backend, len(b.Rounds), cfg.Rounds)
		} else if b.Rounds[0].PipelineFirst || !b.Rounds[1].PipelineFirst {
			t.Errorf("%s: rounds measured the pipeline first: %v, %v; want the reference first, then the pipeline first",
				b.Backend, b.Rounds[0].PipelineFirst, b.Rounds[1].PipelineFirst)
		} else if want := median([]float64{b.Rounds[0].Ratio, b.Rounds[1].Ratio}); b.Ratio != want || b.Ratio == 0 {
			t.Errorf("%s: ratio %v, want the median of the rounds' %v and %v", b.Backend, b.Ratio, b.Rounds[0].Ratio, b.Rounds[1].Ratio)
		}
		// The throughput phase: the systems' slices alternate, A B B A,
		// the reference first in round 1 and the pipeline in round 2, and
		// add up to N events each.
		for i, r := range b.Rounds {
			var order []string
			events := map[string]int{}
			for _, s := range r.Slices {
				order = append(order, s.System)
				events[s.System] += s.Events
				if s.EventsPerSec <= 0 || s.Seconds <= 0 || s.CommitSeconds <= 0 || s.CommitSeconds > s.Seconds || s.ProcessCPUMillis <= 0 {
					t.Errorf("%s round %d: slice %+v", b.Backend, i+1, s)
				}
			}
			want := []string{"reference", "pipeline", "pipeline", "reference"}
			if r.PipelineFirst {
				want = []string{"pipeline", "reference", "reference", "pipeline"}
			}
			if !reflect.DeepEqual(order, want) || events["pipeline"] != cfg.N || events["reference"] != cfg.N {
				t.Errorf("%s round %d: slices %v with %v events, want %v with %d each", b.Backend, i+1, order, events, want, cfg.N)
			}
			if len(r.PairRatios) != cfg.Slices {
				t.Errorf("%s round %d: pair ratios %v, want %d", b.Backend, i+1, r.PairRatios, cfg.Slices)
			}
		}
		want := int64(cfg.Warmup + cfg.N + latencyEvents)
		if b.NotificationsExpected != want || b.NotificationsStored != want {
			t.Errorf("%s: %d notifications stored, %d expected; want %d", b.Backend, b.NotificationsStored, b.NotificationsExpected, want)
		}
		if b.Poisoned != 0 {
			t.Errorf("%s: %d poisoned", b.Backend, b.Poisoned)
		}
		for name, sys := range map[string]*SystemResult{"pipeline": &b.Pipeline, "reference": b.Reference} {
			if sys == nil {
				t.Fatalf("%s: no %s result", b.Backend, name)
			}
			tp, ol := sys.Throughput, sys.OpenLoop
			if tp.Events != cfg.N || tp.EventsPerSec <= 0 || tp.Seconds <= 0 || tp.CommitsPerSec <= 0 {
				t.Errorf("%s %s throughput = %+v", b.Backend, name, tp)
			}
			lat := ol.Latency
			if ol.Events != latencyEvents || lat.Count != latencyEvents {
				t.Errorf("%s %s: %d events offered, %d latencies; want %d", b.Backend, name, ol.Events, lat.Count, latencyEvents)
			}
			if !(lat.P50 > 0 && lat.P50 <= lat.P99 && lat.P99 <= lat.Max) {
				t.Errorf("%s %s latency = %+v", b.Backend, name, lat)
			}
		}
		if b.RowIDLatency.Count != latencyEvents {
			t.Errorf("%s: row-ID latencies of %d events, want %d", b.Backend, b.RowIDLatency.Count, latencyEvents)
		}
		for i, r := range b.Rounds {
			if want := r.EventsPerSec / r.ReferenceEventsPerSec; r.Ratio <= 0 || r.Ratio < want-0.001 || r.Ratio > want+0.001 {
				t.Errorf("%s round %d: ratio %v, want %v", b.Backend, i+1, r.Ratio, want)
			}
			if want := r.P99 / r.ReferenceP99; r.P99Ratio <= 0 || r.P99Ratio < want-0.01 || r.P99Ratio > want+0.01 {
				t.Errorf("%s round %d: p99 ratio %v, want %v", b.Backend, i+1, r.P99Ratio, want)
			}
			if r.WritersRatio <= 0 {
				t.Errorf("%s round %d: writers' ratio %v", b.Backend, i+1, r.WritersRatio)
			}
		}
		if len(b.HandlerAlone) != 2 || b.HandlerAlone[0].Concurrency != 1 || b.HandlerAlone[1].Concurrency != cfg.Writers {
			t.Errorf("%s: handler alone = %+v", b.Backend, b.HandlerAlone)
		}
		for _, h := range b.HandlerAlone {
			if h.Events != cfg.HandlerEvents || h.EventsPerSec <= 0 || h.Latency.Count != cfg.HandlerEvents {
				t.Errorf("%s: handler alone = %+v", b.Backend, h)
			}
		}
		if want := median([]float64{b.Rounds[0].WritersRatio, b.Rounds[1].WritersRatio}); b.WritersRatio != want {
			t.Errorf("%s: writers' ratio %v, want the rounds' median %v", b.Backend, b.WritersRatio, want)
		}
		if want := median([]float64{b.Rounds[0].P99Ratio, b.Rounds[1].P99Ratio}); b.P99Ratio != want {
			t.Errorf("%s: p99 ratio %v, want the rounds' median %v", b.Backend, b.P99Ratio, want)
		}
		if b.Rate != cfg.Rate {
			t.Errorf("%s: latency phases at %d/s, want -rate's %d/s", b.Backend, b.Rate, cfg.Rate)
		}
		if len(b.Targets) != 3 {
			t.Errorf("%s: targets = %+v", b.Backend, b.Targets)
		}
	}

	var out bytes.Buffer
	printTable(&out, rep)
	for _, want := range []string{"nats", "postgres", "pipeline/reference events/s", "writers' commits/s", "≥ 80%", "≤ 3×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	path, err := writeJSON(filepath.Join(t.TempDir(), "results"), rep)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Backends) != 2 || !reflect.DeepEqual(back.Backends[1].Pipeline.Throughput, rep.Backends[1].Pipeline.Throughput) {
		t.Errorf("JSON round trip changed the report: %s", raw)
	}
	if !strings.HasPrefix(filepath.Base(path), "events-") {
		t.Errorf("result file %s", path)
	}
}

// TestReferencePayloadMatchesPipeline: the reference's messages carry a
// payload of the size of a LikeAdded event and the same metadata keys.
func TestReferencePayloadMatchesPipeline(t *testing.T) {
	t.Parallel()
	id := uuid.Must(uuid.NewV7())
	env := events.New(events.WithCorrelationID(context.Background(), uuid.NewString()), uuid.New(),
		events.LikeAdded{LikeID: uuid.New(), UserID: uuid.New(), ThoughtID: uuid.New()}, time.Now())
	msg, err := outbox.ToMessage(env)
	if err != nil {
		t.Fatal(err)
	}
	ref := refMessage(id)
	if len(ref.Payload) != len(msg.Payload) || len(ref.Payload) != payloadBytes {
		t.Errorf("payload sizes: reference %d, pipeline %d, payloadBytes %d", len(ref.Payload), len(msg.Payload), payloadBytes)
	}
	if _, err := events.Unmarshal(ref.Payload); err != nil {
		t.Errorf("reference payload is not a LikeAdded: %v", err)
	}
	for k := range msg.Metadata {
		if _, ok := ref.Metadata[k]; !ok {
			t.Errorf("reference metadata lacks %s", k)
		}
	}
	if len(ref.Metadata) != len(msg.Metadata) {
		t.Errorf("metadata: reference %v, pipeline %v", ref.Metadata, msg.Metadata)
	}
}

func TestSummariseNearestRank(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, unsorted
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarise(ds)
	want := Latency{Count: 100, Mean: 50.5, P50: 50, P90: 90, P99: 99, P999: 100, Max: 100}
	if got != want {
		t.Errorf("summarise = %+v, want %+v", got, want)
	}
	if (summarise(nil) != Latency{}) {
		t.Error("summarise(nil) is not empty")
	}
}

func TestUUIDV7Time(t *testing.T) {
	t.Parallel()
	before := time.Now()
	id := uuid.Must(uuid.NewV7())
	after := time.Now()
	at := uuidV7Time(id)
	// google/uuid keeps the time to 256 ns; it may step forward by a tick to
	// stay monotonic.
	if at.Before(before.Add(-time.Microsecond)) || at.After(after.Add(time.Microsecond)) {
		t.Errorf("uuidV7Time = %s, want between %s and %s", at, before, after)
	}
}

func TestCastNeverSelfLikes(t *testing.T) {
	t.Parallel()
	c := cast{}
	for range 7 {
		c.authors = append(c.authors, uuid.New())
		c.likers = append(c.likers, uuid.New())
		c.thoughts = append(c.thoughts, uuid.New())
	}
	authorOf := map[uuid.UUID]uuid.UUID{}
	for i, th := range c.thoughts {
		authorOf[th] = c.authors[i]
	}
	seen := map[[2]uuid.UUID]bool{}
	for seq := range 49 {
		liker, th := c.like(seq)
		if liker == authorOf[th] {
			t.Fatalf("event %d: %s likes their own thought", seq, liker)
		}
		seen[[2]uuid.UUID{liker, th}] = true
	}
	if len(seen) != 49 {
		t.Errorf("49 events cover %d (liker, thought) pairs, want all 49", len(seen))
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := config{N: 10, Slices: 1, Writers: 1, Rate: 1, Duration: time.Second, Backends: []string{"nats"}, Users: 2, HandlerEvents: 1, DrainTimeout: time.Second, Rounds: 1}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*config){
		"no events":       func(c *config) { c.N = 0 },
		"no writers":      func(c *config) { c.Writers = 0 },
		"negative rate":   func(c *config) { c.Rate = -1 },
		"unknown backend": func(c *config) { c.Backends = []string{"kafka"} },
		"no backend":      func(c *config) { c.Backends = nil },
		"one user":        func(c *config) { c.Users = 1 },
		"huge duration":   func(c *config) { c.Duration = time.Hour },
		"no rounds":       func(c *config) { c.Rounds = 0 },
		"no slices":       func(c *config) { c.Slices = 0 },
		"slices over n":   func(c *config) { c.Slices = 11 },
	} {
		c := good
		mutate(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: validate accepted %+v", name, c)
		}
	}
}

// TestMedianOfRounds: the targets are checked on the median ratios, and the
// figures shown are those of the round with the median events/s ratio.
func TestMedianOfRounds(t *testing.T) {
	round := func(ratio, writers, p99 float64, rate int) BackendResult {
		r := BackendResult{Backend: "postgres", Ratio: ratio, WritersRatio: writers, P99Ratio: p99, Rate: rate, Reference: &SystemResult{}}
		r.Rounds = []Round{roundOf(r, false)}
		return r
	}
	got := medianOf(config{}, []BackendResult{round(0.70, 0.71, 2.0, 1000), round(0.90, 0.88, 4.0, 1100), round(0.82, 0.83, 3.5, 1200)})
	if got.Ratio != 0.82 || got.WritersRatio != 0.83 || got.P99Ratio != 3.5 || got.Rate != 1200 || len(got.Rounds) != 3 {
		t.Errorf("median of three rounds: ratio %v writers %v p99 %v rate %d, %d rounds", got.Ratio, got.WritersRatio, got.P99Ratio, got.Rate, len(got.Rounds))
	}
	if len(got.Targets) != 3 || !got.Targets[0].Pass || !got.Targets[1].Pass || got.Targets[2].Pass {
		t.Errorf("targets on the medians: %+v", got.Targets)
	}
	if m := median([]float64{0.6, 0.9}); m != 0.75 {
		t.Errorf("median of two = %v, want 0.75", m)
	}
}

// TestCombineSlices: a system's throughput is all its slices' events over all
// their seconds (not the mean of their rates), its CPU per event weighted by
// events; the pair ratios compare neighbouring slices whichever went first.
func TestCombineSlices(t *testing.T) {
	slices := []Slice{
		{System: "reference", Events: 100, Seconds: 1, EventsPerSec: 100, CommitSeconds: 0.9, CPUMillis: 1, ProcessCPUMillis: 0.5, WALBytes: 600},
		{System: "pipeline", Events: 100, Seconds: 2, EventsPerSec: 50, CommitSeconds: 1.8, CPUMillis: 2, ProcessCPUMillis: 0.6, WALBytes: 1600, oldestWriteTx: 0.3},
		{System: "pipeline", Events: 300, Seconds: 2, EventsPerSec: 150, CommitSeconds: 1.5, CPUMillis: 1, ProcessCPUMillis: 0.4, WALBytes: 1200, Redelivered: 2},
		{System: "reference", Events: 300, Seconds: 1.5, EventsPerSec: 200, CommitSeconds: 1.1, CPUMillis: 0.5, ProcessCPUMillis: 0.3, WALBytes: 700},
	}
	p := combine(slices, "pipeline")
	if p.Events != 400 || p.Seconds != 4 || p.EventsPerSec != 100 || p.CommitSeconds != 3.3 || p.CommitsPerSec != 121 ||
		p.Redelivered != 2 || p.OldestWriteTx != 0.3 {
		t.Errorf("pipeline = %+v", p)
	}
	if c := p.PerEvent; c == nil || c.CPUMillis != 1.25 || c.ProcessCPUMillis != 0.45 || c.WALBytes != 1300 || c.WALSyncs != nil {
		t.Errorf("pipeline per event = %+v", c)
	}
	if r := combine(slices, "reference"); r.Events != 400 || r.EventsPerSec != 160 || r.PerEvent.CPUMillis != 0.625 {
		t.Errorf("reference = %+v, per event %+v", r, r.PerEvent)
	}
	if got := pairRatios(slices); !reflect.DeepEqual(got, []float64{0.5, 0.75}) {
		t.Errorf("pair ratios = %v, want [0.5 0.75]", got)
	}
}
