package httpapi

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: Burst requests at once, then one more per Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// ParseRate reads "BURST/EVERY", e.g. "20/6s": 20 at once, then one per 6 s.
func ParseRate(s string) (Rate, error) {
	b, e, ok := strings.Cut(strings.TrimSpace(s), "/")
	burst, err := strconv.Atoi(b)
	if !ok || err != nil || burst < 1 {
		return Rate{}, fmt.Errorf("rate %q: want BURST/EVERY, e.g. 20/6s", s)
	}
	every, err := time.ParseDuration(e)
	if err != nil || every <= 0 {
		return Rate{}, fmt.Errorf("rate %q: want BURST/EVERY, e.g. 20/6s", s)
	}
	return Rate{Burst: burst, Every: every}, nil
}

func (r Rate) String() string { return strconv.Itoa(r.Burst) + "/" + r.Every.String() }

// RateLimits configures the request rate limits of the API. Every limit
// applies per client IP address (IPv6 per /64, what one subscriber is
// usually given) or per account; a request over any of its limits answers 429
// with Retry-After and RateLimit-Limit/-Remaining/-Reset headers. A zero Rate
// takes its default (DefaultRateLimits).
type RateLimits struct {
	// Disabled turns every limit off (benchmarks, tests).
	Disabled bool
	// LoginPerIP counts every sign-in attempt from an address.
	LoginPerIP Rate
	// LoginPerAccount counts failed sign-ins per login name (known or
	// not, so the limit says nothing about which accounts exist); a
	// success costs nothing. The price of any per-account limit: someone
	// guessing a password locks its owner out too until the bucket
	// refills (they can still use an API key or an existing token).
	LoginPerAccount Rate
	// RegisterPerIP counts registrations from an address.
	RegisterPerIP Rate
	// WritePerIP and WritePerAccount count authenticated requests that
	// change something (every method but GET and HEAD).
	WritePerIP      Rate
	WritePerAccount Rate
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the
	// client is the right-most address not in one of them. Empty: the peer
	// itself is the client.
	TrustedProxies []netip.Prefix
	// MaxKeys bounds each limit's table of addresses or accounts. Idle
	// entries (a full bucket is the same as none) are dropped first; while
	// it is full of active ones, newcomers share one bucket.
	MaxKeys int
}

// DefaultRateLimits are the limits used where RateLimits leaves a zero value.
var DefaultRateLimits = RateLimits{
	LoginPerIP:      Rate{Burst: 20, Every: 6 * time.Second},         // 10 a minute after a burst of 20
	LoginPerAccount: Rate{Burst: 10, Every: time.Minute},             // 10 wrong passwords, then one a minute
	RegisterPerIP:   Rate{Burst: 10, Every: 6 * time.Minute},         // 10 an hour
	WritePerIP:      Rate{Burst: 300, Every: 100 * time.Millisecond}, // 10 a second
	WritePerAccount: Rate{Burst: 60, Every: time.Second},
	MaxKeys:         100_000,
}

func (l RateLimits) withDefaults() RateLimits {
	d := DefaultRateLimits
	or := func(r *Rate, def Rate) {
		if r.Burst <= 0 || r.Every <= 0 {
			*r = def
		}
	}
	or(&l.LoginPerIP, d.LoginPerIP)
	or(&l.LoginPerAccount, d.LoginPerAccount)
	or(&l.RegisterPerIP, d.RegisterPerIP)
	or(&l.WritePerIP, d.WritePerIP)
	or(&l.WritePerAccount, d.WritePerAccount)
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	return l
}

// limiters holds one table per limit.
type limiters struct {
	disabled                       bool
	trusted                        []netip.Prefix
	loginIP, loginAccount          *limiterSet
	registerIP, writeIP, writeUser *limiterSet
	// passwordUser counts wrong passwords given to a password change or an
	// account deletion, per account, at the rate of LoginPerAccount: a
	// stolen session token must not become an oracle for the password.
	passwordUser *limiterSet
}

func newLimiters(cfg RateLimits) *limiters {
	if cfg.Disabled {
		return &limiters{disabled: true}
	}
	cfg = cfg.withDefaults()
	set := func(r Rate) *limiterSet { return newLimiterSet(r, cfg.MaxKeys, time.Now) }
	return &limiters{
		trusted:      cfg.TrustedProxies,
		loginIP:      set(cfg.LoginPerIP),
		loginAccount: set(cfg.LoginPerAccount),
		registerIP:   set(cfg.RegisterPerIP),
		writeIP:      set(cfg.WritePerIP),
		writeUser:    set(cfg.WritePerAccount),
		passwordUser: set(cfg.LoginPerAccount),
	}
}

// limiterSet is one limit's buckets, by key (an address or an account).
type limiterSet struct {
	rate      Rate
	max       int
	now       func() time.Time
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	overflow  *rate.Limiter
	lastSweep time.Time
}

// sweepEvery is how often a table drops its idle entries even when not full.
const sweepEvery = time.Minute

func newLimiterSet(r Rate, maxKeys int, now func() time.Time) *limiterSet {
	return &limiterSet{rate: r, max: maxKeys, now: now, buckets: map[string]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Every(r.Every), r.Burst), lastSweep: now()}
}

func (s *limiterSet) bucket(key string, now time.Time) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.buckets[key]; ok {
		return l
	}
	if len(s.buckets) >= s.max || now.Sub(s.lastSweep) >= sweepEvery {
		s.sweep(now)
	}
	if len(s.buckets) >= s.max {
		return s.overflow
	}
	l := rate.NewLimiter(rate.Every(s.rate.Every), s.rate.Burst)
	s.buckets[key] = l
	return l
}

// sweep drops the buckets that have refilled: a new one would be the same.
func (s *limiterSet) sweep(now time.Time) {
	s.lastSweep = now
	for k, l := range s.buckets {
		if l.TokensAt(now) >= float64(s.rate.Burst) {
			delete(s.buckets, k)
		}
	}
}

// len is the number of keys held (for tests).
func (s *limiterSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets)
}

// taken is a request's tokens from one or more limits.
type taken struct {
	at    time.Time
	res   []*rate.Reservation
	sets  []*limiterSet
	lims  []*rate.Limiter
	wait  time.Duration // > 0: refused; how long until a retry could pass
	which int           // the most constrained limit, for the headers
}

// limitKey names one bucket of one limit; an empty key takes nothing.
type limitKey struct {
	set *limiterSet
	key string
}

// take reserves a token from every given bucket at once. If any is empty it
// gives them all back and reports how long to wait.
func take(keys ...limitKey) *taken {
	t := &taken{which: -1}
	remaining := math.Inf(1)
	for _, k := range keys {
		if k.set == nil || k.key == "" {
			continue
		}
		if t.at.IsZero() {
			t.at = k.set.now()
		}
		l := k.set.bucket(k.key, t.at)
		r := l.ReserveN(t.at, 1)
		t.res, t.sets, t.lims = append(t.res, r), append(t.sets, k.set), append(t.lims, l)
		i := len(t.res) - 1
		if d := r.DelayFrom(t.at); !r.OK() || d > 0 {
			if !r.OK() {
				d = k.set.rate.Every
			}
			if d > t.wait {
				t.wait, t.which = d, i
			}
		}
		if left := l.TokensAt(t.at); t.wait == 0 && left < remaining {
			remaining, t.which = left, i
		}
	}
	if t.wait > 0 {
		for _, r := range t.res {
			r.CancelAt(t.at)
		}
	}
	return t
}

// refund gives back the token taken from set (a login that succeeded).
func (t *taken) refund(set *limiterSet) {
	for i, s := range t.sets {
		if s == set {
			t.res[i].CancelAt(t.at)
		}
	}
}

// header writes the RateLimit-* fields (draft-ietf-httpapi-ratelimit-headers)
// of the most constrained limit: its burst, the requests left now, and the
// seconds until it is full again.
func (t *taken) header(w http.ResponseWriter) {
	if t == nil || t.which < 0 {
		return
	}
	set, l := t.sets[t.which], t.lims[t.which]
	left := max(l.TokensAt(t.at), 0)
	reset := time.Duration((float64(set.rate.Burst) - left) * float64(set.rate.Every))
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(set.rate.Burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(int(math.Floor(left))))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(reset)))
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// limited takes a token from each of keys and sets the RateLimit-* headers.
// When a limit is exhausted it answers 429 with Retry-After and returns
// false.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, keys ...limitKey) (*taken, bool) {
	if s.limits.disabled {
		return &taken{which: -1}, true
	}
	t := take(keys...)
	t.header(w)
	if t.wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(ceilSeconds(t.wait), 1)))
		writeProblem(w, r, newProblem(http.StatusTooManyRequests, ProblemTooManyRequests,
			fmt.Sprintf("too many requests; retry in %d s", max(ceilSeconds(t.wait), 1))))
		return t, false
	}
	return t, true
}

// clientKey is the limit key of the request's client: its address, or the
// /64 of an IPv6 one (see clientAddr).
func (s *Server) clientKey(r *http.Request) string {
	addr := s.clientAddr(r)
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// clientAddr is the request's client address: the peer, or behind a trusted
// proxy the right-most address of X-Forwarded-For that is not itself a
// trusted proxy. It is invalid if the peer address cannot be parsed.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	addr := peerAddr(r.RemoteAddr)
	if addr.IsValid() && s.trustedProxy(addr) {
		hops := r.Header.Values("X-Forwarded-For")
		var all []string
		for _, h := range hops {
			all = append(all, strings.Split(h, ",")...)
		}
		for i := len(all) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
			if err != nil {
				break // a garbled hop: trust nothing further left
			}
			addr = a.Unmap()
			if !s.trustedProxy(addr) {
				break
			}
		}
	}
	return addr
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	if s.limits == nil {
		return false
	}
	for _, p := range s.limits.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// loginKeys are the limits of a sign-in attempt for login name name.
func (s *Server) loginKeys(r *http.Request, name string) []limitKey {
	if s.limits.disabled {
		return nil
	}
	name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "@"))
	return []limitKey{{s.limits.loginIP, s.clientKey(r)}, {s.limits.loginAccount, name}}
}

// writeKeys are the limits of a change made by account userID.
func (s *Server) writeKeys(r *http.Request, userID string) []limitKey {
	if s.limits.disabled {
		return nil
	}
	return []limitKey{{s.limits.writeIP, s.clientKey(r)}, {s.limits.writeUser, userID}}
}

// passwordKeys are the limits of a request that checks account userID's
// password while signed in (password change, account deletion): the
// address's sign-in budget, since each costs a password hash, and wrong
// passwords per account.
func (s *Server) passwordKeys(r *http.Request, userID string) []limitKey {
	if s.limits.disabled {
		return nil
	}
	return []limitKey{{s.limits.loginIP, s.clientKey(r)}, {s.limits.passwordUser, userID}}
}
