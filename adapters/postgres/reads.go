package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// ReadModel implements query.ReadModel, every narrow read interface of the
// query handlers, on the pool.
type ReadModel struct {
	pool *pgxpool.Pool
	// feedFewSources is the constant of that name; the feed tests vary it
	// (export_feed_test.go).
	feedFewSources int
}

// NewReadModel returns the read model.
func NewReadModel(pool *pgxpool.Pool) *ReadModel {
	return &ReadModel{pool: pool, feedFewSources: feedFewSources}
}

var _ query.ReadModel = (*ReadModel)(nil)

// viewColumns select a thought view from thoughts t joined with users u and
// thought_stats s (viewFrom); the viewer's liked/boosted flags read parameter
// $viewer (NULL for an anonymous viewer: both false).
func viewColumns(viewer int) string {
	p := "$" + strconv.Itoa(viewer) + "::uuid"
	return thoughtColumns + `, ` + acct("u") + `, u.display_name,
	` + repliesCount(viewer) + `, coalesce(s.likes_count, 0), coalesce(s.boosts_count, 0),
	EXISTS (SELECT 1 FROM likes vl WHERE vl.user_id = ` + p + ` AND vl.thought_id = t.id),
	EXISTS (SELECT 1 FROM boosts vb WHERE vb.user_id = ` + p + ` AND vb.thought_id = t.id)`
}

// repliesCount is the number of t's live replies the viewer ($viewer) may
// see. The stored counter holds the public and unlisted ones, which is the
// whole answer for an anonymous viewer; for a signed-in one, add the
// followers-only replies they may see and take off the public ones whose
// author blocks them. Both probes are index lookups that find nothing for
// almost every thought (thoughts_followers_replies_idx, blocks_blocked_idx).
func repliesCount(viewer int) string {
	p := "$" + strconv.Itoa(viewer) + "::uuid"
	return `coalesce(s.replies_count, 0) + CASE WHEN ` + p + ` IS NULL THEN 0 ELSE
		(SELECT count(*) FROM thoughts r WHERE r.in_reply_to_id = t.id
			AND r.visibility = 'followers' AND r.deleted_at IS NULL AND ` + visibleToAs("r", viewer) + `)
		- (SELECT count(*) FROM blocks rb JOIN thoughts r ON r.author_id = rb.blocker_id
			WHERE rb.blocked_id = ` + p + ` AND r.in_reply_to_id = t.id
				AND r.visibility <> 'followers' AND r.deleted_at IS NULL) END`
}

// viewFrom joins what viewColumns reads. Counters live in thought_stats
// (maintained by triggers); a thought without a row there has all zeros.
const viewFrom = ` FROM thoughts t JOIN users u ON u.id = t.author_id LEFT JOIN thought_stats s ON s.thought_id = t.id`

func scanView(row pgx.CollectableRow) (query.ThoughtView, error) {
	var v query.ThoughtView
	dest := append(thoughtDest(&v.Thought), &v.Author.Username, &v.Author.DisplayName,
		&v.RepliesCount, &v.LikesCount, &v.BoostsCount, &v.Liked, &v.Boosted)
	if err := row.Scan(dest...); err != nil {
		return query.ThoughtView{}, err
	}
	v.Author.ID = v.AuthorID
	return v, nil
}

func (r *ReadModel) views(ctx context.Context, sql string, args ...any) ([]query.ThoughtView, error) {
	rows, err := r.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("query thoughts: %w", err)
	}
	vs, err := pgx.CollectRows(rows, scanView)
	if err != nil {
		return nil, fmt.Errorf("scan thoughts: %w", err)
	}
	return vs, nil
}

// Plan cache modes for queryPlanned.
const (
	forceGenericPlan = "force_generic_plan"
	forceCustomPlan  = "force_custom_plan"
)

// queryPlanned runs sql under plan_cache_mode mode, in one round trip (a
// batch: SET LOCAL lasts for its implicit transaction). The feed statement is
// planned generically from its first execution on a connection rather than
// its sixth (five plannings of ~5 ms each, per connection and page shape, in
// the tail latency), and the search statement always for its parameters: its
// generic plan is hundreds of times slower for a frequent word.
func (r *ReadModel) queryPlanned(ctx context.Context, mode, sql string, args []any, read func(pgx.Rows) error) error {
	batch := &pgx.Batch{}
	batch.Queue(`SET LOCAL plan_cache_mode = ` + mode)
	batch.Queue(sql, args...).Query(read)
	return r.pool.SendBatch(ctx, batch).Close()
}

// UserByID loads a user.
func (r *ReadModel) UserByID(ctx context.Context, id uuid.UUID) (domain.User, error) {
	return Users{db: r.pool}.ByID(ctx, id)
}

// ProfileByUsername loads a public profile as viewer sees it: the thoughts
// count counts the live thoughts viewer may see.
func (r *ReadModel) ProfileByUsername(ctx context.Context, viewer query.Viewer, username string) (query.Profile, error) {
	var p query.Profile
	err := r.pool.QueryRow(ctx, `SELECT u.id, `+acct("u")+`, u.display_name, u.bio, u.locked, u.created_at,
		(SELECT count(*) FROM thoughts t WHERE t.author_id = u.id AND t.deleted_at IS NULL AND `+visibleTo(2)+`),
		(SELECT count(*) FROM follows f WHERE f.following_id = u.id AND f.state = 'accepted'),
		(SELECT count(*) FROM follows f WHERE f.follower_id = u.id AND f.state = 'accepted')
		FROM users u WHERE lower(u.username) = lower($1) AND u.host IS NULL AND u.deleted_at IS NULL`, username, viewer).
		Scan(&p.ID, &p.Username, &p.DisplayName, &p.Bio, &p.Locked, &p.CreatedAt, &p.Thoughts, &p.Followers, &p.Following)
	if err != nil {
		return query.Profile{}, notFound(err, "user")
	}
	if p.TopFriends, err = r.TopFriends(ctx, p.ID); err != nil {
		return query.Profile{}, err
	}
	return p, nil
}

// Thought loads a visible thought (tombstones included).
func (r *ReadModel) Thought(ctx context.Context, viewer query.Viewer, id uuid.UUID) (query.ThoughtView, error) {
	vs, err := r.views(ctx, `SELECT `+viewColumns(2)+viewFrom+` WHERE t.id = $1 AND `+visibleTo(2), id, viewer)
	if err != nil {
		return query.ThoughtView{}, err
	}
	if len(vs) == 0 {
		return query.ThoughtView{}, domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return vs[0], nil
}

// Ancestors walks up the reply chain, root first; invisible ancestors are skipped.
func (r *ReadModel) Ancestors(ctx context.Context, viewer query.Viewer, id uuid.UUID, limit int) ([]query.ThoughtView, error) {
	return r.views(ctx, `WITH RECURSIVE anc (id, depth) AS (
			SELECT in_reply_to_id, 1 FROM thoughts WHERE id = $1 AND in_reply_to_id IS NOT NULL
			UNION ALL
			SELECT p.in_reply_to_id, anc.depth + 1 FROM thoughts p JOIN anc ON p.id = anc.id
			WHERE p.in_reply_to_id IS NOT NULL AND anc.depth < $3
		)
		SELECT `+viewColumns(2)+viewFrom+` JOIN anc ON anc.id = t.id
		WHERE `+visibleTo(2)+` ORDER BY anc.depth DESC`, id, viewer, limit)
}

// maxThreadDepth bounds the recursive walk down a thread.
const maxThreadDepth = 200

// Descendants walks down the reply tree, oldest first; invisible replies are skipped.
func (r *ReadModel) Descendants(ctx context.Context, viewer query.Viewer, id uuid.UUID, limit int) ([]query.ThoughtView, error) {
	return r.views(ctx, `WITH RECURSIVE d (id, depth) AS (
			SELECT id, 1 FROM thoughts WHERE in_reply_to_id = $1
			UNION ALL
			SELECT c.id, d.depth + 1 FROM thoughts c JOIN d ON c.in_reply_to_id = d.id WHERE d.depth < $4
		)
		SELECT `+viewColumns(2)+viewFrom+` JOIN d ON d.id = t.id
		WHERE `+visibleTo(2)+` ORDER BY t.id LIMIT $3`, id, viewer, limit, maxThreadDepth)
}

// ThoughtsByAuthor lists an author's live, visible thoughts by keyset page.
func (r *ReadModel) ThoughtsByAuthor(ctx context.Context, viewer query.Viewer, authorID uuid.UUID, page domain.Page) ([]query.ThoughtView, error) {
	where, tail, args := keyset(page, "t.id",
		[]string{"t.author_id = $1", "t.deleted_at IS NULL", visibleTo(2)}, []any{authorID, viewer})
	vs, err := r.views(ctx, `SELECT `+viewColumns(2)+viewFrom+where+tail, args...)
	if err != nil {
		return nil, err
	}
	if page.Ascending() {
		reverse(vs)
	}
	return vs, nil
}

// APIKeysByUser lists a user's keys.
func (r *ReadModel) APIKeysByUser(ctx context.Context, userID uuid.UUID) ([]domain.APIKey, error) {
	return APIKeys{db: r.pool}.ListByUser(ctx, userID)
}

// ProfileByID loads any live account's profile, remote ones included (their
// username is name@host, their URL the actor's page).
func (r *ReadModel) ProfileByID(ctx context.Context, viewer query.Viewer, id uuid.UUID) (query.Profile, error) {
	var p query.Profile
	err := r.pool.QueryRow(ctx, `SELECT u.id, `+acct("u")+`, u.display_name, u.bio, u.locked, u.created_at,
		(SELECT count(*) FROM thoughts t WHERE t.author_id = u.id AND t.deleted_at IS NULL AND `+visibleTo(2)+`),
		(SELECT count(*) FROM follows f WHERE f.following_id = u.id AND f.state = 'accepted'),
		(SELECT count(*) FROM follows f WHERE f.follower_id = u.id AND f.state = 'accepted'),
		coalesce((SELECT coalesce(nullif(ra.url, ''), ra.iri) FROM remote_actors ra WHERE ra.iri = u.actor_iri), '')
		FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL`, id, viewer).
		Scan(&p.ID, &p.Username, &p.DisplayName, &p.Bio, &p.Locked, &p.CreatedAt, &p.Thoughts, &p.Followers, &p.Following, &p.URL)
	if err != nil {
		return query.Profile{}, notFound(err, "user")
	}
	if p.TopFriends, err = r.TopFriends(ctx, p.ID); err != nil {
		return query.Profile{}, err
	}
	return p, nil
}
