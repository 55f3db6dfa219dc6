package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/router"
	"github.com/thoughts-project/thoughts/service"
)

// Report is the result of a run, as written to JSON.
type Report struct {
	StartedAt      time.Time       `json:"started_at"`
	Seconds        float64         `json:"seconds"`
	Host           Host            `json:"host"`
	Config         ReportConfig    `json:"config"`
	DatabaseServer string          `json:"database_server,omitempty"`
	Backends       []BackendResult `json:"backends"`
}

// Host describes the machine, including its load: other work on it skews
// every figure.
type Host struct {
	CPUs          int    `json:"cpus"`
	GoVersion     string `json:"go_version"`
	OS            string `json:"os"`
	LoadAvgBefore string `json:"loadavg_before"`
	LoadAvgAfter  string `json:"loadavg_after"`
	Postgres      string `json:"postgres"`
}

// ReportConfig is the run's configuration.
type ReportConfig struct {
	N             int     `json:"n"`
	Writers       int     `json:"writers"`
	Warmup        int     `json:"warmup"`
	Rate          int     `json:"rate"`
	DurationSecs  float64 `json:"duration_seconds"`
	Users         int     `json:"users"`
	PayloadBytes  int     `json:"payload_bytes"`
	HandlerEvents int     `json:"handler_events"`
	// Tuning is empty for serve's settings.
	Tuning Tuning `json:"tuning"`
}

// BackendResult is one backend: the pipeline, the reference and the checks.
type BackendResult struct {
	Backend   string        `json:"backend"`
	Pipeline  SystemResult  `json:"pipeline"`
	Reference *SystemResult `json:"reference,omitempty"`
	// Ratio is pipeline events/s over reference events/s; WritersRatio the
	// writers' commit rate during the pipeline's throughput phase over theirs
	// during the reference's; P99Ratio the pipeline's commit→notification p99
	// over the reference's, both at Rate.
	Ratio        float64 `json:"ratio,omitempty"`
	WritersRatio float64 `json:"writers_ratio,omitempty"`
	P99Ratio     float64 `json:"p99_ratio,omitempty"`
	// Rate is the offered rate of both latency phases: half the reference's
	// events/s unless -rate set it.
	Rate int `json:"rate"`
	// RowIDLatency cross-checks the latency phase against the stored rows:
	// commit to the time in the notification's UUIDv7 ID, which the handler
	// draws just before its INSERT (so a little earlier than its commit).
	RowIDLatency Latency `json:"row_id_latency"`
	// NotificationsStored must equal NotificationsExpected: one per event.
	NotificationsStored   int64          `json:"notifications_stored"`
	NotificationsExpected int64          `json:"notifications_expected"`
	Poisoned              uint64         `json:"poisoned"`
	HandlerAlone          []HandlerAlone `json:"handler_alone,omitempty"`
	Targets               []Target       `json:"targets"`
	// Rounds are every round's figures (-rounds); the fields above are the
	// round whose events/s ratio is the median, with Ratio, WritersRatio and
	// P99Ratio the medians over all rounds, on which Targets are checked.
	Rounds []Round `json:"rounds,omitempty"`
}

// Round is one round of a backend's comparison.
type Round struct {
	// PipelineFirst: the pipeline went first in the round's first pair of
	// throughput slices and in the latency phases.
	PipelineFirst         bool    `json:"pipeline_first"`
	EventsPerSec          float64 `json:"events_per_sec"`
	ReferenceEventsPerSec float64 `json:"reference_events_per_sec"`
	Ratio                 float64 `json:"ratio"`
	WritersRatio          float64 `json:"writers_ratio"`
	Rate                  int     `json:"rate"`
	P99                   float64 `json:"p99_ms"`
	ReferenceP99          float64 `json:"reference_p99_ms"`
	P99Ratio              float64 `json:"p99_ratio"`
	CPUMillis             float64 `json:"cpu_ms,omitempty"`
	ReferenceCPUMillis    float64 `json:"reference_cpu_ms,omitempty"`
	LoadAvg               string  `json:"loadavg"`
	// Slices are the throughput phase's, in the order they ran, and
	// PairRatios the pipeline's events/s over the reference's in each pair
	// of neighbouring slices.
	Slices     []Slice   `json:"slices,omitempty"`
	PairRatios []float64 `json:"pair_ratios,omitempty"`
}

// SystemResult is what was measured of one system.
type SystemResult struct {
	Throughput Throughput `json:"throughput"`
	OpenLoop   OpenLoop   `json:"open_loop"`
}

// Target is one of issue 3's targets.
type Target struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Pass bool    `json:"pass"`
}

// payloadBytes is the size of a LikeAdded payload, which the reference's
// messages match.
const payloadBytes = len(`{"type":"LikeAdded","data":{"like_id":"","user_id":"","thought_id":""}}`) + 3*36

func benchmark(ctx context.Context, cfg config, env environment) (Report, error) {
	rep := Report{
		StartedAt: time.Now().UTC(),
		Host:      Host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadAvgBefore: loadAvg()},
		Config: ReportConfig{
			N: cfg.N, Writers: cfg.Writers, Warmup: cfg.Warmup, Rate: cfg.Rate, DurationSecs: cfg.Duration.Seconds(),
			Users: cfg.Users, PayloadBytes: payloadBytes, HandlerEvents: cfg.HandlerEvents,
			Tuning: cfg.Tuning,
		},
	}
	fmt.Fprintf(env.Progress, "bench/events: %d CPUs, load average %s; N=%d, %d writers, %d events/s for %s\n",
		rep.Host.CPUs, rep.Host.LoadAvgBefore, cfg.N, cfg.Writers, cfg.Rate, cfg.Duration)
	for _, backend := range cfg.Backends {
		var rounds []BackendResult
		rcfg := cfg
		for i := range cfg.Rounds {
			if cfg.Rounds > 1 {
				fmt.Fprintf(env.Progress, "%s: round %d of %d, load average %s\n", backend, i+1, cfg.Rounds, loadAvg())
				if cfg.TraceDir != "" {
					rcfg.TraceDir = filepath.Join(cfg.TraceDir, fmt.Sprintf("round%d", i+1))
				}
			}
			// Odd rounds start each pair of throughput slices and the
			// latency phases with the reference, even rounds with the
			// pipeline: whichever goes first meets a machine a little
			// different from the one the second meets.
			pipelineFirst := i%2 == 1
			res, slices, err := benchBackend(ctx, rcfg, env, backend, &rep.Host, pipelineFirst)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", backend, err)
			}
			r := roundOf(res, pipelineFirst)
			r.Slices, r.PairRatios = slices, pairRatios(slices)
			res.Rounds = []Round{r}
			rounds = append(rounds, res)
			rcfg.HandlerAlone = false // once is enough
			// Every later round's latency phases run at the first round's
			// rate (half its reference's maximum unless -rate): the same
			// load in every round, known before either system runs.
			rcfg.Rate = res.Rate
		}
		rep.Backends = append(rep.Backends, medianOf(cfg, rounds))
	}
	rep.Host.LoadAvgAfter = loadAvg()
	rep.Seconds = round(time.Since(rep.StartedAt).Seconds(), 1)
	return rep, nil
}

// benchBackend measures the pipeline and the reference of one backend, both
// started side by side, each on a database and broker of its own: warm-up
// of each, then the throughput phase and the latency phase, each as slices
// of the two systems in turn (interleave), the pipeline's first if
// pipelineFirst. Both latency phases run at half the reference's maximum
// (issue 10) unless cfg.Rate fixes the rate. It returns the throughput
// phase's slices too.
func benchBackend(ctx context.Context, cfg config, env environment, backend string, host *Host, pipelineFirst bool) (BackendResult, []Slice, error) {
	res := BackendResult{Backend: backend}
	pipe, p, pdb, closePipe, err := openPipeline(ctx, cfg, env, backend, host)
	if err != nil {
		return res, nil, err
	}
	defer closePipe()
	cs := []*contender{pipe}
	var ref *contender
	if cfg.Reference {
		var closeRef func()
		if ref, closeRef, err = openReference(ctx, cfg, env, backend); err != nil {
			return res, nil, err
		}
		defer closeRef()
		cs = []*contender{ref, pipe}
		if pipelineFirst {
			cs = []*contender{pipe, ref}
		}
	}
	for _, c := range cs {
		if err := c.do(ctx, func(ctx context.Context) error { return c.ph.warmup(ctx, c.sys) }); err != nil {
			return res, nil, err
		}
	}

	// Throughput.
	var (
		before   []dbCounters
		beforeOK []bool
	)
	if cfg.DBCost {
		for _, c := range cs {
			b, ok := c.ph.counters(ctx)
			before, beforeOK = append(before, b), append(beforeOK, ok)
		}
	}
	slices, err := interleave(ctx, cfg, env.Progress, cs)
	if err != nil {
		return res, slices, err
	}
	var refResult SystemResult
	results := map[*contender]*SystemResult{pipe: &res.Pipeline}
	if ref != nil {
		results[ref] = &refResult
	}
	for c, r := range results {
		r.Throughput = combine(slices, c.name)
	}
	if cfg.DBCost {
		time.Sleep(11 * time.Second) // see DBCost
		for i, c := range cs {
			after, ok := c.ph.counters(ctx)
			tp := &results[c].Throughput
			if ok && beforeOK[i] && tp.PerEvent != nil {
				// The WAL counters are the server's: they are one system's
				// only when one ran.
				addCounters(tp.PerEvent, before[i], after, tp.Events, len(cs) == 1)
			}
		}
	}
	for _, c := range cs {
		tp := results[c].Throughput
		fmt.Fprintf(env.Progress, "%s: %.0f events/s end to end (writers alone committed %.0f/s)\n", c.ph.label, tp.EventsPerSec, tp.CommitsPerSec)
	}

	// Latency, at half the reference's maximum unless -rate.
	if cfg.Rate == 0 {
		cfg.Rate = 1000
		if ref != nil {
			cfg.Rate = max(1, int(refResult.Throughput.EventsPerSec/2))
		}
	}
	res.Rate = cfg.Rate
	loops, err := interleaveLatency(ctx, cfg, cs)
	if err != nil {
		return res, slices, err
	}
	var latTracker *tracker
	for i, c := range cs {
		ol, err := c.ph.result(loops[i])
		if err != nil {
			return res, slices, err
		}
		results[c].OpenLoop = ol
		if c == pipe {
			latTracker = loops[i].tr
		}
		fmt.Fprintf(env.Progress, "%s: at %.0f events/s offered, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			c.ph.label, ol.OfferedRate, ol.Latency.P50, ol.Latency.P99, ol.Latency.Max)
	}
	if err := checkPipeline(ctx, cfg, env, backend, p, pdb, pipe.ph, latTracker, &res); err != nil {
		return res, slices, err
	}

	if ref != nil {
		res.Reference = &refResult
		if refResult.Throughput.EventsPerSec > 0 {
			// Four digits: the targets compare these, and at three a
			// ratio of 0.7998 read as 0.800 and passed "≥ 80%".
			res.Ratio = round(res.Pipeline.Throughput.EventsPerSec/refResult.Throughput.EventsPerSec, 4)
		}
		if refResult.Throughput.CommitsPerSec > 0 {
			res.WritersRatio = round(res.Pipeline.Throughput.CommitsPerSec/refResult.Throughput.CommitsPerSec, 4)
		}
		if refResult.OpenLoop.Latency.P99 > 0 {
			res.P99Ratio = round(res.Pipeline.OpenLoop.Latency.P99/refResult.OpenLoop.Latency.P99, 4)
		}
	}
	res.Targets = targets(cfg, res)
	return res, slices, nil
}

// closers are functions to run in the reverse order of their adding.
type closers []func()

func (c *closers) add(f func()) { *c = append(*c, f) }

func (c *closers) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
	*c = nil
}

// newPhases connects the probe the phases of a system watch the server on
// (closed by cl).
func newPhases(ctx context.Context, cfg config, env environment, label string, db database, cl *closers) (*phases, error) {
	probe, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", label, err)
	}
	cl.add(func() { _ = probe.Close(context.WithoutCancel(ctx)) })
	return &phases{cfg: cfg, label: label, progress: env.Progress, probe: probe}, nil
}

// openPipeline creates the pipeline's database and starts the pipeline on
// it, under the profiler label system=pipeline.
func openPipeline(ctx context.Context, cfg config, env environment, backend string, host *Host) (_ *contender, _ *pipeline, _ database, closeAll func(), err error) {
	c := &contender{name: "pipeline", labels: pprof.Labels("system", "pipeline", "backend", backend)}
	label := backend + " pipeline"
	fmt.Fprintf(env.Progress, "%s: creating the database and starting the pipeline\n", label)
	db, release, err := env.Database(ctx, backend, true)
	if err != nil {
		return nil, nil, database{}, nil, err
	}
	var cl closers
	cl.add(release)
	defer func() {
		if err != nil {
			cl.run()
		}
	}()
	if host.Postgres == "" {
		_ = db.Pool.QueryRow(ctx, `SHOW server_version`).Scan(&host.Postgres)
	}
	var p *pipeline
	if err := c.do(ctx, func(ctx context.Context) (err error) {
		p, err = startPipeline(ctx, backend, db, cfg.Users, cfg.Tuning, env.Logger)
		return err
	}); err != nil {
		return nil, nil, database{}, nil, fmt.Errorf("start pipeline: %w", err)
	}
	cl.add(p.close)
	if c.ph, err = newPhases(ctx, cfg, env, label, db, &cl); err != nil {
		return nil, nil, database{}, nil, err
	}
	c.sys = p
	return c, p, db, cl.run, nil
}

// openReference creates the reference's database and starts the bare
// libraries on it, under the profiler label system=reference.
func openReference(ctx context.Context, cfg config, env environment, backend string) (_ *contender, closeAll func(), err error) {
	c := &contender{name: "reference", labels: pprof.Labels("system", "reference", "backend", backend)}
	label := backend + " reference"
	fmt.Fprintf(env.Progress, "%s: creating the database and starting the bare libraries\n", label)
	db, release, err := env.Database(ctx, backend+"_ref", false)
	if err != nil {
		return nil, nil, err
	}
	var cl closers
	cl.add(release)
	defer func() {
		if err != nil {
			cl.run()
		}
	}()
	pol := router.DefaultPolicy()
	var r *reference
	if err := c.do(ctx, func(ctx context.Context) (err error) {
		r, err = startReference(ctx, backend, db.Pool, refSettings{
			AckWait: pol.AckWait(), MaxAckPending: 64, HandlerBatch: cmp.Or(cfg.Tuning.BatchSize, pubsub.DefaultBatchSize), ForwarderBatch: 100,
			Subscribers: cmp.Or(cfg.Tuning.Subscribers, service.DefaultEventSubscribers), AckAsync: !cfg.Tuning.AckSync,
			MaxRetries: pol.MaxRetries, InitialInterval: pol.InitialInterval, Multiplier: pol.Multiplier,
			MaxInterval: pol.MaxInterval, Timeout: pol.Timeout,
		}, env.Logger)
		return err
	}); err != nil {
		return nil, nil, err
	}
	cl.add(r.close)
	if c.ph, err = newPhases(ctx, cfg, env, label, db, &cl); err != nil {
		return nil, nil, err
	}
	c.sys = r
	return c, cl.run, nil
}

// checkPipeline checks that every event of the run stored exactly one
// notification and none was poisoned, measures the latency phase's row-ID
// latency, and times the handler alone if asked.
func checkPipeline(ctx context.Context, cfg config, env environment, backend string, p *pipeline, db database, ph *phases, latTracker *tracker, res *BackendResult) error {
	label := ph.label
	res.NotificationsExpected = int64(ph.seq)
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications`).Scan(&res.NotificationsStored); err != nil {
		return fmt.Errorf("count notifications: %w", err)
	}
	if res.NotificationsStored != res.NotificationsExpected {
		return fmt.Errorf("%d notifications stored for %d events", res.NotificationsStored, res.NotificationsExpected)
	}
	var err error
	if res.Poisoned, err = p.svc.Broker().Backend().PoisonSize(ctx); err != nil {
		return err
	}
	if res.Poisoned != 0 {
		return fmt.Errorf("%d events poisoned", res.Poisoned)
	}
	var rowIDTrace string
	if cfg.TraceDir != "" {
		rowIDTrace = filepath.Join(cfg.TraceDir, backend+"-pipeline-rowid.csv")
	}
	if res.RowIDLatency, err = rowIDLatency(ctx, db.Pool, latTracker, rowIDTrace); err != nil {
		return err
	}

	if cfg.HandlerAlone {
		// The router and its consumers are idle now; the handler runs on the
		// same database and pool.
		for _, c := range uniq(1, cfg.Writers) {
			h, err := handlerAlone(ctx, p, cfg.HandlerEvents, c, ph.seq)
			if err != nil {
				return err
			}
			ph.seq += cfg.HandlerEvents
			fmt.Fprintf(env.Progress, "%s: notification handler alone, %d goroutine(s): %.0f events/s, p50 %.2f ms, p99 %.2f ms per event\n",
				label, c, h.EventsPerSec, h.Latency.P50, h.Latency.P99)
			res.HandlerAlone = append(res.HandlerAlone, h)
		}
	}
	return nil
}

// HandlerAlone times the notification handler called directly, without any
// broker: the cap a single consumer (Concurrency 1) can reach.
type HandlerAlone struct {
	Concurrency  int     `json:"concurrency"`
	Events       int     `json:"events"`
	EventsPerSec float64 `json:"events_per_sec"`
	Latency      Latency `json:"latency"`
}

func handlerAlone(ctx context.Context, p *pipeline, n, concurrency, seq int) (HandlerAlone, error) {
	envs := make([]func() error, n)
	for i := range n {
		env := p.envelope(ctx, seq+i)
		envs[i] = func() error { return p.notify.Handle(ctx, env) }
	}
	var (
		mu    sync.Mutex
		durs  = make([]time.Duration, 0, n)
		next  = make(chan int, n)
		wg    sync.WaitGroup
		first error
	)
	for i := range n {
		next <- i
	}
	close(next)
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				began := time.Now()
				err := envs[i]()
				d := time.Since(began)
				mu.Lock()
				durs = append(durs, d)
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if first != nil {
		return HandlerAlone{}, fmt.Errorf("notification handler alone: %w", first)
	}
	return HandlerAlone{Concurrency: concurrency, Events: n, EventsPerSec: round(float64(n)/secs, 0), Latency: summarise(durs)}, nil
}

// rowIDLatency measures commit to the time embedded in each stored
// notification's UUIDv7 ID (google/uuid keeps sub-millisecond precision in
// it), for the events of tr.
//
// With tracePath it also writes, per event in commit order, the commit time
// (milliseconds since the phase began) and that latency: beside the latency
// trace (to the handler's return) it tells a wait before the handler from
// one in it.
func rowIDLatency(ctx context.Context, pool *pgxpool.Pool, tr *tracker, tracePath string) (Latency, error) {
	commits := tr.commitTimes()
	ids := make([]uuid.UUID, 0, len(commits))
	for id := range commits {
		ids = append(ids, id)
	}
	rows, err := pool.Query(ctx, `SELECT event_id, id FROM notifications WHERE event_id = ANY($1)`, ids)
	if err != nil {
		return Latency{}, fmt.Errorf("read notification IDs: %w", err)
	}
	defer rows.Close()
	var (
		ds    []time.Duration
		trace []traceRow
	)
	for rows.Next() {
		var eventID, id uuid.UUID
		if err := rows.Scan(&eventID, &id); err != nil {
			return Latency{}, fmt.Errorf("read notification IDs: %w", err)
		}
		ds = append(ds, uuidV7Time(id).Sub(commits[eventID]))
		if tracePath != "" {
			trace = append(trace, traceRow{commits[eventID].Sub(tr.start), ds[len(ds)-1]})
		}
	}
	if err := rows.Err(); err != nil {
		return Latency{}, fmt.Errorf("read notification IDs: %w", err)
	}
	if tracePath != "" {
		if err := writeTraceCSV(tracePath, "row_id_ms", trace); err != nil {
			return Latency{}, err
		}
	}
	return summarise(ds), nil
}

// uuidV7Time decodes the 48-bit millisecond timestamp and, as google/uuid
// writes it, the 12-bit fraction of a millisecond in units of 256 ns.
func uuidV7Time(id uuid.UUID) time.Time {
	var ms int64
	for _, b := range id[:6] {
		ms = ms<<8 | int64(b)
	}
	frac := int64(id[6]&0x0f)<<8 | int64(id[7])
	return time.Unix(0, ms*int64(time.Millisecond)+frac<<8)
}

// roundOf summarises one round.
func roundOf(res BackendResult, pipelineFirst bool) Round {
	r := Round{
		PipelineFirst: pipelineFirst,
		EventsPerSec:  res.Pipeline.Throughput.EventsPerSec, Ratio: res.Ratio, WritersRatio: res.WritersRatio,
		Rate: res.Rate, P99: res.Pipeline.OpenLoop.Latency.P99, P99Ratio: res.P99Ratio, LoadAvg: loadAvg(),
	}
	if c := res.Pipeline.Throughput.PerEvent; c != nil {
		r.CPUMillis = c.CPUMillis
	}
	if ref := res.Reference; ref != nil {
		r.ReferenceEventsPerSec, r.ReferenceP99 = ref.Throughput.EventsPerSec, ref.OpenLoop.Latency.P99
		if c := ref.Throughput.PerEvent; c != nil {
			r.ReferenceCPUMillis = c.CPUMillis
		}
	}
	return r
}

// medianOf combines the rounds of one backend: the round with the median
// events/s ratio, carrying every round's summary and the median ratios.
func medianOf(cfg config, rounds []BackendResult) BackendResult {
	if len(rounds) == 1 {
		return rounds[0]
	}
	byRatio := slices.Clone(rounds)
	slices.SortStableFunc(byRatio, func(a, b BackendResult) int { return cmp.Compare(a.Ratio, b.Ratio) })
	res := byRatio[(len(byRatio)-1)/2]
	res.Rounds = nil
	var ratios, writers, p99s []float64
	for _, r := range rounds {
		res.Rounds = append(res.Rounds, r.Rounds...)
		ratios, writers, p99s = append(ratios, r.Ratio), append(writers, r.WritersRatio), append(p99s, r.P99Ratio)
	}
	res.Ratio, res.WritersRatio, res.P99Ratio = median(ratios), median(writers), median(p99s)
	res.HandlerAlone = rounds[0].HandlerAlone // timed in the first round only
	cfg.Rate = res.Rate
	res.Targets = targets(cfg, res)
	return res
}

// median of vs (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return round((s[n/2-1]+s[n/2])/2, 3)
}

// targets are issue 10's: the pipeline within 80% of the reference's
// events/s and of its writers' commit rate, and its p99 at half the
// reference's maximum within 3× the reference's p99 at that rate.
func targets(cfg config, res BackendResult) []Target {
	if res.Reference == nil {
		return nil
	}
	return []Target{
		{Name: "pipeline/reference events/s", Want: "≥ 80%", Got: res.Ratio, Pass: res.Ratio >= 0.8},
		{Name: "pipeline/reference writers' commits/s", Want: "≥ 80%", Got: res.WritersRatio, Pass: res.WritersRatio >= 0.8},
		{Name: fmt.Sprintf("p99 commit→notification at %d/s, pipeline/reference", cfg.Rate), Want: "≤ 3×",
			Got: res.P99Ratio, Pass: res.P99Ratio > 0 && res.P99Ratio <= 3},
	}
}

func uniq(vs ...int) []int {
	var out []int
	for _, v := range vs {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
