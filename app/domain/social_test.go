package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

func TestNewFollow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	me, id := uuid.New(), uuid.New()
	open := domain.User{ID: uuid.New(), Username: "open"}
	locked := domain.User{ID: uuid.New(), Username: "locked", Locked: true}
	tests := []struct {
		name   string
		target domain.User
		rel    domain.Relationship
		want   domain.FollowState // "" means refused with wantErr
		err    error
	}{
		{"open account", open, domain.Relationship{UserID: open.ID}, domain.FollowAccepted, nil},
		{"locked account", locked, domain.Relationship{UserID: locked.ID}, domain.FollowPending, nil},
		{"followed already", open, domain.Relationship{UserID: open.ID, Following: true}, domain.FollowAccepted, nil},
		{"followed by them", open, domain.Relationship{UserID: open.ID, FollowedBy: true}, domain.FollowAccepted, nil},
		{"yourself", domain.User{ID: me}, domain.Relationship{UserID: me}, "", domain.ErrUnprocessable},
		{"blocked by them", open, domain.Relationship{UserID: open.ID, BlockedBy: true}, "", domain.ErrNotFound},
		{"blocked by them, locked", locked, domain.Relationship{UserID: locked.ID, BlockedBy: true}, "", domain.ErrNotFound},
		{"blocking them", open, domain.Relationship{UserID: open.ID, Blocking: true}, "", domain.ErrUnprocessable},
		// Being blocked hides the account: that answer wins over "unblock them first".
		{"blocks both ways", open, domain.Relationship{UserID: open.ID, Blocking: true, BlockedBy: true}, "", domain.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := domain.NewFollow(id, me, tt.target, tt.rel, now)
			if tt.want == "" {
				if !errors.Is(err, tt.err) || f != (domain.Follow{}) {
					t.Errorf("NewFollow = %+v, %v; want the zero Follow and %v", f, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewFollow: %v", err)
			}
			if f.ID != id || f.FollowerID != me || f.FollowingID != tt.target.ID || f.State != tt.want || !f.CreatedAt.Equal(now) {
				t.Errorf("NewFollow = %+v", f)
			}
			if accepted := f.AcceptedAt != nil && f.AcceptedAt.Equal(now); accepted != (tt.want == domain.FollowAccepted) {
				t.Errorf("AcceptedAt = %v for state %s", f.AcceptedAt, f.State)
			}
		})
	}
	t.Run("the block message names the account", func(t *testing.T) {
		t.Parallel()
		_, err := domain.NewFollow(id, me, open, domain.Relationship{UserID: open.ID, Blocking: true}, now)
		if err == nil || !strings.Contains(err.Error(), "you block open") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestNewLike(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	id, user, thought := uuid.New(), uuid.New(), uuid.New()
	tests := []struct {
		name                string
		id, user, thoughtID uuid.UUID
		ok                  bool
	}{
		{"like", id, user, thought, true},
		{"no ID", uuid.Nil, user, thought, false},
		{"no user", id, uuid.Nil, thought, false},
		{"no thought", id, user, uuid.Nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := domain.NewLike(tt.id, tt.user, tt.thoughtID, now)
			if !tt.ok {
				if err == nil || l != (domain.Like{}) {
					t.Errorf("NewLike = %+v, %v; want the zero Like and an error", l, err)
				}
				return
			}
			want := domain.Like{ID: id, UserID: user, ThoughtID: thought, CreatedAt: now}
			if err != nil || l != want {
				t.Errorf("NewLike = %+v, %v; want %+v", l, err, want)
			}
		})
	}
}

func TestNewBoost(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	id, user, author := uuid.New(), uuid.New(), uuid.New()
	thought := func(vis domain.Visibility, authorID uuid.UUID, deleted bool) domain.Thought {
		th := domain.Thought{ID: uuid.New(), AuthorID: authorID, Content: "x", Visibility: vis}
		if deleted {
			th, _ = th.Tombstone(now.Add(-time.Hour))
		}
		return th
	}
	tests := []struct {
		name    string
		id      uuid.UUID
		thought domain.Thought
		err     error // nil means boosted; errAny means any error
	}{
		{"public", id, thought(domain.VisibilityPublic, author, false), nil},
		{"unlisted", id, thought(domain.VisibilityUnlisted, author, false), nil},
		{"your own", id, thought(domain.VisibilityPublic, user, false), nil},
		{"followers-only", id, thought(domain.VisibilityFollowers, author, false), domain.ErrUnprocessable},
		{"your own followers-only", id, thought(domain.VisibilityFollowers, user, false), domain.ErrUnprocessable},
		{"tombstone", id, thought(domain.VisibilityPublic, author, true), domain.ErrGone},
		// Gone wins: a deleted thought is not there to be judged shareable.
		{"followers-only tombstone", id, thought(domain.VisibilityFollowers, author, true), domain.ErrGone},
		{"no ID", uuid.Nil, thought(domain.VisibilityPublic, author, false), errAny},
		{"no thought ID", id, domain.Thought{Visibility: domain.VisibilityPublic}, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := domain.NewBoost(tt.id, user, tt.thought, now)
			switch {
			case tt.err == nil:
				want := domain.Boost{ID: id, UserID: user, ThoughtID: tt.thought.ID, CreatedAt: now}
				if err != nil || b != want {
					t.Errorf("NewBoost = %+v, %v; want %+v", b, err, want)
				}
			case b != (domain.Boost{}):
				t.Errorf("NewBoost returned %+v with its error, want the zero Boost", b)
			case tt.err == errAny && err == nil, tt.err != errAny && !errors.Is(err, tt.err):
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// errAny stands for "some error" in tables where the kind does not matter.
var errAny = errors.New("any error")

func TestNewBlock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	id, me, them := uuid.New(), uuid.New(), uuid.New()
	tests := []struct {
		name            string
		id, blocker, bd uuid.UUID
		err             error // nil means blocked
	}{
		{"block", id, me, them, nil},
		{"yourself", id, me, me, domain.ErrUnprocessable},
		{"no ID", uuid.Nil, me, them, errAny},
		{"no blocker", id, uuid.Nil, them, errAny},
		{"no one to block", id, me, uuid.Nil, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := domain.NewBlock(tt.id, tt.blocker, tt.bd, now)
			switch {
			case tt.err == nil:
				want := domain.Block{ID: id, BlockerID: me, BlockedID: them, CreatedAt: now}
				if err != nil || b != want {
					t.Errorf("NewBlock = %+v, %v; want %+v", b, err, want)
				}
			case b != (domain.Block{}):
				t.Errorf("NewBlock returned %+v with its error, want the zero Block", b)
			case tt.err == errAny && err == nil, tt.err != errAny && !errors.Is(err, tt.err):
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestNormalizeTopFriends(t *testing.T) {
	t.Parallel()
	nine := strings.Split("a b c d e f g h i", " ")
	cases := []struct {
		in   []string
		want string // "" means a validation error on usernames
	}{
		{nil, "[]"},
		{[]string{"Bob", " carol "}, "[bob carol]"},
		{nine[:8], "[a b c d e f g h]"},
		{nine, ""},
		{[]string{"bob", "BOB"}, ""},
		{[]string{"not a name"}, ""},
		{[]string{""}, ""},
	}
	for _, c := range cases {
		got, err := domain.NormalizeTopFriends(c.in)
		var verr *domain.ValidationError
		switch {
		case c.want == "" && (!errors.As(err, &verr) || verr.Field != "usernames"):
			t.Errorf("%q: err = %v, want a usernames validation error", c.in, err)
		case c.want != "" && (err != nil || fmt.Sprint(got) != c.want):
			t.Errorf("%q = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
}

func TestNormalizeTag(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"go": "go", "#Go": "go", "Café": "café", "go_lang": "go_lang", "日本": "日本",
		"": "", "#": "", "123": "", "go-lang": "", "go lang": "", "##go": "", strings.Repeat("a", 101): "",
	}
	for in, want := range cases {
		got, ok := domain.NormalizeTag(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeTag(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
