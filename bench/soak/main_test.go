package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
)

// TestSoakSmoke runs the whole soak for a few seconds — built `thoughts api`
// and `thoughts router` processes, a database of its own — and checks that
// what it reports adds up: every operation of the mix was sent and answered
// as expected, the lag samples were seen, the database counts agree with
// the table sizes, every process was read, and the JSON round-trips.
func TestSoakSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds thoughts and runs it in two processes")
	}
	t.Parallel()
	m, err := parseMix("post=20,like=35,follow=15,feed=15,notifications=15")
	if err != nil {
		t.Fatal(err)
	}
	o := options{
		duration: 4 * time.Second, rate: 40, mix: m, users: 20, seedThoughts: 3, seedFollows: 4, seed: 7,
		mode: "split", backend: "postgres", routers: 1, lagSample: 1, lagPoll: 10 * time.Millisecond,
		lagTimeout: 30 * time.Second, firstReading: time.Second, sampleEvery: time.Second, drainTimeout: time.Minute,
		out: t.TempDir(), database: "thoughts_soak_test_" + strings.ReplaceAll(uuid.NewString()[:8], "-", ""),
	}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := run(ctx, o, pgtest.AdminURL(), slog.New(slog.DiscardHandler), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pass {
		t.Fatalf("soak failed:\n%s", out.String())
	}
	for _, op := range mixOps {
		s := rep.Ops[op]
		if s.Sent == 0 || s.OK != s.Sent {
			t.Errorf("%s: %+v, want some sent and all answered as expected", op, s)
		}
	}
	c := rep.Completeness
	if c.Likes == 0 || c.Follows == 0 || c.Likes != rep.Ops[opLike].OK || c.Follows != rep.Ops[opFollow].OK {
		t.Errorf("completeness %+v, want the likes (%d) and follows (%d) answered 200", c, rep.Ops[opLike].OK, rep.Ops[opFollow].OK)
	}
	if rep.Lag.Seen == 0 || rep.Lag.Seen != rep.Lag.Sampled || rep.Lag.P99ms <= 0 {
		t.Errorf("lag %+v, want every sample seen", rep.Lag)
	}
	rows := func(tables []TableSize, name string) int64 {
		for _, tb := range tables {
			if tb.Table == name {
				return tb.Rows
			}
		}
		t.Fatalf("table %s not reported", name)
		return 0
	}
	if got, want := rows(rep.TablesAfter, "notifications")-rows(rep.TablesBefore, "notifications"), c.LikeNotifications+c.FollowNotifs; got != want {
		t.Errorf("notifications grew by %d, want %d (likes and follows notified)", got, want)
	}
	if got, want := rows(rep.TablesAfter, "thoughts")-rows(rep.TablesBefore, "thoughts"), rep.Ops[opPost].OK; got != want {
		t.Errorf("thoughts grew by %d, want %d posts", got, want)
	}
	names := map[string]bool{}
	for _, p := range rep.Processes {
		names[p.Name] = true
		if !p.Alive || p.First.RSSKiB == 0 || p.Last.RSSKiB == 0 || p.Last.Goroutines == 0 || len(p.Series) < 2 {
			t.Errorf("process %s: alive %v, first %+v, last %+v, %d readings", p.Name, p.Alive, p.First, p.Last, len(p.Series))
		}
	}
	if !names["api"] || !names["router-1"] || len(names) != 2 {
		t.Errorf("processes %v, want api and router-1", names)
	}
	b, err := os.ReadFile(rep.Path)
	if err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Ops[opLike].OK != rep.Ops[opLike].OK || back.Completeness != rep.Completeness || len(back.Windows) == 0 {
		t.Errorf("JSON round trip: %+v", back)
	}
	if !strings.Contains(out.String(), "PASS  zero 5xx") {
		t.Errorf("printed report lacks the 5xx verdict:\n%s", out.String())
	}
}

func TestParseMix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want string // mix.String(), or "error"
	}{
		{"post=1,like=2", "post=1,like=2,follow=0,feed=0,notifications=0"},
		{"post=15, like=30,follow=10,feed=30,notifications=15", "post=15,like=30,follow=10,feed=30,notifications=15"},
		{"post=1,boost=2", "error"},
		{"post=-1", "error"},
		{"post=0", "error"},
		{"post", "error"},
	} {
		m, err := parseMix(c.in)
		got := "error"
		if err == nil {
			got = m.String()
		}
		if got != c.want {
			t.Errorf("parseMix(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestContainsNotification(t *testing.T) {
	t.Parallel()
	actor, thought, other := uuid.New(), uuid.New(), uuid.New()
	body := fmt.Sprintf(`[{"type":"follow","account":{"id":%q},"thought":null},{"type":"like","account":{"id":%q},"thought":{"id":%q}}]`,
		other, actor, thought)
	for _, c := range []struct {
		typ            string
		actor, thought uuid.UUID
		want           bool
	}{
		{"like", actor, thought, true},
		{"like", actor, other, false},
		{"like", other, thought, false},
		{"follow", other, uuid.Nil, true},
		{"follow", actor, uuid.Nil, false},
	} {
		if got := containsNotification([]byte(body), c.typ, c.actor, c.thought); got != c.want {
			t.Errorf("containsNotification(%s, %s, %s) = %v, want %v", c.typ, c.actor, c.thought, got, c.want)
		}
	}
}
