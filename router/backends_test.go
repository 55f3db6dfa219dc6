package router_test

// The integration suite runs every behaviour against each backend, the way
// Watermill tests every pub/sub with one suite: an embedded NATS server, an
// external nats-server process, and PostgreSQL (watermill-sql).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/logs"
	natsadapter "github.com/thoughts-project/thoughts/adapters/nats"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
)

// testPolicy keeps retries fast; Span ≈ 3×1 s + 40 ms + 100 ms.
var testPolicy = router.Policy{MaxRetries: 2, InitialInterval: 20 * time.Millisecond, Multiplier: 2, MaxInterval: 100 * time.Millisecond, Timeout: time.Second}

type backendKind struct {
	name string
	open func(t *testing.T, db pgtest.DB, logger *slog.Logger) natsadapter.Dialer // nil Dialer: Postgres
}

var backends = []backendKind{
	{"nats-embedded", func(t *testing.T, _ pgtest.DB, logger *slog.Logger) natsadapter.Dialer {
		e, err := natsadapter.StartEmbedded(t.TempDir(), logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Shutdown)
		return e.Dial
	}},
	{"nats-external", func(t *testing.T, _ pgtest.DB, logger *slog.Logger) natsadapter.Dialer {
		return startNATSServer(t).dialer(logger)
	}},
	{"postgres", func(*testing.T, pgtest.DB, *slog.Logger) natsadapter.Dialer { return nil }},
}

// eachBackend runs fn once per backend, in parallel subtests.
func eachBackend(t *testing.T, fn func(t *testing.T, r *rig)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newRig(t, b))
		})
	}
}

// rig is one backend with its database, ready to run routers against.
type rig struct {
	t       *testing.T
	kind    string
	db      pgtest.DB
	subPool *pgxpool.Pool
	dial    natsadapter.Dialer
	backend *pubsub.Backend
	pub     message.Publisher
	logs    *logBuffer
	log     *slog.Logger
	policy  router.Policy
}

func newRig(t *testing.T, b backendKind) *rig {
	t.Helper()
	buf := &logBuffer{}
	logger := slog.New(logs.WithCorrelation(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	db := pgtest.New(t)
	r := &rig{t: t, kind: b.name, db: db, logs: buf, log: logger, policy: testPolicy}
	r.dial = b.open(t, db, logger)
	r.subPool = subscriberPool(t, db)
	r.backend = r.openBackend()
	pub, err := r.backend.Publisher()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	r.pub = pub
	return r
}

func subscriberPool(t *testing.T, db pgtest.DB) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 6
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func (r *rig) backendName() string {
	if r.dial == nil {
		return pubsub.Postgres
	}
	return pubsub.NATS
}

func (r *rig) openBackend() *pubsub.Backend {
	b, err := pubsub.Open(pubsub.Config{
		Backend:        r.backendName(),
		Pool:           r.db.Pool,
		SubscriberPool: r.subPool,
		Dial:           r.dial,
		PoisonTopic:    router.PoisonTopic,
		AckWait:        r.policy.AckWait(),
		MaxAckPending:  64,
		NakDelay:       100 * time.Millisecond,
		CloseTimeout:   5 * time.Second,
		Logger:         r.log,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { b.Close() })
	return b
}

func (r *rig) nats() bool { return r.dial != nil }

// routerOpts adjust one router.
type routerOpts struct {
	ctx          context.Context // Run's context; cancelling it stops the subscriptions
	closeTimeout time.Duration
}

// start provisions and runs a router with hs until the test ends; it returns
// once every handler is subscribed.
func (r *rig) start(hs []router.Handler, opts ...routerOpts) *router.Router {
	r.t.Helper()
	var o routerOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.closeTimeout == 0 {
		o.closeTimeout = 5 * time.Second
	}
	if o.ctx == nil {
		o.ctx = context.Background()
	}
	subs := make([]pubsub.Subscription, len(hs))
	for i, h := range hs {
		subs[i] = pubsub.Subscription{Handler: h.Name, Topics: h.Topics}
	}
	ctx := context.Background()
	if err := r.backend.Provision(ctx, subs); err != nil {
		r.t.Fatal(err)
	}
	poisonPub, err := r.backend.PoisonPublisher()
	if err != nil {
		r.t.Fatal(err)
	}
	rt, err := router.New(router.Config{
		Handlers:        hs,
		Subscriber:      r.backend.Subscriber,
		PoisonPublisher: poisonPub,
		Policy:          r.policy,
		CloseTimeout:    o.closeTimeout,
		Logger:          r.log,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(o.ctx) }()
	r.t.Cleanup(func() {
		rt.Close()
		<-done
		poisonPub.Close()
	})
	select {
	case <-rt.Running():
	case err := <-done:
		r.t.Fatalf("router stopped before running: %v", err)
	case <-time.After(30 * time.Second):
		r.t.Fatal("router did not start")
	}
	return rt
}

// publish sends env to its topic through the backend, as the forwarder (NATS)
// or the outbox (Postgres) would.
func (r *rig) publish(envs ...events.Envelope) {
	r.t.Helper()
	for _, env := range envs {
		msg, err := outbox.ToMessage(env)
		if err != nil {
			r.t.Fatal(err)
		}
		if err := r.pub.Publish(env.Event.Topic(), msg); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rig) poisoned() []pubsub.PoisonEntry {
	r.t.Helper()
	entries, err := r.backend.PoisonList(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return entries
}

// unitOfWork commits through the real outbox, in the layout of the backend.
func (r *rig) unitOfWork() *postgres.UnitOfWork {
	mode := outbox.Direct
	if r.nats() {
		mode = outbox.Forward
	}
	uow, err := postgres.NewUnitOfWork(r.db.Pool, outbox.New(mode, nil))
	if err != nil {
		r.t.Fatal(err)
	}
	return uow
}

// startForwarder relays the outbox to JetStream until the test ends (NATS).
func (r *rig) startForwarder() *pubsub.Forwarder {
	r.t.Helper()
	if err := r.backend.Provision(context.Background(), nil); err != nil {
		r.t.Fatal(err)
	}
	fwd, err := r.backend.Forwarder(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fwd.Run(context.Background()) }()
	r.t.Cleanup(func() {
		fwd.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			r.t.Error("forwarder still running 30 s after Close")
		}
	})
	select {
	case <-fwd.Running():
	case err := <-done:
		done <- err // for the cleanup
		r.t.Fatalf("forwarder stopped: %v", err)
	case <-time.After(30 * time.Second):
		r.t.Fatal("forwarder did not start")
	}
	return fwd
}

// patience bounds waits for deliveries. Generous: watermill-sql reads only
// rows older than every running transaction on the server (all databases), so
// a long transaction elsewhere on a shared test server delays Postgres
// deliveries and the outbox forwarder.
const patience = 45 * time.Second

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the records whose msg is msg.
func (b *logBuffer) records(msg string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// natsServer is an external nats-server process.
type natsServer struct {
	t        *testing.T
	bin      string
	port     int // 0 until the first start reads it back
	dir      string
	portsDir string
	cmd      *exec.Cmd
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// natsServerBinary builds nats-server from the module cache once per run.
func natsServerBinary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "thoughts-nats-server-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "nats-server")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build nats-server: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func startNATSServer(t *testing.T) *natsServer {
	t.Helper()
	s := &natsServer{t: t, bin: natsServerBinary(t), dir: t.TempDir(), portsDir: t.TempDir()}
	t.Cleanup(s.kill)
	s.start()
	return s
}

func (s *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server: the first time on a port it picks itself (-1) and
// reports in its ports file, so no other process can take the port between
// choosing and listening; after a kill, on the same port again.
func (s *natsServer) start() {
	s.t.Helper()
	port := "-1"
	if s.port != 0 {
		port = strconv.Itoa(s.port)
	}
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", port, "-js", "-sd", s.dir, "--ports_file_dir", s.portsDir)
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	if s.port == 0 {
		file := filepath.Join(s.portsDir, fmt.Sprintf("%s_%d.ports", filepath.Base(s.bin), s.cmd.Process.Pid))
		eventually(s.t, 20*time.Second, "nats-server reports its port", func() bool {
			b, err := os.ReadFile(file)
			if err != nil {
				return false
			}
			var ports struct{ Nats []string }
			if json.Unmarshal(b, &ports) != nil || len(ports.Nats) == 0 {
				return false // not written yet
			}
			_, p, err := net.SplitHostPort(strings.TrimPrefix(ports.Nats[0], "nats://"))
			if err != nil {
				s.t.Fatalf("ports file %s: %v", b, err)
			}
			if s.port, err = strconv.Atoi(p); err != nil {
				s.t.Fatalf("ports file %s: %v", b, err)
			}
			return true
		})
	}
	eventually(s.t, 20*time.Second, "nats-server accepts connections", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// kill stops the server abruptly (SIGKILL), as a crash would.
func (s *natsServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *natsServer) dialer(logger *slog.Logger) natsadapter.Dialer {
	return natsadapter.External(s.url(), natsadapter.ConnOptions{ReconnectWait: 50 * time.Millisecond}, logger)
}

// TestMain removes the nats-server binary built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
