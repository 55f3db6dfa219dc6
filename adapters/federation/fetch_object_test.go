package federation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/thoughts-project/thoughts/app/command"
)

// TestFetchObject: objects are fetched signed; a refusal or absence is
// permanent, a server error is not; a host past its budget is refused
// without a request; a key's owner is read from a key or an actor document.
func TestFetchObject(t *testing.T) {
	t.Parallel()
	var signed, requests atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	as := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "application/activity+json")
		w.Write([]byte(body))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Signature") != "" {
			signed.Add(1)
		}
		switch r.URL.Path {
		case "/notes/1":
			as(w, `{"id":"`+srv.URL+`/notes/1","type":"Note"}`)
		case "/gone":
			w.WriteHeader(http.StatusGone)
		case "/refused":
			w.WriteHeader(http.StatusUnauthorized)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<p>hi</p>"))
		case "/users/bob/main-key":
			as(w, `{"id":"`+srv.URL+`/users/bob","type":"Person","publicKey":{"id":"`+srv.URL+`/users/bob/main-key","owner":"`+srv.URL+`/users/bob"}}`)
		case "/keys/1":
			as(w, `{"id":"`+srv.URL+`/keys/1","owner":"`+srv.URL+`/users/carol","publicKeyPem":"x"}`)
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	o := &ObjectFetcher{Fetcher: testFetcher(t), Limits: HostLimits{PerSecond: 0.001, Burst: 8}}
	if body, err := o.FetchObject(ctx, srv.URL+"/notes/1"); err != nil || len(body) == 0 {
		t.Fatalf("fetch: %v", err)
	}
	for _, path := range []string{"/gone", "/refused", "/html", "/nothing"} {
		if _, err := o.FetchObject(ctx, srv.URL+path); !errors.Is(err, command.ErrFetchPermanent) {
			t.Errorf("%s: %v, want permanent", path, err)
		}
	}
	if _, err := o.FetchObject(ctx, srv.URL+"/broken"); err == nil || errors.Is(err, command.ErrFetchPermanent) {
		t.Errorf("a 502: %v, want a failure worth retrying", err)
	}
	if owner, err := o.FetchKeyOwner(ctx, srv.URL+"/users/bob/main-key"); err != nil || owner != srv.URL+"/users/bob" {
		t.Errorf("owner from an actor stub: %q %v", owner, err)
	}
	if owner, err := o.FetchKeyOwner(ctx, srv.URL+"/keys/1"); err != nil || owner != srv.URL+"/users/carol" {
		t.Errorf("owner from a key: %q %v", owner, err)
	}
	if signed.Load() != requests.Load() {
		t.Errorf("%d of %d fetches signed", signed.Load(), requests.Load())
	}
	// The budget of 8 is spent: the next is refused without asking.
	before := requests.Load()
	if _, err := o.FetchObject(ctx, srv.URL+"/notes/1"); !errors.Is(err, ErrRateLimited) || errors.Is(err, command.ErrFetchPermanent) {
		t.Errorf("past the budget: %v", err)
	}
	if requests.Load() != before {
		t.Errorf("a rate-limited fetch reached the server")
	}
	if _, err := o.FetchObject(ctx, "ftp://x.example/a"); !errors.Is(err, command.ErrFetchPermanent) {
		t.Errorf("an ftp IRI: %v", err)
	}
}
