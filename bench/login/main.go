// Command login measures what a burst of sign-ins does to the server (issue
// 9): it runs the real HTTP API in this process, against its own database,
// built by the composition root as `thoughts api` is, with production Argon2id
// parameters, sends -logins sign-ins at concurrency
// -concurrency while a prober reads GET /api/v1/users/{name} in a loop, and
// reports the process's peak RSS and the prober's latency percentiles. With
// -gate=off password work is unbounded, as before the gate existed, for the
// before/after comparison. Rate limits are off: this measures the password
// work alone.
//
//	go run ./bench/login                  # the gate as configured by default
//	go run ./bench/login -gate=off        # unbounded, for comparison
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/service"
)

const (
	benchDB  = "thoughts_bench_login"
	password = "bench-login-password"
)

// Result is what one run writes to bench/results.
type Result struct {
	Started      time.Time         `json:"started"`
	Gate         string            `json:"gate"`
	GateLimits   auth.WorkLimits   `json:"gate_limits"`
	Argon2       auth.Argon2Params `json:"argon2"`
	CPUs         int               `json:"cpus"`
	Logins       int               `json:"logins"`
	Concurrency  int               `json:"concurrency"`
	Statuses     map[string]int    `json:"statuses"`
	LoginsSecs   float64           `json:"logins_seconds"`
	RSSBeforeMiB float64           `json:"rss_before_mib"`
	RSSPeakMiB   float64           `json:"rss_peak_mib"`
	ProbeCount   int               `json:"probe_count"`
	ProbeP50Ms   float64           `json:"probe_p50_ms"`
	ProbeP99Ms   float64           `json:"probe_p99_ms"`
	ProbeMaxMs   float64           `json:"probe_max_ms"`
}

func main() {
	logins := flag.Int("logins", 256, "sign-ins to send")
	concurrency := flag.Int("concurrency", 64, "sign-ins in flight at once")
	gate := flag.String("gate", "on", "on: password work bounded by the default gate; off: unbounded")
	out := flag.String("out", "bench/results", "directory for the JSON results file")
	flag.Parse()
	if err := run(context.Background(), *logins, *concurrency, *gate, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench/login:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logins, concurrency int, gateMode, outDir string) error {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable"
	}
	dbURL, err := freshDatabase(ctx, dsn)
	if err != nil {
		return err
	}

	params := auth.DefaultArgon2Params
	limits := auth.DefaultWorkLimits(params, auth.DefaultArgon2MemoryBudget)
	switch gateMode {
	case "on":
	case "off":
		limits = auth.WorkLimits{Concurrent: 1 << 20}
	default:
		return fmt.Errorf("-gate must be on or off, not %q", gateMode)
	}
	// The API as `thoughts api` builds it (service.Open), on the benchmark's
	// database, with the gate under test and rate limits off.
	cfg := service.Config{
		DatabaseURL: dbURL, EventsBackend: "postgres", PublicURL: "http://bench.test", DataDir: os.TempDir(),
		JWTSecret: []byte("bench-login-secret-bench-login-secret-0123"), JWTTTL: time.Hour, ShutdownTimeout: 10 * time.Second,
		RateLimits: httpapi.RateLimits{Disabled: true}, PasswordWork: limits,
	}
	svc, err := service.Open(ctx, cfg, slog.New(slog.DiscardHandler), service.Options{API: true})
	if err != nil {
		return err
	}
	defer svc.Close()
	api, err := svc.APIHandler()
	if err != nil {
		return err
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency + 1}}

	if status, _, err := post(client, srv.URL+"/api/v1/auth/register",
		map[string]string{"username": "bench", "email": "bench@example.com", "password": password}); err != nil || status != http.StatusCreated {
		return fmt.Errorf("register: %d %v", status, err)
	}
	runtime.GC()
	res := Result{Started: time.Now().UTC(), Gate: gateMode, GateLimits: limits, Argon2: params, CPUs: runtime.GOMAXPROCS(0),
		Logins: logins, Concurrency: concurrency, Statuses: map[string]int{}, RSSBeforeMiB: rssMiB("VmRSS")}
	// Reset the peak (VmHWM) so it covers the run only.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)

	stop := make(chan struct{})
	var probes []time.Duration
	var probeWG sync.WaitGroup
	probeWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			resp, err := client.Get(srv.URL + "/api/v1/users/bench")
			if err == nil {
				resp.Body.Close()
				probes = append(probes, time.Since(start))
			}
			time.Sleep(5 * time.Millisecond) // a steady reader, not a second load
		}
	})

	var mu sync.Mutex
	work := make(chan struct{}, logins)
	for range logins {
		work <- struct{}{}
	}
	close(work)
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for range work {
				// A client told to come back (503, Retry-After) does, so
				// every sign-in is done in the end and the load lasts.
				for {
					status, retry, err := post(client, srv.URL+"/api/v1/auth/login", map[string]string{"login": "bench", "password": password})
					key := strconv.Itoa(status)
					if err != nil {
						key = "error"
					}
					mu.Lock()
					res.Statuses[key]++
					mu.Unlock()
					if status != http.StatusServiceUnavailable {
						break
					}
					time.Sleep(retry)
				}
			}
		})
	}
	wg.Wait()
	res.LoginsSecs = time.Since(start).Seconds()
	close(stop)
	probeWG.Wait()
	res.RSSPeakMiB = rssMiB("VmHWM")

	slices.Sort(probes)
	res.ProbeCount = len(probes)
	if n := len(probes); n > 0 {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		res.ProbeP50Ms, res.ProbeP99Ms, res.ProbeMaxMs = ms(probes[n/2]), ms(probes[min(n-1, n*99/100)]), ms(probes[n-1])
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(data))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	name := filepath.Join(outDir, "login-"+gateMode+"-"+res.Started.Format("20060102T150405Z")+".json")
	return os.WriteFile(name, append(data, '\n'), 0o644)
}

// post sends body as JSON and returns the status and the Retry-After delay.
func post(c *http.Client, url string, body any) (int, time.Duration, error) {
	data, _ := json.Marshal(body)
	resp, err := c.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = bufio.NewReader(resp.Body).WriteTo(discard{})
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(secs) * time.Second, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// rssMiB reads a memory figure of this process from /proc/self/status.
func rssMiB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// freshDatabase drops and recreates the bench database and migrates it.
func freshDatabase(ctx context.Context, dsn string) (string, error) {
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connect (run ./scripts/dev-postgres.sh): %w", err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{`DROP DATABASE IF EXISTS ` + benchDB + ` WITH (FORCE)`, `CREATE DATABASE ` + benchDB} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return "", fmt.Errorf("%s: %w", q, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/" + benchDB
	cfg := service.Config{DatabaseURL: u.String()}
	if err := service.Migrate(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		return "", err
	}
	return u.String(), nil
}
