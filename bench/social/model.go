package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The data set's shape. Skew comes from Zipf-like weights over ranks.
const (
	denseViewerName  = "viewer_dense"
	sparseViewerName = "viewer_sparse"

	wordVocabSize  = 50000 // content words
	tagVocabSize   = 5000  // hashtags
	wordConsonants = "bdfgklmnprstvz"
	tagConsonants  = "chjqwxy" // disjoint from the words': no tag is also a word

	// Posting activity by rank r: 1/(r+1+postingOffset)^postingSkew. The 1%
	// most active accounts post ~2/3 of all thoughts, the most active ~6%
	// (~180 a day), the least active a handful a year.
	postingSkew    = 1.3
	postingOffset  = 4
	popularitySkew = 1.0 // being followed (and liked) by rank: a few accounts have thousands of followers
	wordSkew       = 1.0
	tagSkew        = 1.0
	likerSkew      = 0.8 // who likes and boosts: some users far more than others
	viralSkew      = 0.9

	minFollows      = 10  // a regular user follows 10..200 accounts,
	maxFollows      = 200 // log-uniformly
	denseFollows    = 1000
	quietAccounts   = 10 // followed by viewer_sparse
	quietMaxPosts   = 20
	quietWindowFrac = 0.5 // quiet accounts post only in the older half of the year

	likesPerThought  = 2.0
	boostsPerThought = 0.1
	replyShare       = 0.10
	taggedShare      = 0.20
	mentionShare     = 0.03
	followersOnly    = 0.06
	unlistedShare    = 0.06
	deletedShare     = 0.003
	cwShare          = 0.02
	lockedShare      = 0.01
	pendingShare     = 0.25 // of follows of a locked account
	viralThoughts    = 1000

	minWords = 4
	maxWords = 24
	span     = 365 * 24 * time.Hour // thoughts cover the past year
)

const (
	visPublic uint8 = iota
	visUnlisted
	visFollowers
)

var visNames = [...]string{visPublic: "public", visUnlisted: "unlisted", visFollowers: "followers"}

type user struct {
	id      uuid.UUID
	name    string
	created int64 // Unix ms
	locked  bool
}

type thought struct {
	ms      int64
	author  int32
	reply   int32 // index of the thought answered, -1
	mention int32 // index of the user mentioned, -1
	tagOff  int32 // first tag in model.tagFlat
	ntags   uint8
	vis     uint8
	deleted bool
	cw      bool
}

// model is the in-memory plan of the data set: users, the ordering of
// accounts by activity and popularity, and every thought's metadata. Rows of
// follows, likes and boosts are drawn from it while they are copied.
type model struct {
	cfg   GenConfig
	now   int64 // Unix ms; every generated row is older
	start int64 // the oldest thought

	users   []user
	regular []int // user indices other than the viewers
	// byActivity lists the regular users, most active poster first; the
	// quiet accounts are its tail and post only where placed.
	byActivity []int
	quiet      []int
	denseTo    []int // the accounts viewer_dense follows
	posting    weighted
	popularity weighted // over user indices: who gets followed, liked, mentioned

	thoughts []thought
	ids      []uuid.UUID
	tagFlat  []int16
	tagFirst []int32 // first thought using each tag, -1 if unused

	likeable       []int32   // public live thoughts
	authorLikeable [][]int32 // per user
	viral          []int32
	viralW         weighted

	words, tags   []string
	wordW, tagW   weighted
	dense, sparse int // the viewers' user indices
}

// newModel plans the data set; it is deterministic for a given config.
func newModel(cfg GenConfig) (*model, error) {
	if cfg.Users < 2+2*quietAccounts || cfg.Thoughts < 100 {
		return nil, fmt.Errorf("need at least %d users and 100 thoughts, got %d and %d", 2+2*quietAccounts, cfg.Users, cfg.Thoughts)
	}
	m := &model{cfg: cfg, now: cfg.Now.UnixMilli()}
	m.start = m.now - span.Milliseconds()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6d6f64656c)) // "model"

	m.words = vocabulary(cfg.Seed, wordVocabSize, wordConsonants)
	m.tags = vocabulary(cfg.Seed+1, tagVocabSize, tagConsonants)
	m.wordW, m.tagW = zipf(wordVocabSize, wordSkew), zipf(tagVocabSize, tagSkew)

	m.planUsers(r)
	m.planThoughts(r)
	return m, nil
}

func (m *model) planUsers(r *rand.Rand) {
	n := m.cfg.Users
	m.users = make([]user, n)
	// Accounts were created during the month before the first thought, in
	// index order, so user IDs sort like their creation times too.
	first := m.start - 30*24*time.Hour.Milliseconds()
	step := float64(29*24*time.Hour.Milliseconds()) / float64(n)
	for i := range m.users {
		ms := first + int64(float64(i)*step)
		name := fmt.Sprintf("u%05d", i)
		switch i {
		case 0:
			name = denseViewerName
		case 1:
			name = sparseViewerName
		default:
			m.regular = append(m.regular, i)
		}
		m.users[i] = user{id: uuidV7(ms, r), name: name, created: ms}
	}
	m.dense, m.sparse = 0, 1

	m.byActivity = slices.Clone(m.regular)
	r.Shuffle(len(m.byActivity), func(i, j int) { m.byActivity[i], m.byActivity[j] = m.byActivity[j], m.byActivity[i] })
	active := len(m.byActivity) - quietAccounts
	m.quiet = m.byActivity[active:]
	m.denseTo = m.byActivity[:min(denseFollows, active/5)]

	post, pop := make([]float64, n), make([]float64, n)
	for rank, u := range m.byActivity {
		if rank < active {
			post[u] = math.Pow(float64(rank+1+postingOffset), -postingSkew)
		}
		pop[u] = math.Pow(float64(rank+1), -popularitySkew)
	}
	m.posting, m.popularity = newWeighted(post), newWeighted(pop)

	for _, u := range m.regular {
		if r.Float64() < lockedShare && !slices.Contains(m.quiet, u) {
			m.users[u].locked = true
		}
	}
}

func (m *model) planThoughts(r *rand.Rand) {
	n := m.cfg.Thoughts
	m.thoughts = make([]thought, n)
	m.ids = make([]uuid.UUID, n)
	m.tagFirst = make([]int32, tagVocabSize)
	for i := range m.tagFirst {
		m.tagFirst[i] = -1
	}

	// The quiet accounts' few thoughts sit at random places in the older part
	// of the timeline.
	placed := map[int]int{}
	for _, q := range m.quiet {
		for range 3 + r.IntN(quietMaxPosts-2) {
			for {
				pos := r.IntN(int(float64(n) * quietWindowFrac))
				if _, taken := placed[pos]; !taken {
					placed[pos] = q
					break
				}
			}
		}
	}

	step := float64(span.Milliseconds()-60_000) / float64(n)
	prev := int64(math.MinInt64)
	for i := range m.thoughts {
		t := &m.thoughts[i]
		t.ms = max(m.start+int64(float64(i)*step+r.Float64()*step*0.9), prev+1)
		prev = t.ms
		m.ids[i] = uuidV7(t.ms, r)
		t.reply, t.mention, t.tagOff = -1, -1, -1
		if q, ok := placed[i]; ok {
			t.author = int32(q)
			continue // public, no reply: a plain old post
		}
		t.author = int32(m.posting.sample(r))
		switch x := r.Float64(); {
		case x < followersOnly:
			t.vis = visFollowers
		case x < followersOnly+unlistedShare:
			t.vis = visUnlisted
		}
		if r.Float64() < deletedShare {
			t.deleted = true
			continue
		}
		if i > 0 && r.Float64() < replyShare {
			// Replies mostly answer recent thoughts.
			for range 5 {
				j := i - 1 - int(float64(min(i, 50000))*math.Pow(r.Float64(), 2))
				if j >= 0 && m.thoughts[j].vis == visPublic && !m.thoughts[j].deleted {
					t.reply = int32(j)
					break
				}
			}
		}
		if r.Float64() < taggedShare {
			t.tagOff = int32(len(m.tagFlat))
			for range 1 + r.IntN(3) {
				tag := int16(m.tagW.sample(r))
				if slices.Contains(m.tagFlat[t.tagOff:], tag) {
					continue
				}
				m.tagFlat = append(m.tagFlat, tag)
				t.ntags++
				if m.tagFirst[tag] < 0 {
					m.tagFirst[tag] = int32(i)
				}
			}
		}
		if r.Float64() < mentionShare {
			if u := m.popularity.sample(r); u != int(t.author) {
				t.mention = int32(u)
			}
		}
		t.cw = r.Float64() < cwShare
	}

	m.authorLikeable = make([][]int32, len(m.users))
	for i, t := range m.thoughts {
		if t.vis == visPublic && !t.deleted {
			m.likeable = append(m.likeable, int32(i))
			m.authorLikeable[t.author] = append(m.authorLikeable[t.author], int32(i))
		}
	}
	perm := r.Perm(len(m.likeable))[:min(viralThoughts, len(m.likeable)/20)]
	for _, p := range perm {
		m.viral = append(m.viral, m.likeable[p])
	}
	m.viralW = zipf(len(m.viral), viralSkew)
}

// tagsOf returns thought i's tag indices.
func (m *model) tagsOf(i int) []int16 {
	t := m.thoughts[i]
	if t.ntags == 0 {
		return nil
	}
	return m.tagFlat[t.tagOff : t.tagOff+int32(t.ntags)]
}

// followees draws the accounts user u follows into out.
func (m *model) followees(r *rand.Rand, u int, seen map[int]bool, out []int) []int {
	switch u {
	case m.dense:
		return append(out, m.denseTo...)
	case m.sparse:
		return append(out, m.quiet...)
	}
	n := int(minFollows * math.Pow(maxFollows/minFollows, r.Float64()))
	n = min(n, (len(m.regular)-1)/2)
	clear(seen)
	seen[u] = true
	for tries := 0; len(out) < n && tries < 30*n; tries++ {
		v := m.popularity.sample(r)
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for len(out) < n { // the popular accounts are taken: fill uniformly
		v := m.regular[r.IntN(len(m.regular))]
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// target draws a public live thought to like or boost: a viral one, one of a
// popular account, or any.
func (m *model) target(r *rand.Rand) int32 {
	switch x := r.Float64(); {
	case x < 0.2 && len(m.viral) > 0:
		return m.viral[m.viralW.sample(r)]
	case x < 0.6:
		for range 10 {
			if ts := m.authorLikeable[m.popularity.sample(r)]; len(ts) > 0 {
				return ts[r.IntN(len(ts))]
			}
		}
	}
	return m.likeable[r.IntN(len(m.likeable))]
}

// after returns a time after ms (within a week) and before now.
func (m *model) after(r *rand.Rand, ms int64) int64 {
	room := min(m.now-1000-ms, 7*24*time.Hour.Milliseconds())
	if room <= 0 {
		return ms
	}
	return ms + 1 + r.Int64N(room)
}

// perUser spreads total over the regular users with Zipf weights over a random
// order; no user gets more than limit.
func (m *model) perUser(r *rand.Rand, total, limit int) []int {
	order := slices.Clone(m.regular)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	w := zipf(len(order), likerSkew)
	counts := make([]int, len(m.users))
	for rank, u := range order {
		c := float64(total) * w.weightOf(rank) / w.total()
		n := int(c)
		if r.Float64() < c-float64(n) {
			n++
		}
		counts[u] = min(n, limit)
	}
	return counts
}

// content writes thought i's text.
func (m *model) content(r *rand.Rand, i int, buf []byte) []byte {
	t := m.thoughts[i]
	buf = buf[:0]
	if t.mention >= 0 {
		buf = append(buf, '@')
		buf = append(buf, m.users[t.mention].name...)
		buf = append(buf, ' ')
	}
	for w := range minWords + r.IntN(maxWords-minWords+1) {
		if w > 0 {
			buf = append(buf, ' ')
		}
		buf = append(buf, m.words[m.wordW.sample(r)]...)
	}
	for _, tag := range m.tagsOf(i) {
		buf = append(buf, " #"...)
		buf = append(buf, m.tags[tag]...)
	}
	return buf
}
