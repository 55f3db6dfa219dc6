package service

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
)

// testConfig is a process's configuration for db; its HTTP_ADDR is never
// listened on (tests hand a listener over).
func testConfig(t *testing.T, db pgtest.DB, backend string) Config {
	return Config{
		DatabaseURL: db.URL, HTTPAddr: "127.0.0.1:0", PublicURL: "http://localhost:8080",
		JWTSecret: []byte("backbone-test-secret-0123456789abcdef"), JWTTTL: time.Hour,
		EventsBackend: backend, DataDir: t.TempDir(), ShutdownTimeout: 10 * time.Second,
	}
}

// listen opens a loopback listener on a free port, to be handed to a server:
// nothing else can take the port between choosing and serving.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// process is a command running in the test, as `thoughts serve` (or api,
// router) would, on a handed-over listener.
type process struct {
	base string
	// metrics is the base URL of its METRICS_ADDR listener.
	metrics string
	cancel  context.CancelFunc
	done    chan error
}

// startProcess runs the command with opts until stop or the end of the test.
func startProcess(t *testing.T, cfg Config, opts Options) *process {
	t.Helper()
	ln, mln := listen(t), listen(t)
	opts.Listener, opts.MetricsListener = ln, mln
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{base: "http://" + ln.Addr().String(), metrics: "http://" + mln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- run(ctx, cfg, slog.New(slog.DiscardHandler), opts) }()
	t.Cleanup(func() {
		if p.done != nil {
			if err := p.stop(t); err != nil {
				t.Errorf("process: %v", err)
			}
		}
	})
	return p
}

// stop signals the process to stop and waits, at most 30 s, for it to.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done = nil
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not shut down within 30 s")
		return nil
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(b)
}

// waitFor polls cond until it holds, failing the test after 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
