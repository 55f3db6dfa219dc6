package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/query"
)

// InstanceStats counts users, recently active posters and live thoughts.
// Thought IDs are UUIDv7, so "posted since t" is an ID range on the primary
// key rather than a scan by created_at.
func (r *ReadModel) InstanceStats(ctx context.Context, now time.Time) (query.InstanceStats, error) {
	var s query.InstanceStats
	err := r.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users WHERE host IS NULL AND deleted_at IS NULL),
		(SELECT count(DISTINCT author_id) FROM thoughts WHERE id >= $1 AND deleted_at IS NULL AND ap_iri IS NULL),
		(SELECT count(DISTINCT author_id) FROM thoughts WHERE id >= $2 AND deleted_at IS NULL AND ap_iri IS NULL),
		(SELECT count(*) FROM thoughts WHERE deleted_at IS NULL AND ap_iri IS NULL)`,
		uuidV7Floor(now.AddDate(0, 0, -30)), uuidV7Floor(now.AddDate(0, 0, -180))).
		Scan(&s.Users, &s.ActiveMonth, &s.ActiveHalfYear, &s.LocalPosts)
	if err != nil {
		return query.InstanceStats{}, fmt.Errorf("count instance stats: %w", err)
	}
	return s, nil
}

// uuidV7Floor is the smallest UUIDv7 made at t: every ID made at or after t
// sorts at or above it.
func uuidV7Floor(t time.Time) uuid.UUID {
	var u uuid.UUID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = 0x70 // version 7
	u[8] = 0x80 // RFC 4122 variant
	return u
}
