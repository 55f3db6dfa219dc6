package service

import (
	"context"
	"crypto"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
)

// The inbox's wiring: the federation use cases get what receiving and
// applying activities needs, and the ActivityPub port a verifier of
// signatures whose keys come from the cache of remote actors.

// withInbox adds to d what the inbox needs.
func (s *Service) withInbox(d app.FederationDeps, fetcher *federation.Fetcher) app.FederationDeps {
	objects := &federation.ObjectFetcher{Fetcher: fetcher}
	d.UoW = s.UoW
	d.RemoteKeys = postgres.NewRemoteActors(s.Pool)
	d.Objects, d.KeyOwners = objects, objects
	d.HTML = federation.NewSanitizer()
	d.PublicURL = s.Config.PublicURL
	return d
}

// signatureVerifier verifies inbound signatures with the keys of remote
// actors (fetched and cached by app.Federation.RemoteSigner).
type signatureVerifier struct {
	v federation.Verifier
}

func (s *Service) signatureVerifier() *signatureVerifier {
	return &signatureVerifier{v: federation.Verifier{
		Keys:      &remoteKeys{signers: s.federation().app.RemoteSigner, refreshed: map[string]time.Time{}},
		PublicURL: s.Config.PublicURL,
	}}
}

func (sv *signatureVerifier) Verify(r *http.Request, body []byte) (string, error) {
	v, err := sv.v.Verify(r, body)
	if err != nil {
		return "", err
	}
	return v.KeyID, nil
}

// remoteKeys resolves key ids to public keys. A refresh (the verifier asks
// for one when a signature does not verify with the cached key) fetches the
// owner again at most once a minute per key: otherwise every forged request
// naming a real key would make us fetch its owner.
type remoteKeys struct {
	signers command.RemoteSignerHandler

	mu        sync.Mutex
	refreshed map[string]time.Time
}

// minKeyRefresh is how often one key may be fetched again.
const minKeyRefresh = time.Minute

func (k *remoteKeys) PublicKey(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
	if refresh && !k.mayRefresh(keyID) {
		return nil, fmt.Errorf("key %s was fetched again less than %s ago", keyID, minKeyRefresh)
	}
	a, err := k.signers.Handle(ctx, keyID, refresh)
	if err != nil {
		return nil, err
	}
	return federation.ParsePublicKey(a.PublicKeyPEM)
}

func (k *remoteKeys) mayRefresh(keyID string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if len(k.refreshed) > 10000 {
		for id, at := range k.refreshed {
			if now.Sub(at) > minKeyRefresh {
				delete(k.refreshed, id)
			}
		}
	}
	if at, ok := k.refreshed[keyID]; ok && now.Sub(at) < minKeyRefresh {
		return false
	}
	k.refreshed[keyID] = now
	return true
}
