package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newClient returns an HTTP client for many concurrent keep-alive requests to
// one host.
func newClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// request builds one request; i counts requests of the run (open loop) or of
// the worker (closed loop).
type request func(ctx context.Context, worker, i int) (*http.Request, error)

// Measurement is the outcome of one load run.
type Measurement struct {
	Requests    int     `json:"requests"` // measured (after warm-up)
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	AchievedRPS float64 `json:"achieved_rps"` // successful responses per second
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	// WindowP99ms is the p99 of each 5-second window: how steady the run was.
	WindowP99ms []float64 `json:"window_p99_ms"`
	// ErrorSamples are the first few distinct errors.
	ErrorSamples []string `json:"error_samples,omitempty"`
}

type sample struct {
	at  time.Duration // since the measured part began: scheduled (open) or sent (closed)
	lat time.Duration
	err string
}

// recorder collects samples from concurrent requests.
type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(s sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// do sends req and reads the whole body (so the connection is reused); any
// status other than want is an error.
func do(client *http.Client, req *http.Request, want int) string {
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "read body: " + err.Error()
	}
	if resp.StatusCode != want {
		return fmt.Sprintf("%s %s: status %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return ""
}

// maxInFlight bounds an open-loop run against a server that stops answering:
// requests beyond it are counted as errors instead of piling up.
const maxInFlight = 4000

// openLoop offers rate requests per second for warmup+measure on a fixed
// schedule, each on its own goroutine whatever the earlier ones are doing.
// Latency is measured from the scheduled send time, so a stalled server
// shows in the figures instead of slowing the schedule (no coordinated
// omission). Requests scheduled during the warm-up are not recorded.
func openLoop(ctx context.Context, client *http.Client, rate float64, warmup, measure time.Duration, want int, mk request) Measurement {
	interval := time.Duration(float64(time.Second) / rate)
	total := int((warmup + measure).Seconds() * rate)
	measured := int(warmup.Seconds() * rate)
	rec := &recorder{}
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	start := time.Now().Add(20 * time.Millisecond)
	begin := start.Add(time.Duration(measured) * interval)
schedule:
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
				break schedule
			case <-time.After(d):
			}
		}
		record := i >= measured
		if inFlight.Load() >= maxInFlight {
			if record {
				rec.add(sample{at: at.Sub(begin), lat: time.Since(at), err: "not sent: too many requests in flight"})
			}
			continue
		}
		inFlight.Add(1)
		wg.Go(func() {
			defer inFlight.Add(-1)
			req, err := mk(ctx, 0, i)
			msg := ""
			if err != nil {
				msg = err.Error()
			} else {
				msg = do(client, req, want)
			}
			if record {
				rec.add(sample{at: at.Sub(begin), lat: time.Since(at), err: msg})
			}
		})
	}
	wg.Wait()
	return summarise(rec.samples, measure, time.Since(begin))
}

// closedLoop runs concurrency workers, each sending its next request when the
// previous one is answered, for warmup+measure; requests sent during the
// warm-up are not recorded.
func closedLoop(ctx context.Context, client *http.Client, concurrency int, warmup, measure time.Duration, want int, mk request) Measurement {
	rec := &recorder{}
	start := time.Now()
	begin, end := start.Add(warmup), start.Add(warmup+measure)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			var local []sample
			for i := 0; ctx.Err() == nil; i++ {
				sent := time.Now()
				if !sent.Before(end) {
					break
				}
				req, err := mk(ctx, w, i)
				msg := ""
				if err != nil {
					msg = err.Error()
				} else {
					msg = do(client, req, want)
				}
				if !sent.Before(begin) {
					local = append(local, sample{at: sent.Sub(begin), lat: time.Since(sent), err: msg})
				}
			}
			rec.mu.Lock()
			rec.samples = append(rec.samples, local...)
			rec.mu.Unlock()
		})
	}
	wg.Wait()
	return summarise(rec.samples, measure, measure)
}

// summarise computes the figures of a run. Rates are per second of the
// measured span (for an open loop: until the last answer came).
func summarise(samples []sample, measure, elapsed time.Duration) Measurement {
	m := Measurement{Requests: len(samples), Seconds: math.Round(max(measure, elapsed).Seconds()*100) / 100}
	var lats []time.Duration
	seen := map[string]bool{}
	windows := map[int][]time.Duration{}
	for _, s := range samples {
		if s.err != "" {
			m.Errors++
			if len(m.ErrorSamples) < 5 && !seen[s.err] {
				seen[s.err] = true
				m.ErrorSamples = append(m.ErrorSamples, s.err)
			}
		}
		lats = append(lats, s.lat)
		w := int(s.at / (5 * time.Second))
		windows[w] = append(windows[w], s.lat)
	}
	m.AchievedRPS = math.Round(float64(len(samples)-m.Errors)/max(measure, elapsed).Seconds()*10) / 10
	if len(lats) == 0 {
		return m
	}
	slices.Sort(lats)
	m.P50ms, m.P90ms, m.P99ms = ms(quantile(lats, 0.50)), ms(quantile(lats, 0.90)), ms(quantile(lats, 0.99))
	m.MaxMs = ms(lats[len(lats)-1])
	keys := make([]int, 0, len(windows))
	for k := range windows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w := windows[k]
		if len(w) < 100 { // a trailing sliver says nothing about a p99
			continue
		}
		slices.Sort(w)
		m.WindowP99ms = append(m.WindowP99ms, ms(quantile(w, 0.99)))
	}
	return m
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*100) / 100 }
