package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiterTableIsBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	set := newLimiterSet(Rate{Burst: 2, Every: time.Second}, 3, clock.now)
	use := func(key string) bool { return take(limitKey{set, key}).wait == 0 }
	for _, k := range []string{"a", "b", "c"} {
		if !use(k) {
			t.Fatalf("%s refused", k)
		}
	}
	// Full of active buckets: a newcomer shares the overflow bucket
	// (burst 2) instead of growing the table.
	if !use("d") || !use("e") || use("f") {
		t.Error("overflow bucket does not limit newcomers together")
	}
	if n := set.len(); n != 3 {
		t.Errorf("table holds %d keys, want 3", n)
	}
	// Once the buckets have refilled they are idle: the next newcomer
	// sweeps them out and gets its own.
	clock.advance(2 * time.Second)
	if !use("g") || !use("g") || use("g") {
		t.Error("g does not get its own bucket after the sweep")
	}
	if n := set.len(); n != 1 {
		t.Errorf("after the sweep the table holds %d keys, want 1", n)
	}
	// Idle entries also go at the periodic sweep, table full or not.
	clock.advance(sweepEvery)
	use("h")
	if n := set.len(); n != 1 {
		t.Errorf("after the periodic sweep the table holds %d keys, want 1 (h)", n)
	}
}

func TestLimiterTakesFromEveryLimitOrNone(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	wide := newLimiterSet(Rate{Burst: 5, Every: time.Minute}, 10, clock.now)
	narrow := newLimiterSet(Rate{Burst: 1, Every: time.Minute}, 10, clock.now)
	if tk := take(limitKey{wide, "ip"}, limitKey{narrow, "alice"}); tk.wait != 0 {
		t.Fatal("first request refused")
	}
	tk := take(limitKey{wide, "ip"}, limitKey{narrow, "alice"})
	if tk.wait <= 0 || tk.wait > time.Minute {
		t.Fatalf("wait = %v, want up to a minute", tk.wait)
	}
	// The refused request gave back what it took from the wide limit.
	if left := wide.bucket("ip", clock.now()).TokensAt(clock.now()); left != 4 {
		t.Errorf("wide limit left %v, want 4", left)
	}
	// A refund restores a token taken at the same instant.
	ok := take(limitKey{wide, "ip"}, limitKey{narrow, "bob"})
	ok.refund(narrow)
	if left := narrow.bucket("bob", clock.now()).TokensAt(clock.now()); left != 1 {
		t.Errorf("refunded limit left %v, want 1", left)
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	s := &Server{limits: &limiters{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, c := range []struct{ remote, xff, want string }{
		{"192.0.2.1:1234", "", "192.0.2.1"},
		{"192.0.2.1:1234", "203.0.113.9", "192.0.2.1"}, // an untrusted peer's header is ignored
		{"10.1.2.3:80", "203.0.113.9", "203.0.113.9"},
		{"10.1.2.3:80", "198.51.100.7, 203.0.113.9, 10.9.9.9", "203.0.113.9"}, // right-most untrusted
		{"10.1.2.3:80", "garbage", "10.1.2.3"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.1]:80", "", "192.0.2.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientKey(r); got != c.want {
			t.Errorf("%s via %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	if r, err := ParseRate("20/6s"); err != nil || r != (Rate{Burst: 20, Every: 6 * time.Second}) {
		t.Errorf("ParseRate(20/6s) = %v, %v", r, err)
	}
	for _, bad := range []string{"", "20", "0/1s", "x/1s", "5/0s", "5/-1s", "5/soon"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}
