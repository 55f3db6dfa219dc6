package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/adapters/postgres/pgtest"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// TestServeFederates: `thoughts serve` mounts the ActivityPub routes beside
// the API, and its start-up backfill gives a user who existed before
// federation a key, the one their actor document then publishes.
func TestServeFederates(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	uow, err := postgres.NewUnitOfWork(db.Pool, outbox.New(outbox.Direct, nil))
	if err != nil {
		t.Fatal(err)
	}
	old, err := domain.NewUser(uuid.Must(uuid.NewV7()), "old", "old@example.com", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	if err := uow.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.Users().Create(ctx, old) }); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t, db, "postgres")
	serve := startProcess(t, cfg, serveOptions)
	waitFor(t, "serve never became ready", func() bool { code, _ := get(t, serve.base+"/readyz"); return code == 200 })

	keys := postgres.NewActorKeys(db.Pool)
	var stored domain.KeyPair
	waitFor(t, "the backfill gave the existing user no key", func() bool {
		stored, err = keys.UserKey(ctx, old.ID)
		return err == nil && !stored.Empty()
	})

	req, _ := http.NewRequest(http.MethodGet, serve.base+"/users/old", nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var actor struct {
		ID        string `json:"id"`
		PublicKey struct {
			PublicKeyPEM string `json:"publicKeyPem"`
		} `json:"publicKey"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&actor); err != nil || resp.StatusCode != 200 {
		t.Fatalf("actor: %d %v", resp.StatusCode, err)
	}
	if actor.ID != cfg.PublicURL+"/users/old" || actor.PublicKey.PublicKeyPEM != stored.PublicKeyPEM {
		t.Errorf("actor id %q, key published = stored: %v", actor.ID, actor.PublicKey.PublicKeyPEM == stored.PublicKeyPEM)
	}
	code, body := get(t, serve.base+"/.well-known/nodeinfo")
	if code != 200 || !strings.Contains(body, "/nodeinfo/2.1") {
		t.Errorf("nodeinfo links: %d %s", code, body)
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	ua := Config{PublicURL: "https://social.example"}.UserAgent()
	if !strings.HasPrefix(ua, "Thoughts/") || !strings.HasSuffix(ua, " (+https://social.example)") {
		t.Errorf("User-Agent %q", ua)
	}
}

// TestResolveAnotherInstance: one Thoughts resolves a user of another by
// name@host:port over WebFinger and a signed fetch of the actor, on
// loopback (so only with FEDERATION_ALLOW_PRIVATE), and caches it.
func TestResolveAnotherInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Instance A, serving on a port its PUBLIC_URL names.
	ln := listen(t)
	cfgA := testConfig(t, pgtest.New(t), "postgres")
	cfgA.PublicURL = "http://" + ln.Addr().String()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, cfgA, slog.New(slog.DiscardHandler), Options{Migrate: true, API: true, Listener: ln})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("instance A: %v", err)
		}
	})
	waitFor(t, "instance A never became ready", func() bool { code, _ := get(t, cfgA.PublicURL+"/readyz"); return code == 200 })
	resp, err := http.Post(cfgA.PublicURL+"/api/v1/auth/register", "application/json",
		strings.NewReader(`{"username":"alice","email":"alice@example.com","password":"correct horse"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register on A: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	handle := "alice@" + ln.Addr().String()

	// Instance B, as a library: its federation use cases.
	cfgB := testConfig(t, pgtest.New(t), "postgres")
	cfgB.PublicURL = "http://127.0.0.1:1"
	for _, allow := range []bool{false, true} {
		cfgB.FederationAllowPrivate = allow
		b, err := Open(ctx, cfgB, slog.New(slog.DiscardHandler), Options{API: true})
		if err != nil {
			t.Fatal(err)
		}
		a, err := b.federation().app.ResolveRemoteActor.Handle(ctx, command.ResolveRemoteActor{Handle: handle})
		if !allow {
			if err == nil {
				t.Errorf("resolved %s on loopback without FEDERATION_ALLOW_PRIVATE", handle)
			}
			b.Close()
			continue
		}
		if err != nil {
			t.Fatalf("resolve %s: %v", handle, err)
		}
		if a.IRI != cfgA.PublicURL+"/users/alice" || a.Handle() != handle || a.Inbox != a.IRI+"/inbox" ||
			a.SharedInbox != cfgA.PublicURL+"/inbox" || a.KeyID != a.IRI+"#main-key" {
			t.Errorf("resolved %+v", a)
		}
		cached, err := postgres.NewRemoteActors(b.Pool).ByIRI(ctx, a.IRI)
		if err != nil || cached.PublicKeyPEM != a.PublicKeyPEM {
			t.Errorf("cached: %v", err)
		}
		b.Close()
	}
}
