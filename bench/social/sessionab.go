package main

// The session A/B (-session-ab N, issue 9): what the HTTP API's session
// check costs. After verifying an access token's signature the API checks
// that its session is still live (ports/httpapi/auth.go: the session cache,
// and the database on a miss), and the like and feed rates must not drop by
// more than 5% for it.
//
// Comparing an older commit with the current one drowned the check's cost
// in the noise between runs, so this compares the same code with itself:
// `thoughts` is built twice, the second time with the build tag
// bench_no_session_check (ports/httpapi/sessioncheck_off.go: a verified JWT
// is trusted alone), and both `thoughts api` processes run at once on the
// same database with the same JWT secret and PUBLIC_URL (so the same tokens
// work on both and the responses are byte for byte alike). Each round runs
// the closed-loop feed and like runs against both, one after the other,
// with the same request sequence (random sources seeded alike for the two
// members of a pair, another sequence each round), in ABBA order: round 1
// check on then off, round 2 off then on, and so on (the scenarios' order
// alternates too: abOrder), so drift of the machine's load favours neither. An unmeasured round 0 comes
// first, so the cold start (PostgreSQL's buffers, the pools, the plan
// caches) is paid by neither side. Before every run the rows
// earlier runs wrote are removed (resetToGenerated), so both members of a
// like pair insert the same new likes into the same data. The figure is
// the median over the rounds of req/s with the check ÷ req/s without it.
//
// The check-on process keeps its session cache (SessionCacheTTL) from run
// to run, as a server does: each token's first request after its entry
// expired misses it and looks the session up in the database. That is part
// of the check's cost and is measured; the warm-up absorbs only part of it
// (see bench/README.md).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/bench/internal/benchproc"
)

// noSessionCheckTag is the build tag of ports/httpapi/sessioncheck_off.go.
const noSessionCheckTag = "bench_no_session_check"

// abTarget is the lowest median req/s ratio (check on ÷ check off) that
// passes.
const abTarget = 0.95

// abSetup is what run prepared: the built binary, the database and what the
// load draws from.
type abSetup struct {
	root, dir, bin, dsn string
	pool                *pgxpool.Pool
	fx                  fixtures
	sessions            map[uuid.UUID]uuid.UUID
}

// abArm is one API process of the A/B.
type abArm struct {
	name  string // "on" or "off"
	check bool   // whether it checks sessions
	b     *bench // sending to it
}

// abOutcome is the A/B's part of the JSON report.
type abOutcome struct {
	Target string `json:"target"`
	Note   string `json:"note"`
	// Each run's workers, unmeasured warm-up and measured length.
	Concurrency     int          `json:"concurrency"`
	WarmupSeconds   float64      `json:"warmup_seconds"`
	MeasuredSeconds float64      `json:"measured_seconds"`
	Rounds          []abRound    `json:"rounds"`
	Scenarios       []abScenario `json:"scenarios"`
	Pass            bool         `json:"pass"`
}

// abRound is one round: each scenario run against both processes.
type abRound struct {
	Round int      `json:"round"`
	Order []string `json:"order"` // the arms in the order run, e.g. ["on", "off"]
	Pairs []abPair `json:"pairs"`
}

// abPair is one scenario of a round, run against both processes.
type abPair struct {
	Scenario string      `json:"scenario"`
	On       Measurement `json:"check_on"`
	Off      Measurement `json:"check_off"`
	Ratio    float64     `json:"rps_ratio"` // On ÷ Off achieved req/s
}

// abScenario is a scenario's verdict over the rounds.
type abScenario struct {
	Scenario    string    `json:"scenario"`
	Ratios      []float64 `json:"rps_ratios"` // by round
	MedianRatio float64   `json:"median_rps_ratio"`
	Errors      int       `json:"errors"` // over every run of both arms
	Pass        bool      `json:"pass"`
}

// sessionAB builds the binary without the session check, starts both API
// processes and runs o.sessionAB rounds; it writes and prints the report.
func sessionAB(ctx context.Context, o options, s abSetup, rep report, log *slog.Logger) error {
	offBin := s.bin
	if o.sessionAA {
		log.Warn("-session-aa: both processes check sessions (an A/A run): the ratios show the harness's own spread")
	} else {
		log.Info("building thoughts without the session check", "tags", noSessionCheckTag)
		var err error
		if offBin, err = benchproc.Build(ctx, s.root, s.dir, "thoughts-no-session-check", noSessionCheckTag); err != nil {
			return err
		}
	}
	on, err := startAPI(ctx, s.bin, s.dsn, s.dir, o.backend, apiShared{}, log)
	if err != nil {
		return err
	}
	defer on.Stop()
	off, err := startAPI(ctx, offBin, s.dsn, s.dir, o.backend, apiShared{Secret: on.Secret, PublicURL: on.PublicURL}, log)
	if err != nil {
		return err
	}
	defer off.Stop()
	signer, err := auth.NewJWT(on.Secret, 24*time.Hour, on.PublicURL)
	if err != nil {
		return err
	}
	b, err := newBench(o, on.BaseURL, signer, s.sessions, s.fx, log)
	if err != nil {
		return err
	}
	arms := []abArm{{name: "on", check: true, b: b}, {name: "off", check: o.sessionAA, b: b.at(off.BaseURL)}}
	for _, a := range arms {
		if err := a.b.probe(ctx); err != nil {
			return fmt.Errorf("session check %s: %w", a.name, err)
		}
	}
	if err := checkArms(ctx, signer, s.fx.users[0], arms); err != nil {
		return err
	}
	var scenarios []string
	for _, name := range []string{feedRunName, likeRunName} {
		if b.selected(name) {
			scenarios = append(scenarios, name)
		}
	}
	if len(scenarios) == 0 {
		return fmt.Errorf("-run %q selects neither %q nor %q, the runs of -session-ab", o.run, feedRunName, likeRunName)
	}

	out := &abOutcome{
		Target: fmt.Sprintf("median over the rounds of req/s with the session check / without >= %.2f, no errors", abTarget),
		Note: "same code built twice (the second with -tags " + noSessionCheckTag + "), both API processes running on the same " +
			"database; one unmeasured round first (cold caches), then ABBA order by round (scenario order reversed on even rounds); same request sequence within a pair; rows written by earlier runs removed before each run; " +
			"the check-on process's session cache (1-minute TTL) carries over between its runs, so its misses (one database lookup " +
			"per token and minute) are measured",
		Concurrency: o.concurrency, WarmupSeconds: b.closedWarmup().Seconds(), MeasuredSeconds: o.closed.Seconds(),
	}
	// Round 0 is not measured: the first runs after start meet cold
	// PostgreSQL buffers, empty pools and plan caches, which would count
	// against whichever side goes first in round 1.
	for r := 0; r <= o.sessionAB; r++ {
		order, names := abOrder(r, scenarios)
		round := abRound{Round: r, Order: []string{arms[order[0]].name, arms[order[1]].name}}
		for _, name := range names {
			var m [2]Measurement
			for _, i := range order {
				a := arms[i]
				removed, err := resetToGenerated(ctx, s.pool, s.fx.generatedAt)
				if err != nil {
					return err
				}
				if removed > 0 {
					log.Info("removed rows written by earlier runs", "rows", removed)
				}
				t, ok := runNamed(a.b.throughputRuns(r), name)
				if !ok {
					return fmt.Errorf("no closed-loop run named %q", name)
				}
				m[i] = closedLoop(ctx, a.b.client, o.concurrency, a.b.closedWarmup(), o.closed, t.want, t.mk)
				if err := ctx.Err(); err != nil {
					return err
				}
				msg := "run done"
				if r == 0 {
					msg = "warming run done (not measured)"
				}
				log.Info(msg, "round", r, "name", name, "session_check", a.name, "achieved_rps", m[i].AchievedRPS,
					"p50_ms", m[i].P50ms, "p99_ms", m[i].P99ms, "errors", m[i].Errors)
			}
			round.Pairs = append(round.Pairs, abPair{Scenario: name, On: m[0], Off: m[1], Ratio: rpsRatio(m[0], m[1])})
		}
		if r == 0 {
			continue
		}
		out.Rounds = append(out.Rounds, round)
		fmt.Fprintf(os.Stdout, "\nround %d of %d (order: %s), load average %s\n", r, o.sessionAB, strings.Join(round.Order, " then "), loadAvg())
		printABRounds(os.Stdout, []abRound{round})
	}
	out.summarise(scenarios)

	rep.SessionAB = out
	rep.Host.LoadAfter = loadAvg()
	rep.FinishedAt = time.Now().UTC()
	path, err := rep.write(o.out)
	if err != nil {
		return err
	}
	rep.printSessionAB(os.Stdout)
	fmt.Fprintf(os.Stdout, "\nresults: %s\n", path)
	return nil
}

// abOrder is the order of round r: the arms (0 = check on, 1 = off) and
// the scenarios. Odd rounds run on then off and the scenarios as given, even
// rounds the reverse of both, so two rounds in a row are a palindrome (feed
// on, feed off, like on, like off | like off, like on, feed off, feed on).
// Drift over the two cancels for every pair; and as the check-on process's
// session cache is warm for a run that follows its own earlier run by less
// than the cache's TTL and cold for one that follows it by more, neither
// scenario always gets the warm slot.
func abOrder(r int, scenarios []string) (arms []int, names []string) {
	if r%2 == 1 {
		return []int{0, 1}, scenarios
	}
	names = slices.Clone(scenarios)
	slices.Reverse(names)
	return []int{1, 0}, names
}

// checkArms makes sure the two processes are what they are said to be: a
// token of a session that does not exist is refused by the one that checks
// sessions and accepted by the other.
func checkArms(ctx context.Context, signer *auth.JWT, user uuid.UUID, arms []abArm) error {
	tok, _, err := signer.Issue(user, uuid.Must(uuid.NewV7()))
	if err != nil {
		return fmt.Errorf("mint token: %w", err)
	}
	for _, a := range arms {
		want := http.StatusOK
		if a.check {
			want = http.StatusUnauthorized
		}
		req, err := a.b.get(ctx, tok, "/api/v1/feed")
		if err != nil {
			return err
		}
		if msg := do(a.b.client, req, want); msg != "" {
			return fmt.Errorf("session check %s: a token of a session that does not exist: %s", a.name, msg)
		}
	}
	return nil
}

// runNamed is the run of runs named name.
func runNamed(runs []throughputRun, name string) (throughputRun, bool) {
	for _, t := range runs {
		if t.name == name {
			return t, true
		}
	}
	return throughputRun{}, false
}

// rpsRatio is on's achieved req/s ÷ off's, to three decimals.
func rpsRatio(on, off Measurement) float64 {
	return math.Round(on.AchievedRPS/max(off.AchievedRPS, 0.001)*1000) / 1000
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summarise computes each scenario's median ratio and the verdicts.
func (o *abOutcome) summarise(scenarios []string) {
	o.Pass = true
	for _, name := range scenarios {
		sc := abScenario{Scenario: name}
		for _, r := range o.Rounds {
			for _, p := range r.Pairs {
				if p.Scenario == name {
					sc.Ratios = append(sc.Ratios, p.Ratio)
					sc.Errors += p.On.Errors + p.Off.Errors
				}
			}
		}
		sc.MedianRatio = math.Round(median(sc.Ratios)*1000) / 1000
		sc.Pass = len(sc.Ratios) > 0 && sc.Errors == 0 && sc.MedianRatio >= abTarget
		o.Pass = o.Pass && sc.Pass
		o.Scenarios = append(o.Scenarios, sc)
	}
}

// printABRounds writes one line per round and scenario.
func printABRounds(w io.Writer, rounds []abRound) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "round\torder\tscenario\ton req/s\toff req/s\ton/off\ton p50 ms\ton p99 ms\toff p50 ms\toff p99 ms\terrors on/off\t")
	for _, r := range rounds {
		for _, p := range r.Pairs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.0f\t%.0f\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%d/%d\t\n", r.Round, strings.Join(r.Order, ","), p.Scenario,
				p.On.AchievedRPS, p.Off.AchievedRPS, p.Ratio, p.On.P50ms, p.On.P99ms, p.Off.P50ms, p.Off.P99ms, p.On.Errors, p.Off.Errors)
		}
	}
	tw.Flush()
}

// printSessionAB writes the A/B's tables: every round, then the verdicts.
func (r report) printSessionAB(w io.Writer) {
	ab := r.SessionAB
	r.printHeader(w)
	fmt.Fprintf(w, "session check A/B: %d rounds, %d workers, %gs warm-up + %gs measured per run; on = session check (default build), off = -tags %s\n\n",
		len(ab.Rounds), ab.Concurrency, ab.WarmupSeconds, ab.MeasuredSeconds, noSessionCheckTag)
	printABRounds(w, ab.Rounds)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ton/off by round\tmedian\terrors\ttarget\tresult\t")
	for _, sc := range ab.Scenarios {
		ratios := make([]string, len(sc.Ratios))
		for i, x := range sc.Ratios {
			ratios[i] = fmt.Sprintf("%.3f", x)
		}
		result := "MISS"
		if sc.Pass {
			result = "PASS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%d\t>= %.2f\t%s\t\n", sc.Scenario, strings.Join(ratios, " "), sc.MedianRatio, sc.Errors, abTarget, result)
	}
	tw.Flush()
	for _, rd := range ab.Rounds {
		for _, p := range rd.Pairs {
			for _, m := range []struct {
				arm string
				m   Measurement
			}{{"on", p.On}, {"off", p.Off}} {
				if len(m.m.ErrorSamples) > 0 {
					fmt.Fprintf(w, "\nround %d, %s, check %s: errors, e.g. %s", rd.Round, p.Scenario, m.arm, strings.Join(m.m.ErrorSamples, "; "))
				}
			}
		}
	}
	fmt.Fprintln(w)
}
