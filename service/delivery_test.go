package service

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
	"github.com/thoughts-project/thoughts/router"
)

// remoteServer is another server on loopback: WebFinger, actor documents
// (with a key of their own), and inboxes that accept only POSTs whose
// signature verifies against the sender's key, fetched from the sender.
type remoteServer struct {
	t     *testing.T
	srv   *httptest.Server
	host  string
	key   *rsa.PrivateKey
	users []string
	mu    sync.Mutex
	got   []inboxPost
}

type inboxPost struct {
	Path     string
	Activity map[string]any
	KeyID    string
}

func newRemoteServer(t *testing.T, users ...string) *remoteServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := federation.EncodeKeyPair(key)
	if err != nil {
		t.Fatal(err)
	}
	r := &remoteServer{t: t, key: key, users: users}
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	mux.HandleFunc("GET /.well-known/webfinger", func(w http.ResponseWriter, req *http.Request) {
		name, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Query().Get("resource"), "acct:"), "@")
		if !slices.Contains(r.users, name) {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/jrd+json")
		json.NewEncoder(w).Encode(map[string]any{"subject": req.URL.Query().Get("resource"), "links": []map[string]string{
			{"rel": "self", "type": "application/activity+json", "href": r.actor(name)}}})
	})
	mux.HandleFunc("GET /users/{name}", func(w http.ResponseWriter, req *http.Request) {
		name := req.PathValue("name")
		if !slices.Contains(r.users, name) {
			http.NotFound(w, req)
			return
		}
		id := r.actor(name)
		w.Header().Set("Content-Type", "application/activity+json")
		json.NewEncoder(w).Encode(map[string]any{
			"@context": []string{vocab.ActivityStreamsContext, vocab.SecurityContext}, "id": id, "type": "Person",
			"preferredUsername": name, "inbox": id + "/inbox", "outbox": id + "/outbox", "followers": id + "/followers",
			"endpoints": map[string]string{"sharedInbox": r.srv.URL + "/inbox"},
			"publicKey": map[string]string{"id": id + "#main-key", "owner": id, "publicKeyPem": pub.PublicKeyPEM},
		})
	})
	inbox := func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		v := federation.Verifier{Keys: fetchKeys{}, PublicURL: r.srv.URL}
		got, err := v.Verify(req, body)
		if err != nil {
			t.Errorf("%s: signature: %v", req.URL.Path, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(req.Header.Get("User-Agent"), "Thoughts/") {
			t.Errorf("User-Agent %q", req.Header.Get("User-Agent"))
		}
		var act map[string]any
		if err := json.Unmarshal(body, &act); err != nil {
			t.Errorf("%s: body: %v", req.URL.Path, err)
		}
		if owner, _, _ := strings.Cut(got.KeyID, "#"); owner != act["actor"] {
			t.Errorf("signed by %s, actor %v", got.KeyID, act["actor"])
		}
		r.mu.Lock()
		r.got = append(r.got, inboxPost{Path: req.URL.Path, Activity: act, KeyID: got.KeyID})
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
	mux.HandleFunc("POST /inbox", inbox)
	mux.HandleFunc("POST /users/{name}/inbox", inbox)
	return r
}

func (r *remoteServer) actor(name string) string { return r.srv.URL + "/users/" + name }

// posts returns the activities of typ received so far.
func (r *remoteServer) posts(typ string) []inboxPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []inboxPost
	for _, p := range r.got {
		if p.Activity["type"] == typ {
			out = append(out, p)
		}
	}
	return out
}

// fetchKeys fetches the sender's actor (unsigned: Thoughts serves actors
// to anyone) for its key.
type fetchKeys struct{}

func (fetchKeys) PublicKey(ctx context.Context, keyID string, _ bool) (crypto.PublicKey, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, keyID, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var a struct {
		PublicKey struct {
			ID  string `json:"id"`
			PEM string `json:"publicKeyPem"`
		} `json:"publicKey"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.PublicKey.ID != keyID {
		return nil, fmt.Errorf("key %s: %v (%s)", keyID, err, a.PublicKey.ID)
	}
	return federation.ParsePublicKey(a.PublicKey.PEM)
}

// api calls the instance's HTTP API.
type api struct {
	t    *testing.T
	base string
}

func (a api) do(method, path, token string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m == nil {
		var list []any
		if json.Unmarshal(raw, &list) == nil {
			m = map[string]any{"list": list}
		}
	}
	return resp.StatusCode, m
}

func (a api) register(name string) (token, id string) {
	a.t.Helper()
	code, m := a.do("POST", "/api/v1/auth/register", "", map[string]string{"username": name, "email": name + "@example.com", "password": "correct horse battery"})
	if code != http.StatusCreated {
		a.t.Fatalf("register %s: %d %v", name, code, m)
	}
	return m["token"].(string), m["user"].(map[string]any)["id"].(string)
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestFederationOutbound runs `thoughts serve` against two remote servers
// on loopback and shows, over the HTTP API and at the remote inboxes (every
// POST's signature verified with the key the instance publishes):
//   - a remote follow resolved by WebFinger: a pending request, our Follow
//     sent with the id stored in follows.activity_iri, and its Undo;
//   - remote profiles and search by @name@host;
//   - Create of a thought to remote followers, once per shared inbox (two
//     followers on one server), and to a mentioned remote account, with the
//     addressing of each visibility and Mention tags;
//   - Update and Delete reaching whom the Create reached;
//   - the deliveries endpoint for the author, 404 for anyone else.
func TestFederationOutbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	ln := listen(t)
	cfg := testConfig(t, db, "postgres")
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.FederationAllowPrivate = true
	cfg.Delivery = DeliveryConfig{Poll: 50 * time.Millisecond, Timeout: 5 * time.Second}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, cfg, slog.New(slog.DiscardHandler), Options{Migrate: true, API: true, Processing: true, Embedded: true, Listener: ln})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitFor(t, "serve never became ready", func() bool { code, _ := get(t, cfg.PublicURL+"/readyz"); return code == 200 })
	c := api{t: t, base: cfg.PublicURL}
	alice, _ := c.register("alice")
	mallory, _ := c.register("mallory")

	one := newRemoteServer(t, "bob")
	two := newRemoteServer(t, "carol", "dave")
	bobHandle := "bob@" + one.host

	// Remote profile and search resolve through WebFinger.
	code, prof := c.do("GET", "/api/v1/users/"+bobHandle, alice, nil)
	if code != 200 || prof["username"] != bobHandle || prof["url"] != one.actor("bob") {
		t.Fatalf("remote profile: %d %v", code, prof)
	}
	code, found := c.do("GET", "/api/v1/search?type=users&q=@carol@"+two.host, "", nil)
	if list := found["list"]; code != 200 || len(list.([]any)) == 0 || list.([]any)[0].(map[string]any)["username"] != "carol@"+two.host {
		t.Fatalf("search: %d %v", code, found)
	}

	// A remote follow is a request until the remote server answers.
	code, rel := c.do("POST", "/api/v1/users/"+bobHandle+"/follow", alice, nil)
	if code != 200 || rel["requested"] != true || rel["following"] == true {
		t.Fatalf("follow: %d %v", code, rel)
	}
	waitFor(t, "Follow never arrived", func() bool { return len(one.posts("Follow")) == 1 })
	follow := one.posts("Follow")[0]
	var stored string
	if err := db.Pool.QueryRow(ctx, `SELECT activity_iri FROM follows f JOIN users u ON u.id = f.following_id WHERE u.actor_iri = $1`,
		one.actor("bob")).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if follow.Activity["id"] != stored || follow.Activity["object"] != one.actor("bob") || follow.Activity["actor"] != cfg.PublicURL+"/users/alice" ||
		follow.Path != "/users/bob/inbox" || follow.KeyID != cfg.PublicURL+"/users/alice#main-key" {
		t.Errorf("Follow %+v (stored id %s)", follow, stored)
	}

	// carol and dave (one server) follow alice: as the inbox would record it.
	for _, name := range []string{"carol", "dave"} {
		a, err := postgres.NewRemoteActors(db.Pool).ByIRI(ctx, two.actor(name))
		if err != nil {
			code, m := c.do("GET", "/api/v1/users/"+name+"@"+two.host, alice, nil)
			if code != 200 {
				t.Fatalf("resolve %s: %d %v", name, code, m)
			}
			a, err = postgres.NewRemoteActors(db.Pool).ByIRI(ctx, two.actor(name))
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO follows (id, follower_id, following_id, state, created_at, accepted_at, activity_iri)
			SELECT $1, $2, id, 'accepted', now(), now(), $3 FROM users WHERE username = 'alice' AND host IS NULL`,
			uuid.Must(uuid.NewV7()), a.UserID, two.actor(name)+"/follows/1"); err != nil {
			t.Fatal(err)
		}
	}

	followers := cfg.PublicURL + "/users/alice/followers"
	type post struct{ ID string }
	postThought := func(content, visibility string) string {
		t.Helper()
		code, m := c.do("POST", "/api/v1/thoughts", alice, map[string]string{"content": content, "visibility": visibility})
		if code != http.StatusCreated {
			t.Fatalf("post: %d %v", code, m)
		}
		return m["id"].(string)
	}
	createFor := func(r *remoteServer, thoughtID string) []inboxPost {
		var out []inboxPost
		for _, p := range r.posts("Create") {
			if strings.Contains(p.Activity["id"].(string), thoughtID) {
				out = append(out, p)
			}
		}
		return out
	}
	for _, tc := range []struct {
		visibility string
		to, cc     []string
	}{
		{"public", []string{vocab.Public}, []string{followers, one.actor("bob")}},
		{"unlisted", []string{followers}, []string{vocab.Public, one.actor("bob")}},
		{"followers", []string{followers}, []string{one.actor("bob")}},
	} {
		id := postThought("hello @"+bobHandle+" #fed", tc.visibility)
		waitFor(t, tc.visibility+": Create not delivered to both servers", func() bool {
			return len(createFor(two, id)) == 1 && len(createFor(one, id)) == 1
		})
		for _, p := range append(createFor(two, id), createFor(one, id)...) {
			if p.Path != "/inbox" {
				t.Errorf("%s: Create posted to %s, not the shared inbox", tc.visibility, p.Path)
			}
			note := p.Activity["object"].(map[string]any)
			if !slices.Equal(strs(note["to"]), tc.to) || !slices.Equal(strs(note["cc"]), tc.cc) ||
				!slices.Equal(strs(p.Activity["to"]), tc.to) || !slices.Equal(strs(p.Activity["cc"]), tc.cc) {
				t.Errorf("%s: to %v cc %v, want %v %v", tc.visibility, note["to"], note["cc"], tc.to, tc.cc)
			}
			var mention bool
			for _, tag := range note["tag"].([]any) {
				m := tag.(map[string]any)
				mention = mention || (m["type"] == "Mention" && m["href"] == one.actor("bob") && m["name"] == "@"+bobHandle)
			}
			if !mention {
				t.Errorf("%s: no Mention tag for bob: %v", tc.visibility, note["tag"])
			}
		}
	}

	// Edit and delete go where the Create went.
	id := postThought("to edit @"+bobHandle, "public")
	waitFor(t, "Create not delivered", func() bool { return len(createFor(two, id)) == 1 && len(createFor(one, id)) == 1 })
	code, _ = c.do("PATCH", "/api/v1/thoughts/"+id, alice, map[string]string{"content": "edited"})
	if code != 200 {
		t.Fatalf("edit: %d", code)
	}
	about := func(r *remoteServer, typ string) int {
		n := 0
		for _, p := range r.posts(typ) {
			if obj, ok := p.Activity["object"].(map[string]any); ok && strings.HasSuffix(fmt.Sprint(obj["id"]), id) {
				n++
			}
		}
		return n
	}
	// (An Update handled after the deletion is not sent: the Delete says
	// more. So the test deletes once the Update is out.)
	waitFor(t, "Update not delivered to both servers", func() bool { return about(one, "Update") == 1 && about(two, "Update") == 1 })
	code, _ = c.do("DELETE", "/api/v1/thoughts/"+id, alice, nil)
	if code != http.StatusNoContent && code != 200 {
		t.Fatalf("delete: %d", code)
	}
	waitFor(t, "Delete not delivered to both servers", func() bool { return about(one, "Delete") == 1 && about(two, "Delete") == 1 })

	// The author sees where it went; nobody else learns anything.
	var dl map[string]any
	waitFor(t, "deliveries not all delivered", func() bool {
		code, dl = c.do("GET", "/api/v1/thoughts/"+id+"/deliveries", alice, nil)
		return code == 200 && dl["delivered"] == float64(6) && dl["pending"] == float64(0)
	})
	hosts := map[string]bool{}
	for _, s := range dl["servers"].([]any) {
		e := s.(map[string]any)
		hosts[e["host"].(string)] = true
		if e["state"] != "delivered" || e["attempts"] != float64(1) || e["last_status"] != float64(202) {
			t.Errorf("delivery %v", e)
		}
	}
	if !hosts[one.host] || !hosts[two.host] || len(hosts) != 2 {
		t.Errorf("hosts %v", hosts)
	}
	if code, _ := c.do("GET", "/api/v1/thoughts/"+id+"/deliveries", mallory, nil); code != 404 {
		t.Errorf("another user: %d, want 404", code)
	}
	if code, _ := c.do("GET", "/api/v1/thoughts/"+id+"/deliveries", "", nil); code != 401 {
		t.Errorf("anonymous: %d, want 401", code)
	}

	// Unfollowing undoes the Follow sent, by its id.
	if code, rel := c.do("DELETE", "/api/v1/users/"+bobHandle+"/follow", alice, nil); code != 200 || rel["requested"] == true {
		t.Fatalf("unfollow: %d %v", code, rel)
	}
	waitFor(t, "Undo never arrived", func() bool { return len(one.posts("Undo")) == 1 })
	undo := one.posts("Undo")[0].Activity["object"].(map[string]any)
	if undo["id"] != stored || undo["type"] != "Follow" {
		t.Errorf("Undo of %v, want the Follow %s", undo, stored)
	}

	// The operator's view.
	var out bytes.Buffer
	if err := Federation(ctx, cfg, slog.New(slog.DiscardHandler), []string{"hosts"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), one.host) || !strings.Contains(out.String(), two.host) || !strings.Contains(out.String(), "available") {
		t.Errorf("federation hosts:\n%s", out.String())
	}
	_ = post{}
}

// TestFederateRedeliveredEvent: the federation handler given the same
// event twice enqueues its deliveries once.
func TestFederateRedeliveredEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newFederateRig(t, "carol", "dave")
	s, db, remote, h := r.s, r.db, r.remote, r.h
	for _, name := range []string{"carol", "dave"} {
		a, err := r.resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO follows (id, follower_id, following_id, state, created_at, accepted_at)
			VALUES ($1, $2, $3, 'accepted', now(), now())`, uuid.Must(uuid.NewV7()), a.UserID, r.alice); err != nil {
			t.Fatal(err)
		}
	}
	th, err := s.App.Commands.PostThought.Handle(ctx, command.PostThought{AuthorID: r.alice, Draft: domain.ThoughtDraft{Content: "hi", Visibility: domain.VisibilityPublic}})
	if err != nil {
		t.Fatal(err)
	}
	env := events.New(ctx, r.alice, events.ThoughtCreated{ThoughtID: th.ID, UserID: r.alice}, time.Now())
	count := func() int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM deliveries`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		if err := h.Handle(ctx, env); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d deliveries for one event to two followers on one shared inbox, want 1", n)
		}
	}
	// A remote actor's event is never sent back out.
	carol, _ := postgres.NewRemoteActors(db.Pool).ByIRI(ctx, remote.actor("carol"))
	if err := h.Handle(ctx, events.New(ctx, carol.UserID, events.LikeAdded{LikeID: uuid.Must(uuid.NewV7()), UserID: carol.UserID, ThoughtID: th.ID}, time.Now())); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("a remote actor's like enqueued deliveries: %d", n)
	}
}

// TestFederateFollowMatrix: what the federation handler enqueues for the
// follow, like, boost and block events, checked at the queue (activity and
// inboxes) without posting: Accept/Reject quote the remote Follow, a
// remote account's own events send nothing, Undo goes where the undone
// activity went.
func TestFederateFollowMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newFederateRig(t, "bob")
	db, cfg, remote, h := r.db, r.cfg, r.remote, r.h
	alice := r.alice
	bob, err := r.resolve("bob")
	if err != nil {
		t.Fatal(err)
	}
	me := cfg.PublicURL + "/users/alice"
	handle := func(actor uuid.UUID, ev events.Event) events.Envelope {
		t.Helper()
		env := events.New(ctx, actor, ev, time.Now())
		if err := h.Handle(ctx, env); err != nil {
			t.Fatalf("%s: %v", ev.EventType(), err)
		}
		return env
	}
	// sent returns what env enqueued: the activity and its inboxes.
	sent := func(env events.Envelope) (map[string]any, []string) {
		t.Helper()
		var payload []byte
		err := db.Pool.QueryRow(ctx, `SELECT coalesce(payload, ''::bytea) FROM outbound_activities WHERE event_id = $1`, env.ID).Scan(&payload)
		if err != nil {
			return nil, nil
		}
		var act map[string]any
		if len(payload) > 0 {
			if err := json.Unmarshal(payload, &act); err != nil {
				t.Fatal(err)
			}
		}
		rows, _ := db.Pool.Query(ctx, `SELECT inbox FROM deliveries WHERE event_id = $1 ORDER BY inbox`, env.ID)
		var inboxes []string
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			inboxes = append(inboxes, s)
		}
		rows.Close()
		return act, inboxes
	}
	bobInbox := []string{remote.actor("bob") + "/inbox"}

	// bob asks to follow alice (as the inbox records it): nothing is sent,
	// the remote Follow is remembered; alice rejects: Reject quoting it.
	remoteFollow := remote.actor("bob") + "/follows/42"
	if _, err := db.Pool.Exec(ctx, `INSERT INTO follows (id, follower_id, following_id, state, created_at, activity_iri)
		VALUES ($1, $2, $3, 'pending', now(), $4)`, uuid.Must(uuid.NewV7()), bob.UserID, alice, remoteFollow); err != nil {
		t.Fatal(err)
	}
	if act, inboxes := sent(handle(bob.UserID, events.FollowRequested{FollowerID: bob.UserID, FollowingID: alice})); act != nil || inboxes != nil {
		t.Errorf("FollowRequested(remote → local) sent %v to %v", act, inboxes)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM follows WHERE follower_id = $1`, bob.UserID); err != nil {
		t.Fatal(err)
	}
	act, inboxes := sent(handle(alice, events.FollowRejected{FollowerID: bob.UserID, FollowingID: alice}))
	if obj, _ := act["object"].(map[string]any); act["type"] != "Reject" || act["actor"] != me || obj["id"] != remoteFollow ||
		obj["type"] != "Follow" || obj["actor"] != remote.actor("bob") || obj["object"] != me || !slices.Equal(inboxes, bobInbox) {
		t.Errorf("Reject %v to %v", act, inboxes)
	}

	// bob follows again and alice accepts: Accept quoting the Follow.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO follows (id, follower_id, following_id, state, created_at, accepted_at, activity_iri)
		VALUES ($1, $2, $3, 'accepted', now(), now(), $4)`, uuid.Must(uuid.NewV7()), bob.UserID, alice, remoteFollow+"3"); err != nil {
		t.Fatal(err)
	}
	act, inboxes = sent(handle(alice, events.FollowAccepted{FollowerID: bob.UserID, FollowingID: alice}))
	if obj, _ := act["object"].(map[string]any); act["type"] != "Accept" || obj["id"] != remoteFollow+"3" || !slices.Equal(inboxes, bobInbox) {
		t.Errorf("Accept %v to %v", act, inboxes)
	}
	// The inbox's own events (bob's accept of alice's follow, bob's
	// unfollow) send nothing.
	if act, _ := sent(handle(bob.UserID, events.Unfollowed{FollowerID: bob.UserID, FollowingID: alice})); act != nil {
		t.Errorf("Unfollowed(remote → local) sent %v", act)
	}

	// A like and a boost of bob's Note, then their Undo.
	note := remote.srv.URL + "/users/bob/statuses/1"
	noteID := uuid.Must(uuid.NewV7())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO thoughts (id, author_id, content, visibility, created_at, ap_iri)
		VALUES ($1, $2, 'remote words', 'public', now(), $3)`, noteID, bob.UserID, note); err != nil {
		t.Fatal(err)
	}
	likeID := uuid.Must(uuid.NewV7())
	like, inboxes := sent(handle(alice, events.LikeAdded{LikeID: likeID, UserID: alice, ThoughtID: noteID}))
	if like["type"] != "Like" || like["object"] != note || like["id"] != me+"/likes/"+likeID.String() || !slices.Equal(inboxes, bobInbox) {
		t.Errorf("Like %v to %v", like, inboxes)
	}
	boost, inboxes := sent(handle(alice, events.BoostAdded{BoostID: uuid.Must(uuid.NewV7()), UserID: alice, ThoughtID: noteID}))
	if boost["type"] != "Announce" || boost["object"] != note || !slices.Equal(strs(boost["to"]), []string{vocab.Public}) ||
		!slices.Equal(inboxes, []string{remote.srv.URL + "/inbox"}) { // bob follows alice: one shared inbox
		t.Errorf("Announce %v to %v", boost, inboxes)
	}
	undo, inboxes := sent(handle(alice, events.LikeRemoved{UserID: alice, ThoughtID: noteID}))
	if obj, _ := undo["object"].(map[string]any); undo["type"] != "Undo" || obj["id"] != like["id"] || !slices.Equal(inboxes, bobInbox) {
		t.Errorf("Undo(Like) %v to %v", undo, inboxes)
	}
	undo, _ = sent(handle(alice, events.BoostRemoved{UserID: alice, ThoughtID: noteID}))
	if obj, _ := undo["object"].(map[string]any); undo["type"] != "Undo" || obj["id"] != boost["id"] {
		t.Errorf("Undo(Announce) %v", undo)
	}

	// A block and its Undo; Delete(Person) reaches every inbox alice's
	// activities reached.
	block, inboxes := sent(handle(alice, events.UserBlocked{BlockerID: alice, BlockedID: bob.UserID}))
	if block["type"] != "Block" || block["object"] != remote.actor("bob") || !slices.Equal(inboxes, bobInbox) {
		t.Errorf("Block %v to %v", block, inboxes)
	}
	undo, _ = sent(handle(alice, events.UserUnblocked{BlockerID: alice, BlockedID: bob.UserID}))
	if obj, _ := undo["object"].(map[string]any); obj["id"] != block["id"] {
		t.Errorf("Undo(Block) %v", undo)
	}
	del, inboxes := sent(handle(alice, events.UserDeleted{UserID: alice, Username: "alice"}))
	if del["type"] != "Delete" || del["object"] != me || !slices.Equal(inboxes, []string{remote.srv.URL + "/inbox", bobInbox[0]}) {
		t.Errorf("Delete(Person) %v to %v", del, inboxes)
	}
}

// TestFederationHostsCLI: `thoughts federation hosts` shows each host's
// state, pending deliveries and last error; `hosts clear HOST` makes an
// unavailable host available; bad usage and unknown hosts are errors.
func TestFederationHostsCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	cfg := testConfig(t, db, "postgres")
	if err := applySchema(ctx, db.Pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO federation_hosts (host, state, consecutive_failures, failure_days, last_failure_at, last_status, last_error, unavailable_since)
		VALUES ('dead.example', 'unavailable', 40, 7, now(), 502, 'HTTP 502: bad gateway', now()),
		       ('fine.example', 'available', 0, 0, NULL, NULL, '', NULL)`); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := Federation(ctx, cfg, slog.New(slog.DiscardHandler), args, &out)
		return out.String(), err
	}
	out, err := cli("hosts")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "LAST ERROR") ||
		!strings.Contains(lines[1], "dead.example") || !strings.Contains(lines[1], "unavailable") || !strings.Contains(lines[1], "HTTP 502: bad gateway") ||
		!strings.Contains(lines[2], "fine.example") || !strings.Contains(lines[2], "available") {
		t.Errorf("hosts:\n%s", out)
	}
	if out, err := cli("hosts", "clear", "DEAD.example"); err != nil || !strings.Contains(out, "available") {
		t.Fatalf("clear: %v %s", err, out)
	}
	hosts, err := postgres.NewDeliveries(db.Pool).Hosts(ctx)
	if err != nil || hosts[0].Host != "dead.example" || hosts[0].State != "available" || hosts[0].FailureDays != 0 {
		t.Errorf("after clear: %+v %v", hosts, err)
	}
	if _, err := cli("hosts", "clear", "nobody.example"); err == nil {
		t.Error("clearing an unknown host succeeded")
	}
	for _, bad := range [][]string{nil, {"hosts", "clear"}, {"nope"}} {
		if _, err := cli(bad...); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// TestLikeTopicFollowsTheThought: a like of a thought from another server is
// published on its own topic, which federation reads and notifications do
// not; a like of a local thought on likes.added, which notifications read and
// federation does not. Federating the remote like sends a Like to its author.
func TestLikeTopicFollowsTheThought(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newFederateRig(t, "carol")
	s, db, remote, h := r.s, r.db, r.remote, r.h
	carol, err := r.resolve("carol")
	if err != nil {
		t.Fatal(err)
	}
	note := uuid.Must(uuid.NewV7())
	if _, err := db.Pool.Exec(ctx, `INSERT INTO thoughts (id, author_id, content, visibility, created_at, ap_iri)
		VALUES ($1, $2, 'remote', 'public', now(), $3)`, note, carol.UserID, remote.actor("carol")+"/notes/1"); err != nil {
		t.Fatal(err)
	}
	local, err := s.App.Commands.PostThought.Handle(ctx, command.PostThought{AuthorID: r.alice, Draft: domain.ThoughtDraft{Content: "hi", Visibility: domain.VisibilityPublic}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{note, local.ID} {
		if err := s.App.Commands.LikeThought.Handle(ctx, command.LikeThought{UserID: r.alice, ThoughtID: id}); err != nil {
			t.Fatal(err)
		}
	}
	// The Postgres backend writes each event to its topic's table.
	liked := func(topic string) []events.LikeAdded {
		rows, err := db.Pool.Query(ctx, `SELECT payload FROM `+outbox.TableName(topic)+` ORDER BY "offset"`)
		if err != nil {
			t.Fatal(err)
		}
		payloads, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		var out []events.LikeAdded
		for _, p := range payloads {
			ev, err := events.Unmarshal(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ev.(events.LikeAdded))
		}
		return out
	}
	remoteLikes, localLikes := liked(events.TopicRemoteThoughtLiked), liked(events.TopicLikeAdded)
	if len(remoteLikes) != 1 || remoteLikes[0].ThoughtID != note || !remoteLikes[0].RemoteThought {
		t.Errorf("%s: %+v, want the like of the remote note, marked remote", events.TopicRemoteThoughtLiked, remoteLikes)
	}
	if len(localLikes) != 1 || localLikes[0].ThoughtID != local.ID || localLikes[0].RemoteThought {
		t.Errorf("%s: %+v, want the like of the local thought", events.TopicLikeAdded, localLikes)
	}

	if fed := (router.Handler{Events: command.FederateHandler{}.Events()}).Topics(); !slices.Contains(fed, events.TopicRemoteThoughtLiked) || slices.Contains(fed, events.TopicLikeAdded) {
		t.Errorf("federation reads %v: want %s and not %s", fed, events.TopicRemoteThoughtLiked, events.TopicLikeAdded)
	}
	if n := (router.Handler{Events: command.NotifyHandler{}.Events()}).Topics(); !slices.Contains(n, events.TopicLikeAdded) || slices.Contains(n, events.TopicRemoteThoughtLiked) {
		t.Errorf("notifications read %v: want %s and not %s", n, events.TopicLikeAdded, events.TopicRemoteThoughtLiked)
	}

	env := events.New(ctx, r.alice, remoteLikes[0], time.Now())
	if err := h.Handle(ctx, env); err != nil {
		t.Fatal(err)
	}
	var typ, inbox string
	if err := db.Pool.QueryRow(ctx, `SELECT a.activity_type, d.inbox FROM outbound_activities a JOIN deliveries d ON d.event_id = a.event_id
		WHERE a.event_id = $1`, env.ID).Scan(&typ, &inbox); err != nil {
		t.Fatalf("the like of the remote note enqueued nothing: %v", err)
	}
	if typ != "Like" || !strings.HasPrefix(inbox, remote.srv.URL) {
		t.Errorf("delivery %s to %s, want a Like to %s", typ, inbox, remote.srv.URL)
	}
}

// federateRig is a service that runs no processing, with a local account
// alice, a remote server with the named accounts, and a federation handler
// to call directly.
type federateRig struct {
	s      *Service
	db     pgtest.DB
	cfg    Config
	remote *remoteServer
	alice  uuid.UUID
	h      command.FederateHandler
}

func newFederateRig(t *testing.T, remoteNames ...string) *federateRig {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	cfg := testConfig(t, db, "postgres")
	cfg.FederationAllowPrivate = true
	s, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), Options{Migrate: true, API: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	u, err := s.App.Commands.Register.Handle(ctx, command.Register{Username: "alice", Email: "a@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return &federateRig{s: s, db: db, cfg: cfg, remote: newRemoteServer(t, remoteNames...), alice: u.User.ID,
		h: command.FederateHandler{Store: postgres.NewOutbound(db.Pool), IRIs: vocab.IRIs{Base: cfg.PublicURL}}}
}

// resolve resolves the remote server's account name (and so gives it a
// local account).
func (r *federateRig) resolve(name string) (domain.RemoteActor, error) {
	return r.s.federation().app.ResolveRemoteActor.Handle(context.Background(), command.ResolveRemoteActor{Handle: name + "@" + r.remote.host})
}

// TestRetiredLeavesSubscribedPairs: StartProcessing retires federation's old
// subscription to likes.added, but never a pair a handler of the process
// still reads.
func TestRetiredLeavesSubscribedPairs(t *testing.T) {
	t.Parallel()
	fed := router.Handler{Name: "federation", Events: command.FederateHandler{}.Events()}
	got := retired([]router.Handler{fed})
	if len(got) != 1 || got[0].Handler != "federation" || !slices.Equal(got[0].Topics, []string{events.TopicLikeAdded}) {
		t.Errorf("retired with today's federation handler: %+v, want federation on %s", got, events.TopicLikeAdded)
	}
	old := router.Handler{Name: "federation", Events: []events.Event{events.LikeAdded{}}}
	if got := retired([]router.Handler{old}); len(got) != 0 {
		t.Errorf("retired %+v although the process's federation handler reads likes.added", got)
	}
}
