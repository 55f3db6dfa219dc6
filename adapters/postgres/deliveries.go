package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// Deliveries is the durable delivery queue and the hosts registry
// (deliveries, federation_hosts).
type Deliveries struct{ pool *pgxpool.Pool }

// NewDeliveries returns the queue on pool.
func NewDeliveries(pool *pgxpool.Pool) Deliveries { return Deliveries{pool: pool} }

var (
	_ command.DeliveryQueue = Deliveries{}
	_ command.HostHealth    = Deliveries{}
)

// Claim leases due deliveries. The candidates are locked with SKIP LOCKED
// (another worker's candidates are passed over, not waited for), then cut
// to the per-host caps: a host at its cap, unavailable, or with its breaker
// open is not even a candidate, so its backlog never holds up other hosts.
func (q Deliveries) Claim(ctx context.Context, r command.ClaimRequest) ([]command.ClaimedDelivery, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	hosts := make([]string, 0, len(r.InFlight))
	counts := make([]int32, 0, len(r.InFlight))
	for h, n := range r.InFlight {
		hosts = append(hosts, h)
		counts = append(counts, int32(n))
	}
	rows, err := q.pool.Query(ctx, `WITH busy AS (
			SELECT host, n FROM unnest($1::text[], $2::int[]) AS b (host, n)
		), candidates AS (
			SELECT d.id, d.host, d.next_attempt_at FROM deliveries d
			WHERE d.state = 'pending' AND d.next_attempt_at <= $3
				AND (d.leased_until IS NULL OR d.leased_until < $3)
				AND NOT EXISTS (SELECT 1 FROM federation_hosts h WHERE h.host = d.host
					AND (h.state = 'unavailable' OR h.open_until > $3))
				-- a host with no room left (its cap: PerHost, or 1 while its
				-- breaker has tripped) is not a candidate: its backlog must
				-- not fill the window and starve other hosts
				AND NOT EXISTS (SELECT 1 FROM busy b LEFT JOIN federation_hosts h ON h.host = b.host
					WHERE b.host = d.host
						AND b.n >= CASE WHEN coalesce(h.consecutive_failures, 0) >= $6 THEN 1 ELSE $4 END)
			ORDER BY d.next_attempt_at
			LIMIT $5 * 4
			FOR UPDATE OF d SKIP LOCKED
		), ranked AS (
			SELECT c.id, c.next_attempt_at,
				row_number() OVER (PARTITION BY c.host ORDER BY c.next_attempt_at, c.id) AS rn,
				CASE WHEN coalesce(h.consecutive_failures, 0) >= $6 THEN 1 ELSE $4 END - coalesce(b.n, 0) AS room
			FROM candidates c
			LEFT JOIN federation_hosts h ON h.host = c.host
			LEFT JOIN busy b ON b.host = c.host
		), chosen AS (
			SELECT id FROM ranked WHERE rn <= room ORDER BY next_attempt_at, id LIMIT $5
		)
		UPDATE deliveries d SET leased_until = $7
		FROM chosen, outbound_activities a
		WHERE d.id = chosen.id AND a.event_id = d.event_id
		RETURNING d.id, d.event_id, d.inbox, d.host, d.attempts, d.created_at, a.activity_type, a.activity_iri,
			a.payload, a.actor_id`,
		hosts, counts, r.Now, r.PerHost, r.Limit, max(r.BreakerThreshold, 1), r.Now.Add(r.Lease))
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (command.ClaimedDelivery, error) {
		var c command.ClaimedDelivery
		err := row.Scan(&c.ID, &c.EventID, &c.Inbox, &c.Host, &c.Attempts, &c.CreatedAt, &c.ActivityType, &c.ActivityIRI,
			&c.Payload, &c.ActorID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// Release gives a claimed delivery back.
func (q Deliveries) Release(ctx context.Context, id int64) error {
	if _, err := q.pool.Exec(ctx, `UPDATE deliveries SET leased_until = NULL WHERE id = $1 AND state = 'pending'`, id); err != nil {
		return fmt.Errorf("release delivery %d: %w", id, err)
	}
	return nil
}

// Record stores an attempt and the host's health. A success to a healthy
// host (the common case) is two statements and locks the host's row only
// for an instant; a failure updates the host in one transaction with the
// delivery, under the host row's lock (failures of one host are counted
// one at a time).
func (q Deliveries) Record(ctx context.Context, a command.DeliveryAttempt, p domain.HostPolicy) error {
	var status *int
	if a.Status != 0 {
		status = &a.Status
	}
	var next any = a.Next
	if a.State != domain.DeliveryPending {
		next = nil
	}
	const update = `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = $2::timestamptz,
			last_status = $3::int, last_error = $4::text, state = $5::text, leased_until = NULL,
			next_attempt_at = coalesce($6::timestamptz, next_attempt_at),
			done_at = CASE WHEN $5::text = 'pending' THEN NULL ELSE $2::timestamptz END
		WHERE id = $1 AND state = 'pending'`
	if a.HostUp && !a.HostFault && a.HostPauseUntil.IsZero() {
		if _, err := q.pool.Exec(ctx, update, a.ID, a.At, status, a.Error, a.State, next); err != nil {
			return fmt.Errorf("record delivery %d: %w", a.ID, err)
		}
		// Written only when there is news: a failure streak ends, or the
		// last success is over a second old (the hosts view's precision).
		if _, err := q.pool.Exec(ctx, `INSERT INTO federation_hosts AS h (host, last_success_at) VALUES ($1, $2)
			ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, failure_days = 0, last_failure_day = NULL,
				open_until = NULL, last_success_at = $2
			WHERE h.consecutive_failures > 0 OR h.failure_days > 0 OR h.open_until IS NOT NULL
				OR h.last_success_at IS NULL OR h.last_success_at < $2::timestamptz - interval '1 second'`, a.Host, a.At); err != nil {
			return fmt.Errorf("record success of host %s: %w", a.Host, err)
		}
		return nil
	}
	return pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, update, a.ID, a.At, status, a.Error, a.State, next); err != nil {
			return fmt.Errorf("record delivery %d: %w", a.ID, err)
		}
		return recordHost(ctx, tx, a, status, p)
	})
}

func recordHost(ctx context.Context, tx pgx.Tx, a command.DeliveryAttempt, status *int, p domain.HostPolicy) error {
	if _, err := tx.Exec(ctx, `INSERT INTO federation_hosts (host) VALUES ($1) ON CONFLICT DO NOTHING`, a.Host); err != nil {
		return fmt.Errorf("register host %s: %w", a.Host, err)
	}
	var h struct {
		consecutive, days int
		lastDay           *time.Time
		state             string
	}
	if err := tx.QueryRow(ctx, `SELECT consecutive_failures, failure_days, last_failure_day, state FROM federation_hosts
		WHERE host = $1 FOR UPDATE`, a.Host).Scan(&h.consecutive, &h.days, &h.lastDay, &h.state); err != nil {
		return fmt.Errorf("load host %s: %w", a.Host, err)
	}
	var pause *time.Time
	if !a.HostPauseUntil.IsZero() {
		pause = &a.HostPauseUntil
	}
	switch {
	case a.HostFault:
		h.consecutive++
		day := a.At.UTC().Truncate(24 * time.Hour)
		if h.lastDay == nil || !h.lastDay.UTC().Equal(day) {
			h.days++
		}
		if c := p.Cooldown(h.consecutive); c > 0 {
			until := a.At.Add(c)
			if pause == nil || until.After(*pause) {
				pause = &until
			}
		}
		unavailable := h.days >= p.UnavailableDays
		if _, err := tx.Exec(ctx, `UPDATE federation_hosts SET consecutive_failures = $2::int, failure_days = $3::int,
				last_failure_day = $4::date, open_until = $5::timestamptz, last_failure_at = $6::timestamptz,
				last_status = $7::int, last_error = $8::text,
				state = CASE WHEN $9::bool THEN 'unavailable' ELSE state END,
				unavailable_since = CASE WHEN $9::bool AND state <> 'unavailable' THEN $6::timestamptz ELSE unavailable_since END
			WHERE host = $1`, a.Host, h.consecutive, h.days, day, pause, a.At, status, a.Error, unavailable); err != nil {
			return fmt.Errorf("record failure of host %s: %w", a.Host, err)
		}
		if unavailable {
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'failed', done_at = $2::timestamptz, leased_until = NULL,
					last_error = 'given up: host unavailable (failed on ' || $3::text || ' separate days); last error: ' || last_error
				WHERE host = $1 AND state = 'pending'`, a.Host, a.At, fmt.Sprint(h.days)); err != nil {
				return fmt.Errorf("fail deliveries to unavailable host %s: %w", a.Host, err)
			}
		}
	case a.HostUp:
		if _, err := tx.Exec(ctx, `UPDATE federation_hosts SET consecutive_failures = 0, failure_days = 0,
				last_failure_day = NULL, open_until = $2::timestamptz, last_success_at = $3::timestamptz
			WHERE host = $1`, a.Host, pause, a.At); err != nil {
			return fmt.Errorf("record success of host %s: %w", a.Host, err)
		}
	case pause != nil:
		if _, err := tx.Exec(ctx, `UPDATE federation_hosts SET open_until = greatest(open_until, $2::timestamptz) WHERE host = $1`,
			a.Host, pause); err != nil {
			return fmt.Errorf("pause host %s: %w", a.Host, err)
		}
	}
	return nil
}

// MarkAlive makes host available again and closes its breaker: it sent us
// a valid signed request. A host delivery knows nothing bad of is left
// alone (one indexed read).
func (q Deliveries) MarkAlive(ctx context.Context, host string) error {
	if _, err := q.pool.Exec(ctx, `UPDATE federation_hosts SET state = 'available', unavailable_since = NULL,
			consecutive_failures = 0, failure_days = 0, last_failure_day = NULL, open_until = NULL
		WHERE host = lower($1) AND (state = 'unavailable' OR consecutive_failures > 0)`, host); err != nil {
		return fmt.Errorf("mark host %s alive: %w", host, err)
	}
	return nil
}

// ClearHost is the operator's MarkAlive; ErrNotFound if delivery knows no
// such host.
func (q Deliveries) ClearHost(ctx context.Context, host string) error {
	tag, err := q.pool.Exec(ctx, `UPDATE federation_hosts SET state = 'available', unavailable_since = NULL,
			consecutive_failures = 0, failure_days = 0, last_failure_day = NULL, open_until = NULL
		WHERE host = lower($1)`, host)
	if err != nil {
		return fmt.Errorf("clear host %s: %w", host, err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "no host %s", host)
	}
	return nil
}

// Hosts lists every host delivery knows, with its pending deliveries.
func (q Deliveries) Hosts(ctx context.Context) ([]domain.FederationHost, error) {
	rows, err := q.pool.Query(ctx, `WITH known AS (
			SELECT host FROM federation_hosts UNION SELECT DISTINCT host FROM deliveries WHERE state = 'pending'
		)
		SELECT k.host, coalesce(h.state, 'available'), coalesce(h.consecutive_failures, 0), coalesce(h.failure_days, 0),
			h.open_until, h.last_success_at, h.last_failure_at, coalesce(h.last_status, 0), coalesce(h.last_error, ''),
			h.unavailable_since,
			(SELECT count(*) FROM deliveries d WHERE d.host = k.host AND d.state = 'pending')
		FROM known k LEFT JOIN federation_hosts h ON h.host = k.host ORDER BY k.host`)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.FederationHost, error) {
		var h domain.FederationHost
		err := r.Scan(&h.Host, &h.State, &h.ConsecutiveFailures, &h.FailureDays, &h.OpenUntil, &h.LastSuccessAt,
			&h.LastFailureAt, &h.LastStatus, &h.LastError, &h.UnavailableSince, &h.Pending)
		return h, err
	})
}

// HostCounts counts hosts by state for the metrics: available, open (breaker
// open now) and unavailable.
func (q Deliveries) HostCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{"available": 0, "open": 0, "unavailable": 0}
	rows, err := q.pool.Query(ctx, `SELECT CASE WHEN state = 'unavailable' THEN 'unavailable'
			WHEN open_until > now() THEN 'open' ELSE 'available' END, count(*)
		FROM federation_hosts GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("count hosts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PendingCount counts deliveries not yet done.
func (q Deliveries) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := q.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE state = 'pending'`).Scan(&n)
	return n, err
}

// ThoughtDeliveries lists the deliveries of the activities the author made
// about a thought (its Create, Updates, Delete), newest activity first.
func (q Deliveries) ThoughtDeliveries(ctx context.Context, authorID, thoughtID uuid.UUID) ([]domain.Delivery, error) {
	rows, err := q.pool.Query(ctx, `SELECT d.id, d.event_id, a.activity_type, d.inbox, d.host, d.state, d.attempts,
			coalesce(d.last_status, 0), d.last_error, d.last_attempt_at,
			CASE WHEN d.state = 'pending' THEN d.next_attempt_at END, d.done_at, d.created_at
		FROM deliveries d JOIN outbound_activities a ON a.event_id = d.event_id
		WHERE a.thought_id = $1 AND a.actor_id = $2 AND a.kind = 'sent'
		ORDER BY a.occurred_at DESC, d.host, d.inbox`, thoughtID, authorID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", thoughtID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Delivery, error) {
		var d domain.Delivery
		err := r.Scan(&d.ID, &d.EventID, &d.ActivityType, &d.Inbox, &d.Host, &d.State, &d.Attempts, &d.LastStatus,
			&d.LastError, &d.LastAttemptAt, &d.NextAttemptAt, &d.DoneAt, &d.CreatedAt)
		return d, err
	})
}

// ThoughtAuthor returns the author of a thought, or ErrNotFound.
func (q Deliveries) ThoughtAuthor(ctx context.Context, thoughtID uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.pool.QueryRow(ctx, `SELECT author_id FROM thoughts WHERE id = $1`, thoughtID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("load thought %s: %w", thoughtID, err)
	}
	return id, nil
}

// OutboundReads serves query.OutboundReads: profiles from the read model,
// deliveries from the queue.
type OutboundReads struct {
	*ReadModel
	Deliveries
}

// NewOutboundReads returns the reads on pool.
func NewOutboundReads(pool *pgxpool.Pool) OutboundReads {
	return OutboundReads{ReadModel: NewReadModel(pool), Deliveries: NewDeliveries(pool)}
}

var _ query.OutboundReads = OutboundReads{}
