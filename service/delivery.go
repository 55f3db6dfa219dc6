package service

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/federation"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/vocab"
	"github.com/thoughts-project/thoughts/ports/metrics"
)

// DeliveryConfig tunes federation delivery. Zero fields take the defaults
// of federation.DelivererConfig and of domain's DefaultRetrySchedule and
// DefaultHostPolicy.
//
//	DELIVERY_CONCURRENCY      deliveries in flight per process (16)
//	DELIVERY_PER_HOST         of those, to one host at most (4)
//	DELIVERY_TIMEOUT          bound of one POST (30s)
//	DELIVERY_RETRY_FOR        how long a delivery is retried (48h)
//	DELIVERY_BACKOFF_INITIAL  first pause (30s); then doubling…
//	DELIVERY_BACKOFF_MAX      …up to this (6h)
type DeliveryConfig struct {
	Concurrency int
	PerHost     int
	Timeout     time.Duration
	// Poll is how often due deliveries are looked for without a wake-up
	// (not read from the environment: tests shorten it).
	Poll     time.Duration
	Schedule domain.RetrySchedule
	// Hosts is the breaker and unavailability policy (not read from the
	// environment: tests compress it).
	Hosts domain.HostPolicy
	// Off runs no delivery worker in this process (tests that look at the
	// queue itself).
	Off bool
}

func loadDeliveryConfig(get func(name, def string) string, getenv func(string) string, errs []error) (DeliveryConfig, []error) {
	d := DeliveryConfig{Schedule: domain.DefaultRetrySchedule()}
	ints := []struct {
		name string
		into *int
		max  int
	}{{"DELIVERY_CONCURRENCY", &d.Concurrency, 1024}, {"DELIVERY_PER_HOST", &d.PerHost, 256}}
	for _, v := range ints {
		if s := get(v.name, ""); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > v.max {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number from 1 to %d", v.name, getenv(v.name), v.max))
			}
			*v.into = n
		}
	}
	durations := []struct {
		name string
		into *time.Duration
	}{
		{"DELIVERY_TIMEOUT", &d.Timeout}, {"DELIVERY_RETRY_FOR", &d.Schedule.RetryFor},
		{"DELIVERY_BACKOFF_INITIAL", &d.Schedule.Initial}, {"DELIVERY_BACKOFF_MAX", &d.Schedule.Max},
	}
	for _, v := range durations {
		if s := get(v.name, ""); s != "" {
			t, err := time.ParseDuration(s)
			if err != nil || t <= 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive duration", v.name, getenv(v.name)))
				continue
			}
			*v.into = t
		}
	}
	if !d.Schedule.Valid() {
		errs = append(errs, fmt.Errorf("DELIVERY_BACKOFF_MAX: must be at least DELIVERY_BACKOFF_INITIAL"))
	}
	return d, errs
}

// remoteAccounts resolves name@host through the federation use cases.
func (s *Service) remoteAccounts() command.RemoteAccounts {
	return command.ResolvingAccounts{Resolve: s.federation().app.ResolveRemoteActor}
}

// withFederation adds what the API's application needs to federate:
// remote account resolution, IRIs, and the delivery reads.
func (s *Service) withFederation(d app.Deps) app.Deps {
	d.RemoteAccounts = s.remoteAccounts()
	d.PublicURL = s.Config.PublicURL
	d.Outbound = postgres.NewOutboundReads(s.Pool)
	return d
}

// deliveryParts are the running delivery worker and its wake-up listener.
type deliveryParts struct {
	deliverer *federation.Deliverer
	pool      *pgxpool.Pool
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// startDelivery starts the delivery worker beside the router: it posts what
// the federation handler enqueues, woken by the enqueue's NOTIFY (and a
// poll, for retries coming due).
func (s *Service) startDelivery(ctx context.Context) error {
	if s.Config.Delivery.Off || s.delivery != nil {
		return nil
	}
	m, err := metrics.NewDelivery(s.Metrics, postgres.NewDeliveries(s.Pool))
	if err != nil {
		return fmt.Errorf("delivery metrics: %w", err)
	}
	c := s.Config.Delivery
	// The worker's own pool, committing without waiting for the WAL flush:
	// a record lost in a crash only means the delivery is attempted again
	// (at least once; receivers de-duplicate by activity id), and waiting
	// for a flush per attempt would bound deliveries by the disk.
	pcfg := s.Pool.Config()
	pcfg.MaxConns, pcfg.MinConns = int32(max(c.Concurrency, 16)/2+2), 0
	pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("create delivery pool: %w", err)
	}
	d := &federation.Deliverer{
		Queue:  postgres.NewDeliveries(pool),
		Client: s.federation().client,
		Keys:   s.signingKeys(),
		Config: federation.DelivererConfig{Concurrency: c.Concurrency, PerHost: c.PerHost, Timeout: c.Timeout,
			Poll: c.Poll, Schedule: c.Schedule, Hosts: c.Hosts},
		Logger:  s.Log.With("component", "delivery"),
		Observe: m.Observe,
	}
	p := &deliveryParts{deliverer: d, pool: pool}
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan struct{})
	p.wg.Go(func() { s.listenForDeliveries(ctx, d, ready) })
	p.wg.Go(func() {
		if err := d.Run(ctx); err != nil {
			s.Log.ErrorContext(ctx, "delivery worker stopped", "err", err)
		}
	})
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		s.Log.WarnContext(ctx, "delivery wake-up listener not ready; polling meanwhile")
	}
	s.delivery = p
	s.Log.InfoContext(ctx, "delivery worker running", "concurrency", d.Config.Concurrency)
	return nil
}

// stopDelivery stops the worker: attempts in flight are cut short and their
// deliveries released for the next run.
func (s *Service) stopDelivery() {
	if s.delivery == nil {
		return
	}
	s.delivery.cancel()
	s.delivery.wg.Wait()
	s.delivery.pool.Close()
	s.delivery = nil
}

// listenForDeliveries wakes d whenever a transaction that enqueued
// deliveries commits, in any process. ready is closed once it listens.
func (s *Service) listenForDeliveries(ctx context.Context, d *federation.Deliverer, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pgx.Connect(ctx, s.Config.DatabaseURL)
			if err != nil {
				return fmt.Errorf("connect: %w", err)
			}
			defer conn.Close(context.WithoutCancel(ctx))
			if _, err := conn.Exec(ctx, "LISTEN "+postgres.DeliveriesChannel); err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			if ready != nil {
				close(ready)
				ready = nil
			}
			d.Notify() // whatever was announced before LISTEN
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				d.Notify()
			}
		}()
		if ctx.Err() != nil {
			return
		}
		s.Log.WarnContext(ctx, "delivery listener lost its connection; polling until it is back", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// signingKeys returns each local actor's key (made on first need), parsed
// once per process: parsing an RSA key costs more than signing with it.
func (s *Service) signingKeys() federation.SigningKeys {
	type entry struct {
		keyID string
		key   crypto.PrivateKey
	}
	var cache sync.Map
	store := postgres.NewOutbound(s.Pool)
	iris := vocab.IRIs{Base: s.Config.PublicURL}
	return func(ctx context.Context, actorID uuid.UUID) (string, crypto.PrivateKey, error) {
		if e, ok := cache.Load(actorID); ok {
			return e.(entry).keyID, e.(entry).key, nil
		}
		u, err := store.Account(ctx, actorID)
		if err != nil {
			return "", nil, err
		}
		if u.Remote() {
			return "", nil, fmt.Errorf("account %s is remote: we cannot sign for it", actorID)
		}
		k, err := s.federation().app.EnsureUserKey.Handle(ctx, actorID)
		if err != nil {
			return "", nil, err
		}
		priv, err := federation.ParsePrivateKey(k.PrivateKeyPEM)
		if err != nil {
			return "", nil, fmt.Errorf("key of %s: %w", u.Username, err)
		}
		e := entry{keyID: iris.Key(u.Username), key: priv}
		cache.Store(actorID, e)
		return e.keyID, e.key, nil
	}
}

const federationUsage = `usage: thoughts federation hosts              list remote hosts: state, last success, last error, pending deliveries
       thoughts federation hosts clear HOST   make an unavailable host available again (and close its breaker)`

// Federation is the `thoughts federation` operator command.
func Federation(ctx context.Context, cfg Config, logger *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "hosts" || (len(args) != 1 && !(len(args) == 3 && args[1] == "clear")) {
		return errors.New(federationUsage)
	}
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	if pending, err := postgres.MigrationsPending(ctx, pool); err != nil {
		return err
	} else if pending {
		return errors.New("DATABASE_URL: database migrations are pending; run `thoughts migrate` first")
	}
	q := postgres.NewDeliveries(pool)
	if len(args) == 3 {
		if err := q.ClearHost(ctx, args[2]); err != nil {
			return err
		}
		logger.InfoContext(ctx, "federation host cleared by operator", "host", args[2])
		_, err := fmt.Fprintf(out, "%s: available\n", args[2])
		return err
	}
	hosts, err := q.Hosts(ctx)
	if err != nil {
		return err
	}
	return printHosts(out, hosts, time.Now())
}

func printHosts(out io.Writer, hosts []domain.FederationHost, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HOST\tSTATE\tPENDING\tFAILURES\tLAST SUCCESS\tLAST FAILURE\tLAST ERROR")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, h := range hosts {
		state := h.State
		if state == domain.HostAvailable && h.OpenUntil != nil && h.OpenUntil.After(now) {
			state = "open until " + h.OpenUntil.UTC().Format(time.RFC3339)
		}
		lastErr := h.LastError
		if h.LastStatus != 0 && lastErr == "" {
			lastErr = "HTTP " + strconv.Itoa(h.LastStatus)
		}
		if len(lastErr) > 80 {
			lastErr = lastErr[:77] + "..."
		}
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d in a row, %d days\t%s\t%s\t%s\n", h.Host, state, h.Pending, h.ConsecutiveFailures,
			h.FailureDays, stamp(h.LastSuccessAt), stamp(h.LastFailureAt), lastErr)
	}
	return w.Flush()
}
