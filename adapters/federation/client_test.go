package federation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/federation"
)

func TestPublicAddress(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:4700::6810:84e5": true, "8.8.8.8": true,
		"127.0.0.1": false, "127.255.0.9": false, "::1": false,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "fd00::1": false,
		"169.254.169.254": false, "fe80::1": false,
		"224.0.0.1": false, "ff02::1": false, "239.1.1.1": false,
		"0.0.0.0": false, "::": false, "255.255.255.255": false,
		"100.64.0.1": false, "192.0.2.1": false, "198.18.0.1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:8.8.8.8": true,
		"64:ff9b::7f00:1": false, "2002:7f00:1::": false, "2001:db8::1": false,
	} {
		if got := federation.PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("User-Agent"))
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	ctx := context.Background()

	strict := federation.NewClient(federation.ClientConfig{UserAgent: "Thoughts/test (+https://social.example)"})
	for _, u := range []string{srv.URL, "http://localhost:" + port, "http://[::ffff:127.0.0.1]:" + port} {
		resp, err := strict.Get(ctx, u, "")
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: reached", u)
		} else if !errors.Is(err, federation.ErrForbiddenAddress) {
			t.Errorf("%s: %v, want ErrForbiddenAddress", u, err)
		}
	}

	allowed := federation.NewClient(federation.ClientConfig{AllowPrivate: true, UserAgent: "Thoughts/test (+https://social.example)"})
	resp, err := allowed.Get(ctx, srv.URL, "")
	if err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "Thoughts/test (+https://social.example)" {
		t.Errorf("User-Agent seen: %q", b)
	}
}

func TestClientRedirects(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			fmt.Fprint(w, "arrived")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := federation.NewClient(federation.ClientConfig{AllowPrivate: true})

	resp, err := c.Get(context.Background(), srv.URL+"/hop/3", "")
	if err != nil {
		t.Fatalf("3 redirects: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "arrived" {
		t.Errorf("3 redirects: %q", b)
	}
	if _, err := c.Get(context.Background(), srv.URL+"/hop/4", ""); !errors.Is(err, federation.ErrTooManyRedirects) {
		t.Errorf("4 redirects: %v", err)
	}

	// A POST (a delivery) does not follow: it gets the 3xx itself, and the
	// redirect's target is never asked (Go's client would turn the POST into
	// a GET without its body for a 301, 302 or 303).
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var followed atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { followed.Add(1) }))
		moved := httptest.NewServer(http.RedirectHandler(target.URL+"/inbox", code))
		req, err := http.NewRequest(http.MethodPost, moved.URL+"/inbox", strings.NewReader(`{"type":"Like"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST answered %d: %v", code, err)
		}
		resp.Body.Close()
		if resp.StatusCode != code || followed.Load() != 0 {
			t.Errorf("POST answered %d: got status %d, redirect target asked %d times; want %d and 0", code, resp.StatusCode, followed.Load(), code)
		}
		moved.Close()
		target.Close()
	}

	// Each hop is dialled, and so checked, again: an allowed server
	// redirecting to a refused one does not get the request through.
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "internal") }))
	t.Cleanup(inner.Close)
	outer := httptest.NewServer(http.RedirectHandler(inner.URL+"/", http.StatusFound))
	t.Cleanup(outer.Close)
	innerPort := netip.MustParseAddrPort(strings.TrimPrefix(inner.URL, "http://")).Port()
	guarded := federation.NewClientRefusingPort(federation.ClientConfig{AllowPrivate: true}, innerPort)
	if _, err := guarded.Get(context.Background(), outer.URL, ""); !errors.Is(err, federation.ErrForbiddenAddress) {
		t.Errorf("redirect to a refused address: %v", err)
	}
}

func TestClientLimits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2048)
	mux := http.NewServeMux()
	mux.HandleFunc("/declared", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, big) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		for range 4 {
			fmt.Fprint(w, big[:512])
			w.(http.Flusher).Flush() // no Content-Length: the limit applies while reading
		}
	})
	mux.HandleFunc("/exact", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, big[:1024]) })
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := federation.NewClient(federation.ClientConfig{AllowPrivate: true, MaxResponseBytes: 1024, Timeout: 300 * time.Millisecond})
	ctx := context.Background()

	if _, err := c.Get(ctx, srv.URL+"/declared", ""); !errors.Is(err, federation.ErrResponseTooLarge) {
		t.Errorf("declared too large: %v", err)
	}
	resp, err := c.Get(ctx, srv.URL+"/chunked", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, federation.ErrResponseTooLarge) {
		t.Errorf("streamed too large: %v", err)
	}
	resp.Body.Close()
	resp, err = c.Get(ctx, srv.URL+"/exact", "")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 1024 {
		t.Errorf("exactly at the limit: %d bytes, %v", len(b), err)
	}
	resp.Body.Close()

	start := time.Now()
	if _, err := c.Get(ctx, srv.URL+"/slow", ""); err == nil {
		t.Error("a server that never answers did not time out")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timed out after %s, want about 300ms", d)
	}
}
