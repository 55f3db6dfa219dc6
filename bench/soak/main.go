// Command soak runs a mixed workload (post, like, follow, feed,
// notifications) over HTTP for a long time against real, built `thoughts`
// processes on loopback — `thoughts api` plus `thoughts router` (split mode,
// the default) or one `thoughts serve` — in a database of its own, and
// reports what must not drift: the count of 5xx answers (must be zero), the
// notification lag (sampled over HTTP, and for every event from the
// database), each process's RSS, heap and goroutines at minute 1 and at the
// end, and the size of every table before and after. It prints a table and
// writes JSON to bench/results/.
//
//	go run ./bench/soak                          # 10 minutes at 100 requests/s, api + router, Postgres backend
//	go run ./bench/soak -duration 1m -rate 50    # a quick check
//	go run ./bench/soak -mode serve -backend nats   # one `thoughts serve` with its embedded NATS server
//
// DATABASE_URL names the server (default: the development cluster); the
// soak's database on it is thoughts_bench_soak, dropped and recreated.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/bench/internal/benchproc"
)

// defaultDatabaseURL is the development cluster (scripts/dev-postgres.sh).
const defaultDatabaseURL = "postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable"

// mix is the share of each operation in the offered load.
type mix map[string]float64

func (m mix) weights() []float64 {
	w := make([]float64, len(mixOps))
	for i, op := range mixOps {
		w[i] = m[op]
	}
	return w
}

func (m mix) String() string {
	var parts []string
	for _, op := range mixOps {
		parts = append(parts, fmt.Sprintf("%s=%g", op, m[op]))
	}
	return strings.Join(parts, ",")
}

func parseMix(s string) (mix, error) {
	m := mix{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || f < 0 {
			return nil, fmt.Errorf("-mix: %q is not op=weight", part)
		}
		known := false
		for _, op := range mixOps {
			known = known || op == k
		}
		if !known {
			return nil, fmt.Errorf("-mix: unknown operation %q (known: %s)", k, strings.Join(mixOps, ", "))
		}
		m[k] = f
	}
	total := 0.0
	for _, f := range m {
		total += f
	}
	if total <= 0 {
		return nil, errors.New("-mix: the weights add up to zero")
	}
	return m, nil
}

type options struct {
	duration     time.Duration
	rate         float64
	mix          mix
	users        int
	seedThoughts int // per user
	seedFollows  int // per user
	seed         uint64
	mode         string // split or serve
	backend      string // postgres or nats
	natsURL      string
	routers      int
	lagSample    float64
	lagPoll      time.Duration
	lagTimeout   time.Duration
	firstReading time.Duration
	sampleEvery  time.Duration
	drainTimeout time.Duration
	out          string
	keep         bool
	database     string // on the server of DATABASE_URL
}

func main() {
	var o options
	mixFlag := "post=15,like=30,follow=10,feed=30,notifications=15"
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "length of the measured load")
	flag.Float64Var(&o.rate, "rate", 100, "requests per second offered (open loop), lag polls not included")
	flag.StringVar(&mixFlag, "mix", mixFlag, "weights of the operations")
	flag.IntVar(&o.users, "users", 1000, "seeded users")
	flag.IntVar(&o.seedThoughts, "seed-thoughts", 5, "seeded thoughts per user")
	flag.IntVar(&o.seedFollows, "seed-follows", 20, "seeded follows per user")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.StringVar(&o.mode, "mode", "split", "split: `thoughts api` + `thoughts router` processes; serve: one `thoughts serve`")
	flag.StringVar(&o.backend, "backend", "postgres", "EVENTS_BACKEND: postgres, or nats (split mode needs -nats-url; serve embeds a server)")
	flag.StringVar(&o.natsURL, "nats-url", "", "NATS_URL of an external JetStream server (split mode with -backend nats; default: a nats-server child process of this program on loopback)")
	flag.IntVar(&o.routers, "routers", 1, "`thoughts router` processes (split mode)")
	flag.Float64Var(&o.lagSample, "lag-sample", 0.05, "share of likes and follows whose notification lag is measured over HTTP")
	flag.DurationVar(&o.lagPoll, "lag-poll", 10*time.Millisecond, "how often a lag sample polls the recipient's notifications")
	flag.DurationVar(&o.lagTimeout, "lag-timeout", 60*time.Second, "a notification not visible this long after the response counts as not seen")
	flag.DurationVar(&o.firstReading, "first-reading", time.Minute, "when the first RSS reading compared with the last is taken")
	flag.DurationVar(&o.sampleEvery, "sample-every", 5*time.Second, "interval of the RSS/CPU/heap readings")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 3*time.Minute, "how long to wait after the load for every notification")
	flag.StringVar(&o.out, "out", "", "directory for the JSON result (default: bench/results in the module)")
	flag.BoolVar(&o.keep, "keep", false, "keep the database (default: dropped at the end)")
	flag.StringVar(&o.database, "database", soakDB, "the soak's database, dropped and created afresh")
	natsServe := flag.Bool("nats-serve", false, "internal: be the NATS server process (settings from BENCH_SOAK_NATS_* variables)")
	flag.Parse()
	if *natsServe {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serveNATS(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "soak nats:", err)
			os.Exit(1)
		}
		return
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var err error
	if o.mix, err = parseMix(mixFlag); err != nil {
		log.Error("bad flag", "err", err)
		os.Exit(2)
	}
	if err := o.validate(); err != nil {
		log.Error("bad flag", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = defaultDatabaseURL
	}
	rep, err := run(ctx, o, dsn, log, os.Stdout)
	if err != nil {
		log.Error("soak failed", "err", err)
		os.Exit(1)
	}
	if !rep.Pass {
		os.Exit(1)
	}
}

func (o options) validate() error {
	switch {
	case o.mode != "split" && o.mode != "serve":
		return fmt.Errorf("-mode: %q is not split or serve", o.mode)
	case o.backend != "postgres" && o.backend != "nats":
		return fmt.Errorf("-backend: %q is not postgres or nats", o.backend)
	case o.rate <= 0 || o.duration <= 0 || o.users < 10 || o.routers < 1:
		return errors.New("-rate and -duration must be positive, -users at least 10, -routers at least 1")
	case o.lagSample < 0 || o.lagSample > 1:
		return errors.New("-lag-sample is a share from 0 to 1")
	}
	return nil
}

func run(ctx context.Context, o options, adminURL string, log *slog.Logger, stdout io.Writer) (report, error) {
	rep := report{StartedAt: time.Now().UTC(), Options: o.json()}
	rep.Host = hostInfo()
	root, err := benchproc.ModuleRoot(ctx)
	if err != nil {
		return rep, err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "results")
	}
	tmp, err := os.MkdirTemp("", "bench-soak-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(tmp)
	log.Info("building thoughts", "root", root)
	bin, err := benchproc.Build(ctx, root, tmp, "thoughts", "")
	if err != nil {
		return rep, err
	}
	dsn, err := withDatabase(adminURL, o.database)
	if err != nil {
		return rep, err
	}
	if err := recreate(ctx, adminURL, o.database); err != nil {
		return rep, err
	}
	if !o.keep {
		defer func() {
			if err := dropDatabase(context.WithoutCancel(ctx), adminURL, o.database); err != nil {
				log.Warn("drop the soak database", "err", err)
			}
		}()
	}

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return rep, fmt.Errorf("generate JWT secret: %w", err)
	}
	env := map[string]string{
		"DATABASE_URL":   dsn,
		"JWT_SECRET":     hex.EncodeToString(secret),
		"LOG_LEVEL":      "warn",
		"DATA_DIR":       tmp,
		"EVENTS_BACKEND": o.backend,
		"NATS_URL":       o.natsURL,
		// The load comes from one address at rates no client should reach.
		"RATE_LIMITS": "off",
	}
	if err := migrate(ctx, bin, env); err != nil {
		return rep, err
	}
	pool, err := postgres.Connect(ctx, dsn)
	if err != nil {
		return rep, err
	}
	defer pool.Close()

	// The API's address is its PUBLIC_URL and so the tokens' issuer: pick it
	// before seeding, start the processes after (the API backfills keys of
	// users without one at start-up).
	apiAddr, err := freeAddr()
	if err != nil {
		return rep, err
	}
	publicURL := "http://" + apiAddr
	signer, err := auth.NewJWT([]byte(env["JWT_SECRET"]), 24*time.Hour, publicURL)
	if err != nil {
		return rep, err
	}
	log.Info("seeding", "users", o.users, "thoughts", o.users*o.seedThoughts, "follows", o.users*min(o.seedFollows, o.users-1))
	data, err := seed(ctx, pool, o, signer)
	if err != nil {
		return rep, err
	}

	procs, err := startAll(ctx, o, bin, tmp, env, apiAddr, publicURL, log)
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].Stop()
		}
	}()
	if err != nil {
		return rep, err
	}
	for _, p := range procs {
		rep.Processes = append(rep.Processes, ProcReport{Name: p.Name, Pid: p.Pid()})
	}

	if rep.TablesBefore, err = tableSizes(ctx, pool); err != nil {
		return rep, err
	}
	rep.Host.LoadBefore = loadAvg()
	l := newLoad(o, publicURL, data, log)
	smp := newSampler(procs)
	smp.xactAge = func() (float64, error) {
		var ms float64
		err := pool.QueryRow(ctx, `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)) * 1000, 0)
			FROM pg_stat_activity WHERE backend_xid IS NOT NULL`).Scan(&ms)
		return ms, err
	}
	smp.dbWaits = func() (DBActivity, error) {
		a := DBActivity{Waits: map[string]int{}}
		rows, err := pool.Query(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), count(*)
			FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
			GROUP BY 1`, o.database)
		if err != nil {
			return a, err
		}
		for rows.Next() {
			var w string
			var n int
			if err := rows.Scan(&w, &n); err != nil {
				rows.Close()
				return a, err
			}
			a.Waits[w] = n
			a.Active += n
		}
		return a, rows.Err()
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	began := time.Now()
	rep.LoadStartedAt = began.UTC()
	smp.run(loadCtx, began, o.sampleEvery)
	log.Info("load started", "duration", o.duration, "rate", o.rate, "mix", o.mix.String(), "mode", o.mode, "backend", o.backend)
	lastLog := time.Now()
	var loadAtFirst string
	l.run(ctx, o.duration, func(elapsed time.Duration) {
		if loadAtFirst == "" && elapsed >= o.firstReading {
			loadAtFirst = loadAvg()
		}
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			s := l.opStats()
			var n5xx int64
			for _, st := range s {
				n5xx += st.Status5xx
			}
			log.Info("soak", "elapsed", elapsed.Round(time.Second), "in_flight", l.inFlight.Load(), "5xx", n5xx,
				"lag_samples", l.lagSampled.Load(), "load", loadAvg())
		}
	})
	rep.LoadSeconds = time.Since(began).Seconds()
	smp.sample() // the reading at the end of the load
	stopLoad()
	<-smp.stopped
	rep.Host.LoadAtFirstReading = loadAtFirst
	rep.Host.LoadAfter = loadAvg()
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	log.Info("load done; waiting for the lag samples and the pipeline to drain")
	l.watchWG.Wait()
	rep.Ops, rep.Lag, rep.Windows = l.opStats(), l.lagStats(), l.series()
	rep.OldestXact, rep.DBActivity = smp.xacts, smp.db

	rep.Completeness, rep.DrainSeconds, err = waitDrained(ctx, pool, began.Add(-time.Second), o.drainTimeout)
	if err != nil {
		return rep, err
	}
	if rep.TablesAfter, err = tableSizes(ctx, pool); err != nil {
		return rep, err
	}
	// One more reading with no load at all: what a process keeps once the
	// requests in flight (a stall at the end of the load can leave hundreds)
	// are gone.
	select {
	case <-ctx.Done():
		return rep, ctx.Err()
	case <-time.After(o.sampleEvery):
	}
	smp.begin = began
	smp.sample()
	for i, p := range procs {
		pr := &rep.Processes[i]
		pr.Alive = p.Alive()
		pr.First, _ = smp.at(p.Name, o.firstReading.Seconds())
		pr.Series = smp.series[p.Name]
		if n := len(pr.Series); n >= 2 {
			pr.Last, pr.Idle = pr.Series[n-2], pr.Series[n-1]
		}
		pr.Log = p.logSummary()
	}
	rep.FinishedAt = time.Now().UTC()
	rep.judge()
	path, err := rep.write(o.out)
	if err != nil {
		return rep, err
	}
	rep.Path = path
	rep.print(stdout)
	fmt.Fprintf(stdout, "\nresults: %s\n", path)
	return rep, nil
}

// startAll starts the processes of the mode, the API on apiAddr.
func startAll(ctx context.Context, o options, bin, dir string, env map[string]string, apiAddr, publicURL string, log *slog.Logger) ([]*process, error) {
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range env {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	var procs []*process
	if o.mode == "split" && o.backend == "nats" && o.natsURL == "" {
		self, err := os.Executable()
		if err != nil {
			return procs, fmt.Errorf("find this program: %w", err)
		}
		clientAddr, err := freeAddr()
		if err != nil {
			return procs, err
		}
		monitor, err := freeAddr()
		if err != nil {
			return procs, err
		}
		p, err := startProcessAt(ctx, "nats", []string{self, "-nats-serve"}, dir, "/healthz", monitor, map[string]string{
			natsEnvAddr: clientAddr, natsEnvMonitor: monitor, natsEnvStore: filepath.Join(dir, "nats-store")})
		if err != nil {
			return procs, err
		}
		log.Info("nats-server started", "pid", p.Pid(), "url", "nats://"+clientAddr)
		procs = append(procs, p)
		env = with(map[string]string{"NATS_URL": "nats://" + clientAddr})
	}
	if o.mode == "serve" {
		p, err := startProcessAt(ctx, "serve", []string{bin, "serve"}, dir, "/readyz", apiAddr, with(map[string]string{"PUBLIC_URL": publicURL}))
		if err != nil {
			return procs, err
		}
		log.Info("thoughts serve started", "pid", p.Pid(), "url", publicURL)
		return append(procs, p), nil
	}
	for i := range o.routers {
		name := fmt.Sprintf("router-%d", i+1)
		p, err := startProcess(ctx, name, bin, "router", dir, "/healthz", with(map[string]string{"PUBLIC_URL": publicURL}))
		if err != nil {
			return procs, err
		}
		log.Info("thoughts router started", "name", name, "pid", p.Pid())
		procs = append(procs, p)
	}
	p, err := startProcessAt(ctx, "api", []string{bin, "api"}, dir, "/readyz", apiAddr, with(map[string]string{"PUBLIC_URL": publicURL}))
	if err != nil {
		return procs, err
	}
	log.Info("thoughts api started", "pid", p.Pid(), "url", publicURL)
	// Stopped in reverse: the API first, then the routers, then NATS.
	return append(procs, p), nil
}

// waitDrained waits until every like and follow made since the load began
// has its notification (or the timeout passes), and returns the counts.
func waitDrained(ctx context.Context, pool *pgxpool.Pool, since time.Time, timeout time.Duration) (Completeness, float64, error) {
	start := time.Now()
	for {
		c, err := completeness(ctx, pool, since)
		if err != nil {
			return c, 0, err
		}
		if (c.Likes == c.LikeNotifications && c.Follows == c.FollowNotifs) || time.Since(start) > timeout {
			return c, time.Since(start).Seconds(), nil
		}
		select {
		case <-ctx.Done():
			return c, 0, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
