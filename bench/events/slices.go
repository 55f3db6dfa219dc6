package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime/pprof"
	"time"
)

// contender is one system under test, running, with the phases that drive
// it and the profiler labels its work runs under.
type contender struct {
	name   string // "pipeline" or "reference"
	sys    system
	ph     *phases
	labels pprof.LabelSet
}

// do runs fn under c's profiler labels (-cpuprofile splits the systems with
// pprof's -tagfocus); goroutines fn starts inherit them.
func (c *contender) do(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	pprof.Do(ctx, c.labels, func(ctx context.Context) { err = fn(ctx) })
	return err
}

// Slice is one stretch of the throughput phase: Events committed by the
// closed loop's writers on one system, from the first commit until the last
// of them was handled. The two systems' slices alternate (interleave).
type Slice struct {
	System        string  `json:"system"`
	Events        int     `json:"events"`
	Seconds       float64 `json:"seconds"`
	EventsPerSec  float64 `json:"events_per_sec"`
	CommitSeconds float64 `json:"commit_seconds"`
	Redelivered   int64   `json:"redelivered"`
	// CPUMillis is the machine's busy CPU per event during the slice (as
	// DBCost.CPUMillis), ProcessCPUMillis this process's part of it, and
	// WALBytes the WAL the server inserted per event (its insert position
	// before and after: read at once, unlike pg_stat_wal).
	CPUMillis        float64 `json:"cpu_ms"`
	ProcessCPUMillis float64 `json:"process_cpu_ms"`
	WALBytes         float64 `json:"wal_bytes"`
	oldestWriteTx    float64
}

// sliceGap is the pause after each slice: what a slice's system still does
// once its last event was handled (acks and stream deletes in flight, the
// WAL writer's last flush) happens in it, not in the next slice, which may
// be the other system's.
const sliceGap = 250 * time.Millisecond

// interleave runs the throughput phase of every contender as cfg.Slices
// slices each, N/Slices events per slice (the last slices take the
// remainder). With two contenders the slices alternate in the order
// A B B A A B B A …, A the pipeline if pipelineFirst, else the reference:
// each pair of neighbouring slices meets the same machine, and a drift of its
// speed over the phase favours neither. The machines these run on are
// shared: their speed moves by tens of percent over tens of seconds, which a
// phase of each system in turn measured as a difference between the systems.
func interleave(ctx context.Context, cfg config, progress io.Writer, cs []*contender) ([]Slice, error) {
	var out []Slice
	err := alternate(ctx, cfg.Slices, cfg.N, len(cs), func(k, i, n int) error {
		c := cs[i]
		s, err := c.slice(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(progress, "%s: throughput slice %d of %d: %.0f events/s end to end (writers %.0f/s), %.3f ms of CPU per event\n",
			c.ph.label, k+1, cfg.Slices, s.EventsPerSec, float64(s.Events)/s.CommitSeconds, s.CPUMillis)
		out = append(out, s)
		return nil
	})
	return out, err
}

// interleaveLatency runs the latency phase of every contender, Rate events a
// second for Duration, as cfg.Slices slices each in the order interleave
// uses, and returns each contender's open loop (in the order of cs). A
// slice starts once the previous one's events were all handled.
func interleaveLatency(ctx context.Context, cfg config, cs []*contender) ([]*openLoop, error) {
	total := max(1, int(math.Round(float64(cfg.Rate)*cfg.Duration.Seconds())))
	loops := make([]*openLoop, len(cs))
	for i, c := range cs {
		c.ph.cfg.Rate = cfg.Rate
		loops[i] = newOpenLoop(total)
	}
	err := alternate(ctx, cfg.Slices, total, len(cs), func(_, i, n int) error {
		c := cs[i]
		return c.do(ctx, func(ctx context.Context) error { return c.ph.openLoopSlice(ctx, c.sys, loops[i], n) })
	})
	if err != nil {
		return nil, err
	}
	return loops, nil
}

// alternate splits total events per contender into slices slices (the first
// ones take the remainder; empty ones are skipped) and calls run for slice k
// of contender i with its n events, in the order A B B A A B B A … for two
// contenders, pausing sliceGap after each.
func alternate(ctx context.Context, slices, total, contenders int, run func(k, i, n int) error) error {
	for k := range slices {
		n := total / slices
		if k < total%slices {
			n++
		}
		if n == 0 {
			continue
		}
		order := []int{0, 1}[:contenders]
		if contenders == 2 && k%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			if err := run(k, i, n); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(sliceGap):
			}
		}
	}
	return nil
}

// slice commits n events on c in a closed loop and waits until all were
// handled.
func (c *contender) slice(ctx context.Context, n int) (Slice, error) {
	tr := newTracker(n)
	c.sys.track(tr)
	cpuBefore, cpuOK := busyCPU()
	procBefore := processCPU()
	lsnBefore, lsnOK := c.ph.walPosition(ctx)
	oldest := c.ph.watchOldestWriteTx(ctx)
	var commitsDone time.Time
	err := c.do(ctx, func(ctx context.Context) (err error) {
		if commitsDone, err = c.ph.closedLoop(ctx, c.sys, tr, "throughput", n); err != nil {
			return err
		}
		return c.ph.drain(ctx, c.sys, tr, "throughput", n)
	})
	worst := oldest()
	if err != nil {
		return Slice{}, err
	}
	cpuAfter, _ := busyCPU()
	procAfter := processCPU()
	lsnAfter, lsnAfterOK := c.ph.walPosition(ctx)
	secs := tr.lastArrival().Sub(tr.start).Seconds()
	f := float64(n)
	s := Slice{
		System: c.name, Events: n, Seconds: round(secs, 3), EventsPerSec: round(f/secs, 0),
		CommitSeconds: round(commitsDone.Sub(tr.start).Seconds(), 3), Redelivered: tr.nRepeated.Load(),
		ProcessCPUMillis: round((procAfter-procBefore)/f, 3), oldestWriteTx: worst,
	}
	if cpuOK {
		s.CPUMillis = round((cpuAfter-cpuBefore)/f, 3)
	}
	if lsnOK && lsnAfterOK {
		s.WALBytes = round((lsnAfter-lsnBefore)/f, 0)
	}
	return s, nil
}

// combine sums name's slices into one throughput figure: all their events
// over all their seconds.
func combine(slices []Slice, name string) Throughput {
	var (
		t                Throughput
		cpu, proc, wal   float64
		commitSecs       float64
		haveCPU, haveWAL = true, true
		anyCPU           bool
	)
	for _, s := range slices {
		if s.System != name {
			continue
		}
		f := float64(s.Events)
		t.Events += s.Events
		t.Seconds += s.Seconds
		commitSecs += s.CommitSeconds
		t.Redelivered += s.Redelivered
		t.OldestWriteTx = max(t.OldestWriteTx, s.oldestWriteTx)
		cpu, proc, wal = cpu+s.CPUMillis*f, proc+s.ProcessCPUMillis*f, wal+s.WALBytes*f
		haveCPU = haveCPU && s.CPUMillis > 0
		haveWAL = haveWAL && s.WALBytes > 0
		anyCPU = true
	}
	if t.Events == 0 || t.Seconds <= 0 || commitSecs <= 0 {
		return t
	}
	f := float64(t.Events)
	t.Seconds, t.CommitSeconds = round(t.Seconds, 3), round(commitSecs, 3)
	t.EventsPerSec = round(f/t.Seconds, 0)
	t.CommitsPerSec = round(f/commitSecs, 0)
	if anyCPU {
		t.PerEvent = &DBCost{ProcessCPUMillis: round(proc/f, 3)}
		if haveCPU {
			t.PerEvent.CPUMillis = round(cpu/f, 3)
		}
		if haveWAL {
			t.PerEvent.WALBytes = round(wal/f, 0)
		}
	}
	return t
}

// pairRatios are the pipeline's events/s over the reference's in each pair
// of neighbouring slices (the first and second slice, the third and fourth,
// …): how much the comparison moved within the phase.
func pairRatios(slices []Slice) []float64 {
	var out []float64
	for i := 0; i+1 < len(slices); i += 2 {
		a, b := slices[i], slices[i+1]
		if a.System == "reference" {
			a, b = b, a
		}
		if a.System != "pipeline" || b.System != "reference" || b.EventsPerSec <= 0 {
			continue
		}
		out = append(out, round(a.EventsPerSec/b.EventsPerSec, 4))
	}
	return out
}
