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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/adapters/pubsub"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/router"
	"github.com/thoughts-project/thoughts/service"
)

// testPolicy keeps retries fast; Span ≈ 3×1 s + 40 ms + 100 ms.
var testPolicy = router.Policy{MaxRetries: 2, InitialInterval: 20 * time.Millisecond, Multiplier: 2, MaxInterval: 100 * time.Millisecond, Timeout: time.Second}

// backendKind configures one backend as an operator would: EVENTS_BACKEND,
// NATS_URL or the embedded server's DATA_DIR.
type backendKind struct {
	name      string
	configure func(t *testing.T, cfg *service.Config)
}

var backends = []backendKind{
	{"nats-embedded", func(t *testing.T, cfg *service.Config) {
		cfg.EventsBackend, cfg.DataDir = pubsub.NATS, t.TempDir()
	}},
	{"nats-external", func(t *testing.T, cfg *service.Config) {
		cfg.EventsBackend, cfg.NATSURL = pubsub.NATS, startNATSServer(t).url()
	}},
	{"postgres", func(t *testing.T, cfg *service.Config) { cfg.EventsBackend = pubsub.Postgres }},
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

// rig is one backend with its database, opened by the composition root
// (service.OpenBroker) as a process opens it, ready to run routers against.
type rig struct {
	t       *testing.T
	kind    string
	db      pgtest.DB
	cfg     service.Config
	broker  *service.Broker
	backend *pubsub.Backend
	pub     message.Publisher
	logs    *logBuffer
	log     *slog.Logger
	// policy is given to handlers that declare none.
	policy router.Policy
}

func newRig(t *testing.T, b backendKind) *rig {
	t.Helper()
	buf := &logBuffer{}
	logger := slog.New(logs.WithCorrelation(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	db := pgtest.New(t)
	r := &rig{t: t, kind: b.name, db: db, logs: buf, log: logger, policy: testPolicy}
	r.cfg = service.Config{DatabaseURL: db.URL, ShutdownTimeout: 5 * time.Second}
	b.configure(t, &r.cfg)
	broker, err := service.OpenBroker(context.Background(), r.cfg, logger, db.Pool, service.BrokerOptions{Embedded: true, SubscriberConns: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	r.broker, r.backend = broker, broker.Backend()
	pub, err := r.backend.Publisher()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	r.pub = pub
	return r
}

func (r *rig) nats() bool { return r.cfg.EventsBackend == pubsub.NATS }

// routerOpts adjust one router.
type routerOpts struct {
	ctx          context.Context // Run's context; cancelling it stops the subscriptions
	closeTimeout time.Duration
}

// running is the event processing of one simulated process.
type running struct{ p *service.Processing }

// Close stops it as a process stops (in-flight messages get closeTimeout).
func (r running) Close() error {
	r.p.Stop()
	return nil
}

// start runs event processing with hs, as a process would (service.
// StartProcessing: provisioning, forwarder on NATS, router), until the test
// ends; it returns once every handler is subscribed.
func (r *rig) start(hs []router.Handler, opts ...routerOpts) running {
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
	hs = slices.Clone(hs)
	for i := range hs {
		if hs[i].Policy == (router.Policy{}) {
			hs[i].Policy = r.policy
		}
	}
	cfg := r.cfg
	cfg.ShutdownTimeout = o.closeTimeout
	p, err := service.StartProcessing(o.ctx, r.broker, hs, nil, r.log, cfg)
	if err != nil {
		r.t.Fatalf("start event processing: %v", err)
	}
	r.t.Cleanup(p.Stop)
	return running{p}
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
	uow, err := service.UnitOfWork(r.cfg, r.log, r.db.Pool)
	if err != nil {
		r.t.Fatal(err)
	}
	return uow
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

// TestMain removes the nats-server binary built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
