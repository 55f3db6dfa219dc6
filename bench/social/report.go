package main

import (
	"encoding/json"
	"fmt"
	"io"
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
	StartedAt   time.Time      `json:"started_at"`
	FinishedAt  time.Time      `json:"finished_at"`
	Host        host           `json:"host"`
	Options     map[string]any `json:"options"`
	GeneratedAt time.Time      `json:"data_generated_at"`
	Reused      bool           `json:"data_reused"`
	Generation  GenStats       `json:"generation"`
	Results     []Result       `json:"results"`
	// FloorResults are the floor's runs (floor.go), in the order run; each
	// API result's floor field names the one it is compared with.
	FloorResults []Result `json:"floor_results,omitempty"`
	// SessionAB is the outcome of -session-ab (sessionab.go), which makes no
	// other runs.
	SessionAB *abOutcome `json:"session_ab,omitempty"`
}

type host struct {
	CPUs       int    `json:"cpus"`
	GoVersion  string `json:"go_version"`
	Postgres   string `json:"postgres"`
	LoadBefore string `json:"loadavg_before"` // /proc/loadavg: 1, 5, 15 min
	LoadAfter  string `json:"loadavg_after"`
	Note       string `json:"note"`
}

func hostInfo(pg string) host {
	return host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Postgres: pg, LoadBefore: loadAvg(),
		Note: "load generator, API process and PostgreSQL share this machine"}
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

func (o options) json() map[string]any {
	return map[string]any{
		"users": o.users, "thoughts": o.thoughts, "seed": o.seed, "reuse": o.reuse,
		"open_loop_seconds": o.duration.Seconds(), "closed_loop_seconds": o.closed.Seconds(), "warmup_seconds": o.warmup.Seconds(),
		"feed_rate": o.feedRate, "search_rate": o.searchRate, "concurrency": o.concurrency, "events_backend": o.backend,
		"run": fmt.Sprint(o.run), "floor": o.floor, "database": o.database, "session_ab_rounds": o.sessionAB, "session_aa": o.sessionAA,
	}
}

// write stores the report as social-<UTC timestamp>.json in dir, or
// social-session-ab-<UTC timestamp>.json for the session A/B.
func (r report) write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	prefix := "social-"
	if r.SessionAB != nil {
		prefix = "social-session-ab-"
	}
	path := filepath.Join(dir, prefix+r.StartedAt.Format("20060102T150405Z")+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// printHeader writes the data set and host lines that head every table.
func (r report) printHeader(w io.Writer) {
	g := r.Generation
	fmt.Fprintf(w, "\nsocial benchmark: %d users, %d thoughts, %d follows, %d likes, %d boosts (data generated %s%s)\n",
		g.Users, g.Thoughts, g.Follows, g.Likes, g.Boosts, r.GeneratedAt.Format(time.RFC3339), map[bool]string{true: ", reused", false: ""}[r.Reused])
	fmt.Fprintf(w, "host: %d CPUs, %s, PostgreSQL %s; load average before %s, after %s\n\n",
		r.Host.CPUs, r.Host.GoVersion, r.Host.Postgres, r.Host.LoadBefore, r.Host.LoadAfter)
}

// print writes the results table.
func (r report) print(w io.Writer) {
	r.printHeader(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tload\treq/s\tp50 ms\tp99 ms\tmax ms\terrors\ttarget\tmeasured\tresult\tvs floor req/s\tp50\tp99\t")
	for _, res := range r.Results {
		load := fmt.Sprintf("%g/s open", res.OfferedRPS)
		if res.Mode == "closed" {
			load = fmt.Sprintf("%d conc.", res.Concurrency)
		}
		measured := fmt.Sprintf("%.1f ms", res.Figure)
		switch {
		case strings.Contains(res.Target, "x first"):
			measured = fmt.Sprintf("%.2fx", res.Figure)
		case strings.Contains(res.Target, "req/s"):
			measured = fmt.Sprintf("%.0f req/s", res.Figure)
		}
		result := "MISS"
		if res.Pass {
			result = "PASS"
		}
		if strings.Contains(res.Note, "no ratio") {
			measured, result = "n/a", "n/a"
		}
		vsRPS, vsP50, vsP99 := "-", "-", "-"
		if f := res.Floor; f != nil {
			if f.RPSRatio > 0 {
				vsRPS = fmt.Sprintf("%.2fx", f.RPSRatio)
			}
			vsP50, vsP99 = fmt.Sprintf("%.2fx", f.P50Ratio), fmt.Sprintf("%.2fx", f.P99Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", res.Name, load, res.AchievedRPS,
			res.P50ms, res.P99ms, res.MaxMs, res.Errors, res.Target, measured, result, vsRPS, vsP50, vsP99)
	}
	tw.Flush()
	if len(r.FloorResults) > 0 {
		fmt.Fprintf(w, "\nfloor (minimal net/http + pgx, same pool settings, same database, same run):\n\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "floor run\tload\treq/s\tp50 ms\tp99 ms\tmax ms\terrors\t")
		for _, res := range r.FloorResults {
			load := fmt.Sprintf("%g/s open", res.OfferedRPS)
			if res.Mode == "closed" {
				load = fmt.Sprintf("%d conc.", res.Concurrency)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t\n", res.Name, load, res.AchievedRPS, res.P50ms, res.P99ms, res.MaxMs, res.Errors)
		}
		tw.Flush()
	}
	for _, res := range append(slices.Clone(r.Results), r.FloorResults...) {
		if len(res.ErrorSamples) > 0 {
			fmt.Fprintf(w, "\n%s: errors, e.g. %s", res.Name, strings.Join(res.ErrorSamples, "; "))
		}
	}
	fmt.Fprintln(w)
}
