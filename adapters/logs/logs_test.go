package logs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// TestWatermillLevels: the adapter drops what is below the logger's level
// (Watermill's info counts as debug) and keeps fields of what it logs, also
// through With.
func TestWatermillLevels(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  []string
		not   []string
	}{
		{level: "warn", want: []string{"msg=broken", "error=boom", "handler=h"}, not: []string{"traced", "debugged", "informed"}},
		{level: "debug", want: []string{"level=DEBUG msg=debugged", "level=DEBUG msg=informed", "handler=h", "n=1"}, not: []string{"traced"}},
	} {
		var buf bytes.Buffer
		logger, err := New(&buf, tc.level, "text")
		if err != nil {
			t.Fatal(err)
		}
		wl := Watermill(logger).With(watermill.LogFields{"handler": "h"})
		wl.Trace("traced", nil)
		wl.Debug("debugged", watermill.LogFields{"n": 1})
		wl.Info("informed", nil)
		wl.Error("broken", errors.New("boom"), nil)
		out := buf.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("level %s: %q missing from\n%s", tc.level, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("level %s: %q logged:\n%s", tc.level, n, out)
			}
		}
	}
}

// TestWatermillDropsBeforeConverting: a line below the level costs no
// allocation (Watermill's own adapter converts the fields first; the router
// traces every message it receives and acks).
func TestWatermillDropsBeforeConverting(t *testing.T) {
	logger, err := New(io.Discard, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	wl := Watermill(logger)
	fields := watermill.LogFields{"message_uuid": "x", "topic": "likes.added"}
	if n := testing.AllocsPerRun(100, func() { wl.Trace("Received message", fields) }); n != 0 {
		t.Errorf("a dropped trace line allocated %.0f times", n)
	}
	if n := testing.AllocsPerRun(100, func() { wl.Info("Subscribing to topic", fields) }); n != 0 {
		t.Errorf("a dropped info line (Watermill's info is our debug) allocated %.0f times", n)
	}
}
