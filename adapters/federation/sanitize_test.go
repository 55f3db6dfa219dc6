package federation_test

import (
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/adapters/federation"
)

func TestSanitizerHTML(t *testing.T) {
	t.Parallel()
	z := federation.NewSanitizer()
	for _, tc := range []struct {
		name, in, want string
		absent         []string
	}{
		{name: "script and its content go", in: `<p>hi<script>alert(1)</script></p>`, want: `<p>hi</p>`},
		{name: "style and its content go", in: `<style>p{color:red}</style><p>x</p>`, want: `<p>x</p>`},
		{name: "event handlers go", in: `<p onclick="alert(1)" onmouseover="x()">x</p>`, want: `<p>x</p>`},
		{name: "javascript URLs go", in: `<a href="javascript:alert(1)">x</a>`, absent: []string{"javascript", "href"}},
		{name: "mixed-case javascript URLs go", in: `<a href="JaVaScRiPt:alert(1)">x</a>`, absent: []string{"avascript", "href"}},
		{name: "data URLs go", in: `<a href="data:text/html,<script>alert(1)</script>">x</a>`, absent: []string{"data:", "script"}},
		{name: "images and iframes go", in: `<img src="https://e.example/x.png" onerror="x()"><iframe src="https://e.example"></iframe>ok`, want: `ok`},
		{name: "style attributes go", in: `<p style="position:fixed">x</p>`, want: `<p>x</p>`},
		{
			name: "links get nofollow noopener",
			in:   `<a href="https://e.example/@bob" rel="me" target="_self">bob</a>`,
			want: `<a href="https://e.example/@bob" rel="nofollow noopener" target="_blank">bob</a>`,
		},
		{
			name: "a Mastodon mention keeps its classes",
			in:   `<p><span class="h-card"><a href="https://e.example/@bob" class="u-url mention">@<span>bob</span></a></span> hi</p>`,
			want: `<p><span class="h-card"><a href="https://e.example/@bob" class="u-url mention" rel="nofollow noopener" target="_blank">@<span>bob</span></a></span> hi</p>`,
		},
		{name: "other classes go", in: `<span class="evil mention">x</span>`, want: `<span>x</span>`},
		{name: "allowed formatting stays", in: `<blockquote><p><strong>a</strong> <em>b</em> <code>c</code></p></blockquote><ul><li>d</li></ul>`,
			want: `<blockquote><p><strong>a</strong> <em>b</em> <code>c</code></p></blockquote><ul><li>d</li></ul>`},
	} {
		got := z.HTML(tc.in)
		if tc.want != "" && got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		for _, a := range tc.absent {
			if strings.Contains(strings.ToLower(got), a) {
				t.Errorf("%s: %q still in %s", tc.name, a, got)
			}
		}
	}
}

func TestSanitizerText(t *testing.T) {
	t.Parallel()
	z := federation.NewSanitizer()
	for in, want := range map[string]string{
		`<p>Hello <a href="https://x.example/tags/go" class="mention hashtag">#<span>Go</span></a> &amp; you</p><p>line<br>two</p>`: "Hello #Go & you\n\nline\ntwo",
		`<p>a<script>alert(1)</script>b</p>`: "ab",
		`plain &lt;b&gt;`:                    "plain <b>",
		``:                                   "",
	} {
		if got := z.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}
