// Command events benchmarks Thoughts' event pipeline end to end, for each
// events backend, against the bare libraries it is built on (issue 3).
//
// For each backend (NATS JetStream, embedded; PostgreSQL, watermill-sql) it
// creates a fresh database, starts the pipeline in this process exactly as
// `thoughts serve` wires it (outbox → forwarder (NATS only) → backend → router
// with the real middleware and the real notification handler) and measures:
//
//   - throughput: N LikeAdded events committed through the real write path
//     (UnitOfWork.InTx + tx.Publish) by K concurrent writers, from the first
//     commit until the N-th notification is stored, in slices that alternate
//     with the reference's (both systems are started side by side), so both
//     meet the same shared machine;
//   - latency: commit-to-notification p50/p99/max at a fixed offered rate
//     (open loop);
//   - the reference: the same libraries with no Thoughts code (watermill-sql
//     publisher in a pgx transaction, forwarder to JetStream or the topic
//     table, a Watermill Router with the same middleware and a handler that
//     only acks), same N, payload size and settings;
//   - the notification handler alone (no broker), serially and with K
//     goroutines, to show how much of the pipeline's cost is the handler.
//
// It prints a table with the targets of issue 3 and writes JSON to
// bench/results/events-<UTC timestamp>.json. Only loopback traffic: the
// database named by DATABASE_URL (default: the development cluster) and
// in-process NATS servers that listen on no port.
//
//	go run ./bench/events [-n 20000] [-slices 4] [-writers 8] [-rate 1000] [-duration 15s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/service"
)

// config is one benchmark run.
type config struct {
	// N events per system in the throughput phase, committed in Slices
	// slices, alternating with the other system's (interleave).
	N      int
	Slices int
	// Writers commit concurrently in the throughput phase.
	Writers int
	// Warmup events are committed and drained before measuring.
	Warmup int
	// Rate (events/s; 0: half the reference's maximum) and Duration of the
	// open-loop latency phases.
	Rate     int
	Duration time.Duration
	// Backends to run, in order.
	Backends []string
	// Reference runs the bare-library reference too.
	Reference bool
	// HandlerAlone times the notification handler without a broker;
	// HandlerEvents is how many events per concurrency level.
	HandlerAlone  bool
	HandlerEvents int
	// Rounds is how many times each backend's comparison (reference
	// throughput, pipeline throughput and latency, reference latency) runs;
	// the targets are checked on the median of the rounds' ratios.
	Rounds int
	// DBCost reports the database's work per event of each throughput
	// phase (DBCost in load.go).
	DBCost bool
	// Users is how many authors (each with one thought) and as many likers
	// take part.
	Users int
	// DrainTimeout bounds waiting for the last event of a phase.
	DrainTimeout time.Duration
	// Progress is the interval between progress lines; 0 disables them.
	Progress time.Duration
	// Tuning departs from `thoughts serve`'s settings, to try a proposed
	// change; the zero value is serve's wiring. Applied to the reference too.
	Tuning Tuning
	// TraceDir, if set, receives a CSV per system of the latency phase:
	// commit time and latency of every event.
	TraceDir string
}

// Tuning departs from serve's event settings; zero values are serve's.
type Tuning struct {
	// Subscribers per handler and topic (NATS); 0 is serve's
	// (service.DefaultEventSubscribers).
	Subscribers int `json:"subscribers,omitempty"`
	// AckSync acks on NATS waiting for the server (serve acks async).
	AckSync bool `json:"ack_sync,omitempty"`
	// BatchSize of the Postgres handler subscribers; 0 is serve's (pubsub's
	// default).
	BatchSize int `json:"batch_size,omitempty"`
	// HandlerPool is the size of the event handlers' own database pool; 0 is
	// serve's (service.DefaultEventHandlerConns).
	HandlerPool int `json:"handler_pool,omitempty"`
	// NoBatch handles every event alone (no HandleBatch), to measure what
	// the router's batching gives; pipeline only.
	NoBatch bool `json:"no_batch,omitempty"`
	// Without leaves the named handlers out of the router (comma-separated,
	// e.g. "federation"), to measure what each costs; pipeline only.
	Without string `json:"without,omitempty"`
	// RetentionInterval is the pruner's RETENTION_INTERVAL; 0 is serve's
	// (a minute), negative turns the pruner off; pipeline only.
	RetentionInterval time.Duration `json:"retention_interval,omitempty"`
}

func (c config) validate() error {
	switch {
	case c.N < 1 || c.N > 1_000_000:
		return errors.New("-n must be between 1 and 1,000,000")
	case c.Writers < 1 || c.Writers > 256:
		return errors.New("-writers must be between 1 and 256")
	case c.Slices < 1 || c.Slices > 100 || c.Slices > c.N:
		return errors.New("-slices must be between 1 and 100, and at most -n")
	case c.Warmup < 0 || c.Warmup > 100_000:
		return errors.New("-warmup must be between 0 and 100,000")
	case c.Rate < 0 || c.Rate > 100_000:
		return errors.New("-rate must be between 0 (half the reference's events/s) and 100,000")
	case c.Rounds < 1 || c.Rounds > 20:
		return errors.New("-rounds must be between 1 and 20")
	case c.Duration <= 0 || c.Duration > 10*time.Minute:
		return errors.New("-duration must be positive and at most 10m")
	case c.Users < 2 || c.Users > 10_000:
		return errors.New("-users must be between 2 and 10,000")
	case c.HandlerEvents < 1 || c.HandlerEvents > 1_000_000:
		return errors.New("-handler-events must be between 1 and 1,000,000")
	case c.DrainTimeout <= 0:
		return errors.New("-drain-timeout must be positive")
	case c.Tuning.Subscribers < 0 || c.Tuning.Subscribers > 64:
		return errors.New("-tune-subscribers must be between 0 and 64")
	case c.Tuning.BatchSize < 0 || c.Tuning.BatchSize > 1000:
		return errors.New("-tune-batch must be between 0 and 1000")
	case c.Tuning.HandlerPool < 0 || c.Tuning.HandlerPool > 64:
		return errors.New("-tune-handler-pool must be between 0 and 64")
	case slices.Contains(strings.Split(c.Tuning.Without, ","), "notifications"):
		return errors.New("-tune-without: the benchmark measures the notifications handler; it cannot be left out")
	case len(c.Backends) == 0:
		return errors.New("-backends names no backend")
	}
	for _, b := range c.Backends {
		if b != pubsub.NATS && b != pubsub.Postgres {
			return fmt.Errorf("-backends: unknown backend %q (nats, postgres)", b)
		}
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/events:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg        config
		backends   string
		dbURL      string
		outDir     string
		cpuProfile string
		logLevel   string
		keep       bool
		timeout    time.Duration
	)
	fs.IntVar(&cfg.N, "n", 20_000, "events per system in the throughput phase")
	fs.IntVar(&cfg.Slices, "slices", 4, "slices of the throughput phase per system; the two systems' slices alternate (A B B A …) so each pair meets the same machine")
	fs.IntVar(&cfg.Writers, "writers", 8, "concurrent writers in the throughput phase")
	fs.IntVar(&cfg.Warmup, "warmup", 500, "events committed and drained before measuring")
	fs.IntVar(&cfg.Rate, "rate", 0, "offered rate of the latency phases, events/s (open loop); 0: half the reference's events/s (1,000 without the reference)")
	fs.DurationVar(&cfg.Duration, "duration", 15*time.Second, "length of the latency phase")
	fs.StringVar(&backends, "backends", "nats,postgres", "comma-separated backends to run")
	fs.BoolVar(&cfg.Reference, "reference", true, "also measure the bare-library reference")
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds of each backend's comparison; targets are checked on the median ratios (the machine's speed drifts)")
	fs.BoolVar(&cfg.HandlerAlone, "handler-alone", true, "also time the notification handler without a broker")
	fs.IntVar(&cfg.HandlerEvents, "handler-events", 5_000, "events per concurrency level when timing the handler alone")
	fs.IntVar(&cfg.Users, "users", 100, "authors (one thought each) and likers")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", 3*time.Minute, "longest wait for a phase's last event")
	fs.DurationVar(&cfg.Progress, "progress", 2*time.Second, "interval between progress lines (0: none)")
	fs.DurationVar(&timeout, "timeout", 30*time.Minute, "bound on the whole run")
	fs.StringVar(&dbURL, "database-url", "", "server to create the benchmark databases on (default: $DATABASE_URL, else the development cluster)")
	fs.StringVar(&outDir, "out", "bench/results", "directory for the JSON result (empty: none)")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&logLevel, "log-level", "warn", "level of the pipeline's own logs (debug, info, warn, error)")
	fs.BoolVar(&keep, "keep", false, "keep the benchmark databases after the run")
	fs.IntVar(&cfg.Tuning.Subscribers, "tune-subscribers", 0, "NATS subscriptions per handler and topic (0: as serve, 8); pipeline and reference")
	fs.BoolVar(&cfg.Tuning.AckSync, "tune-ack-sync", false, "ack on NATS waiting for the server's confirmation (serve: async); pipeline and reference")
	fs.IntVar(&cfg.Tuning.BatchSize, "tune-batch", 0, "rows per Postgres handler subscriber transaction (0: as serve, pubsub's default); pipeline and reference")
	fs.IntVar(&cfg.Tuning.HandlerPool, "tune-handler-pool", 0, "connections of the event handlers' own pool (0: as serve, 16)")
	fs.BoolVar(&cfg.DBCost, "db-cost", false, "report each system's transactions, WAL bytes and CPU per event of the throughput phase, and WAL flushes with -reference=false (adds 11 s per round: PostgreSQL publishes statistics late)")
	fs.DurationVar(&cfg.Tuning.RetentionInterval, "tune-retention-interval", 0, "RETENTION_INTERVAL of the pipeline's pruner (0: as serve, 1m; negative: no pruning)")
	fs.StringVar(&cfg.Tuning.Without, "tune-without", "", "leave these handlers out of the router, comma-separated (e.g. federation); pipeline only")
	fs.BoolVar(&cfg.Tuning.NoBatch, "tune-no-batch", false, "handle every event alone, without the router's batching (pipeline only)")
	fs.StringVar(&cfg.TraceDir, "trace", "", "directory for per-event CSV traces of the latency phase")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, b := range strings.Split(backends, ",") {
		if b = strings.TrimSpace(b); b != "" {
			cfg.Backends = append(cfg.Backends, b)
		}
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if dbURL == "" {
		dbURL = os.Getenv("DATABASE_URL")
	}
	if dbURL == "" {
		dbURL = service.DefaultDatabaseURL
	}
	logger, err := logs.New(stderr, logLevel, "text")
	if err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	env := environment{
		Database: serverDatabases(dbURL, keep, logger),
		Logger:   logger,
		Progress: stderr,
	}
	rep, err := benchmark(ctx, cfg, env)
	if err != nil {
		return err
	}
	rep.DatabaseServer = redact(dbURL)
	printTable(stdout, rep)
	if outDir != "" {
		path, err := writeJSON(outDir, rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nJSON: %s\n", path)
	}
	return nil
}

// environment is what a run needs from outside: databases and where to log.
type environment struct {
	// Database returns a fresh database named after name (the caller's
	// suffix), with the Thoughts schema (migrations and outbox tables) if
	// migrated, else empty, and a function that releases it.
	Database func(ctx context.Context, name string, migrated bool) (db database, release func(), err error)
	Logger   *slog.Logger
	// Progress receives progress lines.
	Progress io.Writer
}
