// Package apitest runs the real HTTP API against a real, per-test PostgreSQL
// database and drives it like a client: the rig every component test uses.
package apitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/ports/httpapi"
)

// Secret is the JWT key of every rig, so tests can forge tokens.
var Secret = []byte("apitest-secret-apitest-secret-0123456789")

// Issuer is the rig's JWT issuer (its public URL).
const Issuer = "http://thoughts.test"

// FastArgon2 keeps the real algorithm but at a cost the race detector can bear.
var FastArgon2 = auth.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Rig is a running API with its database.
type Rig struct {
	T      testing.TB
	DB     pgtest.DB
	Server *httptest.Server
	API    *httpapi.API
	App    app.Application
	// Notify is the notifications event handler on the rig's database.
	Notify command.NotifyHandler
	Logs   *LogBuffer
}

// Options adjust a rig.
type Options struct {
	Mode outbox.Mode
	// PasswordGate, when set, bounds the rig's password work (a test may
	// hold its turns to saturate it).
	PasswordGate *auth.WorkGate
	// RateLimits, when set, are the API's rate limits; otherwise they are
	// off, since every test client shares one address.
	RateLimits *httpapi.RateLimits
	// RequestTimeout is the API's bound on a request's work (0: none).
	RequestTimeout time.Duration
}

// New starts a rig for t.
func New(t testing.TB, opts ...Options) *Rig {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	db := pgtest.New(t)
	buf := &LogBuffer{}
	logger := slog.New(logs.WithCorrelation(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	tokens, err := auth.NewJWT(Secret, 30*24*time.Hour, Issuer)
	if err != nil {
		t.Fatal(err)
	}
	gate := o.PasswordGate
	if gate == nil {
		gate = auth.NewWorkGate(auth.DefaultWorkLimits(FastArgon2, auth.DefaultArgon2MemoryBudget))
	}
	hasher, err := auth.NewGatedArgon2Hasher(FastArgon2, gate)
	if err != nil {
		t.Fatal(err)
	}
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(o.Mode, nil))
	if err != nil {
		t.Fatal(err)
	}
	application := app.New(app.Deps{
		UoW: uow, Hasher: hasher, Tokens: tokens, Reads: postgres.NewReadModel(db.Pool), APIKeys: postgres.NewAPIKeys(db.Pool),
		Sessions: postgres.NewSessions(db.Pool), Outbound: postgres.NewOutboundReads(db.Pool), PublicURL: Issuer,
	})
	limits := httpapi.RateLimits{Disabled: true}
	if o.RateLimits != nil {
		limits = *o.RateLimits
	}
	api := httpapi.New(httpapi.Config{
		App: application, Tokens: tokens, Logger: logger, PublicURL: Issuer,
		Ready:      func(ctx context.Context) error { return db.Pool.Ping(ctx) },
		RateLimits: limits, RequestTimeout: o.RequestTimeout,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &Rig{T: t, DB: db, Server: srv, API: api, App: application, Notify: command.NotifyHandler{UoW: uow, Clock: command.SystemClock}, Logs: buf}
}

// Response is what a client saw.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Request describes one call; Body may be a string (sent raw) or any value
// (sent as JSON).
type Request struct {
	Method string
	Path   string
	Token  string
	Body   any
	Header map[string]string
}

// Do sends req and reads the whole response.
func (r *Rig) Do(req Request) Response {
	r.T.Helper()
	var body io.Reader
	var sent []byte // what the contract check sees of the body
	switch b := req.Body.(type) {
	case nil:
	case string:
		body, sent = strings.NewReader(b), []byte(b)
	case []byte:
		body, sent = bytes.NewReader(b), b
	case io.Reader:
		body = b // length unknown to the client: sent chunked; not contract-checked
	default:
		data, err := json.Marshal(b)
		if err != nil {
			r.T.Fatal(err)
		}
		body, sent = bytes.NewReader(data), data
	}
	hr, err := http.NewRequest(req.Method, r.Server.URL+req.Path, body)
	if err != nil {
		r.T.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	resp, err := r.Server.Client().Do(hr)
	if err != nil {
		r.T.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		r.T.Fatal(err)
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if ContractCheck {
		if _, chunked := req.Body.(io.Reader); !chunked {
			checkContract(r.T, req.Method, hr.URL.String(), hr.Header, sent, out)
		}
	}
	return out
}

// Get, Post, Patch and Delete are shorthands for Do.
func (r *Rig) Get(path, token string) Response {
	r.T.Helper()
	return r.Do(Request{Method: http.MethodGet, Path: path, Token: token})
}

func (r *Rig) Post(path, token string, body any) Response {
	r.T.Helper()
	return r.Do(Request{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

func (r *Rig) Patch(path, token string, body any) Response {
	r.T.Helper()
	return r.Do(Request{Method: http.MethodPatch, Path: path, Token: token, Body: body})
}

func (r *Rig) Delete(path, token string) Response {
	r.T.Helper()
	return r.Do(Request{Method: http.MethodDelete, Path: path, Token: token})
}

// Expect fails the test unless resp has status.
func Expect(t testing.TB, resp Response, status int) Response {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", resp.Status, status, resp.Body)
	}
	return resp
}

// User is a registered account and its token.
type User struct {
	ID       string
	Username string
	Token    string
}

// Register creates an account (password "correct horse") and returns it.
func (r *Rig) Register(username string) User {
	r.T.Helper()
	resp := Expect(r.T, r.Post("/api/v1/auth/register", "", map[string]string{
		"username": username, "email": username + "@example.com", "password": "correct horse",
	}), http.StatusCreated)
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"user"`
	}
	resp.JSON(r.T, &out)
	return User{ID: out.User.ID, Username: out.User.Username, Token: out.Token}
}

// SessionID is the session (the sid claim) of an access token.
func SessionID(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.SID == "" {
		t.Fatalf("token claims %s: no sid (%v)", raw, err)
	}
	return claims.SID
}

// Login signs in as username (password "correct horse") and returns the new
// session's token.
func (r *Rig) Login(username string) string {
	r.T.Helper()
	resp := Expect(r.T, r.Post("/api/v1/auth/login", "", map[string]string{
		"login": username, "password": "correct horse",
	}), http.StatusOK)
	var out struct {
		Token string `json:"token"`
	}
	resp.JSON(r.T, &out)
	return out.Token
}

// Post a thought as u and return its JSON.
func (r *Rig) Think(u User, body map[string]any) map[string]any {
	r.T.Helper()
	return Expect(r.T, r.Post("/api/v1/thoughts", u.Token, body), http.StatusCreated).Map(r.T)
}

// LogBuffer collects JSON log lines safely across goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Lines returns every record logged so far.
func (b *LogBuffer) Lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}
