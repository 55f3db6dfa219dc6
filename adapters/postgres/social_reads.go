package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// Relationship reports how viewer stands with other.
func (r *ReadModel) Relationship(ctx context.Context, viewer, other uuid.UUID) (domain.Relationship, error) {
	return relationship(ctx, r.pool, viewer, other)
}

// userList runs a keyset-paginated list of users: from joins users u to the
// table whose column cursor orders the list, conds filter it ($1 is owner).
func (r *ReadModel) userList(ctx context.Context, from, cursor string, conds []string, owner uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	where, tail, args := keyset(page, cursor, conds, []any{owner})
	rows, err := r.pool.Query(ctx, `SELECT `+cursor+`, u.id, `+acct("u")+`, u.display_name FROM `+from+where+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (query.ListedUser, error) {
		var l query.ListedUser
		err := row.Scan(&l.Cursor, &l.ID, &l.Username, &l.DisplayName)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("scan users: %w", err)
	}
	if page.Ascending() {
		reverse(list)
	}
	return list, nil
}

// Followers lists accepted followers of userID.
func (r *ReadModel) Followers(ctx context.Context, userID uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	return r.userList(ctx, `follows f JOIN users u ON u.id = f.follower_id`, "f.id",
		[]string{"f.following_id = $1", "f.state = 'accepted'"}, userID, page)
}

// Following lists the accounts userID follows.
func (r *ReadModel) Following(ctx context.Context, userID uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	return r.userList(ctx, `follows f JOIN users u ON u.id = f.following_id`, "f.id",
		[]string{"f.follower_id = $1", "f.state = 'accepted'"}, userID, page)
}

// FollowRequests lists pending requests to follow userID.
func (r *ReadModel) FollowRequests(ctx context.Context, userID uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	return r.userList(ctx, `follows f JOIN users u ON u.id = f.follower_id`, "f.id",
		[]string{"f.following_id = $1", "f.state = 'pending'"}, userID, page)
}

// Blocks lists the accounts userID blocks.
func (r *ReadModel) Blocks(ctx context.Context, userID uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	return r.userList(ctx, `blocks b JOIN users u ON u.id = b.blocked_id`, "b.id",
		[]string{"b.blocker_id = $1"}, userID, page)
}

// LikedBy lists who liked the thought.
func (r *ReadModel) LikedBy(ctx context.Context, thoughtID uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	return r.userList(ctx, `likes l JOIN users u ON u.id = l.user_id`, "l.id",
		[]string{"l.thought_id = $1"}, thoughtID, page)
}

// BoostedBy lists who boosted the thought.
func (r *ReadModel) BoostedBy(ctx context.Context, thoughtID uuid.UUID, page domain.Page) ([]query.ListedUser, error) {
	return r.userList(ctx, `boosts b JOIN users u ON u.id = b.user_id`, "b.id",
		[]string{"b.thought_id = $1"}, thoughtID, page)
}

// TopFriends lists userID's top friends in order.
func (r *ReadModel) TopFriends(ctx context.Context, userID uuid.UUID) ([]query.UserSummary, error) {
	rows, err := r.pool.Query(ctx, `SELECT u.id, `+acct("u")+`, u.display_name
		FROM top_friends tf JOIN users u ON u.id = tf.friend_id WHERE tf.user_id = $1 ORDER BY tf.position`, userID)
	if err != nil {
		return nil, fmt.Errorf("list top friends: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanSummary)
	if err != nil {
		return nil, fmt.Errorf("scan top friends: %w", err)
	}
	return list, nil
}

func scanSummary(row pgx.CollectableRow) (query.UserSummary, error) {
	var u query.UserSummary
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName)
	return u, err
}
