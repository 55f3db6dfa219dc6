package activitypub_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/ports/activitypub"
	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// rig is the client API with the ActivityPub routes, as service wires them,
// on a real server and a database of its own.
type rig struct {
	t      *testing.T
	db     pgtest.DB
	srv    *httptest.Server
	base   string // the public URL: http://127.0.0.1:PORT
	ap     *activitypub.Server
	api    *httpapi.API
	keyGen *fixedKeys
}

// fixedKeys hands every actor the same real RSA key, made once per test
// binary: RSA generation under the race detector would dominate the tests.
type fixedKeys struct {
	mu sync.Mutex
	n  int
}

var (
	testKeyOnce sync.Once
	testKey     domain.KeyPair
)

func (g *fixedKeys) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

func (g *fixedKeys) Generate(context.Context) (domain.KeyPair, error) {
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		if testKey, err = federation.EncodeKeyPair(k); err != nil {
			panic(err)
		}
	})
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	return testKey, nil
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db := pgtest.New(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	tokens, err := auth.NewJWT(apitest.Secret, time.Hour, base)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := auth.NewArgon2Hasher(apitest.FastArgon2)
	if err != nil {
		t.Fatal(err)
	}
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(outbox.Direct, nil))
	if err != nil {
		t.Fatal(err)
	}
	reads := postgres.NewReadModel(db.Pool)
	application := app.New(app.Deps{UoW: uow, Hasher: hasher, Tokens: tokens, Reads: reads,
		APIKeys: postgres.NewAPIKeys(db.Pool), Sessions: postgres.NewSessions(db.Pool)})
	gen := &fixedKeys{}
	fed := app.NewFederation(app.FederationDeps{Reads: reads, Keys: postgres.NewActorKeys(db.Pool), Generator: gen})
	logger := slog.New(slog.DiscardHandler)
	ap, err := activitypub.New(activitypub.Config{
		App: application, Federation: fed, PublicURL: base, Logger: logger, OpenRegistrations: true,
		Software: activitypub.Software{Name: "thoughts", Version: "1.2.3-test", Repository: "https://example.org/thoughts"},
	})
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{App: application, Tokens: tokens, Logger: logger, PublicURL: base,
		Routes: []func(*mux.Router){ap.Routes}})
	srv.Config.Handler = api
	srv.Start()
	t.Cleanup(srv.Close)
	return &rig{t: t, db: db, srv: srv, base: base, ap: ap, api: api, keyGen: gen}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// do sends a request; no redirects are followed, so tests see them.
func (r *rig) do(method, url, token, accept string, body any) response {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	if strings.HasPrefix(url, "/") {
		url = r.base + url
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

const (
	acceptAP = "application/activity+json"
	acceptLD = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

func (r *rig) get(url, accept string) response {
	r.t.Helper()
	return r.do(http.MethodGet, url, "", accept, nil)
}

// expect fails unless resp has status.
func expect(t *testing.T, resp response, status int) response {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status %d, want %d; body: %s", resp.status, status, resp.body)
	}
	return resp
}

type user struct{ id, name, token string }

func (r *rig) register(name string) user {
	r.t.Helper()
	resp := expect(r.t, r.do(http.MethodPost, "/api/v1/auth/register", "", "", map[string]string{
		"username": name, "email": name + "@example.com", "password": "correct horse",
	}), http.StatusCreated)
	m := resp.json(r.t)
	u := m["user"].(map[string]any)
	return user{id: u["id"].(string), name: name, token: m["token"].(string)}
}

func (r *rig) think(u user, body map[string]any) string {
	r.t.Helper()
	return expect(r.t, r.do(http.MethodPost, "/api/v1/thoughts", u.token, "", body), http.StatusCreated).json(r.t)["id"].(string)
}
