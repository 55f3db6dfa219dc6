package domain_test

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

// FuzzContent: parsing any content finds distinct, lowercase tags and
// mentions that occur in it after their sigil and follow their rules, and a
// thought is accepted only if its content is 1 to MaxContentLen characters
// of valid UTF-8 without NUL (counted in characters, not bytes).
func FuzzContent(f *testing.F) {
	for _, s := range []string{
		"hello #World and @Bob", "#go #Go #GO", "a#b c/#d #1 #_x", "@bob@remote.example bob@example.com @bob",
		"#Ünïcödé @ÄLICE", "#" + strings.Repeat("a", 101), strings.Repeat("é", 500), strings.Repeat("é", 501),
		"\xff#bad", "#tag\u0000", "   ", "##double @@twice", "#İstanbul", "#ǅemal", "\ufffd#x",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	author := uuid.New()
	f.Fuzz(func(t *testing.T, content string) {
		lower := strings.ToLower(content)
		tags := domain.ParseTags(content)
		seen := map[string]bool{}
		for _, tag := range tags {
			if seen[tag] {
				t.Fatalf("ParseTags(%q): %q twice", content, tag)
			}
			seen[tag] = true
			if tag == "" || tag != strings.ToLower(tag) || utf8.RuneCountInString(tag) > domain.MaxTagLen {
				t.Fatalf("ParseTags(%q): bad tag %q", content, tag)
			}
			allDigits := true
			for _, r := range tag {
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("ParseTags(%q): %q has %q", content, tag, r)
				}
				allDigits = allDigits && unicode.IsDigit(r)
			}
			if allDigits {
				t.Fatalf("ParseTags(%q): all-digit tag %q", content, tag)
			}
			if !strings.Contains(lower, "#"+tag) && utf8.ValidString(content) {
				t.Fatalf("ParseTags(%q): %q does not occur", content, tag)
			}
		}
		seen = map[string]bool{}
		for _, name := range domain.ParseMentions(content) {
			if seen[name] {
				t.Fatalf("ParseMentions(%q): %q twice", content, name)
			}
			seen[name] = true
			if domain.ValidateUsername(name) != nil {
				t.Fatalf("ParseMentions(%q): %q is not a username", content, name)
			}
			if !strings.Contains(lower, "@"+name) {
				t.Fatalf("ParseMentions(%q): %q does not occur", content, name)
			}
		}
		_, err := domain.NewThought(uuid.New(), author, domain.ThoughtDraft{Content: content}, now)
		valid := utf8.ValidString(content) && strings.TrimSpace(content) != "" &&
			utf8.RuneCountInString(content) <= domain.MaxContentLen && !strings.ContainsRune(content, 0)
		if (err == nil) != valid {
			t.Fatalf("NewThought(%q) error = %v; content valid: %v", content, err, valid)
		}
	})
}
