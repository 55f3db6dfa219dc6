package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/postgres"
)

// TestPruneNotifications: read notifications go after the read horizon,
// every one after the overall horizon, by the time they were stored (their
// UUIDv7 id); newer ones and unread ones inside the overall horizon stay;
// batches smaller than the work still delete all of it.
func TestPruneNotifications(t *testing.T) {
	t.Parallel()
	f := newNotificationFixture(t)
	alice, bob := f.user("alice"), f.user("bob")
	now := time.Now()
	add := func(storedAgo time.Duration, read bool) uuid.UUID {
		t.Helper()
		id := v7At(now.Add(-storedAgo))
		var readAt *time.Time
		if read {
			readAt = &now
		}
		f.exec(`INSERT INTO notifications (id, event_id, type, recipient_id, actor_id, created_at, read_at)
			VALUES ($1, $2, 'follow', $3, $4, $5, $6)`, id, uuid.New(), alice, bob, now.Add(-storedAgo), readAt)
		return id
	}
	day := 24 * time.Hour
	var keep, gone []uuid.UUID
	for range 7 {
		gone = append(gone, add(40*day, true))   // read, past the read horizon
		keep = append(keep, add(40*day, false))  // unread, inside the overall horizon
		keep = append(keep, add(10*day, true))   // read, inside the read horizon
		gone = append(gone, add(400*day, false)) // unread, past the overall horizon
		keep = append(keep, add(time.Minute, false))
	}
	n, err := postgres.PruneNotifications(context.Background(), f.db.Pool,
		postgres.NotificationRetention{Read: 30 * day, All: 365 * day}, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(gone)) {
		t.Errorf("deleted %d notifications, want %d", n, len(gone))
	}
	exists := func(id uuid.UUID) bool {
		var ok bool
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM notifications WHERE id = $1)`, id).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, id := range keep {
		if !exists(id) {
			t.Errorf("notification %s was deleted inside its retention", id)
		}
	}
	for _, id := range gone {
		if exists(id) {
			t.Errorf("notification %s outlived its retention", id)
		}
	}
	// A zero horizon keeps everything.
	if n, err := postgres.PruneNotifications(context.Background(), f.db.Pool, postgres.NotificationRetention{}, now.Add(1000*day), 3); err != nil || n != 0 {
		t.Errorf("with no retention set: deleted %d, %v; want nothing", n, err)
	}
}

// v7At is a UUIDv7 drawn at t.
func v7At(t time.Time) uuid.UUID {
	id := uuid.Must(uuid.NewV7())
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (8 * (5 - i)))
	}
	return id
}
