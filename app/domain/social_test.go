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
	open := domain.User{ID: uuid.New()}
	locked := domain.User{ID: uuid.New(), Locked: true}

	f, err := domain.NewFollow(id, me, open, now)
	if err != nil || f.State != domain.FollowAccepted || f.AcceptedAt == nil || !f.AcceptedAt.Equal(now) || f.ID != id ||
		f.FollowerID != me || f.FollowingID != open.ID {
		t.Errorf("follow of an open account = %+v, %v", f, err)
	}
	f, err = domain.NewFollow(id, me, locked, now)
	if err != nil || f.State != domain.FollowPending || f.AcceptedAt != nil {
		t.Errorf("follow of a locked account = %+v, %v", f, err)
	}
	if _, err := domain.NewFollow(id, me, domain.User{ID: me}, now); !errors.Is(err, domain.ErrUnprocessable) {
		t.Errorf("self-follow: %v", err)
	}
}

func TestCheckBoostable(t *testing.T) {
	t.Parallel()
	for vis, ok := range map[domain.Visibility]bool{
		domain.VisibilityPublic: true, domain.VisibilityUnlisted: true, domain.VisibilityFollowers: false,
	} {
		err := domain.CheckBoostable(domain.Thought{Visibility: vis})
		if (err == nil) != ok || (err != nil && !errors.Is(err, domain.ErrUnprocessable)) {
			t.Errorf("%s: %v", vis, err)
		}
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
