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

// wantField fails unless err is a *domain.ValidationError for field; an empty
// field means err must be nil.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("error = %v (%T), want a *domain.ValidationError for %q", err, err, field)
		return
	}
	if ve.Field != field {
		t.Errorf("ValidationError.Field = %q, want %q (error: %v)", ve.Field, field, err)
	}
	if ve.Reason == "" {
		t.Errorf("ValidationError for %q has no reason", field)
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidateUsername(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		username string
		ok       bool
	}{
		{"one letter", "a", true},
		{"letters digits underscore", "bob_99", true},
		{"digits only", "42", true},
		{"underscore only", "_", true},
		{"30 characters", strings.Repeat("a", 30), true},
		{"empty", "", false},
		{"upper case", "Bob", false},
		{"space", "bo b", false},
		{"punctuation", "bob!", false},
		{"dot", "bob.smith", false},
		{"hyphen", "bob-smith", false},
		{"at sign", "bob@example.org", false},
		{"31 characters", strings.Repeat("a", 31), false},
		{"non-ASCII letters", "ünï", false},
		{"trailing newline", "bob\n", false},
		{"NUL", "bob\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := domain.ValidateUsername(tt.username)
			if tt.ok {
				wantField(t, err, "")
			} else {
				wantField(t, err, "username")
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	long254 := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".org"
	tests := []struct {
		name  string
		email string
		want  string // "" means invalid
	}{
		{"plain", "bob@example.org", "bob@example.org"},
		{"domain lower-cased", "bob@Example.ORG", "bob@example.org"},
		{"local part kept as given", "Bob.Smith@Example.org", "Bob.Smith@example.org"},
		{"plus tag", "bob+thoughts@example.org", "bob+thoughts@example.org"},
		{"surrounding space trimmed", "  bob@example.org\n", "bob@example.org"},
		{"subdomain", "bob@mail.example.co.uk", "bob@mail.example.co.uk"},
		{"254 characters", long254, long254},
		{"empty", "", ""},
		{"only spaces", "   ", ""},
		{"no at sign", "bob.example.org", ""},
		{"no local part", "@example.org", ""},
		{"no domain", "bob@", ""},
		{"domain without dot", "bob@localhost", ""},
		{"display-name form", "Bob <b@x.org>", ""},
		{"angle brackets only", "<b@x.org>", ""},
		{"two addresses", "a@x.org, b@x.org", ""},
		{"two at signs", "a@b@x.org", ""},
		{"space in local part", "bo b@x.org", ""},
		{"comment", "bob@x.org (Bob)", ""},
		{"255 characters", "a" + long254, ""},
		{"far too long", strings.Repeat("a", 1000) + "@x.org", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NormalizeEmail(tt.email)
			if tt.want == "" {
				wantField(t, err, "email")
				if got != "" {
					t.Errorf("NormalizeEmail(%q) = %q with its error, want empty", tt.email, got)
				}
				return
			}
			wantField(t, err, "")
			if got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.email, got, tt.want)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"7 characters", "1234567", false},
		{"8 characters", "12345678", true},
		{"empty", "", false},
		// Length is counted in characters, not bytes: 8 two-byte runes pass,
		// 7 four-byte runes (28 bytes) do not.
		{"8 multibyte runes", strings.Repeat("é", 8), true},
		{"8 emoji", strings.Repeat("🙂", 8), true},
		{"7 emoji", strings.Repeat("🙂", 7), false},
		{"1024 bytes", strings.Repeat("a", 1024), true},
		{"1025 bytes", strings.Repeat("a", 1025), false},
		// The upper bound is in bytes: it bounds hashing work.
		{"512 two-byte runes (1024 bytes)", strings.Repeat("é", 512), true},
		{"513 two-byte runes (1026 bytes)", strings.Repeat("é", 513), false},
		// Control characters do not count, and NUL is refused outright.
		{"8 NULs", strings.Repeat("\x00", 8), false},
		{"7 letters and a tab", "abcdefg\t", false},
		{"8 letters and a tab", "abcd\tefgh", true},
		{"8 letters and a NUL", "abcdefgh\x00", false},
		{"only controls", "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x1b\x7f\u0085", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := domain.ValidatePassword(tt.password)
			if tt.ok {
				wantField(t, err, "")
			} else {
				wantField(t, err, "password")
			}
		})
	}
}

func TestNewUser(t *testing.T) {
	t.Parallel()
	id, now := uuid.New(), time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	const hash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"
	tests := []struct {
		name                   string
		username, email, hash  string
		field                  string // "" means valid, unless plainErr
		plainErr               bool   // a caller's bug: an error that is no ValidationError
		wantUsername, wantMail string
	}{
		{"valid", "bob", "Bob@Example.ORG", hash, "", false, "bob", "Bob@example.org"},
		{"upper-case username", "Bob", "bob@example.org", hash, "username", false, "", ""},
		{"empty username", "", "bob@example.org", hash, "username", false, "", ""},
		{"email without domain dot", "bob", "bob@localhost", hash, "email", false, "", ""},
		{"username checked before email", "Bob", "bob@localhost", hash, "username", false, "", ""},
		{"no password hash", "bob", "bob@example.org", "", "", true, "", ""},
		{"input checked before the hash", "Bob", "bob@example.org", "", "username", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := domain.NewUser(id, tt.username, tt.email, tt.hash, now)
			if tt.plainErr {
				var ve *domain.ValidationError
				if err == nil || errors.As(err, &ve) {
					t.Errorf("error = %v, want a plain error", err)
				}
			} else {
				wantField(t, err, tt.field)
			}
			if err != nil {
				if u != (domain.User{}) {
					t.Errorf("NewUser returned %+v with its error, want the zero User", u)
				}
				return
			}
			if u.ID != id || u.Username != tt.wantUsername || u.Email != tt.wantMail || u.PasswordHash != tt.hash ||
				!u.CreatedAt.Equal(now) || !u.UpdatedAt.Equal(now) || u.Locked || u.DisplayName != "" || u.Bio != "" {
				t.Errorf("NewUser = %+v", u)
			}
		})
	}
	// Reserved names and names without a letter are refused at registration,
	// yet remain valid names to look up (accounts made before the rule).
	for _, name := range []string{"admin", "root", "me", "_", "0", "2024", "__1"} {
		_, err := domain.NewUser(id, name, "x@example.org", hash, now)
		wantField(t, err, "username")
		if err := domain.ValidateUsername(name); err != nil {
			t.Errorf("ValidateUsername(%q) = %v", name, err)
		}
	}
	if _, err := domain.NewUser(id, "r2d2", "x@example.org", hash, now); err != nil {
		t.Errorf("r2d2: %v", err)
	}
}

func TestNewThought(t *testing.T) {
	t.Parallel()
	id, author, parent := uuid.New(), uuid.New(), uuid.New()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		draft domain.ThoughtDraft
		field string // "" means valid
	}{
		{"plain", domain.ThoughtDraft{Content: "hello"}, ""},
		{"empty content", domain.ThoughtDraft{Content: ""}, "content"},
		{"whitespace-only content", domain.ThoughtDraft{Content: " \t\n\u00a0 "}, "content"},
		{"500 multibyte runes", domain.ThoughtDraft{Content: strings.Repeat("é", 500)}, ""},
		{"501 multibyte runes", domain.ThoughtDraft{Content: strings.Repeat("é", 501)}, "content"},
		{"500 emoji", domain.ThoughtDraft{Content: strings.Repeat("🙂", 500)}, ""},
		{"501 emoji", domain.ThoughtDraft{Content: strings.Repeat("🙂", 501)}, "content"},
		{"NUL byte", domain.ThoughtDraft{Content: "hi\x00there"}, "content"},
		{"invalid UTF-8", domain.ThoughtDraft{Content: "hi \xff"}, "content"},
		{"content warning 200", domain.ThoughtDraft{Content: "x", ContentWarning: strings.Repeat("é", 200)}, ""},
		{"content warning 201", domain.ThoughtDraft{Content: "x", ContentWarning: strings.Repeat("é", 201)}, "content_warning"},
		{"content warning with NUL", domain.ThoughtDraft{Content: "x", ContentWarning: "cw\x00"}, "content_warning"},
		{"content warning invalid UTF-8", domain.ThoughtDraft{Content: "x", ContentWarning: "\xc3"}, "content_warning"},
		{"visibility unlisted", domain.ThoughtDraft{Content: "x", Visibility: domain.VisibilityUnlisted}, ""},
		{"visibility followers", domain.ThoughtDraft{Content: "x", Visibility: domain.VisibilityFollowers}, ""},
		{"visibility private", domain.ThoughtDraft{Content: "x", Visibility: "private"}, "visibility"},
		{"visibility upper case", domain.ThoughtDraft{Content: "x", Visibility: "PUBLIC"}, "visibility"},
		{"reply", domain.ThoughtDraft{Content: "x", InReplyToID: &parent}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NewThought(id, author, tt.draft, now)
			wantField(t, err, tt.field)
			if tt.field != "" {
				if got != (domain.Thought{}) {
					t.Errorf("NewThought returned %+v with its error, want the zero Thought", got)
				}
				return
			}
			if got.ID != id || got.AuthorID != author || !got.CreatedAt.Equal(now) {
				t.Errorf("NewThought = %+v, want ID %s, author %s, created %v", got, id, author, now)
			}
			if got.Content != tt.draft.Content {
				t.Errorf("Content = %q, want %q", got.Content, tt.draft.Content)
			}
			if got.InReplyToID != tt.draft.InReplyToID {
				t.Errorf("InReplyToID = %v, want %v", got.InReplyToID, tt.draft.InReplyToID)
			}
			if got.EditedAt != nil || got.DeletedAt != nil || got.Deleted() {
				t.Errorf("new thought is edited or deleted: %+v", got)
			}
		})
	}

	t.Run("defaults and trimming", func(t *testing.T) {
		t.Parallel()
		got, err := domain.NewThought(id, author, domain.ThoughtDraft{Content: "x", ContentWarning: "  spoilers \n", Sensitive: true}, now)
		if err != nil {
			t.Fatalf("NewThought: %v", err)
		}
		if got.Visibility != domain.VisibilityPublic {
			t.Errorf("Visibility = %q, want public by default", got.Visibility)
		}
		if got.ContentWarning != "spoilers" {
			t.Errorf("ContentWarning = %q, want it trimmed to %q", got.ContentWarning, "spoilers")
		}
		if !got.Sensitive {
			t.Error("Sensitive = false, want true")
		}
	})
}

func TestParseVisibility(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]domain.Visibility{
		"": domain.VisibilityPublic, "public": domain.VisibilityPublic,
		"unlisted": domain.VisibilityUnlisted, "followers": domain.VisibilityFollowers,
	} {
		if got, err := domain.ParseVisibility(in); err != nil || got != want {
			t.Errorf("ParseVisibility(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"private", "direct", "Public", " public"} {
		_, err := domain.ParseVisibility(in)
		wantField(t, err, "visibility")
	}
}

func TestThoughtEditApply(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	edited := created.Add(time.Hour)
	original := func() domain.Thought {
		return domain.Thought{
			ID: uuid.New(), AuthorID: uuid.New(), Content: "original", ContentWarning: "cw",
			Visibility: domain.VisibilityFollowers, CreatedAt: created,
		}
	}
	tests := []struct {
		name        string
		edit        domain.ThoughtEdit
		field       string // "" means valid
		wantContent string
		wantCW      string
		wantSens    bool
	}{
		{"content", domain.ThoughtEdit{Content: ptr("new text")}, "", "new text", "cw", false},
		{"content warning", domain.ThoughtEdit{ContentWarning: ptr(" new cw ")}, "", "original", "new cw", false},
		{"clear content warning", domain.ThoughtEdit{ContentWarning: ptr("")}, "", "original", "", false},
		{"sensitive", domain.ThoughtEdit{Sensitive: ptr(true)}, "", "original", "cw", true},
		{"everything", domain.ThoughtEdit{Content: ptr("a"), ContentWarning: ptr("b"), Sensitive: ptr(true)}, "", "a", "b", true},
		{"500 runes", domain.ThoughtEdit{Content: ptr(strings.Repeat("é", 500))}, "", strings.Repeat("é", 500), "cw", false},
		{"empty content", domain.ThoughtEdit{Content: ptr("")}, "content", "", "", false},
		{"whitespace content", domain.ThoughtEdit{Content: ptr("   ")}, "content", "", "", false},
		{"501 runes", domain.ThoughtEdit{Content: ptr(strings.Repeat("é", 501))}, "content", "", "", false},
		{"NUL in content", domain.ThoughtEdit{Content: ptr("a\x00b")}, "content", "", "", false},
		{"content warning 201", domain.ThoughtEdit{ContentWarning: ptr(strings.Repeat("x", 201))}, "content_warning", "", "", false},
		{"valid content, bad warning", domain.ThoughtEdit{Content: ptr("fine"), ContentWarning: ptr(strings.Repeat("x", 201)), Sensitive: ptr(true)}, "content_warning", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th := original()
			before := th
			err := tt.edit.Apply(&th, edited)
			wantField(t, err, tt.field)
			if tt.field != "" {
				// A refused edit leaves the thought untouched.
				if th != before {
					t.Errorf("refused edit changed the thought:\n got  %+v\n want %+v", th, before)
				}
				return
			}
			if th.EditedAt == nil || !th.EditedAt.Equal(edited) {
				t.Errorf("EditedAt = %v, want %v", th.EditedAt, edited)
			}
			if th.Content != tt.wantContent || th.ContentWarning != tt.wantCW || th.Sensitive != tt.wantSens {
				t.Errorf("after edit: content %q, cw %q, sensitive %v; want %q, %q, %v",
					th.Content, th.ContentWarning, th.Sensitive, tt.wantContent, tt.wantCW, tt.wantSens)
			}
			// Visibility, identity and creation time are fixed.
			if th.ID != before.ID || th.AuthorID != before.AuthorID || th.Visibility != before.Visibility || !th.CreatedAt.Equal(created) {
				t.Errorf("edit changed fixed fields: %+v", th)
			}
		})
	}
}

func TestProfileChangeApply(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := created.Add(24 * time.Hour)
	tests := []struct {
		name     string
		change   domain.ProfileChange
		field    string // "" means valid
		wantName string
		wantBio  string
		wantLock bool
	}{
		{"display name", domain.ProfileChange{DisplayName: ptr("  Bob Smith  ")}, "", "Bob Smith", "old bio", false},
		{"display name 100 runes", domain.ProfileChange{DisplayName: ptr(strings.Repeat("é", 100))}, "", strings.Repeat("é", 100), "old bio", false},
		{"clear display name", domain.ProfileChange{DisplayName: ptr("")}, "", "", "old bio", false},
		{"bio 500 runes", domain.ProfileChange{Bio: ptr(strings.Repeat("é", 500))}, "", "Old Name", strings.Repeat("é", 500), false},
		{"bio with newlines", domain.ProfileChange{Bio: ptr("line one\nline two")}, "", "Old Name", "line one\nline two", false},
		{"locked", domain.ProfileChange{Locked: ptr(true)}, "", "Old Name", "old bio", true},
		{"nothing", domain.ProfileChange{}, "", "Old Name", "old bio", false},
		{"display name 101 runes", domain.ProfileChange{DisplayName: ptr(strings.Repeat("é", 101))}, "display_name", "", "", false},
		{"display name with newline", domain.ProfileChange{DisplayName: ptr("Bob\nSmith")}, "display_name", "", "", false},
		{"display name with tab", domain.ProfileChange{DisplayName: ptr("Bob\tSmith")}, "display_name", "", "", false},
		{"display name with NUL", domain.ProfileChange{DisplayName: ptr("Bob\x00")}, "display_name", "", "", false},
		{"display name with DEL", domain.ProfileChange{DisplayName: ptr("Bob\x7f")}, "display_name", "", "", false},
		{"display name with escape", domain.ProfileChange{DisplayName: ptr("\x1b[31mBob")}, "display_name", "", "", false},
		{"bio 501 runes", domain.ProfileChange{Bio: ptr(strings.Repeat("é", 501))}, "bio", "", "", false},
		{"bio invalid UTF-8", domain.ProfileChange{Bio: ptr("bio \xff")}, "bio", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := domain.User{ID: uuid.New(), Username: "bob", DisplayName: "Old Name", Bio: "old bio", CreatedAt: created, UpdatedAt: created}
			err := tt.change.Apply(&u, now)
			wantField(t, err, tt.field)
			if tt.field != "" {
				return
			}
			if u.DisplayName != tt.wantName || u.Bio != tt.wantBio || u.Locked != tt.wantLock {
				t.Errorf("after change: name %q, bio %q, locked %v; want %q, %q, %v",
					u.DisplayName, u.Bio, u.Locked, tt.wantName, tt.wantBio, tt.wantLock)
			}
			if !u.UpdatedAt.Equal(now) {
				t.Errorf("UpdatedAt = %v, want %v", u.UpdatedAt, now)
			}
			if u.Username != "bob" || !u.CreatedAt.Equal(created) {
				t.Errorf("change touched username or creation time: %+v", u)
			}
		})
	}
}

func TestNewPage(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	tests := []struct {
		name            string
		limit           int
		max, since, min *uuid.UUID
		field           string // "" means valid
		wantLimit       int
		ascending       bool
	}{
		{"limit 0 means default", 0, nil, nil, nil, "", domain.DefaultPageLimit, false},
		{"limit 1", 1, nil, nil, nil, "", 1, false},
		{"limit 100", 100, nil, nil, nil, "", 100, false},
		{"limit 101", 101, nil, nil, nil, "limit", 0, false},
		{"negative limit", -1, nil, nil, nil, "limit", 0, false},
		{"max_id", 10, &a, nil, nil, "", 10, false},
		{"since_id", 10, nil, &a, nil, "", 10, false},
		{"min_id reads ascending", 10, nil, nil, &a, "", 10, true},
		{"max_id and min_id", 10, &a, nil, &b, "", 10, true},
		{"max_id and since_id", 10, &a, &b, nil, "", 10, false},
		{"since_id and min_id", 10, nil, &a, &b, "min_id", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := domain.NewPage(tt.limit, tt.max, tt.since, tt.min)
			wantField(t, err, tt.field)
			if tt.field != "" {
				return
			}
			if p.Limit != tt.wantLimit {
				t.Errorf("Limit = %d, want %d", p.Limit, tt.wantLimit)
			}
			if p.MaxID != tt.max || p.SinceID != tt.since || p.MinID != tt.min {
				t.Errorf("Page = %+v, want the given cursors", p)
			}
			if p.Ascending() != tt.ascending {
				t.Errorf("Ascending() = %v, want %v", p.Ascending(), tt.ascending)
			}
		})
	}
	if domain.DefaultPageLimit != 20 {
		t.Errorf("DefaultPageLimit = %d, want 20", domain.DefaultPageLimit)
	}
}

func TestAPIKeyTokenRoundTrip(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	token, keyID, hash, err := domain.NewAPIKeyToken(id)
	if err != nil {
		t.Fatalf("NewAPIKeyToken: %v", err)
	}
	if !strings.HasPrefix(token, "thk_") || !strings.HasPrefix(token, domain.APIKeyPrefix) {
		t.Errorf("token %q does not start with thk_", token)
	}
	if keyID != id {
		t.Errorf("NewAPIKeyToken returned key ID %s, want %s", keyID, id)
	}
	if len(hash) != 32 {
		t.Errorf("secret hash is %d bytes, want a 32-byte SHA-256", len(hash))
	}

	parsedID, parsedHash, ok := domain.ParseAPIKeyToken(token)
	if !ok {
		t.Fatalf("ParseAPIKeyToken(%q) = not ok", token)
	}
	if parsedID != id {
		t.Errorf("ParseAPIKeyToken ID = %s, want %s", parsedID, id)
	}
	key := domain.APIKey{ID: id, SecretHash: hash}
	if !key.Matches(parsedHash) {
		t.Error("Matches(hash of the same token) = false")
	}

	otherToken, _, otherHash, err := domain.NewAPIKeyToken(id)
	if err != nil {
		t.Fatalf("NewAPIKeyToken: %v", err)
	}
	if otherToken == token {
		t.Fatal("two tokens for the same key ID are equal: the secret is not random")
	}
	if key.Matches(otherHash) {
		t.Error("Matches(hash of another token) = true")
	}
	_, parsedOther, ok := domain.ParseAPIKeyToken(otherToken)
	if !ok || key.Matches(parsedOther) {
		t.Errorf("parsed other token: ok %v, matches %v; want ok, no match", ok, key.Matches(parsedOther))
	}
	if key.Matches(nil) || (domain.APIKey{}).Matches(parsedHash) {
		t.Error("Matches with an empty hash on either side = true")
	}
}

func TestParseAPIKeyTokenRejectsMalformed(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	valid, _, _, err := domain.NewAPIKeyToken(id)
	if err != nil {
		t.Fatalf("NewAPIKeyToken: %v", err)
	}
	rest := strings.TrimPrefix(valid, "thk_")
	idHex, secret := rest[:32], rest[33:]
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"prefix only", "thk_"},
		{"no prefix", rest},
		{"other prefix", "tok_" + rest},
		{"upper-case prefix", "THK_" + rest},
		{"no separator", "thk_" + idHex + secret},
		{"short ID", "thk_" + idHex[1:] + "_" + secret},
		{"long ID", "thk_" + idHex + "0_" + secret},
		{"ID not hex", "thk_" + strings.Repeat("z", 32) + "_" + secret},
		{"dashed UUID", "thk_" + id.String() + "_" + secret},
		{"short secret", "thk_" + idHex + "_" + secret[1:]},
		{"long secret", "thk_" + idHex + "_" + secret + "A"},
		{"empty secret", "thk_" + idHex + "_"},
		{"JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},
		{"leading space", " " + valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gotID, gotHash, ok := domain.ParseAPIKeyToken(tt.token)
			if ok {
				t.Errorf("ParseAPIKeyToken(%q) = %s, ok; want not ok", tt.token, gotID)
			}
			if gotID != uuid.Nil || gotHash != nil {
				t.Errorf("ParseAPIKeyToken(%q) returned ID %s, hash %x with not ok", tt.token, gotID, gotHash)
			}
		})
	}
}

func TestValidateAPIKeyName(t *testing.T) {
	t.Parallel()
	if got, err := domain.ValidateAPIKeyName("  my bot  "); err != nil || got != "my bot" {
		t.Errorf("ValidateAPIKeyName = %q, %v; want %q", got, err, "my bot")
	}
	for _, name := range []string{"", "   ", strings.Repeat("é", 101), "my\nbot"} {
		_, err := domain.ValidateAPIKeyName(name)
		wantField(t, err, "name")
	}
}

func TestParseAPIKeyScopes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"read"}, "[read]"},
		{[]string{"write", "read"}, "[read write]"},
		{nil, ""},
		{[]string{}, ""},
		{[]string{"admin"}, ""},
		{[]string{"read", "read"}, ""},
		{[]string{"Read"}, ""},
	} {
		got, err := domain.ParseAPIKeyScopes(c.in)
		if c.want == "" {
			wantField(t, err, "scopes")
			continue
		}
		if err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("ParseAPIKeyScopes(%v) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	k := domain.APIKey{Scopes: []domain.APIKeyScope{domain.ScopeRead}}
	if !k.Allows(domain.ScopeRead) || k.Allows(domain.ScopeWrite) {
		t.Error("Allows")
	}
}
