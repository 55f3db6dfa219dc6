package service

import (
	"context"
	"crypto"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/vocab"
	"github.com/thoughts-project/thoughts/ports/activitypub"
)

// Version is the Thoughts version a build reports (NodeInfo, User-Agent).
// Release builds set it: go build -ldflags "-X github.com/thoughts-project/thoughts/service.Version=1.2.3".
// Otherwise it is the module version when built from a tagged module, else
// "dev".
var Version = ""

// version is Version, or what the build knows.
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// UserAgent is what Thoughts sends to other servers: its name, version and
// public URL (GoToSocial refuses requests without a User-Agent; operators
// use the URL to find whom to ask).
func (c Config) UserAgent() string {
	return "Thoughts/" + version() + " (+" + c.PublicURL + ")"
}

var _ app.FederationReads = (*postgres.ReadModel)(nil)

// federationParts are the process's federation pieces: one key generator
// (its limit on concurrent generations is per process), one outbound client
// and the key backfill.
type federationParts struct {
	keys     *federation.RSAKeyGenerator
	client   *federation.Client
	app      app.Federation
	deps     app.FederationDeps
	cancel   context.CancelFunc
	backfill sync.WaitGroup
}

// federation builds the federation use cases on the service's pool, once.
func (s *Service) federation() *federationParts {
	if s.fed != nil {
		return s.fed
	}
	gen := federation.NewRSAKeyGenerator()
	client := federation.NewClient(federation.ClientConfig{AllowPrivate: s.Config.FederationAllowPrivate, UserAgent: s.Config.UserAgent()})
	keys := postgres.NewActorKeys(s.Pool)
	ensureInstance := command.EnsureInstanceKeyHandler{Keys: keys, Generator: gen}
	fetcher := &federation.Fetcher{
		Client: client,
		Key: func(ctx context.Context) (string, crypto.PrivateKey, error) {
			k, err := ensureInstance.Handle(ctx)
			if err != nil {
				return "", nil, err
			}
			priv, err := federation.ParsePrivateKey(k.PrivateKeyPEM)
			return vocab.IRIs{Base: s.Config.PublicURL}.InstanceKey(), priv, err
		},
		WebFingerScheme: webFingerScheme(s.Config.PublicURL),
	}
	deps := s.withInbox(app.FederationDeps{
		Reads: postgres.NewReadModel(s.Pool), Keys: keys, Generator: gen,
		RemoteActors: postgres.NewRemoteActors(s.Pool), Fetcher: fetcher,
	}, fetcher)
	s.fed = &federationParts{keys: gen, client: client, deps: deps, app: app.NewFederation(deps)}
	return s.fed
}

// webFingerScheme is https, except for an instance that itself runs on
// plain http (a test network): its peers are assumed to as well.
func webFingerScheme(publicURL string) string {
	if strings.HasPrefix(publicURL, "http://") {
		return "http"
	}
	return "https"
}

// activityPub is the ActivityPub port on the service's application.
func (s *Service) activityPub() (*activitypub.Server, error) {
	return activitypub.New(activitypub.Config{
		App: s.App, Federation: s.federation().app, PublicURL: s.Config.PublicURL, Logger: s.Log,
		Software:          activitypub.Software{Name: "thoughts", Version: version(), Repository: "https://github.com/thoughts-project/thoughts"},
		OpenRegistrations: true,
		Verifier:          s.signatureVerifier(), HostHealth: postgres.NewDeliveries(s.Pool),
	})
}

// StartKeyBackfill gives every user without a signing key one, in the
// background, so start-up is not held up by key generation (each key is
// tens to hundreds of milliseconds of CPU: 10,000 users take one core for
// minutes). Users the backfill has not reached get theirs on first use.
// Of several processes starting together only one backfills (a session
// advisory lock); the others would only repeat its work and throw their keys
// away. Close stops it.
func (s *Service) StartKeyBackfill(ctx context.Context) {
	f := s.federation()
	if f.cancel != nil {
		return
	}
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f.backfill.Go(func() {
		// The lock's session is a connection of its own, not one of the
		// pool's: the backfill's work takes connections from the pool, and
		// holding one of them while waiting for another could wait for ever
		// on a pool whose other connections are held by callers waiting in
		// turn for one.
		conn, err := pgx.ConnectConfig(ctx, s.Pool.Config().ConnConfig.Copy())
		if err != nil {
			s.Log.WarnContext(ctx, "key backfill not started; users without a key get one on first use", "err", err)
			return
		}
		defer conn.Close(context.WithoutCancel(ctx)) // ends the session, and with it the lock
		var mine bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, keyBackfillLock).Scan(&mine); err != nil || !mine {
			if err != nil {
				s.Log.WarnContext(ctx, "key backfill not started; users without a key get one on first use", "err", err)
			}
			return
		}
		start := time.Now()
		n, err := f.app.BackfillUserKeys.Handle(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.Log.ErrorContext(ctx, "key backfill stopped; users without a key get one on first use", "keys", n, "err", err)
		case n > 0:
			s.Log.InfoContext(ctx, "key backfill done", "keys", n, "duration", time.Since(start))
		}
	})
}

// keyBackfillLock is the advisory lock the key backfill holds ("keysfill").
const keyBackfillLock int64 = 0x6b657973_66696c6c

// stopFederation stops the key backfill and waits for it.
func (s *Service) stopFederation() {
	if s.fed != nil && s.fed.cancel != nil {
		s.fed.cancel()
		s.fed.backfill.Wait()
	}
}
