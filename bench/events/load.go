package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// system is an event pipeline under test: the Thoughts pipeline or the
// reference built from the bare libraries.
type system interface {
	// commit commits event seq in a transaction of its own and returns its
	// ID once committed.
	commit(ctx context.Context, seq int) (uuid.UUID, error)
	// track makes the system report every event it handles to t.
	track(t *tracker)
	// stopped returns the error that stopped the system's processing, if it
	// stopped by itself.
	stopped() error
	// writers is the pool commit uses.
	writers() *pgxpool.Pool
}

// fillPool opens every connection pool may hold (and keeps them: the pools
// close idle connections only after 30 minutes). The open loop needs more
// connections than the closed loop's writers left open; opened during the
// phase, each new server process (a fork, authentication, its caches filled
// by its first statements) stalled the machine for the phase's first few
// hundred milliseconds, in both systems, the busier one more: a start-up
// cost that a server under steady load has paid long before.
func fillPool(ctx context.Context, pool *pgxpool.Pool) error {
	n := int(pool.Config().MaxConns)
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("fill the writers' pool: %w", err)
		}
		conns = append(conns, c)
	}
	// A first statement on each, as the phase's would be.
	for _, c := range conns {
		if _, err := c.Exec(ctx, `SELECT 1`); err != nil {
			return fmt.Errorf("fill the writers' pool: %w", err)
		}
	}
	return nil
}

// tracker records when each event of a phase was committed and when it was
// first handled. Every system reports an event handled once its handler has
// returned success: for the pipeline, once the notification row is committed.
type tracker struct {
	start time.Time

	mu       sync.Mutex
	commits  map[uuid.UUID]time.Time
	arrivals map[uuid.UUID]time.Time
	last     time.Time // the latest first arrival

	nCommitted atomic.Int64
	nHandled   atomic.Int64
	nRepeated  atomic.Int64 // deliveries after the first (redeliveries)
}

func newTracker(expected int) *tracker {
	return &tracker{
		start:    time.Now(),
		commits:  make(map[uuid.UUID]time.Time, expected),
		arrivals: make(map[uuid.UUID]time.Time, expected),
	}
}

func (t *tracker) committed(id uuid.UUID, at time.Time) {
	t.mu.Lock()
	t.commits[id] = at
	t.mu.Unlock()
	t.nCommitted.Add(1)
}

func (t *tracker) handled(id uuid.UUID) {
	now := time.Now()
	t.mu.Lock()
	_, seen := t.arrivals[id]
	if !seen {
		t.arrivals[id] = now
		if now.After(t.last) {
			t.last = now
		}
	}
	t.mu.Unlock()
	if seen {
		t.nRepeated.Add(1)
	} else {
		t.nHandled.Add(1)
	}
}

// latencies returns commit-to-handled latencies of the events that were both
// committed and handled.
func (t *tracker) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.commits))
	for id, c := range t.commits {
		if a, ok := t.arrivals[id]; ok {
			out = append(out, a.Sub(c))
		}
	}
	return out
}

// writeTrace writes one line per event, in commit order: milliseconds since
// the phase began at commit, and commit-to-handled latency in milliseconds.
func (t *tracker) writeTrace(path string) error {
	t.mu.Lock()
	rows := make([]traceRow, 0, len(t.commits))
	for id, c := range t.commits {
		if a, ok := t.arrivals[id]; ok {
			rows = append(rows, traceRow{c.Sub(t.start), a.Sub(c)})
		}
	}
	t.mu.Unlock()
	return writeTraceCSV(path, "latency_ms", rows)
}

// traceRow is one event of a trace: its commit since the phase began, and a
// latency from that commit.
type traceRow struct{ at, latency time.Duration }

// writeTraceCSV writes rows to path in commit order, in milliseconds, as the
// columns commit_ms and latency (its name), creating the directory.
func writeTraceCSV(path, latency string, rows []traceRow) error {
	slices.SortFunc(rows, func(a, b traceRow) int { return cmp.Compare(a.at, b.at) })
	var b strings.Builder
	b.WriteString("commit_ms," + latency + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%.3f,%.3f\n", float64(r.at)/1e6, float64(r.latency)/1e6)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	return nil
}

func (t *tracker) commitTimes() map[uuid.UUID]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return copyTimes(t.commits)
}

func copyTimes(m map[uuid.UUID]time.Time) map[uuid.UUID]time.Time {
	out := make(map[uuid.UUID]time.Time, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (t *tracker) lastArrival() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// Latency summarises commit-to-handled latencies, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*100) / 100 }
	// Nearest rank: the smallest value with at least q of the samples at or
	// below it.
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(0, min(i, len(ds)-1))])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{
		Count: len(ds), Mean: ms(sum / time.Duration(len(ds))),
		P50: q(0.50), P90: q(0.90), P99: q(0.99), P999: q(0.999), Max: ms(ds[len(ds)-1]),
	}
}

// Throughput is the result of the closed-loop phase.
type Throughput struct {
	Events int `json:"events"`
	// Seconds from the first commit until the last event was handled.
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// CommitSeconds until every event was committed; CommitsPerSec is the
	// rate the writers alone achieved while the pipeline ran.
	CommitSeconds float64 `json:"commit_seconds"`
	CommitsPerSec float64 `json:"commits_per_sec"`
	// Repeated deliveries of already handled events.
	Redelivered int64 `json:"redelivered"`
	// OldestWriteTx is the age in seconds of the oldest transaction holding
	// a transaction ID anywhere on the database server, the largest seen
	// during the phase. watermill-sql reads a row only once every older
	// transaction ended, so such a transaction, even in another database,
	// holds back delivery (the forwarder on NATS, every handler on Postgres).
	OldestWriteTx float64 `json:"oldest_write_tx_seconds"`
	// PerEvent is what the phase cost the database server, per event.
	PerEvent *DBCost `json:"per_event,omitempty"`
}

// DBCost is what a system's throughput phase cost per event: the
// transactions its database committed (read-only ones included: every
// autocommitted SELECT is one; over the whole phase, so the system's own
// background work while the other system's slices ran counts too), the WAL
// the server inserted during its slices, the machine's CPU during its
// slices, and, when it ran alone (-reference=false), the WAL flushes and
// full-page images of the whole server (pg_stat_wal). PostgreSQL 15 publishes
// a backend's statistics up to 10 s late when it goes idle
// (PGSTAT_IDLE_INTERVAL), so the phase's end is read 11 s after it.
type DBCost struct {
	Xacts    float64  `json:"xacts"`
	WALSyncs *float64 `json:"wal_syncs,omitempty"`
	WALBytes float64  `json:"wal_bytes"`
	// WALFPIs are the full-page images in that WAL (a page's first change
	// after a checkpoint is logged whole: 8 kB), and Checkpoints the
	// checkpoints that started during the phase: the same work costs more
	// WAL and CPU in a phase a checkpoint falls into.
	WALFPIs     *float64 `json:"wal_fpis,omitempty"`
	Checkpoints *int     `json:"checkpoints,omitempty"`
	// CPUMillis is the whole machine's busy CPU time (/proc/stat: every
	// state but idle and iowait) per event, from each slice's first commit
	// to its last notification: PostgreSQL, the broker and this process
	// together, and anything else running.
	CPUMillis float64 `json:"cpu_ms"`
	// ProcessCPUMillis is the part of CPUMillis spent in this process
	// (getrusage: the writers, and the pipeline's Go side or the
	// reference's libraries, both systems' background work included); the
	// rest is PostgreSQL, the kernel and anything else running.
	ProcessCPUMillis float64 `json:"process_cpu_ms"`
}

// dbCounters are the cumulative counters DBCost is the difference of.
type dbCounters struct {
	xacts, walSyncs, walBytes, walFPIs float64
	checkpoints                        int64
}

// busyCPU is the machine's busy CPU time so far (/proc/stat), in
// milliseconds; ok is false where there is no /proc/stat.
func busyCPU() (ms float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy float64
	for i, v := range f[1:] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is in user already
			busy += n
		}
	}
	return busy * 1000 / 100, true // USER_HZ is 100 on Linux
}

// processCPU is this process's CPU time so far (user and system), in
// milliseconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// counters reads the server's counters on the probe connection; ok is false
// without a probe or if the statistics cannot be read.
func (p *phases) counters(ctx context.Context) (dbCounters, bool) {
	var c dbCounters
	if p.probe == nil {
		return c, false
	}
	// A fresh snapshot: statistics read earlier in a session may be cached.
	if _, err := p.probe.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return c, false
	}
	err := p.probe.QueryRow(ctx, `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::float8,
		wal_sync::float8, wal_bytes::float8, wal_fpi::float8,
		(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)
		FROM pg_stat_wal`).Scan(&c.xacts, &c.walSyncs, &c.walBytes, &c.walFPIs, &c.checkpoints)
	return c, err == nil
}

// addCounters adds to c the database's cost of n events between two
// readings: its transactions, and with ownWAL the server's WAL flushes,
// full-page images and checkpoints (the WAL is the whole server's: with both
// systems' slices in one phase it is not one system's).
func addCounters(c *DBCost, before, after dbCounters, n int, ownWAL bool) {
	f := float64(n)
	c.Xacts = round((after.xacts-before.xacts)/f, 3)
	if ownWAL {
		syncs, fpis := round((after.walSyncs-before.walSyncs)/f, 3), round((after.walFPIs-before.walFPIs)/f, 3)
		c.WALSyncs, c.WALFPIs = &syncs, &fpis
		checkpoints := int(after.checkpoints - before.checkpoints)
		c.Checkpoints = &checkpoints
	}
}

// walPosition is the server's WAL insert position in bytes, read on the
// probe.
func (p *phases) walPosition(ctx context.Context) (float64, bool) {
	if p.probe == nil {
		return 0, false
	}
	var lsn float64
	err := p.probe.QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::float8`).Scan(&lsn)
	return lsn, err == nil
}

// OpenLoop is the result of the fixed-rate phase.
type OpenLoop struct {
	TargetRate float64 `json:"target_rate"`
	// OfferedRate is the rate at which commits actually started.
	OfferedRate float64 `json:"offered_rate"`
	Events      int     `json:"events"`
	// Late counts commits started more than 5 ms after their slot (the
	// writer pool was saturated).
	Late        int     `json:"late_starts"`
	Latency     Latency `json:"latency"`
	CommitP99   float64 `json:"commit_duration_p99_ms"`
	Redelivered int64   `json:"redelivered"`
	// OldestWriteTx: see Throughput.
	OldestWriteTx float64 `json:"oldest_write_tx_seconds"`
}

// phases runs the warm-up, the throughput phase and the open-loop phase
// against sys. seq numbers events across phases.
type phases struct {
	cfg      config
	label    string
	progress io.Writer
	seq      int
	// probe, if set, is a connection of its own for watching the server's
	// oldest writing transaction.
	probe *pgx.Conn
}

// every calls tick now and then every interval on a goroutine of its own,
// until ctx is done or stop is called; stop (idempotent) returns once the
// last tick has returned, so what tick wrote may then be read.
func every(ctx context.Context, interval time.Duration, tick func()) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			tick()
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}

// activityHeader is the header of sampleActivity's CSV.
const activityHeader = "ms,autovacuum,deletes,checkpointer_wait,checkpoints,wal_mb,connections,connected\n"

// sampleActivity samples, with -trace, what the server does besides the
// systems' own work every 100 ms until stop: the autovacuum workers and their
// tables, the DELETE statements running (the pruner's), the checkpointer's
// wait event and checkpoint count, the WAL position, and the connections to the
// benchmark's database (all, and those made in the last 100 ms), so a stall in the
// latency trace can be set beside them. stop returns the CSV (a header only
// without -trace, or if no connection could be made; a sample whose query
// failed is left out, its gap visible in the ms column).
func (p *phases) sampleActivity(ctx context.Context, start time.Time) (stop func() string) {
	var b strings.Builder
	b.WriteString(activityHeader)
	if p.cfg.TraceDir == "" || p.probe == nil {
		return b.String
	}
	conn, err := pgx.ConnectConfig(ctx, p.probe.Config().Copy())
	if err != nil {
		return b.String
	}
	halt := every(ctx, 100*time.Millisecond, func() {
		var (
			autovacuum, wait string
			deletes          int
			checkpoints      int64
			walMB            float64
			conns, fresh     int
		)
		at := time.Since(start)
		err := conn.QueryRow(ctx, `SELECT
			(SELECT coalesce(string_agg(regexp_replace(query, '^autovacuum: ', ''), '; '), '') FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'),
			(SELECT count(*)::int FROM pg_stat_activity WHERE state = 'active' AND query ILIKE 'DELETE FROM%' AND pid <> pg_backend_pid()),
			(SELECT coalesce(max(wait_event), '') FROM pg_stat_activity WHERE backend_type = 'checkpointer'),
			(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
			((pg_current_wal_lsn() - '0/0'::pg_lsn) / 1048576)::float8,
			(SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database()),
			(SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND backend_start > clock_timestamp() - interval '100 milliseconds')`).Scan(&autovacuum, &deletes, &wait, &checkpoints, &walMB, &conns, &fresh)
		if err == nil {
			fmt.Fprintf(&b, "%.0f,%q,%d,%s,%d,%.1f,%d,%d\n", float64(at)/1e6, autovacuum, deletes, wait, checkpoints, walMB, conns, fresh)
		}
	})
	var once sync.Once
	return func() string {
		once.Do(func() {
			halt()
			_ = conn.Close(context.WithoutCancel(ctx))
		})
		return b.String()
	}
}

// watchOldestWriteTx samples, every 250 ms until stop is called, the age of
// the oldest transaction with a transaction ID on the server; stop returns
// the largest.
func (p *phases) watchOldestWriteTx(ctx context.Context) (stop func() float64) {
	if p.probe == nil {
		return func() float64 { return 0 }
	}
	var worst float64
	halt := every(ctx, 250*time.Millisecond, func() {
		var age float64
		err := p.probe.QueryRow(ctx, `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8
			FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()`).Scan(&age)
		if err == nil {
			worst = max(worst, age)
		}
	})
	return func() float64 {
		halt()
		return round(worst, 2)
	}
}

func (p *phases) warmup(ctx context.Context, sys system) error {
	if p.cfg.Warmup == 0 {
		return nil
	}
	tr := newTracker(p.cfg.Warmup)
	sys.track(tr)
	if _, err := p.closedLoop(ctx, sys, tr, "warm-up", p.cfg.Warmup); err != nil {
		return err
	}
	return p.drain(ctx, sys, tr, "warm-up", p.cfg.Warmup)
}

// openLoop is a system's latency phase in progress: its slices so far (the
// open loop runs in slices that alternate with the other system's, as the
// throughput phase does).
type openLoop struct {
	tr        *tracker
	durations []time.Duration // of the commits
	events    int
	late      int
	offered   time.Duration // first to last start, summed over the slices
	slices    int           // slices that offered an event
	oldest    float64
	activity  strings.Builder // the server samples of -trace, every slice's
}

func newOpenLoop(total int) *openLoop {
	o := &openLoop{tr: newTracker(total)}
	o.activity.WriteString(activityHeader)
	return o
}

// openLoopSlice offers n events to sys at cfg.Rate whatever the system's
// pace, each commit in its own goroutine, adds them to o's tracker, and
// waits until they were handled.
func (p *phases) openLoopSlice(ctx context.Context, sys system, o *openLoop, n int) error {
	if err := fillPool(ctx, sys.writers()); err != nil {
		return fmt.Errorf("%s latency: %w", p.label, err)
	}
	tr := o.tr
	sys.track(tr)
	want := o.events + n
	stop := p.watch(tr, "latency", want)
	defer stop()
	oldest := p.watchOldestWriteTx(ctx)
	activity := p.sampleActivity(ctx, tr.start)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Bounds goroutines if the system cannot keep up; a slot then starts
	// late, which is counted.
	sem := make(chan struct{}, 1024)
	var (
		wg        sync.WaitGroup
		durMu     sync.Mutex
		lastStart time.Time
	)
	interval := time.Second / time.Duration(p.cfg.Rate)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		lastStart = time.Now()
		if lastStart.Sub(due) > 5*time.Millisecond {
			o.late++
		}
		seq := p.seq + i
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			began := time.Now()
			id, err := sys.commit(ctx, seq)
			if err != nil {
				cancel(fmt.Errorf("commit event %d: %w", seq, err))
				return
			}
			at := time.Now()
			tr.committed(id, at)
			durMu.Lock()
			o.durations = append(o.durations, at.Sub(began))
			durMu.Unlock()
		}()
	}
	wg.Wait()
	p.seq += n
	if err := context.Cause(ctx); err != nil {
		o.oldest = max(o.oldest, oldest())
		activity()
		return fmt.Errorf("%s latency: %w", p.label, err)
	}
	if lastStart.After(start) {
		o.offered += lastStart.Sub(start)
		o.slices++
	}
	o.events = want
	stop()
	err := p.drain(ctx, sys, tr, "latency", want)
	o.oldest = max(o.oldest, oldest())
	o.activity.WriteString(strings.TrimPrefix(activity(), activityHeader))
	return err
}

// result summarises the latency phase once its slices ran, writing the
// traces of -trace.
func (p *phases) result(o *openLoop) (OpenLoop, error) {
	offered := float64(p.cfg.Rate)
	if o.offered > 0 {
		// Each slice's first start to its last is its events less one.
		offered = float64(o.events-o.slices) / o.offered.Seconds()
	}
	if p.cfg.TraceDir != "" {
		base := filepath.Join(p.cfg.TraceDir, strings.ReplaceAll(p.label, " ", "-"))
		if err := o.tr.writeTrace(base + "-latency.csv"); err != nil {
			return OpenLoop{}, err
		}
		if err := os.WriteFile(base+"-server.csv", []byte(o.activity.String()), 0o644); err != nil {
			return OpenLoop{}, fmt.Errorf("write server trace: %w", err)
		}
	}
	return OpenLoop{
		TargetRate:    float64(p.cfg.Rate),
		OfferedRate:   round(offered, 0),
		Events:        o.events,
		Late:          o.late,
		Latency:       summarise(o.tr.latencies()),
		CommitP99:     summarise(o.durations).P99,
		Redelivered:   o.tr.nRepeated.Load(),
		OldestWriteTx: o.oldest,
	}, nil
}

// closedLoop commits n events with cfg.Writers concurrent writers, each
// committing as fast as it can; it returns when the last commit returned.
func (p *phases) closedLoop(ctx context.Context, sys system, tr *tracker, phase string, n int) (time.Time, error) {
	stop := p.watch(tr, phase, n)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	base := p.seq
	for range min(p.cfg.Writers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				id, err := sys.commit(ctx, base+i)
				if err != nil {
					cancel(fmt.Errorf("commit event %d: %w", base+i, err))
					return
				}
				tr.committed(id, time.Now())
			}
		}()
	}
	wg.Wait()
	done := time.Now()
	p.seq += n
	if err := context.Cause(ctx); err != nil {
		return time.Time{}, fmt.Errorf("%s %s: %w", p.label, phase, err)
	}
	return done, nil
}

// drain waits, polling every 20 ms, until want events of the phase were
// handled, the system stops, or DrainTimeout passes.
func (p *phases) drain(ctx context.Context, sys system, tr *tracker, phase string, want int) error {
	stop := p.watch(tr, phase+" drain", want)
	defer stop()
	deadline := time.Now().Add(p.cfg.DrainTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if int(tr.nHandled.Load()) >= want {
			return nil
		}
		if err := sys.stopped(); err != nil {
			return fmt.Errorf("%s %s: %w", p.label, phase, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s: only %d of %d events handled after waiting %s (-drain-timeout)",
				p.label, phase, tr.nHandled.Load(), want, p.cfg.DrainTimeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w", p.label, phase, ctx.Err())
		case <-tick.C:
		}
	}
}

// watch prints a progress line every cfg.Progress until stop is called.
func (p *phases) watch(tr *tracker, phase string, want int) (stop func()) {
	if p.cfg.Progress <= 0 || p.progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(p.cfg.Progress)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				secs := time.Since(tr.start).Seconds()
				fmt.Fprintf(p.progress, "  %-22s %-16s %6.1fs  committed %6d/%d  handled %6d (%.0f/s)\n",
					p.label, phase, secs, tr.nCommitted.Load(), want, tr.nHandled.Load(), float64(tr.nHandled.Load())/secs)
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

func round(v float64, places int) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	f := math.Pow(10, float64(places))
	return math.Round(v*f) / f
}
