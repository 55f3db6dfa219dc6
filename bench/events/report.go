package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// printTable writes the summary: one row per backend, then the targets.
func printTable(w io.Writer, rep Report) {
	fmt.Fprintf(w, "\nThoughts event pipeline vs bare libraries — %s, %d CPUs, load %s → %s, PostgreSQL %s\n",
		rep.StartedAt.Format("2006-01-02 15:04 UTC"), rep.Host.CPUs, rep.Host.LoadAvgBefore, rep.Host.LoadAvgAfter, rep.Host.Postgres)
	fmt.Fprintf(w, "N=%d events, %d writers, %d-byte payloads; latency for %.0fs (open loop) at the rate shown (half the reference's events/s unless -rate)\n\n",
		rep.Config.N, rep.Config.Writers, rep.Config.PayloadBytes, rep.Config.DurationSecs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tevents/s\treference events/s\tratio\twriters/s\treference writers/s\tratio\trate\tp50 ms\tp99 ms\treference p50 ms\treference p99 ms\tp99 ratio\t")
	for _, b := range rep.Backends {
		lat := b.Pipeline.OpenLoop.Latency
		refEPS, ratio, refW, wRatio, refP50, refP99, p99Ratio := "-", "-", "-", "-", "-", "-", "-"
		if r := b.Reference; r != nil {
			refEPS = fmt.Sprintf("%.0f", r.Throughput.EventsPerSec)
			ratio = fmt.Sprintf("%.0f%%", 100*b.Ratio)
			refW = fmt.Sprintf("%.0f", r.Throughput.CommitsPerSec)
			wRatio = fmt.Sprintf("%.0f%%", 100*b.WritersRatio)
			refP50 = fmt.Sprintf("%.1f", r.OpenLoop.Latency.P50)
			refP99 = fmt.Sprintf("%.1f", r.OpenLoop.Latency.P99)
			p99Ratio = fmt.Sprintf("%.2f×", b.P99Ratio)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t\n",
			b.Backend, b.Pipeline.Throughput.EventsPerSec, refEPS, ratio, b.Pipeline.Throughput.CommitsPerSec, refW, wRatio,
			b.Rate, lat.P50, lat.P99, refP50, refP99, p99Ratio)
	}
	tw.Flush()
	printRounds(w, rep)

	fmt.Fprintln(w, "\ntargets (issue 10):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, b := range rep.Backends {
		for _, t := range b.Targets {
			verdict := "MISS"
			if t.Pass {
				verdict = "PASS"
			}
			got := fmt.Sprintf("%.1f", t.Got)
			switch {
			case strings.Contains(t.Want, "%"):
				got = fmt.Sprintf("%.2f%%", 100*t.Got) // the digits the check sees
			case strings.Contains(t.Want, "×"):
				got = fmt.Sprintf("%.2f×", t.Got)
			case strings.Contains(t.Want, "ms"):
				got = fmt.Sprintf("%.1f ms", t.Got)
			default:
				got = fmt.Sprintf("%.0f", t.Got)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", b.Backend, t.Name, t.Want, got, verdict)
		}
	}
	tw.Flush()

	fmt.Fprintln(w, "\ndetails:")
	for _, b := range rep.Backends {
		tp := b.Pipeline.Throughput
		fmt.Fprintf(w, "  %s pipeline: writers committed %.0f/s while it ran; %d notifications stored for %d events, %d poisoned, %d redelivered\n",
			b.Backend, tp.CommitsPerSec, b.NotificationsStored, b.NotificationsExpected, b.Poisoned, tp.Redelivered+b.Pipeline.OpenLoop.Redelivered)
		ol := b.Pipeline.OpenLoop
		fmt.Fprintf(w, "  %s pipeline latency: offered %.0f/s (%d late starts), commit p99 %.1f ms; handler-return p50/p99 %.1f/%.1f ms, row-ID p50/p99 %.1f/%.1f ms\n",
			b.Backend, ol.OfferedRate, ol.Late, ol.CommitP99, ol.Latency.P50, ol.Latency.P99, b.RowIDLatency.P50, b.RowIDLatency.P99)
		fmt.Fprintf(w, "  %s pipeline: oldest writing transaction on the server: %.1fs during throughput, %.1fs during latency\n",
			b.Backend, tp.OldestWriteTx, ol.OldestWriteTx)
		if r := b.Reference; r != nil {
			fmt.Fprintf(w, "  %s reference: writers committed %.0f/s while it ran; offered %.0f/s (%d late starts); oldest writing transaction %.1fs / %.1fs\n",
				b.Backend, r.Throughput.CommitsPerSec, r.OpenLoop.OfferedRate, r.OpenLoop.Late, r.Throughput.OldestWriteTx, r.OpenLoop.OldestWriteTx)
		}
		if c := tp.PerEvent; c != nil {
			fmt.Fprintf(w, "  %s pipeline throughput, per event: %s\n", b.Backend, costLine(c))
		}
		if r := b.Reference; r != nil && r.Throughput.PerEvent != nil {
			fmt.Fprintf(w, "  %s reference throughput, per event: %s\n", b.Backend, costLine(r.Throughput.PerEvent))
		}
		for _, h := range b.HandlerAlone {
			fmt.Fprintf(w, "  %s notification handler alone, %d goroutine(s): %.0f events/s (p50 %.2f ms, p99 %.2f ms per event)\n",
				b.Backend, h.Concurrency, h.EventsPerSec, h.Latency.P50, h.Latency.P99)
		}
	}
}

// costLine is a phase's cost per event, in words.
func costLine(c *DBCost) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f transactions, ", c.Xacts)
	if c.WALSyncs != nil {
		fmt.Fprintf(&b, "%.3f WAL flushes, ", *c.WALSyncs)
	}
	fmt.Fprintf(&b, "%.0f WAL bytes", c.WALBytes)
	if c.WALFPIs != nil && c.Checkpoints != nil {
		fmt.Fprintf(&b, " (%.3f full-page images; %d checkpoints in the phase)", *c.WALFPIs, *c.Checkpoints)
	}
	fmt.Fprintf(&b, ", %.3f ms of CPU (%.3f in this process)", c.CPUMillis, c.ProcessCPUMillis)
	return b.String()
}

// printRounds lists each round where there were several: the table above
// shows the round with the median events/s ratio, and the median ratios.
func printRounds(w io.Writer, rep Report) {
	several := false
	for _, b := range rep.Backends {
		several = several || len(b.Rounds) > 1 || (len(b.Rounds) == 1 && len(b.Rounds[0].PairRatios) > 0)
	}
	if !several {
		return
	}
	fmt.Fprintln(w, "\nrounds (the table above: the round with the median events/s ratio, and the median of each ratio):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tround\tfirst\tevents/s\treference events/s\tratio\tslice pairs\twriters ratio\trate\tp99 ms\treference p99 ms\tp99 ratio\tCPU ms/event\treference CPU ms/event\tload after\t")
	for _, b := range rep.Backends {
		for i, r := range b.Rounds {
			cpu, refCPU, pairs := "-", "-", "-"
			if r.CPUMillis > 0 {
				cpu = fmt.Sprintf("%.3f", r.CPUMillis)
			}
			if r.ReferenceCPUMillis > 0 {
				refCPU = fmt.Sprintf("%.3f", r.ReferenceCPUMillis)
			}
			if len(r.PairRatios) > 0 {
				pairs = fmt.Sprintf("%.0f–%.0f%%", 100*slices.Min(r.PairRatios), 100*slices.Max(r.PairRatios))
			}
			first := "reference"
			if r.PipelineFirst {
				first = "pipeline"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f\t%.0f\t%.0f%%\t%s\t%.0f%%\t%d\t%.1f\t%.1f\t%.2f×\t%s\t%s\t%s\t\n",
				b.Backend, i+1, first, r.EventsPerSec, r.ReferenceEventsPerSec, 100*r.Ratio, pairs, 100*r.WritersRatio, r.Rate,
				r.P99, r.ReferenceP99, r.P99Ratio, cpu, refCPU, r.LoadAvg)
		}
	}
	tw.Flush()
}

// writeJSON writes rep to dir/events-<UTC timestamp>.json.
func writeJSON(dir string, rep Report) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "events-"+rep.StartedAt.Format("20060102T150405Z")+".json")
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write results: %w", err)
	}
	return path, nil
}
