package service

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// The inbox rig: a Thoughts process (API, router, Postgres events) on a
// loopback port its PUBLIC_URL names, and a "remote server" (httptest)
// serving actor documents and Notes, whose actors sign deliveries with
// federation.SignRequest and keys from federation's key generator.

var (
	rigKeysOnce sync.Once
	rigKeys     []*rsa.PrivateKey
)

// rigKey returns test key i (0..2), generated once per test binary: RSA
// generation under the race detector is slow.
func rigKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	rigKeysOnce.Do(func() {
		gen := federation.NewRSAKeyGenerator()
		for range 3 {
			kp, err := gen.Generate(context.Background())
			if err != nil {
				panic(err)
			}
			k, err := federation.ParsePrivateKey(kp.PrivateKeyPEM)
			if err != nil {
				panic(err)
			}
			rigKeys = append(rigKeys, k.(*rsa.PrivateKey))
		}
	})
	return rigKeys[i]
}

type remoteActor struct {
	name  string
	key   *rsa.PrivateKey
	keyID string
	extra map[string]any // overrides of the actor document
}

// inboxPeer stands in for another ActivityPub server.
type inboxPeer struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	actors  map[string]*remoteActor
	objects map[string]any // path → document
	fetches map[string]int // path → GETs
}

func newInboxPeer(t *testing.T) *inboxPeer {
	rs := &inboxPeer{t: t, actors: map[string]*remoteActor{}, objects: map[string]any{}, fetches: map[string]int{}}
	rs.Server = httptest.NewServer(http.HandlerFunc(rs.serve))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *inboxPeer) serve(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.fetches[r.URL.Path]++
	if name, ok := strings.CutPrefix(r.URL.Path, "/users/"); ok {
		if a := rs.actors[name]; a != nil {
			w.Header().Set("Content-Type", "application/activity+json")
			json.NewEncoder(w).Encode(rs.actorDoc(a))
			return
		}
	}
	if doc, ok := rs.objects[r.URL.Path]; ok {
		w.Header().Set("Content-Type", "application/activity+json")
		json.NewEncoder(w).Encode(doc)
		return
	}
	http.NotFound(w, r)
}

func (rs *inboxPeer) actorDoc(a *remoteActor) map[string]any {
	id := rs.URL + "/users/" + a.name
	kp, err := federation.EncodeKeyPair(a.key)
	if err != nil {
		rs.t.Fatal(err)
	}
	doc := map[string]any{
		"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":       id, "type": "Person", "preferredUsername": a.name, "name": strings.ToUpper(a.name),
		"inbox": id + "/inbox", "outbox": id + "/outbox", "followers": id + "/followers",
		"publicKey": map[string]any{"id": a.keyID, "owner": id, "publicKeyPem": kp.PublicKeyPEM},
		"endpoints": map[string]any{"sharedInbox": rs.URL + "/inbox"},
	}
	for k, v := range a.extra {
		doc[k] = v
	}
	return doc
}

// actor adds an actor signing with key i.
func (rs *inboxPeer) actor(name string, key int) *remoteActor {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	a := &remoteActor{name: name, key: rigKey(rs.t, key), keyID: rs.URL + "/users/" + name + "#main-key", extra: map[string]any{}}
	rs.actors[name] = a
	return a
}

func (rs *inboxPeer) iri(name string) string { return rs.URL + "/users/" + name }

func (rs *inboxPeer) setObject(path string, doc any) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.objects[path] = doc
}

func (rs *inboxPeer) fetched(path string) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.fetches[path]
}

// inboxRig is our instance.
type inboxRig struct {
	t    *testing.T
	s    *Service
	base string
	rs   *inboxPeer
	seq  int
}

func newInboxRig(t *testing.T) *inboxRig {
	t.Helper()
	ctx := context.Background()
	ln := listen(t)
	cfg := testConfig(t, pgtest.New(t), "postgres")
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.FederationAllowPrivate = true
	cfg.RateLimits.Disabled = true
	s, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), Options{Migrate: true, API: true, Processing: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.APIHandler()
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	if err := s.StartProcessing(ctx); err != nil {
		s.Close()
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Serve(runCtx, Endpoint{Name: "api", Listener: ln, Handler: h}) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close()
	})
	return &inboxRig{t: t, s: s, base: cfg.PublicURL, rs: newInboxPeer(t)}
}

// id mints an activity or object id on the remote server.
func (r *inboxRig) id(kind string) string {
	r.seq++
	return fmt.Sprintf("%s/%s/%d-%d", r.rs.URL, kind, time.Now().UnixNano(), r.seq)
}

type delivery struct {
	to      string // path: "/inbox" or "/users/NAME/inbox"
	signer  *remoteActor
	keyID   string    // if set, the keyId claimed instead of the signer's
	date    time.Time // if set, the signature's date
	body    []byte    // if set, the body sent instead of the one signed
	ctype   string
	unsign  bool
	rawBody []byte // if set, sign and send this instead of the activity
}

// deliver POSTs activity as d says and returns the status and body.
func (r *inboxRig) deliver(d delivery, activity map[string]any) (int, string) {
	r.t.Helper()
	signed := d.rawBody
	if signed == nil {
		if _, ok := activity["@context"]; !ok {
			activity["@context"] = "https://www.w3.org/ns/activitystreams"
		}
		var err error
		if signed, err = json.Marshal(activity); err != nil {
			r.t.Fatal(err)
		}
	}
	sent := signed
	if d.body != nil {
		sent = d.body
	}
	to := d.to
	if to == "" {
		to = "/inbox"
	}
	req, err := http.NewRequest(http.MethodPost, r.base+to, bytes.NewReader(sent))
	if err != nil {
		r.t.Fatal(err)
	}
	ctype := d.ctype
	if ctype == "" {
		ctype = "application/activity+json"
	}
	req.Header.Set("Content-Type", ctype)
	if !d.unsign && d.signer != nil {
		keyID := d.keyID
		if keyID == "" {
			keyID = d.signer.keyID
		}
		date := d.date
		if date.IsZero() {
			date = time.Now()
		}
		if err := federation.SignRequest(req, signed, keyID, d.signer.key, date); err != nil {
			r.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// send delivers activity signed by a, expecting 202.
func (r *inboxRig) send(a *remoteActor, activity map[string]any) {
	r.t.Helper()
	if code, body := r.deliver(delivery{signer: a}, activity); code != http.StatusAccepted {
		r.t.Fatalf("delivery of %v: %d %s", activity["type"], code, body)
	}
}

// apply delivers activity signed by a and waits for the inbox handler's
// outcome.
func (r *inboxRig) apply(a *remoteActor, activity map[string]any) string {
	r.t.Helper()
	if _, ok := activity["id"]; !ok {
		activity["id"] = r.id("activities")
	}
	if _, ok := activity["actor"]; !ok {
		activity["actor"] = r.rs.iri(a.name)
	}
	r.send(a, activity)
	return r.outcome(activity["id"].(string))
}

// outcome waits for the activity to be processed and returns its outcome.
func (r *inboxRig) outcome(iri string) string {
	r.t.Helper()
	var outcome *string
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := r.s.Pool.QueryRow(context.Background(), `SELECT outcome FROM inbox_activities WHERE activity_iri = $1`, iri).Scan(&outcome)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			r.t.Fatal(err)
		}
		if outcome != nil {
			return *outcome
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("activity %s was not processed within 60 s", iri)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count runs a counting query.
func (r *inboxRig) count(q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.s.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// events counts the events published on topic.
func (r *inboxRig) events(topic string) int {
	return r.count(`SELECT count(*) FROM ` + outbox.TableName(topic))
}

type localUser struct{ id, name, token string }

func (r *inboxRig) register(name string) localUser {
	r.t.Helper()
	code, m := r.api(http.MethodPost, "/api/v1/auth/register", "", map[string]any{
		"username": name, "email": name + "@example.com", "password": "correct horse",
	})
	if code != http.StatusCreated {
		r.t.Fatalf("register %s: %d %v", name, code, m)
	}
	u := m["user"].(map[string]any)
	return localUser{id: u["id"].(string), name: name, token: m["token"].(string)}
}

// api calls the client API; the body is decoded as an object, or as a list
// under "items".
func (r *inboxRig) api(method, path, token string, body any) (int, map[string]any) {
	r.t.Helper()
	status, b := client{t: r.t, base: r.base}.do(method, path, token, body)
	out := map[string]any{}
	if len(b) > 0 && b[0] == '[' {
		var items []any
		json.Unmarshal(b, &items)
		out["items"] = items
	} else {
		json.Unmarshal(b, &out)
	}
	return status, out
}

// items is the list an API call answered.
func items(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// think posts a thought as u and returns its id.
func (r *inboxRig) think(u localUser, content, visibility string) string {
	r.t.Helper()
	code, m := r.api(http.MethodPost, "/api/v1/thoughts", u.token, map[string]any{"content": content, "visibility": visibility})
	if code != http.StatusCreated {
		r.t.Fatalf("post: %d %v", code, m)
	}
	return m["id"].(string)
}

// remoteUser resolves a remote actor to its account id.
func (r *inboxRig) remoteUser(a *remoteActor) uuid.UUID {
	r.t.Helper()
	ra, err := r.s.federation().app.ResolveRemoteActor.Handle(context.Background(), command.ResolveRemoteActor{IRI: r.rs.iri(a.name)})
	if err != nil {
		r.t.Fatal(err)
	}
	return ra.UserID
}

// follow makes follower follow following, as stored by a follow that was
// accepted; activityIRI, if set, is recorded as the Follow behind it.
func (r *inboxRig) follow(follower, following uuid.UUID, state domain.FollowState, activityIRI string) uuid.UUID {
	r.t.Helper()
	now := time.Now().UTC()
	f := domain.Follow{ID: uuid.Must(uuid.NewV7()), FollowerID: follower, FollowingID: following, State: state, CreatedAt: now}
	if state == domain.FollowAccepted {
		f.AcceptedAt = &now
	}
	err := r.s.UoW.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error {
		if _, err := tx.Graph().AddFollow(ctx, f); err != nil {
			return err
		}
		if activityIRI != "" {
			return tx.Federated().SetActivity(ctx, command.KindFollow, f.ID, activityIRI)
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return f.ID
}

// notifications lists u's notifications as "type:actor".
func (r *inboxRig) notifications(u localUser) []string {
	r.t.Helper()
	code, m := r.api(http.MethodGet, "/api/v1/notifications", u.token, nil)
	if code != http.StatusOK {
		r.t.Fatalf("notifications: %d %v", code, m)
	}
	var out []string
	for _, n := range items(m) {
		acct, _ := n["account"].(map[string]any)
		out = append(out, fmt.Sprintf("%v:%v", n["type"], acct["username"]))
	}
	return out
}

// waitNotified waits until u has a notification want.
func (r *inboxRig) waitNotified(u localUser, want string) {
	r.t.Helper()
	waitFor(r.t, fmt.Sprintf("%s never got %s", u.name, want), func() bool {
		for _, n := range r.notifications(u) {
			if n == want {
				return true
			}
		}
		return false
	})
}

func uuidOf(t *testing.T, s string) uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// handler is the inbox handler as the router runs it.
func (r *inboxRig) handler() interface {
	Handle(context.Context, events.Envelope) error
} {
	for _, h := range r.s.Handlers {
		if h.Name == "inbox" {
			return handlerFunc(h.Handle)
		}
	}
	r.t.Fatal("no inbox handler")
	return nil
}

type handlerFunc func(context.Context, events.Envelope) error

func (f handlerFunc) Handle(ctx context.Context, env events.Envelope) error { return f(ctx, env) }
