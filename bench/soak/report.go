package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the JSON written to bench/results.
type report struct {
	StartedAt     time.Time          `json:"started_at"`
	LoadStartedAt time.Time          `json:"load_started_at"`
	FinishedAt    time.Time          `json:"finished_at"`
	Host          host               `json:"host"`
	Options       map[string]any     `json:"options"`
	LoadSeconds   float64            `json:"load_seconds"`
	DrainSeconds  float64            `json:"drain_seconds"` // after the load, until every notification was stored
	Ops           map[string]OpStats `json:"ops"`
	// Windows are the mix's requests in 10-second windows of the load.
	Windows []Window `json:"windows"`
	// OldestXact is the age of the server's oldest transaction holding a
	// transaction ID, at every reading.
	OldestXact []XactSample `json:"oldest_xact"`
	// DBActivity is the soak database's busy sessions at every reading.
	DBActivity   []DBActivity `json:"db_activity"`
	Lag          LagStats     `json:"notification_lag"`
	Completeness Completeness `json:"completeness"`
	Processes    []ProcReport `json:"processes"`
	TablesBefore []TableSize  `json:"tables_before"`
	TablesAfter  []TableSize  `json:"tables_after"`
	Checks       []Check      `json:"checks"`
	Pass         bool         `json:"pass"`
	Path         string       `json:"-"` // where it was written
}

type host struct {
	CPUs               int    `json:"cpus"`
	GoVersion          string `json:"go_version"`
	LoadBefore         string `json:"loadavg_before"` // /proc/loadavg: 1, 5, 15 min
	LoadAtFirstReading string `json:"loadavg_at_first_reading"`
	LoadAfter          string `json:"loadavg_after"`
	Note               string `json:"note"`
}

func hostInfo() host {
	return host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		Note: "load generator, thoughts processes and PostgreSQL share this machine"}
}

// loadAvg is the 1/5/15-minute load average, as uptime prints it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// ProcReport is one process's resources over the soak.
type ProcReport struct {
	Name  string     `json:"name"`
	Pid   int        `json:"pid"`
	Alive bool       `json:"alive_at_end"`
	First ProcSample `json:"first_reading"` // at -first-reading (minute 1)
	Last  ProcSample `json:"last_reading"`  // when the load ended
	// Idle is read after the drain, with no request in flight.
	Idle ProcSample `json:"idle_reading"`
	// RSSGrowthPct is (last - first) / first RSS.
	RSSGrowthPct float64 `json:"rss_growth_pct"`
	// CPUPercent is the process's CPU use between the two readings, in % of
	// one core.
	CPUPercent float64      `json:"cpu_pct_of_one_core"`
	Series     []ProcSample `json:"series"`
	Log        LogSummary   `json:"log"`
}

// Check is one verdict of the soak.
type Check struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
	// Informational checks do not fail the run.
	Informational bool `json:"informational,omitempty"`
}

// rssFlat is the growth of RSS from the first to the last reading still
// called flat: the Go runtime keeps freed heap for a while, and a run
// that started under 100 MiB moves by tens of percent for reasons that are
// not leaks; heap in use and goroutines say more.
const rssFlat = 20.0

func (r *report) judge() {
	var n5xx, transport, notSent, sent int64
	var samples []string
	for _, op := range append(slices.Clone(mixOps), opLagPoll) {
		s := r.Ops[op]
		n5xx += s.Status5xx
		transport += s.Transport
		notSent += s.NotSent
		sent += s.Sent
		if s.Status5xx > 0 || s.Transport > 0 {
			samples = append(samples, s.FailSamples...)
		}
	}
	detail := fmt.Sprintf("%d of %d requests", n5xx, sent)
	if len(samples) > 0 {
		detail += "; e.g. " + strings.Join(samples[:min(3, len(samples))], " | ")
	}
	r.Checks = append(r.Checks,
		Check{Name: "zero 5xx", Pass: n5xx == 0, Detail: detail},
		Check{Name: "every request answered", Pass: transport == 0 && notSent == 0,
			Detail: fmt.Sprintf("%d without an answer, %d not sent (in-flight bound)", transport, notSent)})
	c := r.Completeness
	r.Checks = append(r.Checks, Check{Name: "every like and follow notified exactly once",
		Pass:   c.Likes == c.LikeNotifications && c.Follows == c.FollowNotifs && c.Duplicates == 0,
		Detail: fmt.Sprintf("likes %d/%d, follows %d/%d notified, %d duplicates, drained %.1f s after the load", c.LikeNotifications, c.Likes, c.FollowNotifs, c.Follows, c.Duplicates, r.DrainSeconds)})
	r.Checks = append(r.Checks, Check{Name: "every sampled notification visible", Pass: r.Lag.NotSeen == 0 && r.Lag.Seen > 0,
		Detail: fmt.Sprintf("%d of %d seen (timeout %s), p99 %.1f ms", r.Lag.Seen, r.Lag.Sampled, r.Lag.Timeout, r.Lag.P99ms)})
	for i := range r.Processes {
		p := &r.Processes[i]
		if p.First.RSSKiB > 0 {
			p.RSSGrowthPct = math.Round(float64(p.Last.RSSKiB-p.First.RSSKiB)/float64(p.First.RSSKiB)*1000) / 10
		}
		if dt := p.Last.AtSeconds - p.First.AtSeconds; dt > 0 {
			p.CPUPercent = math.Round((p.Last.CPUSeconds-p.First.CPUSeconds)/dt*1000) / 10
		}
		r.Checks = append(r.Checks, Check{Name: p.Name + " alive at the end", Pass: p.Alive, Detail: fmt.Sprintf("%d error and %d warning log lines", p.Log.Errors, p.Log.Warnings)})
		r.Checks = append(r.Checks, Check{Name: p.Name + " RSS flat", Pass: p.RSSGrowthPct <= rssFlat, Informational: true,
			Detail: fmt.Sprintf("%.1f -> %.1f MiB (%+.1f%%, flat: <= %+.0f%%), heap in use %s -> %s MiB, goroutines %s -> %s, between %.0f s and %.0f s; idle after the drain %.1f MiB, heap %s MiB, %s goroutines",
				mib(p.First.RSSKiB), mib(p.Last.RSSKiB), p.RSSGrowthPct, rssFlat, heapMiB(p.First), heapMiB(p.Last),
				goroutines(p.First), goroutines(p.Last), p.First.AtSeconds, p.Last.AtSeconds, mib(p.Idle.RSSKiB), heapMiB(p.Idle), goroutines(p.Idle))})
	}
	r.Pass = true
	for _, c := range r.Checks {
		if !c.Pass && !c.Informational {
			r.Pass = false
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// heapMiB and goroutines print a reading's figures from /metrics, n/a
// when the scrape did not answer in time.
func heapMiB(s ProcSample) string {
	if s.Goroutines == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", mib(s.HeapKiB))
}

func goroutines(s ProcSample) string {
	if s.Goroutines == 0 {
		return "n/a"
	}
	return fmt.Sprint(s.Goroutines)
}

func mib(kib int64) float64 { return math.Round(float64(kib)/1024*10) / 10 }

func (o options) json() map[string]any {
	return map[string]any{
		"duration_s": o.duration.Seconds(), "rate": o.rate, "mix": o.mix.String(), "users": o.users,
		"seed_thoughts_per_user": o.seedThoughts, "seed_follows_per_user": o.seedFollows, "seed": o.seed,
		"mode": o.mode, "backend": o.backend, "nats_url": o.natsURL != "", "routers": o.routers,
		"lag_sample": o.lagSample, "lag_poll_ms": o.lagPoll.Milliseconds(), "lag_timeout_s": o.lagTimeout.Seconds(),
		"first_reading_s": o.firstReading.Seconds(), "sample_every_s": o.sampleEvery.Seconds(), "database": o.database,
	}
}

// write stores the report as soak-<UTC timestamp>.json in dir.
func (r report) write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "soak-"+r.StartedAt.Format("20060102T150405Z")+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// print writes the tables.
func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "\nsoak: %s, %v of load at %v req/s offered (%v), mode %v, backend %v\n", r.LoadStartedAt.Format(time.RFC3339),
		time.Duration(r.LoadSeconds*float64(time.Second)).Round(time.Second), r.Options["rate"], r.Options["mix"], r.Options["mode"], r.Options["backend"])
	fmt.Fprintf(w, "host: %d CPUs, %s; load average before %s, at minute 1 %s, after %s\n\n",
		r.Host.CPUs, r.Host.GoVersion, r.Host.LoadBefore, r.Host.LoadAtFirstReading, r.Host.LoadAfter)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tsent\tok\t4xx\t5xx\tno answer\tnot sent\tp50 ms\tp99 ms\tmax ms\t")
	for _, op := range append(slices.Clone(mixOps), opLagPoll) {
		s := r.Ops[op]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t\n", op, s.Sent, s.OK, s.Status4xx, s.Status5xx, s.Transport, s.NotSent, s.P50ms, s.P99ms, s.MaxMs)
	}
	tw.Flush()
	for _, op := range append(slices.Clone(mixOps), opLagPoll) {
		if s := r.Ops[op]; len(s.FailSamples) > 0 {
			fmt.Fprintf(w, "  %s failures, e.g.: %s\n", op, strings.Join(s.FailSamples, " | "))
		}
	}

	if len(r.Windows) > 0 {
		worst := slices.MaxFunc(r.Windows, func(a, b Window) int { return cmpFloat(a.P99ms, b.P99ms) })
		var p99s []float64
		for _, win := range r.Windows {
			p99s = append(p99s, win.P99ms)
		}
		slices.Sort(p99s)
		fmt.Fprintf(w, "\n10-second windows of the mix: %d; p99 per window: median %.1f ms, worst %.1f ms (at %.0f s, %d requests, %d failures)\n",
			len(r.Windows), p99s[len(p99s)/2], worst.P99ms, worst.StartS, worst.Requests, worst.Failures)
	}
	if len(r.OldestXact) > 0 {
		var ages []float64
		for _, x := range r.OldestXact {
			ages = append(ages, x.AgeMs)
		}
		slices.Sort(ages)
		fmt.Fprintf(w, "oldest transaction on the PostgreSQL server (any database; holds back watermill-sql readers), %d readings: median %.0f ms, max %.0f ms\n",
			len(ages), ages[len(ages)/2], ages[len(ages)-1])
	}
	if len(r.DBActivity) > 0 {
		busiest := slices.Clone(r.DBActivity)
		slices.SortStableFunc(busiest, func(a, b DBActivity) int { return b.Active - a.Active })
		var parts []string
		for _, a := range busiest[:min(3, len(busiest))] {
			var waits []string
			for k, n := range a.Waits {
				waits = append(waits, fmt.Sprintf("%s %d", k, n))
			}
			slices.Sort(waits)
			parts = append(parts, fmt.Sprintf("at %.0f s %d busy (%s)", a.AtSeconds, a.Active, strings.Join(waits, ", ")))
		}
		fmt.Fprintf(w, "busiest readings of the soak database's sessions: %s\n", strings.Join(parts, "; "))
	}
	l, c := r.Lag, r.Completeness
	fmt.Fprintf(w, "\nnotification lag, response -> visible to the recipient (HTTP, %d samples, polled every %.0f ms): p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; %d not seen within %s\n",
		l.Seen, l.PollMs, l.P50ms, l.P90ms, l.P99ms, l.MaxMs, l.NotSeen, l.Timeout)
	fmt.Fprintf(w, "notification lag, request clock -> notification stored (database, all %d events): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		c.LikeNotifications+c.FollowNotifs, c.DBLagP50ms, c.DBLagP99ms, c.DBLagMaxms)

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "process\tRSS MiB at 1 min\tRSS MiB at end\tgrowth\tRSS MiB idle after\theap MiB 1 min/end/idle\tgoroutines 1 min/end/idle\tCPU % of a core\tlog errors/warnings\t")
	for _, p := range r.Processes {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%+.1f%%\t%.1f\t%s / %s / %s\t%s / %s / %s\t%.1f\t%d / %d\t\n", p.Name, mib(p.First.RSSKiB), mib(p.Last.RSSKiB), p.RSSGrowthPct,
			mib(p.Idle.RSSKiB), heapMiB(p.First), heapMiB(p.Last), heapMiB(p.Idle), goroutines(p.First), goroutines(p.Last), goroutines(p.Idle),
			p.CPUPercent, p.Log.Errors, p.Log.Warnings)
	}
	tw.Flush()
	for _, p := range r.Processes {
		if len(p.Log.Samples) > 0 {
			fmt.Fprintf(w, "  %s log, e.g.: %s\n", p.Name, strings.Join(p.Log.Samples[:min(3, len(p.Log.Samples))], " | "))
		}
	}

	fmt.Fprintln(w)
	before := map[string]TableSize{}
	for _, t := range r.TablesBefore {
		before[t.Table] = t
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trows before\trows after\tMiB before\tMiB after\t")
	for _, t := range r.TablesAfter {
		b := before[t.Table]
		if b.Rows == t.Rows && b.Bytes == t.Bytes && !strings.HasPrefix(t.Table, "watermill_") {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t\n", t.Table, b.Rows, t.Rows, float64(b.Bytes)/(1<<20), float64(t.Bytes)/(1<<20))
	}
	tw.Flush()
	fmt.Fprintln(w, "(tables whose rows and size did not change are left out, except watermill_*)")

	fmt.Fprintln(w)
	for _, c := range r.Checks {
		verdict := "PASS"
		if !c.Pass {
			verdict = "FAIL"
			if c.Informational {
				verdict = "NOTE"
			}
		}
		fmt.Fprintf(w, "%s  %s: %s\n", verdict, c.Name, c.Detail)
	}
}
