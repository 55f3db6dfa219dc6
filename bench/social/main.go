// Command social is the benchmark of the social features (issue 4): it
// generates a skewed social graph (10,000 users, 1,000,000 thoughts, ~2M likes
// by default) into its own database, runs `thoughts api` on it, and measures
// the home feed, search, posting and liking over HTTP on 127.0.0.1. It prints
// a table and writes JSON to bench/results/.
//
//	go run ./bench/social                       # full size
//	go run ./bench/social -thoughts 50000       # a quick check
//	go run ./bench/social -reuse                # skip generation when the data is there
//
// DATABASE_URL names the server (default: the development cluster); the
// benchmark's database on it is thoughts_bench_social (-database names
// another), dropped and recreated unless -reuse finds it complete.
//
//	go run ./bench/social -reuse -session-ab 6   # the session check's cost (sessionab.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/bench/internal/benchproc"
)

// defaultDatabaseURL is the development cluster (scripts/dev-postgres.sh).
const defaultDatabaseURL = "postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable"

// benchPassword is every generated user's password.
const benchPassword = "bench-social-password"

type options struct {
	users, thoughts int
	seed            uint64
	reuse           bool
	out             string
	duration        time.Duration // open-loop runs (measured part)
	closed          time.Duration // closed-loop runs (measured part)
	warmup          time.Duration
	feedRate        float64
	searchRate      float64
	concurrency     int
	backend         string
	generateOnly    bool
	run             *regexp.Regexp // runs to do; nil: all
	floor           bool           // run the same-run floor (floor.go) next to the API
	database        string         // the benchmark's database on the server of DATABASE_URL
	sessionAB       int            // rounds of the session check A/B (sessionab.go); 0: the normal runs
	sessionAA       bool           // the A/B with the default build on both sides: the harness's own spread
}

func main() {
	var o options
	flag.IntVar(&o.users, "users", 10000, "users to generate")
	flag.IntVar(&o.thoughts, "thoughts", 1000000, "thoughts to generate")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of the data set")
	flag.BoolVar(&o.reuse, "reuse", false, "reuse the database when it holds a complete data set of this size and seed")
	flag.StringVar(&o.out, "out", "", "directory for the JSON result (default: bench/results in the module)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured length of each open-loop run (feed, search)")
	flag.DurationVar(&o.closed, "closed", 15*time.Second, "measured length of each closed-loop throughput run")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured warm-up before each run")
	flag.Float64Var(&o.feedRate, "feed-rate", 200, "home feed requests per second offered")
	flag.Float64Var(&o.searchRate, "search-rate", 100, "search requests per second offered")
	flag.IntVar(&o.concurrency, "concurrency", 32, "workers of the throughput runs")
	flag.StringVar(&o.backend, "events-backend", "postgres", "EVENTS_BACKEND of the API process (nats needs NATS_URL: `thoughts api` cannot embed NATS)")
	flag.BoolVar(&o.generateOnly, "generate-only", false, "prepare the database and exit")
	flag.BoolVar(&o.floor, "floor", true, "also measure the floor (a minimal net/http + pgx endpoint doing the same kind of work) and report the API's figures as ratios of it")
	floorServe := flag.Bool("floor-serve", false, "internal: be the floor process (settings from BENCH_FLOOR_* variables)")
	flag.StringVar(&o.database, "database", benchDB, "the benchmark's database on the server of DATABASE_URL (dropped and recreated unless -reuse finds the same data set in it)")
	flag.IntVar(&o.sessionAB, "session-ab", 0, "instead of the normal runs: this many rounds of the closed-loop feed and like runs against two API processes, with and without the session check (sessionab.go)")
	flag.BoolVar(&o.sessionAA, "session-aa", false, "with -session-ab: both processes of the default build (an A/A run: what the harness itself shows when nothing differs)")
	runPattern := flag.String("run", "", "only the runs whose name matches this regular expression (e.g. 'search|like'), for profiling")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *floorServe {
		if err := serveFloor(ctx, log); err != nil {
			log.Error("floor failed", "err", err)
			os.Exit(1)
		}
		return
	}
	if *runPattern != "" {
		re, err := regexp.Compile(*runPattern)
		if err != nil {
			log.Error("-run: bad regular expression", "err", err)
			os.Exit(2)
		}
		o.run = re
	}
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = defaultDatabaseURL
	}
	if err := run(ctx, o, dsn, log); err != nil {
		log.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, adminURL string, log *slog.Logger) error {
	began := time.Now()
	root, err := benchproc.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "results")
	}
	tmp, err := os.MkdirTemp("", "bench-social-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log.Info("building thoughts", "root", root)
	bin, err := benchproc.Build(ctx, root, tmp, "thoughts", "")
	if err != nil {
		return err
	}
	dsn, err := withDatabase(adminURL, o.database)
	if err != nil {
		return err
	}

	mk, err := prepareDatabase(ctx, o, adminURL, dsn, bin, tmp, log)
	if err != nil {
		return err
	}
	if o.generateOnly {
		return nil
	}

	pool, err := postgres.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	removed, err := resetToGenerated(ctx, pool, mk.GeneratedAt)
	if err != nil {
		return err
	}
	if removed > 0 {
		log.Info("removed rows written by earlier runs", "rows", removed)
	}
	fx, err := loadFixtures(ctx, pool, mk.GeneratedAt)
	if err != nil {
		return err
	}
	if n, err := shareOneSigningKey(ctx, pool); err != nil {
		return err
	} else if n > 0 {
		log.Info("gave keyless users one shared signing key", "users", n)
	}
	sessions, err := startSessions(ctx, pool, fx.users)
	if err != nil {
		return err
	}
	pgVersion := ""
	_ = pool.QueryRow(ctx, `SHOW server_version`).Scan(&pgVersion)
	if o.sessionAB > 0 {
		o.floor = false // not run in this mode
		rep := report{
			StartedAt: began.UTC(), Host: hostInfo(pgVersion), Options: o.json(), Generation: mk.Stats,
			GeneratedAt: mk.GeneratedAt, Reused: mk.reused,
		}
		return sessionAB(ctx, o, abSetup{root: root, dir: tmp, bin: bin, dsn: dsn, pool: pool, fx: fx, sessions: sessions}, rep, log)
	}
	pool.Close()

	api, err := startAPI(ctx, bin, dsn, tmp, o.backend, apiShared{}, log)
	if err != nil {
		return err
	}
	defer api.Stop()
	tokens, err := auth.NewJWT(api.Secret, 24*time.Hour, api.PublicURL)
	if err != nil {
		return err
	}
	b, err := newBench(o, api.BaseURL, tokens, sessions, fx, log)
	if err != nil {
		return err
	}
	if o.floor {
		floor, err := startFloor(ctx, dsn, api.Secret, api.PublicURL, log)
		if err != nil {
			return err
		}
		defer floor.Stop()
		b.floor = floor.BaseURL
	}
	rep := report{
		StartedAt: began.UTC(), Host: hostInfo(pgVersion), Options: o.json(), Generation: mk.Stats,
		GeneratedAt: mk.GeneratedAt, Reused: mk.reused,
	}
	done, err := b.runAll(ctx)
	rep.Results, rep.FloorResults = done.api, done.floor
	rep.Host.LoadAfter = loadAvg()
	rep.FinishedAt = time.Now().UTC()
	if err != nil {
		return err
	}
	path, err := rep.write(o.out)
	if err != nil {
		return err
	}
	rep.print(os.Stdout)
	fmt.Fprintf(os.Stdout, "\nresults: %s\n", path)
	return nil
}

// prepared is the marker of the data set in use.
type prepared struct {
	marker
	reused bool
}

// prepareDatabase reuses a complete data set of the same size and seed when
// asked to, or recreates the database, migrates it and generates the data.
func prepareDatabase(ctx context.Context, o options, adminURL, dsn, bin, dataDir string, log *slog.Logger) (prepared, error) {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return prepared{}, fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	exists, mk, err := readMarker(ctx, admin, o.database)
	if err != nil {
		return prepared{}, err
	}
	if o.reuse {
		switch {
		case mk != nil && mk.Users == o.users && mk.Thoughts == o.thoughts && mk.Seed == o.seed:
			log.Info("reusing the data set", "database", o.database, "generated_at", mk.GeneratedAt)
			if err := migrate(ctx, bin, dsn, dataDir); err != nil {
				return prepared{}, err
			}
			return prepared{marker: *mk, reused: true}, nil
		case mk != nil:
			log.Warn("-reuse: the database holds another data set; regenerating", "users", mk.Users, "thoughts", mk.Thoughts, "seed", mk.Seed)
		case exists:
			log.Warn("-reuse: the database holds no complete data set; regenerating")
		}
	}
	log.Info("recreating the benchmark's database", "database", o.database)
	if err := recreate(ctx, admin, o.database); err != nil {
		return prepared{}, err
	}
	if err := migrate(ctx, bin, dsn, dataDir); err != nil {
		return prepared{}, err
	}
	hasher, err := auth.NewArgon2Hasher(auth.DefaultArgon2Params)
	if err != nil {
		return prepared{}, err
	}
	hash, err := hasher.Hash(benchPassword)
	if err != nil {
		return prepared{}, err
	}
	pool, err := postgres.Connect(ctx, dsn)
	if err != nil {
		return prepared{}, err
	}
	defer pool.Close()
	cfg := GenConfig{Users: o.users, Thoughts: o.thoughts, Seed: o.seed, PasswordHash: hash, Now: time.Now().UTC(), Logger: log}
	log.Info("generating", "users", o.users, "thoughts", o.thoughts, "seed", o.seed)
	st, err := Generate(ctx, pool, cfg)
	if err != nil {
		return prepared{}, err
	}
	log.Info("generated", "seconds", fmt.Sprintf("%.1f", st.Seconds), "follows", st.Follows, "likes", st.Likes, "boosts", st.Boosts,
		"top_1pct_share_pct", fmt.Sprintf("%.1f", st.TopPostersPct), "max_followers", st.MaxFollowers)
	m := marker{Version: markerVersion, Users: o.users, Thoughts: o.thoughts, Seed: o.seed, GeneratedAt: cfg.Now, Stats: st}
	if err := writeMarker(ctx, admin, o.database, m); err != nil {
		return prepared{}, err
	}
	return prepared{marker: m}, nil
}

var errRouteMissing = errors.New("route missing")
