package query_test

import (
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/app/query"
)

func TestExcerpt(t *testing.T) {
	t.Parallel()
	hundred := strings.Repeat("🙂", 100)
	cases := []struct{ name, in, want string }{
		{"short", "hello", "hello"},
		{"empty", "", ""},
		{"whitespace collapsed", "  a \n\n b\tc  ", "a b c"},
		{"exactly the limit, in characters not bytes", hundred, hundred},
		{"one over", hundred + "x", hundred + "…"},
		{"cut before a space is not left dangling", strings.Repeat("a", 99) + " bcd", strings.Repeat("a", 99) + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := query.Excerpt(c.in); got != c.want {
				t.Errorf("Excerpt(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
