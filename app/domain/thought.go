package domain

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on thought content.
const (
	MaxContentLen        = 500
	MaxContentWarningLen = 200
)

// Visibility says who may read a thought.
type Visibility string

// The visibilities a thought may have.
const (
	VisibilityPublic    Visibility = "public"    // everyone, listed everywhere
	VisibilityUnlisted  Visibility = "unlisted"  // everyone with the link; kept out of public listings
	VisibilityFollowers Visibility = "followers" // the author and accepted followers
)

// ParseVisibility validates v; empty means public.
func ParseVisibility(v string) (Visibility, error) {
	switch Visibility(v) {
	case "":
		return VisibilityPublic, nil
	case VisibilityPublic, VisibilityUnlisted, VisibilityFollowers:
		return Visibility(v), nil
	}
	return "", Invalid("visibility", "must be one of public, unlisted, followers")
}

// Thought is a short post. A deleted thought stays as a tombstone: its content is
// cleared and DeletedAt set, so replies keep their parent and the deletion can
// federate.
type Thought struct {
	ID             uuid.UUID
	AuthorID       uuid.UUID
	Content        string
	ContentWarning string
	Sensitive      bool
	Visibility     Visibility
	InReplyToID    *uuid.UUID
	// InReplyToAuthorID is the parent's author, when there is a parent.
	InReplyToAuthorID *uuid.UUID
	CreatedAt         time.Time
	EditedAt          *time.Time
	DeletedAt         *time.Time
	// Remote is set on a thought of a remote account (a Note we received).
	Remote RemoteNote
}

// RemoteNote is what a thought from another server keeps of its Note.
type RemoteNote struct {
	// IRI is the Note's id; "" for a local thought.
	IRI string
	// URL is the Note's page for people, if it named one.
	URL string
	// ContentHTML is the Note's content, sanitised; Content holds its text.
	ContentHTML string
	// InReplyToIRI is the parent's IRI while the parent is not (yet) here;
	// once it is, InReplyToID is set.
	InReplyToIRI string
}

// Deleted reports whether t is a tombstone.
func (t Thought) Deleted() bool { return t.DeletedAt != nil }

// CheckLive is the rule that a tombstone is gone: nothing can be done to it
// (edited, deleted again, liked, boosted, or a like or boost taken back). It
// is ErrGone for a tombstone, nil otherwise.
func (t Thought) CheckLive() error {
	if t.Deleted() {
		return Errorf(ErrGone, "the thought was deleted")
	}
	return nil
}

// Tombstone returns t deleted at at: content, warning and sensitivity are
// cleared and the row is kept, so replies keep their parent and the deletion
// can federate. A tombstone is ErrGone.
func (t Thought) Tombstone(at time.Time) (Thought, error) {
	if err := t.CheckLive(); err != nil {
		return Thought{}, err
	}
	t.Content, t.ContentWarning, t.Sensitive, t.Remote.ContentHTML = "", "", false, ""
	t.DeletedAt = &at
	return t, nil
}

// ThoughtDraft is the validated input for a new thought.
type ThoughtDraft struct {
	Content        string
	ContentWarning string
	Sensitive      bool
	Visibility     Visibility
	InReplyToID    *uuid.UUID
}

// NewThought validates the draft and builds a thought authored by authorID.
func NewThought(id, authorID uuid.UUID, d ThoughtDraft, now time.Time) (Thought, error) {
	content, cw, err := validateText(d.Content, d.ContentWarning)
	if err != nil {
		return Thought{}, err
	}
	vis := d.Visibility
	if vis == "" {
		vis = VisibilityPublic
	}
	if _, err := ParseVisibility(string(vis)); err != nil {
		return Thought{}, err
	}
	return Thought{
		ID:             id,
		AuthorID:       authorID,
		Content:        content,
		ContentWarning: cw,
		Sensitive:      d.Sensitive,
		Visibility:     vis,
		InReplyToID:    d.InReplyToID,
		CreatedAt:      now,
	}, nil
}

// ThoughtEdit lists the fields an author may change; nil means unchanged.
// Visibility and the reply parent are fixed at creation: changing them would
// silently re-expose or re-thread content other servers already have.
type ThoughtEdit struct {
	Content        *string
	ContentWarning *string
	Sensitive      *bool
}

// Apply validates the edit against t and applies it; a tombstone is ErrGone.
func (e ThoughtEdit) Apply(t *Thought, now time.Time) error {
	if err := t.CheckLive(); err != nil {
		return err
	}
	content, cw := t.Content, t.ContentWarning
	if e.Content != nil {
		content = *e.Content
	}
	if e.ContentWarning != nil {
		cw = *e.ContentWarning
	}
	content, cw, err := validateText(content, cw)
	if err != nil {
		return err
	}
	t.Content, t.ContentWarning = content, cw
	if e.Sensitive != nil {
		t.Sensitive = *e.Sensitive
	}
	t.EditedAt = &now
	return nil
}

func validateText(content, cw string) (string, string, error) {
	if !utf8.ValidString(content) {
		return "", "", Invalid("content", "must be valid UTF-8")
	}
	if strings.TrimSpace(content) == "" {
		return "", "", Invalid("content", "must not be empty")
	}
	if n := utf8.RuneCountInString(content); n > MaxContentLen {
		return "", "", Invalid("content", "must be at most %d characters (got %d)", MaxContentLen, n)
	}
	if strings.ContainsRune(content, 0) {
		return "", "", Invalid("content", "must not contain NUL characters")
	}
	if !utf8.ValidString(cw) {
		return "", "", Invalid("content_warning", "must be valid UTF-8")
	}
	cw = strings.TrimSpace(cw)
	if n := utf8.RuneCountInString(cw); n > MaxContentWarningLen {
		return "", "", Invalid("content_warning", "must be at most %d characters (got %d)", MaxContentWarningLen, n)
	}
	if strings.ContainsRune(cw, 0) {
		return "", "", Invalid("content_warning", "must not contain NUL characters")
	}
	return content, cw, nil
}
