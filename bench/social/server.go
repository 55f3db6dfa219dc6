package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/thoughts-project/thoughts/bench/internal/benchproc"
)

// migrate runs `thoughts migrate` against dsn.
func migrate(ctx context.Context, bin, dsn, dataDir string) error {
	cmd := exec.CommandContext(ctx, bin, "migrate")
	cmd.Env = benchproc.Env(map[string]string{"DATABASE_URL": dsn, "LOG_LEVEL": "warn", "DATA_DIR": dataDir})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("thoughts migrate: %w\n%s", err, out.String())
	}
	return nil
}

// apiProcess is a running `thoughts api`.
type apiProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // set when exited is closed
	// BaseURL is http://127.0.0.1:port, where it listens.
	BaseURL string
	// PublicURL is its PUBLIC_URL, the issuer of its tokens: BaseURL unless
	// apiShared set another.
	PublicURL string
	// Secret signs its tokens.
	Secret []byte
}

// apiShared are the settings two API processes share so that one token
// works on both (the session A/B, sessionab.go); zero fields get the
// process's own: a random JWT secret, its BaseURL as PUBLIC_URL.
type apiShared struct {
	Secret    []byte
	PublicURL string
}

// startAPI runs `thoughts api` on a free loopback port and waits until
// /readyz answers 200.
func startAPI(ctx context.Context, bin, dsn, dataDir, backend string, shared apiShared, log *slog.Logger) (*apiProcess, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &apiProcess{exited: make(chan struct{}), BaseURL: "http://" + addr, PublicURL: shared.PublicURL, Secret: shared.Secret}
	if p.PublicURL == "" {
		p.PublicURL = p.BaseURL
	}
	if p.Secret == nil {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("generate JWT secret: %w", err)
		}
		p.Secret = []byte(hex.EncodeToString(raw))
	}
	p.cmd = exec.Command(bin, "api")
	p.cmd.Env = benchproc.Env(map[string]string{
		"DATABASE_URL":   dsn,
		"HTTP_ADDR":      addr,
		"PUBLIC_URL":     p.PublicURL,
		"JWT_SECRET":     string(p.Secret),
		"LOG_LEVEL":      "warn",
		"DATA_DIR":       dataDir,
		"EVENTS_BACKEND": backend,
		// No /metrics listener: nothing scrapes it, and its fixed default
		// port could be taken by a `make run` on the same machine.
		"METRICS_ADDR": "",
		// The load comes from one address at rates no client should reach.
		"RATE_LIMITS": "off",
	})
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start thoughts api: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	log.Info("thoughts api started", "bin", filepath.Base(bin), "pid", p.cmd.Process.Pid, "url", p.BaseURL, "events_backend", backend)

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("thoughts api exited before it was ready: %v", p.err)
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := client.Get(p.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("thoughts api not ready after 60s (last: %v)", err)
		}
		select {
		case <-p.exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop asks the server to shut down (SIGTERM, so it drains) and kills it if
// it has not exited within 30 s.
func (p *apiProcess) Stop() { benchproc.Stop(p.cmd, p.exited) }
