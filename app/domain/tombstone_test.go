package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

func TestThoughtTombstone(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	at := created.Add(time.Hour)
	parent, parentAuthor := uuid.New(), uuid.New()
	live := domain.Thought{
		ID: uuid.New(), AuthorID: uuid.New(), Content: "text", ContentWarning: "cw", Sensitive: true,
		Visibility: domain.VisibilityFollowers, InReplyToID: &parent, InReplyToAuthorID: &parentAuthor,
		CreatedAt: created, EditedAt: &created,
	}
	earlier := created.Add(time.Minute)
	dead := live
	dead.Content, dead.ContentWarning, dead.Sensitive, dead.DeletedAt = "", "", false, &earlier
	tests := []struct {
		name string
		in   domain.Thought
		err  error // nil means deleted at at
	}{
		{"live thought", live, nil},
		{"tombstone", dead, domain.ErrGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := tt.in
			got, err := tt.in.Tombstone(at)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || got != (domain.Thought{}) {
					t.Errorf("Tombstone = %+v, %v; want the zero Thought and %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Tombstone: %v", err)
			}
			if !got.Deleted() || !got.DeletedAt.Equal(at) || got.Content != "" || got.ContentWarning != "" || got.Sensitive {
				t.Errorf("Tombstone = %+v, want content cleared and deleted at %v", got, at)
			}
			// The row stays what it was otherwise: replies keep their parent,
			// the deletion can federate under the same ID.
			if got.ID != before.ID || got.AuthorID != before.AuthorID || got.Visibility != before.Visibility ||
				got.InReplyToID != before.InReplyToID || got.InReplyToAuthorID != before.InReplyToAuthorID ||
				!got.CreatedAt.Equal(created) || got.EditedAt != before.EditedAt {
				t.Errorf("Tombstone changed fixed fields: %+v", got)
			}
			if tt.in != before {
				t.Error("Tombstone changed its receiver")
			}
		})
	}
}

func TestTombstoneIsGoneForEveryChange(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	dead, err := domain.Thought{ID: uuid.New(), AuthorID: uuid.New(), Content: "x", Visibility: domain.VisibilityPublic}.Tombstone(at)
	if err != nil {
		t.Fatal(err)
	}
	if err := (domain.Thought{Content: "x"}).CheckLive(); err != nil {
		t.Errorf("CheckLive of a live thought: %v", err)
	}
	if err := dead.CheckLive(); !errors.Is(err, domain.ErrGone) {
		t.Errorf("CheckLive: %v, want ErrGone", err)
	}
	// Gone before the edit itself is judged: even a valid edit is refused,
	// and an invalid one is refused as gone, not invalid.
	for _, content := range []string{"new text", ""} {
		th := dead
		if err := (domain.ThoughtEdit{Content: &content}).Apply(&th, at.Add(time.Hour)); !errors.Is(err, domain.ErrGone) {
			t.Errorf("edit %q of a tombstone: %v, want ErrGone", content, err)
		}
		if th != dead {
			t.Errorf("refused edit changed the tombstone: %+v", th)
		}
	}
}
