package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// NotificationRetention says how long notifications are kept, by the time
// they were stored (their id is a UUIDv7 drawn then). Zero keeps them.
type NotificationRetention struct {
	// Read: a notification the recipient has read goes this long after it
	// was stored.
	Read time.Duration
	// All: every notification, read or not, goes this long after it was
	// stored.
	All time.Duration
}

// PruneNotifications deletes the notifications r no longer keeps, at most
// batch rows per statement (each its own short transaction, followed by a
// pause as long as it took), and returns how many went.
func PruneNotifications(ctx context.Context, db querier, r NotificationRetention, now time.Time, batch int) (int64, error) {
	if batch <= 0 {
		return 0, errors.New("prune notifications: batch size must be positive")
	}
	var total int64
	for _, h := range []struct {
		keep time.Duration
		cond string
	}{
		// The predicate repeats the partial index's, so the planner uses it.
		{r.Read, "read_at IS NOT NULL AND id < $1"},
		{r.All, "id < $1"},
	} {
		if h.keep <= 0 {
			continue
		}
		before := uuidV7Floor(now.Add(-h.keep))
		for {
			start := time.Now()
			tag, err := db.Exec(ctx, `DELETE FROM notifications WHERE id IN (
				SELECT id FROM notifications WHERE `+h.cond+` ORDER BY id LIMIT $2)`, pgUUID(before), batch)
			if err != nil {
				return total, fmt.Errorf("prune notifications stored before %s: %w", now.Add(-h.keep).Format(time.RFC3339), err)
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < int64(batch) {
				break
			}
			// Work at most half the time, as pubsub.PruneTopic does.
			t := time.NewTimer(time.Since(start))
			select {
			case <-ctx.Done():
				t.Stop()
				return total, ctx.Err()
			case <-t.C:
			}
		}
	}
	return total, nil
}
