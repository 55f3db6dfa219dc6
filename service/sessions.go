package service

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/ports/httpapi"
)

// sessionsChannel is where the database announces revoked sessions
// (migration 00013: a trigger on sessions.revoked_at).
const sessionsChannel = "thoughts_sessions"

// listenForRevocations keeps api's cache of live sessions in step with
// revocations made anywhere (another API process, an operator): it LISTENs on
// sessionsChannel and drops each session announced. The API uses its cache
// only while this listens (API.SessionsAnnounced): on losing its connection
// it turns the cache off (announcements may be missed meanwhile: every
// request's session is looked up) and reconnects. ready is closed once it
// listens the first time.
func (s *Service) listenForRevocations(ctx context.Context, api *httpapi.API, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, api, ready)
		ready = nil
		if ctx.Err() != nil {
			return
		}
		api.SessionsAnnounced(false)
		s.Log.WarnContext(ctx, "session revocation listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Service) listenOnce(ctx context.Context, api *httpapi.API, ready chan<- struct{}) error {
	conn, err := pgx.Connect(ctx, s.Config.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+sessionsChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Whatever was revoked before LISTEN took effect is not announced to us:
	// the cache starts empty.
	api.SessionsAnnounced(true)
	if ready != nil {
		close(ready)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := uuid.Parse(n.Payload); err == nil {
			api.ForgetSession(id)
		}
	}
}
