package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// Thoughts is the thought repository.
type Thoughts struct {
	db querier
	// lock makes ByID take a row lock, for use inside a command's transaction.
	lock bool
}

const thoughtColumns = `t.id, t.author_id, t.content, t.content_warning, t.sensitive, t.visibility,
	t.in_reply_to_id, t.in_reply_to_author_id, t.created_at, t.edited_at, t.deleted_at,
	coalesce(t.ap_iri, ''), coalesce(t.url, ''), coalesce(t.content_html, ''), coalesce(t.in_reply_to_iri, '')`

func thoughtDest(t *domain.Thought) []any {
	return []any{&t.ID, &t.AuthorID, &t.Content, &t.ContentWarning, &t.Sensitive, &t.Visibility,
		&t.InReplyToID, &t.InReplyToAuthorID, &t.CreatedAt, &t.EditedAt, &t.DeletedAt,
		&t.Remote.IRI, &t.Remote.URL, &t.Remote.ContentHTML, &t.Remote.InReplyToIRI}
}

// Create inserts a thought.
func (r Thoughts) Create(ctx context.Context, t domain.Thought) error {
	_, err := r.db.Exec(ctx, `INSERT INTO thoughts (id, author_id, content, content_warning, sensitive, visibility,
		in_reply_to_id, in_reply_to_author_id, created_at, edited_at, deleted_at,
		ap_iri, url, content_html, in_reply_to_iri)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11, nullif($12, ''), nullif($13, ''), nullif($14, ''), nullif($15, ''))`,
		t.ID, t.AuthorID, t.Content, t.ContentWarning, t.Sensitive, t.Visibility,
		t.InReplyToID, t.InReplyToAuthorID, t.CreatedAt, t.EditedAt, t.DeletedAt,
		t.Remote.IRI, t.Remote.URL, t.Remote.ContentHTML, t.Remote.InReplyToIRI)
	if err != nil {
		return fmt.Errorf("insert thought: %w", err)
	}
	return nil
}

// ByID loads a thought, tombstone or not.
func (r Thoughts) ByID(ctx context.Context, id uuid.UUID) (domain.Thought, error) {
	q := `SELECT ` + thoughtColumns + ` FROM thoughts t WHERE t.id = $1`
	if r.lock {
		q += ` FOR UPDATE`
	}
	var t domain.Thought
	if err := r.db.QueryRow(ctx, q, id).Scan(thoughtDest(&t)...); err != nil {
		return domain.Thought{}, notFound(err, "thought")
	}
	return t, nil
}

// VisibleTo loads a thought if viewer may see it.
func (r Thoughts) VisibleTo(ctx context.Context, viewer, id uuid.UUID) (domain.Thought, error) {
	var t domain.Thought
	err := r.db.QueryRow(ctx, `SELECT `+thoughtColumns+` FROM thoughts t WHERE t.id = $1 AND `+visibleTo(2), id, viewer).
		Scan(thoughtDest(&t)...)
	if err != nil {
		return domain.Thought{}, notFound(err, "thought")
	}
	return t, nil
}

// Update saves the mutable fields of t.
func (r Thoughts) Update(ctx context.Context, t domain.Thought) error {
	tag, err := r.db.Exec(ctx, `UPDATE thoughts SET content = $2, content_warning = $3, sensitive = $4,
		edited_at = $5, deleted_at = $6, content_html = nullif($7, ''), url = nullif($8, '') WHERE id = $1`,
		t.ID, t.Content, t.ContentWarning, t.Sensitive, t.EditedAt, t.DeletedAt, t.Remote.ContentHTML, t.Remote.URL)
	if err != nil {
		return fmt.Errorf("update thought: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.ErrNotFound, "thought not found")
	}
	return nil
}

// keyset appends the WHERE conditions and ORDER/LIMIT of page p on column col,
// binding values after args. Callers reverse rows when p.Ascending().
func keyset(p domain.Page, col string, conds []string, args []any) (where, tail string, outArgs []any) {
	bind := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if p.MaxID != nil {
		conds = append(conds, col+" < "+bind(*p.MaxID))
	}
	if p.SinceID != nil {
		conds = append(conds, col+" > "+bind(*p.SinceID))
	}
	order := col + " DESC"
	if p.MinID != nil {
		conds = append(conds, col+" > "+bind(*p.MinID))
		order = col + " ASC"
	}
	where = ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return where, " ORDER BY " + order + " LIMIT " + bind(p.Limit), args
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
