package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/thoughts-project/thoughts/adapters/pubsub"
)

const poisonUsage = `usage: thoughts poison <command>

  list            every entry: event type, handler, first seen, correlation ID, reason
  show ID         one entry in full (ID: the entry number from list, or an event ID)
  requeue ID      send the entry's event back to its topic and remove the entry
  requeue --all   requeue every entry
  purge           delete every entry
`

// Poison runs a poison queue command (args: list, show ID, requeue ID,
// requeue --all, purge) against the configured backend, writing to out.
// With the embedded NATS server it needs the store to itself: stop `thoughts
// serve` first.
func Poison(ctx context.Context, cfg Config, logger *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(poisonUsage)
	}
	s, err := Open(ctx, cfg, logger, Options{Embedded: true})
	if err != nil {
		return err
	}
	defer s.Close()
	b := s.Broker().Backend()
	// Creates the poison stream or table if nothing ran yet.
	if err := b.Provision(ctx, nil); err != nil {
		return err
	}
	return poisonCommand(ctx, b, args, out)
}

func poisonCommand(ctx context.Context, b *pubsub.Backend, args []string, out io.Writer) error {
	switch {
	case args[0] == "list" && len(args) == 1:
		entries, err := b.PoisonList(ctx)
		if err != nil {
			return err
		}
		return printPoisonTable(out, entries)
	case args[0] == "show" && len(args) == 2:
		entries, err := b.PoisonFind(ctx, args[1])
		if err != nil {
			return err
		}
		for i, e := range entries {
			if i > 0 {
				fmt.Fprintln(out)
			}
			printPoisonEntry(out, e)
		}
		return nil
	case args[0] == "requeue" && len(args) == 2:
		var entries []pubsub.PoisonEntry
		var err error
		if args[1] == "--all" {
			entries, err = b.PoisonList(ctx)
		} else {
			entries, err = b.PoisonFind(ctx, args[1])
		}
		if err != nil {
			return err
		}
		var errs []error
		done := 0
		for _, e := range entries {
			if err := b.PoisonRequeue(ctx, e); err != nil {
				errs = append(errs, fmt.Errorf("entry %d (event %s): %w", e.Seq, e.EventID, err))
				continue
			}
			done++
			fmt.Fprintf(out, "requeued entry %d: %s %s to %s\n", e.Seq, e.EventType, e.EventID, e.Topic)
		}
		fmt.Fprintf(out, "%d of %s requeued\n", done, countEntries(len(entries)))
		return errors.Join(errs...)
	case args[0] == "purge" && len(args) == 1:
		n, err := b.PoisonPurge(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "purged %s\n", countEntries(int(n)))
		return nil
	}
	return errors.New(poisonUsage)
}

const listReasonWidth = 72

func printPoisonTable(out io.Writer, entries []pubsub.PoisonEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(out, "the poison queue is empty")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENT ID\tTYPE\tHANDLER\tFIRST SEEN\tCORRELATION ID\tREASON")
	for _, e := range entries {
		reason := e.Reason
		if len(reason) > listReasonWidth {
			reason = reason[:listReasonWidth-1] + "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.EventID, dash(e.EventType), dash(e.Handler),
			e.FirstSeen.Format(time.DateTime+"Z07:00"), dash(e.CorrelationID), dash(reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%s; `thoughts poison show ID` for details\n", countEntries(len(entries)))
	return err
}

func printPoisonEntry(out io.Writer, e pubsub.PoisonEntry) {
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
	for _, row := range [][2]string{
		{"entry", fmt.Sprint(e.Seq)},
		{"event id", e.EventID},
		{"event type", dash(e.EventType)},
		{"topic", dash(e.Topic)},
		{"handler", dash(e.Handler)},
		{"first seen", e.FirstSeen.Format(time.RFC3339)},
		{"poisoned at", e.PoisonedAt.Format(time.RFC3339)},
		{"correlation id", dash(e.CorrelationID)},
		{"reason", dash(e.Reason)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	tw.Flush()
	fmt.Fprintln(out, "metadata:")
	for _, k := range slices.Sorted(maps.Keys(e.Metadata)) {
		fmt.Fprintf(out, "  %s: %s\n", k, e.Metadata[k])
	}
	fmt.Fprintln(out, "payload:")
	var pretty bytes.Buffer
	if json.Indent(&pretty, e.Payload, "  ", "  ") == nil {
		fmt.Fprintf(out, "  %s\n", pretty.String())
	} else {
		fmt.Fprintf(out, "  %q\n", e.Payload)
	}
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// countEntries counts poison queue entries in words: "1 entry", "2 entries".
func countEntries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
