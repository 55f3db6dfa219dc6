package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestABOrderMirrorsEveryOtherRound(t *testing.T) {
	scenarios := []string{feedRunName, likeRunName}
	arms1, names1 := abOrder(1, scenarios)
	arms2, names2 := abOrder(2, scenarios)
	if !slices.Equal(arms1, []int{0, 1}) || !slices.Equal(names1, []string{feedRunName, likeRunName}) {
		t.Errorf("round 1: arms %v, scenarios %q; want on then off, feed then like", arms1, names1)
	}
	if !slices.Equal(arms2, []int{1, 0}) || !slices.Equal(names2, []string{likeRunName, feedRunName}) {
		t.Errorf("round 2: arms %v, scenarios %q; want off then on, like then feed", arms2, names2)
	}
	if arms3, names3 := abOrder(3, scenarios); !slices.Equal(arms3, arms1) || !slices.Equal(names3, names1) {
		t.Errorf("round 3 = %v %q, want round 1's order", arms3, names3)
	}
	if !slices.Equal(scenarios, []string{feedRunName, likeRunName}) {
		t.Errorf("abOrder changed its argument: %q", scenarios)
	}
}

func TestABSummariseTakesTheMedianAndNeedsNoErrors(t *testing.T) {
	pair := func(name string, on, off float64, errs int) abPair {
		p := abPair{Scenario: name, On: Measurement{AchievedRPS: on, Errors: errs}, Off: Measurement{AchievedRPS: off}}
		p.Ratio = rpsRatio(p.On, p.Off)
		return p
	}
	rounds := []abRound{
		{Round: 1, Pairs: []abPair{pair(feedRunName, 940, 1000, 0), pair(likeRunName, 900, 1000, 0)}},
		{Round: 2, Pairs: []abPair{pair(feedRunName, 930, 1000, 0), pair(likeRunName, 1000, 1000, 0)}},
		{Round: 3, Pairs: []abPair{pair(feedRunName, 990, 1000, 0), pair(likeRunName, 960, 1000, 0)}},
		{Round: 4, Pairs: []abPair{pair(feedRunName, 1000, 1000, 0), pair(likeRunName, 970, 1000, 0)}},
	}
	o := &abOutcome{Rounds: rounds}
	o.summarise([]string{feedRunName, likeRunName})
	if len(o.Scenarios) != 2 {
		t.Fatalf("scenarios: %+v", o.Scenarios)
	}
	feed, like := o.Scenarios[0], o.Scenarios[1]
	// feed: 0.93 0.94 0.99 1.00 -> (0.94+0.99)/2
	if feed.MedianRatio != 0.965 || !feed.Pass {
		t.Errorf("feed: median %v pass %v, want 0.965 PASS", feed.MedianRatio, feed.Pass)
	}
	// like: 0.90 0.96 0.97 1.00 -> 0.965
	if like.MedianRatio != 0.965 || !like.Pass || !o.Pass {
		t.Errorf("like: median %v pass %v (all %v), want 0.965 PASS", like.MedianRatio, like.Pass, o.Pass)
	}

	// One failed request fails the scenario whatever its ratio.
	rounds[3].Pairs[1] = pair(likeRunName, 970, 1000, 1)
	o = &abOutcome{Rounds: rounds}
	o.summarise([]string{feedRunName, likeRunName})
	if o.Scenarios[1].Pass || o.Scenarios[1].Errors != 1 || o.Pass {
		t.Errorf("like with an error: %+v, overall pass %v; want MISS", o.Scenarios[1], o.Pass)
	}

	// Below the target.
	o = &abOutcome{Rounds: []abRound{{Round: 1, Pairs: []abPair{pair(feedRunName, 940, 1000, 0)}}}}
	o.summarise([]string{feedRunName})
	if o.Scenarios[0].MedianRatio != 0.94 || o.Scenarios[0].Pass || o.Pass {
		t.Errorf("feed at 0.94: %+v, overall pass %v; want MISS", o.Scenarios[0], o.Pass)
	}
}

// Both members of a pair are sent the same requests (but to their own
// process), and another round another sequence.
func TestThroughputRunsAreSeededAlikeWithinARound(t *testing.T) {
	b := &bench{o: options{concurrency: 3, seed: 7}, base: "http://127.0.0.1:1"}
	for range 50 {
		b.fx.publicIDs = append(b.fx.publicIDs, uuid.New())
		b.tokens = append(b.tokens, "token-"+uuid.NewString())
	}
	other := b.at("http://127.0.0.1:2")
	sequence := func(b *bench, round int) []string {
		for _, name := range []string{feedRunName, likeRunName} {
			if _, ok := runNamed(b.throughputRuns(round), name); !ok {
				t.Fatalf("no run named %q", name)
			}
		}
		like, _ := runNamed(b.throughputRuns(round), likeRunName)
		var out []string
		for w := range b.o.concurrency {
			for i := range 20 {
				req, err := like.mk(context.Background(), w, i)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(req.URL.String(), b.base+"/") {
					t.Fatalf("request to %s, want %s", req.URL, b.base)
				}
				out = append(out, req.URL.Path+" "+req.Header.Get("Authorization"))
			}
		}
		return out
	}
	on, off := sequence(b, 1), sequence(other, 1)
	if !slices.Equal(on, off) {
		t.Error("the two members of a round-1 pair were sent different requests")
	}
	if slices.Equal(on, sequence(b, 2)) {
		t.Error("rounds 1 and 2 sent the same requests")
	}
}

func TestSessionABReportFileName(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	path, err := report{StartedAt: at, SessionAB: &abOutcome{}}.write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "social-session-ab-20261202T010203Z.json"); path != want {
		t.Errorf("A/B report written to %s, want %s", path, want)
	}
	path, err = report{StartedAt: at}.write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "social-20261202T010203Z.json"); path != want {
		t.Errorf("report written to %s, want %s", path, want)
	}
}
