package service

import (
	"context"
	"encoding/json"
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
