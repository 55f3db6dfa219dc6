package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/auth"
)

// bench drives the load runs against one API process.
type bench struct {
	o       options
	base    string
	client  *http.Client
	fx      fixtures
	tokens  []string // of fx.users, same order
	dense   string   // viewer_dense's token
	sparse  string
	terms   searchTerms
	words   []string
	wordW   weighted
	tagList []string
	tagW    weighted
	log     *slog.Logger
	// floor is the base URL of the same-run floor (floor.go); empty: none.
	floor string
}

// atFloor is b sending its requests to the floor instead of the API.
func (b *bench) atFloor() *bench { return b.at(b.floor) }

// at is b sending its requests to base instead (same client, tokens and
// fixtures).
func (b *bench) at(base string) *bench {
	ab := *b
	ab.base = base
	return &ab
}

// closedWarmup is the unmeasured warm-up of a closed-loop run.
func (b *bench) closedWarmup() time.Duration { return min(b.o.warmup, 2*time.Second) }

func newBench(o options, base string, signer *auth.JWT, sessions map[uuid.UUID]uuid.UUID, fx fixtures, log *slog.Logger) (*bench, error) {
	b := &bench{o: o, base: base, client: newClient(), fx: fx, log: log}
	for _, u := range fx.users {
		tok, _, err := signer.Issue(u, sessions[u])
		if err != nil {
			return nil, fmt.Errorf("mint token: %w", err)
		}
		b.tokens = append(b.tokens, tok)
		switch u {
		case fx.dense:
			b.dense = tok
		case fx.sparse:
			b.sparse = tok
		}
	}
	b.terms = newSearchTerms(o.seed, o.thoughts)
	b.words = vocabulary(o.seed, wordVocabSize, wordConsonants)
	b.tagList = vocabulary(o.seed+1, tagVocabSize, tagConsonants)
	b.wordW, b.tagW = zipf(wordVocabSize, wordSkew), zipf(tagVocabSize, tagSkew)
	return b, nil
}

// Result is one line of the report.
type Result struct {
	Name        string  `json:"name"`
	Mode        string  `json:"mode"` // open or closed loop
	OfferedRPS  float64 `json:"offered_rps,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	Measurement
	Target string `json:"target"`
	// Figure is what the target is judged on (p99 in ms, a ratio, or
	// requests/s).
	Figure float64 `json:"figure"`
	Pass   bool    `json:"pass"`
	Note   string  `json:"note,omitempty"`
	// Floor compares the run with the floor's run of the same kind of work
	// in the same benchmark run; nil when there is none.
	Floor *FloorCompare `json:"floor,omitempty"`
}

// FloorCompare is an API run's figures as multiples of the floor's: a
// req/s ratio below 1 and latency ratios above 1 are what the API costs
// beyond the minimal endpoint.
type FloorCompare struct {
	Run      string  `json:"run"`                 // the floor run compared with
	RPSRatio float64 `json:"rps_ratio,omitempty"` // API req/s / floor req/s (closed loop only)
	P50Ratio float64 `json:"p50_ratio"`           // API p50 / floor p50
	P99Ratio float64 `json:"p99_ratio"`           // API p99 / floor p99
}

func compareFloor(api, floor Result) *FloorCompare {
	ratio := func(a, f float64) float64 { return math.Round(a/max(f, 0.001)*100) / 100 }
	c := &FloorCompare{Run: floor.Name, P50Ratio: ratio(api.P50ms, floor.P50ms), P99Ratio: ratio(api.P99ms, floor.P99ms)}
	if api.Mode == "closed" {
		c.RPSRatio = ratio(api.AchievedRPS, floor.AchievedRPS)
	}
	return c
}

func (b *bench) get(ctx context.Context, token, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

func (b *bench) post(ctx context.Context, token, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

type feedItem struct {
	FeedID    uuid.UUID `json:"feed_id"`
	CreatedAt time.Time `json:"created_at"`
}

// feedPage reads one feed page.
func (b *bench) feedPage(ctx context.Context, token string, limit int, maxID *uuid.UUID) ([]feedItem, error) {
	path := fmt.Sprintf("/api/v1/feed?limit=%d", limit)
	if maxID != nil {
		path += "&max_id=" + maxID.String()
	}
	req, err := b.get(ctx, token, path)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.300s", path, resp.StatusCode, body)
	}
	var items []feedItem
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return items, nil
}

// deepCursor is the feed_id of the viewer's ~500th feed item, or of the
// middle item of a shorter feed, and how many items the walk saw.
func (b *bench) deepCursor(ctx context.Context, token string) (uuid.UUID, int, error) {
	var all []feedItem
	var maxID *uuid.UUID
	for len(all) < 500 {
		items, err := b.feedPage(ctx, token, 100, maxID)
		if err != nil {
			return uuid.Nil, 0, err
		}
		all = append(all, items...)
		if len(items) < 100 {
			break
		}
		maxID = &items[len(items)-1].FeedID
	}
	if len(all) == 0 {
		return uuid.Nil, 0, fmt.Errorf("the feed is empty")
	}
	if len(all) >= 500 {
		return all[499].FeedID, len(all), nil
	}
	return all[len(all)/2].FeedID, len(all), nil
}

// probe checks the routes the runs use answer as expected before load is
// offered, so a missing route fails in a second with a clear message.
func (b *bench) probe(ctx context.Context) error {
	like := b.fx.publicIDs[0]
	checks := []struct {
		method, path string
		body         []byte
		want         int
	}{
		{http.MethodGet, "/api/v1/feed", nil, http.StatusOK},
		{http.MethodGet, "/api/v1/search?type=thoughts&q=" + url.QueryEscape(b.terms.FrequentWords[0]), nil, http.StatusOK},
		{http.MethodPost, "/api/v1/thoughts/" + like.String() + "/like", nil, http.StatusOK},
		{http.MethodPost, "/api/v1/thoughts", []byte(`{"content":"probe","visibility":"public"}`), http.StatusCreated},
	}
	for _, c := range checks {
		var req *http.Request
		var err error
		if c.method == http.MethodGet {
			req, err = b.get(ctx, b.tokens[len(b.tokens)-1], c.path)
		} else {
			req, err = b.post(ctx, b.tokens[len(b.tokens)-1], c.path, c.body)
		}
		if err != nil {
			return err
		}
		if msg := do(b.client, req, c.want); msg != "" {
			return fmt.Errorf("%w? %s", errRouteMissing, msg)
		}
	}
	return nil
}

// selected reports whether the run named name matches -run.
func (b *bench) selected(name string) bool {
	return b.o.run == nil || b.o.run.MatchString(name)
}

// runs are the results of the API's runs and of the floor's.
type runs struct {
	api, floor []Result
}

func (b *bench) runAll(ctx context.Context) (runs, error) {
	var out runs
	if err := b.probe(ctx); err != nil {
		return out, err
	}
	if b.floor != "" {
		if err := b.atFloor().probeFloor(ctx); err != nil {
			return out, err
		}
	}
	add := func(r Result) {
		out.api = append(out.api, r)
		b.log.Info("run done", "name", r.Name, "achieved_rps", r.AchievedRPS, "p50_ms", r.P50ms, "p99_ms", r.P99ms,
			"max_ms", r.MaxMs, "errors", r.Errors, "pass", r.Pass)
	}
	addFloor := func(r Result) Result {
		out.floor = append(out.floor, r)
		b.log.Info("floor run done", "name", r.Name, "achieved_rps", r.AchievedRPS, "p50_ms", r.P50ms, "p99_ms", r.P99ms,
			"max_ms", r.MaxMs, "errors", r.Errors)
		return r
	}
	open := func(rate float64, mk request) Measurement {
		return openLoop(ctx, b.client, rate, b.o.warmup, b.o.duration, http.StatusOK, mk)
	}
	feedPath := func(cursor *uuid.UUID) string {
		if cursor == nil {
			return "/api/v1/feed"
		}
		return "/api/v1/feed?max_id=" + cursor.String()
	}

	viewers := []struct {
		name  string
		token string
	}{{denseViewerName, b.dense}, {sparseViewerName, b.sparse}}
	firstP99 := map[string]float64{}
	var openFeeds []int // indexes in out.api of the open-loop feed runs, compared with the floor's open-loop feed
	for _, v := range viewers {
		name := "home feed, first page, " + v.name
		if !b.selected(name) {
			continue
		}
		m := open(b.o.feedRate, func(ctx context.Context, _, _ int) (*http.Request, error) { return b.get(ctx, v.token, feedPath(nil)) })
		firstP99[v.name] = m.P99ms
		openFeeds = append(openFeeds, len(out.api))
		add(Result{Name: name, Mode: "open", OfferedRPS: b.o.feedRate, Measurement: m,
			Target: "p99 <= 30 ms", Figure: m.P99ms, Pass: m.Errors == 0 && m.P99ms <= 30})
	}
	sixMonths := uuidV7Floor(b.fx.generatedAt.Add(-182 * 24 * time.Hour).UnixMilli())
	for _, v := range viewers {
		if !b.selected("home feed, deep (item ~500), "+v.name) && !b.selected("home feed, deep (6 months back), "+v.name) {
			continue
		}
		cursor, seen, err := b.deepCursor(ctx, v.token)
		if err != nil {
			return out, fmt.Errorf("find a deep cursor for %s: %w", v.name, err)
		}
		deep := []struct {
			label  string
			cursor uuid.UUID
			note   string
		}{
			{"item ~500", cursor, fmt.Sprintf("max_id = feed item %d of %d walked, from %s", min(seen, 500), seen, uuidTime(cursor).Format(time.DateOnly))},
			{"6 months back", sixMonths, "max_id = a UUIDv7 of " + uuidTime(sixMonths).Format(time.DateOnly)},
		}
		for _, d := range deep {
			name := "home feed, deep (" + d.label + "), " + v.name
			if !b.selected(name) {
				continue
			}
			m := open(b.o.feedRate, func(ctx context.Context, _, _ int) (*http.Request, error) {
				return b.get(ctx, v.token, feedPath(&d.cursor))
			})
			r := Result{Name: name, Mode: "open", OfferedRPS: b.o.feedRate, Measurement: m, Target: "p99 <= 2x first page", Note: d.note}
			if first, ok := firstP99[v.name]; ok {
				r.Figure = math.Round(m.P99ms/max(first, 0.01)*100) / 100
				r.Pass = m.Errors == 0 && r.Figure <= 2
			} else {
				r.Note += "; first page not measured (-run), no ratio"
			}
			openFeeds = append(openFeeds, len(out.api))
			add(r)
		}
	}
	if b.floor != "" && len(openFeeds) > 0 {
		fb := b.atFloor()
		m := openLoop(ctx, fb.client, b.o.feedRate, b.o.warmup, b.o.duration, http.StatusOK, func(ctx context.Context, _, i int) (*http.Request, error) {
			return fb.get(ctx, fb.tokens[(i*7919)%len(fb.tokens)], "/api/v1/feed")
		})
		f := addFloor(Result{Name: "floor: feed (one indexed read)", Mode: "open", OfferedRPS: b.o.feedRate, Measurement: m,
			Note: "20 newest public live thoughts and their authors' names; random users' tokens"})
		for _, i := range openFeeds {
			out.api[i].Floor = compareFloor(out.api[i], f)
		}
	}

	if b.selected("search (type=thoughts)") {
		m := open(b.o.searchRate, func(ctx context.Context, _, i int) (*http.Request, error) {
			q := b.terms.pick(i)
			return b.get(ctx, b.tokens[(i*7919)%len(b.tokens)], "/api/v1/search?type=thoughts&q="+url.QueryEscape(q))
		})
		add(Result{Name: "search (type=thoughts)", Mode: "open", OfferedRPS: b.o.searchRate, Measurement: m,
			Target: "p99 <= 50 ms", Figure: m.P99ms, Pass: m.Errors == 0 && m.P99ms <= 50,
			Note: "q cycles through frequent words, rare words, frequent tags, rare tags; no floor (not the same kind of work)"})
	}

	apiRuns := b.throughputRuns(0)
	var floorRuns []throughputRun
	if b.floor != "" {
		floorRuns = b.atFloor().throughputRuns(0)
	}
	for i, t := range apiRuns {
		if !b.selected(t.name) {
			continue
		}
		m := closedLoop(ctx, b.client, b.o.concurrency, b.closedWarmup(), b.o.closed, t.want, t.mk)
		r := Result{Name: t.name, Mode: "closed", Concurrency: b.o.concurrency, Measurement: m,
			Target: t.target, Figure: m.AchievedRPS, Pass: m.Errors == 0 && m.AchievedRPS >= t.floor, Note: t.note}
		if floorRuns != nil {
			ft := floorRuns[i]
			fm := closedLoop(ctx, b.client, b.o.concurrency, b.closedWarmup(), b.o.closed, ft.want, ft.mk)
			f := addFloor(Result{Name: "floor: " + ft.floorName, Mode: "closed", Concurrency: b.o.concurrency, Measurement: fm, Note: ft.floorNote})
			r.Floor = compareFloor(r, f)
		}
		add(r)
	}
	return out, nil
}

// throughputRun is one closed-loop run.
type throughputRun struct {
	name, target string
	floor        float64 // the target's req/s
	want         int
	note         string
	mk           request
	// floorName and floorNote describe the floor's run of the same kind.
	floorName, floorNote string
}

// The names of the closed-loop runs the session A/B repeats.
const (
	feedRunName = "home feed, first page, random users"
	likeRunName = "like"
)

// throughputRuns are the closed-loop runs, sending to b.base. Each call has
// its own random sources, seeded alike for the same round, so the API and
// the floor (or the two API processes of the session A/B) are sent the same
// sequence of requests; each round of the session A/B has another sequence
// (the normal runs are round 0).
func (b *bench) throughputRuns(round int) []throughputRun {
	rngs := make([]*rand.Rand, b.o.concurrency)
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(b.o.seed, uint64(1000+w)+uint64(round)<<32))
	}
	return []throughputRun{
		// The feed before posting: the benchmark's posts come from uniformly
		// random users, and at the head of the timeline they would turn
		// most feeds into the per-source case of one following quiet accounts.
		{feedRunName, ">= 1000 req/s", 1000, http.StatusOK, "",
			func(ctx context.Context, w, _ int) (*http.Request, error) {
				r := rngs[w]
				return b.get(ctx, b.tokens[r.IntN(len(b.tokens))], "/api/v1/feed")
			},
			"feed (one indexed read)", "20 newest public live thoughts and their authors' names"},
		{"post a thought", ">= 1500 req/s", 1500, http.StatusCreated, "random users, 6-20 words, a third with a hashtag",
			func(ctx context.Context, w, _ int) (*http.Request, error) {
				r := rngs[w]
				return b.post(ctx, b.tokens[r.IntN(len(b.tokens))], "/api/v1/thoughts", b.postBody(r))
			},
			"post (one insert, committed)", "INSERT INTO thoughts, autocommit; same bodies"},
		{likeRunName, ">= 2000 req/s", 2000, http.StatusOK, "random user x random generated public thought: almost all new likes",
			func(ctx context.Context, w, _ int) (*http.Request, error) {
				r := rngs[w]
				id := b.fx.publicIDs[r.IntN(len(b.fx.publicIDs))]
				return b.post(ctx, b.tokens[r.IntN(len(b.tokens))], "/api/v1/thoughts/"+id.String()+"/like", nil)
			},
			"like (one insert, committed)", "INSERT INTO likes ON CONFLICT DO NOTHING, autocommit (counter trigger as for the API)"},
	}
}

// probeFloor checks the floor answers the runs' requests.
func (b *bench) probeFloor(ctx context.Context) error {
	tok := b.tokens[len(b.tokens)-1]
	for _, c := range []struct {
		mk   func() (*http.Request, error)
		want int
	}{
		{func() (*http.Request, error) { return b.get(ctx, tok, "/api/v1/feed") }, http.StatusOK},
		{func() (*http.Request, error) {
			return b.post(ctx, tok, "/api/v1/thoughts", []byte(`{"content":"floor probe","visibility":"public"}`))
		}, http.StatusCreated},
		{func() (*http.Request, error) {
			return b.post(ctx, tok, "/api/v1/thoughts/"+b.fx.publicIDs[0].String()+"/like", nil)
		}, http.StatusOK},
	} {
		req, err := c.mk()
		if err != nil {
			return err
		}
		if msg := do(b.client, req, c.want); msg != "" {
			return fmt.Errorf("floor probe: %s", msg)
		}
	}
	return nil
}

// postBody is a new thought of 6-20 words, a third of them with a hashtag.
func (b *bench) postBody(r *rand.Rand) []byte {
	var sb strings.Builder
	for i := range 6 + r.IntN(15) {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(b.words[b.wordW.sample(r)])
	}
	if r.IntN(3) == 0 {
		sb.WriteString(" #" + b.tagList[b.tagW.sample(r)])
	}
	body, _ := json.Marshal(map[string]string{"content": sb.String(), "visibility": "public"})
	return body
}

// searchTerms are the search queries: frequent and rare words and tags of the
// generated vocabularies. Rare ones are expected in 10-50 thoughts.
type searchTerms struct {
	FrequentWords []string `json:"frequent_words"`
	RareWords     []string `json:"rare_words"`
	FrequentTags  []string `json:"frequent_tags"`
	RareTags      []string `json:"rare_tags"`
}

func newSearchTerms(seed uint64, thoughts int) searchTerms {
	words := vocabulary(seed, wordVocabSize, wordConsonants)
	tags := vocabulary(seed+1, tagVocabSize, tagConsonants)
	// rareRanks are ranks expected about 10-20 times in tokens draws (Zipf, s=1).
	rareRanks := func(vocab int, tokens float64) (int, int) {
		h := zipf(vocab, 1).total()
		hi := min(vocab, int(tokens/(10*h)))
		return max(hi/2, 1), max(hi, 2)
	}
	avgWords := float64(minWords+maxWords) / 2
	var t searchTerms
	r := rand.New(rand.NewPCG(seed, 0x73656172)) // "sear"
	lo, hi := rareRanks(wordVocabSize, float64(thoughts)*avgWords)
	for i := range 20 {
		t.FrequentWords = append(t.FrequentWords, words[i])
		t.RareWords = append(t.RareWords, words[lo+r.IntN(hi-lo)])
	}
	lo, hi = rareRanks(tagVocabSize, float64(thoughts)*taggedShare*2)
	for i := range 10 {
		t.FrequentTags = append(t.FrequentTags, tags[i])
		t.RareTags = append(t.RareTags, tags[lo+r.IntN(hi-lo)])
	}
	return t
}

// pick cycles through the four kinds of query.
func (t searchTerms) pick(i int) string {
	switch i % 4 {
	case 0:
		return t.FrequentWords[(i/4)%len(t.FrequentWords)]
	case 1:
		return t.RareWords[(i/4)%len(t.RareWords)]
	case 2:
		return t.FrequentTags[(i/4)%len(t.FrequentTags)]
	}
	return t.RareTags[(i/4)%len(t.RareTags)]
}
