package fedtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/federation"
)

const featFedifyAccept = "inbox accepting Fedify's signatures (RFC 9421 first, draft-cavage on refusal) and answering Follow with Accept"

// TestFedifyInterop federates one `thoughts serve` with a peer built on
// Fedify (fedify-peer/peer.mjs), an ActivityPub implementation that shares
// no code or assumptions with Thoughts: two instances of the same code can
// agree with each other and both be wrong. The peer is driven through its
// control API; Thoughts through its HTTP API.
func TestFedifyInterop(t *testing.T) {
	requireEnabled(t)
	t.Parallel() // both mostly wait on other processes
	start := time.Now()
	nodeBin := installPeer(t)
	installed := time.Since(start)
	th := startInstance(t, "thoughts")
	peer := startPeer(t, nodeBin)
	t.Logf("peer installed/checked in %v; thoughts (%s) and peer (%s) ready %v after the test began",
		installed.Round(time.Millisecond), th.base, peer.base, time.Since(start).Round(time.Millisecond))

	alice, bob := th.register(t, "alice"), th.register(t, "bob")

	t.Run("peer_fetches_thoughts_actor", func(t *testing.T) {
		var got struct {
			ID, Type, PreferredUsername, Inbox, SharedInbox string
			PublicKeyID, PublicKeyOwner, PublicKeyAlgorithm string
		}
		peer.call(t, "POST", "/_control/lookup", map[string]any{"url": th.actor("alice")}, 200, &got)
		if got.ID != th.actor("alice") || got.Type != "Person" || got.PreferredUsername != "alice" {
			t.Errorf("Fedify's view of alice: id %q type %q preferredUsername %q", got.ID, got.Type, got.PreferredUsername)
		}
		if got.Inbox != th.actor("alice")+"/inbox" || got.SharedInbox != th.base+"/inbox" {
			t.Errorf("Fedify's view of alice's inboxes: %q, shared %q", got.Inbox, got.SharedInbox)
		}
		if got.PublicKeyID != th.actor("alice")+"#main-key" || got.PublicKeyOwner != th.actor("alice") || got.PublicKeyAlgorithm != "RSASSA-PKCS1-v1_5" {
			t.Errorf("Fedify's view of alice's key: id %q owner %q algorithm %q", got.PublicKeyID, got.PublicKeyOwner, got.PublicKeyAlgorithm)
		}
	})

	t.Run("peer_webfinger_by_actor_url", func(t *testing.T) {
		var jrd jrdDoc
		peer.call(t, "POST", "/_control/webfinger", map[string]any{"resource": th.actor("alice")}, 200, &jrd)
		if jrd.Subject != "acct:"+alice.handle() || jrd.self() != th.actor("alice") {
			t.Errorf("Fedify's WebFinger of %s: subject %q, self %q", th.actor("alice"), jrd.Subject, jrd.self())
		}
	})

	t.Run("peer_verifies_thoughts_signatures", func(t *testing.T) {
		// Signed exactly as Thoughts signs deliveries (adapters/federation),
		// with alice's key; Fedify fetches the key from her actor document.
		keyID, key := userKey(t, th, "alice")
		send := func(tamper bool) (int, string) {
			body := []byte(`{"type":"Note","content":"signed by thoughts"}`)
			req, _ := http.NewRequestWithContext(context.Background(), "POST", peer.base+"/_control/verify", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/activity+json")
			if err := federation.SignRequest(req, body, keyID, key, time.Now()); err != nil {
				t.Fatal(err)
			}
			if tamper {
				tampered := []byte(`{"type":"Note","content":"signed by someone"}`)
				req.Body, req.ContentLength = nopCloser{bytes.NewReader(tampered)}, int64(len(tampered))
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			return resp.StatusCode, buf.String()
		}
		code, body := send(false)
		var v struct{ KeyID, Owner string }
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.KeyID != keyID || v.Owner != th.actor("alice") {
			t.Errorf("Fedify verifying a request Thoughts signed as alice: %d %s", code, body)
		}
		if code, body := send(true); code != 401 {
			t.Errorf("Fedify accepted a signed request whose body was changed: %d %s", code, body)
		}
	})

	followed := false
	t.Run("peer_follows_thoughts_user", func(t *testing.T) {
		var out struct{ ID, Error string }
		if code := peer.try("POST", "/_control/follow", map[string]any{"actor": th.actor("alice")}, &out); code != 200 {
			missing(t, featFedifyAccept, "Fedify's Follow of alice could not be delivered: %s", out.Error)
		}
		if !poll(deliverWithin, func() (bool, string) {
			var following []string
			peer.try("GET", "/_control/following", nil, &following)
			return contains(following, th.actor("alice")), fmt.Sprint(following)
		}) {
			missing(t, featFedifyAccept, "the peer never received (or could not verify) an Accept from alice; received: %s", peer.receivedSummary())
		}
		if !poll(deliverWithin, func() (bool, string) { return alice.hasNotificationAt("follow", "peer", peer.host) }) {
			_, raw := alice.notifications()
			missing(t, featInboxFollow, "alice never got a follow notification from the Fedify peer: %s", raw)
		}
		followed = true
	})

	var publicURL string
	t.Run("peer_receives_public_and_followers_only", func(t *testing.T) {
		need(t, followed, "peer_follows_thoughts_user")
		pub, priv := token("alice-public"), token("alice-followers")
		_, publicURL = alice.post(t, "hello fedify "+pub, "public", "")
		alice.post(t, "only for followers "+priv, "followers", "")
		for _, c := range []struct {
			token   string
			public  bool
			comment string
		}{{pub, true, "public"}, {priv, false, "followers-only"}} {
			var note map[string]any
			if !poll(deliverWithin, func() (bool, string) {
				note = peer.receivedNote("Create", c.token)
				return note != nil, ""
			}) {
				missing(t, featOutCreate, "the peer never received alice's %s thought; received: %s", c.comment, peer.receivedSummary())
			}
			addressed := append(iris(note["to"]), iris(note["cc"])...)
			isPublic := contains(addressed, "https://www.w3.org/ns/activitystreams#Public") || contains(addressed, "as:Public") || contains(addressed, "Public")
			if isPublic != c.public || !contains(addressed, th.actor("alice")+"/followers") {
				t.Errorf("alice's %s thought as the peer received it is addressed to %v", c.comment, addressed)
			}
			if str(note, "attributedTo") != th.actor("alice") {
				t.Errorf("attributedTo %q, want %q", str(note, "attributedTo"), th.actor("alice"))
			}
		}
	})

	t.Run("peer_likes_and_replies", func(t *testing.T) {
		need(t, publicURL != "", "peer_receives_public_and_followers_only")
		var out struct{ ID, Error string }
		if code := peer.try("POST", "/_control/like", map[string]any{"object": publicURL}, &out); code != 200 {
			missing(t, featInbox, "the peer's Like of %s was refused: %s", publicURL, out.Error)
		}
		reply := token("peer-reply")
		if code := peer.try("POST", "/_control/post", map[string]any{"content": "<p>" + reply + " a reply from fedify</p>", "visibility": "public", "inReplyTo": publicURL}, &out); code != 200 {
			missing(t, featInbox, "the peer's reply to %s was refused: %s", publicURL, out.Error)
		}
		publicID := publicURL[strings.LastIndexByte(publicURL, '/')+1:]
		for _, c := range []struct{ typ, about string }{{"like", publicID}, {"reply", reply}} {
			if !poll(deliverWithin, func() (bool, string) { return alice.hasNotificationAboutAt(c.typ, "peer", peer.host, c.about) }) {
				_, raw := alice.notifications()
				missing(t, featInteractions, "alice never got a %q notification from the Fedify peer about %s: %s", c.typ, c.about, raw)
			}
		}
	})

	t.Run("thoughts_user_follows_peer", func(t *testing.T) {
		handle := "peer@" + peer.host
		if code, _, raw := bob.try("POST", "/api/v1/users/"+handle+"/follow", nil); code != 200 {
			missing(t, featFollow, "bob following the Fedify peer %s: %d %s", handle, code, raw)
		}
		if !poll(deliverWithin, func() (bool, string) {
			var followers []string
			peer.try("GET", "/_control/followers", nil, &followers)
			return contains(followers, th.actor("bob")), fmt.Sprint(followers)
		}) {
			missing(t, featFollow, "the peer never accepted a Follow from bob (signature refused by Fedify?); peer's inbox log: %s", peer.receivedSummary())
		}
		eventually(t, deliverWithin, "bob's relationship with the peer never became following (Fedify's Accept not applied)", func() (bool, string) {
			rel, code, raw := bob.relationship(handle)
			return code == 200 && rel["following"] == true, raw
		})
		pub, priv := token("peer-public"), token("peer-followers")
		var out struct{ ID, Error string }
		for _, p := range []struct{ tok, vis string }{{pub, "public"}, {priv, "followers"}} {
			if code := peer.try("POST", "/_control/post", map[string]any{"content": "<p>from fedify " + p.tok + "</p>", "visibility": p.vis}, &out); code != 200 {
				missing(t, featInbox, "the peer's %s post was refused by Thoughts: %s", p.vis, out.Error)
			}
		}
		for _, tok := range []string{pub, priv} {
			if !poll(deliverWithin, func() (bool, string) { _, ok, why := bob.feedFind(tok); return ok, why }) {
				_, _, why := bob.feedFind(tok)
				missing(t, featFeed, "the peer's post %q never reached bob's home feed: %s", tok, why)
			}
		}
		if _, ok, _ := alice.feedFind(priv); ok {
			t.Errorf("alice, who does not follow the peer, has its followers-only post in her feed")
		}
	})
	t.Logf("TestFedifyInterop took %v", time.Since(start).Round(time.Millisecond))
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// installPeer runs scripts/fedify-peer.sh (idempotent, cached) and returns
// the Node.js 22 binary it installed.
func installPeer(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "fedify-peer.sh"))
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/fedify-peer.sh could not install the Fedify peer (Node.js 22 and @fedify/fedify from the npm registry): %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// peerProcess is the Fedify peer: node peer.mjs.
type peerProcess struct {
	base, host string
	logPath    string
}

func startPeer(t testing.TB, nodeBin string) *peerProcess {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "service", "fedtest", "fedify-peer")
	p := &peerProcess{logPath: filepath.Join(t.TempDir(), "peer.log")}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nodeBin, "peer.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PEER_HOST=127.0.0.1")
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Fedify peer: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			t.Logf("last lines of the Fedify peer's log:\n%s", tail(string(b), 60))
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		for sc.Scan() { // keep draining
		}
	}()
	select {
	case line, ok := <-ready:
		var hello struct{ Base string }
		if !ok || json.Unmarshal([]byte(line), &hello) != nil || hello.Base == "" {
			b, _ := os.ReadFile(p.logPath)
			t.Fatalf("the Fedify peer did not start (first line %q):\n%s", line, tail(string(b), 30))
		}
		p.base, p.host = hello.Base, strings.TrimPrefix(hello.Base, "http://")
	case <-time.After(startWithin):
		t.Fatalf("the Fedify peer said nothing within %v", startWithin)
	}
	return p
}

// try calls the peer's control API, decoding the answer into out.
func (p *peerProcess) try(method, path string, body any, out any) int {
	code, data, _ := do(method, p.base+path, "", body, nil)
	if out != nil {
		_ = json.Unmarshal(data, out)
	}
	return code
}

// call is try that fails t unless the status is want.
func (p *peerProcess) call(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	code, data, _ := do(method, p.base+path, "", body, nil)
	if code != want {
		t.Fatalf("peer %s %s: %d, want %d: %s", method, path, code, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("peer %s %s: %v: %s", method, path, err, data)
		}
	}
}

type peerReceived struct {
	Activities []struct {
		Type, ID, Actor, Object string
		Raw                     map[string]any
	}
	InboxRequests []struct {
		Path, Scheme, Answer string
		Status               int
	}
}

func (p *peerProcess) received() peerReceived {
	var r peerReceived
	p.try("GET", "/_control/received", nil, &r)
	return r
}

// receivedNote returns the Note of a received activity of type typ whose
// content holds token.
func (p *peerProcess) receivedNote(typ, token string) map[string]any {
	for _, a := range p.received().Activities {
		if a.Type != typ {
			continue
		}
		if note := obj(a.Raw, "object"); note != nil && strings.Contains(str(note, "content"), token) {
			return note
		}
	}
	return nil
}

func (p *peerProcess) receivedSummary() string {
	r := p.received()
	var s []string
	for _, a := range r.Activities {
		s = append(s, a.Type+" from "+a.Actor)
	}
	var reqs []string
	for _, q := range r.InboxRequests {
		reqs = append(reqs, fmt.Sprintf("%s %s→%d %s", q.Path, q.Scheme, q.Status, q.Answer))
	}
	return fmt.Sprintf("accepted [%s]; inbox requests [%s]", strings.Join(s, ", "), strings.Join(reqs, ", "))
}

// iris reads an addressing field: one IRI or a list of them.
func iris(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
