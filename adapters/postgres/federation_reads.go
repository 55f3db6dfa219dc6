package postgres

import (
	"context"

	"github.com/google/uuid"
)

// FollowerOnHost returns a live account of host following userID.
func (m *ReadModel) FollowerOnHost(ctx context.Context, userID uuid.UUID, host string) (uuid.UUID, error) {
	var id uuid.UUID
	err := m.pool.QueryRow(ctx, `SELECT f.follower_id FROM follows f JOIN users u ON u.id = f.follower_id
		WHERE f.following_id = $1 AND f.state = 'accepted' AND u.host = $2 AND u.deleted_at IS NULL LIMIT 1`,
		userID, host).Scan(&id)
	if err != nil {
		return uuid.Nil, notFound(err, "follower")
	}
	return id, nil
}
