package federation

import (
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// Sanitizer cleans the HTML other servers send (Note content, actor
// summaries) down to a small allow-list, with bluemonday: paragraphs, line
// breaks, links (http and https only, opened with rel="nofollow noopener"),
// the span and link classes Mastodon marks mentions and hashtags with,
// strong, em, code, pre, blockquote and lists. Everything else goes: scripts
// and styles with their content, event handler attributes, javascript: and
// data: URLs, images, iframes. A Sanitizer is safe for concurrent use.
type Sanitizer struct {
	policy *bluemonday.Policy
}

// mentionClasses are the microformat classes Mastodon and GoToSocial put on
// mentions and hashtags; a class attribute must consist of them alone.
var mentionClasses = regexp.MustCompile(`^(?:(?:h-card|mention|hashtag|u-url)\s*)+$`)

// NewSanitizer builds the allow-list policy.
func NewSanitizer() *Sanitizer {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "span")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	// target=_blank, and with it rel="noopener", on links to other sites.
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("class").Matching(mentionClasses).OnElements("a", "span")
	return &Sanitizer{policy: p}
}

// HTML returns s with only the allowed elements and attributes.
func (z *Sanitizer) HTML(s string) string {
	return strings.TrimSpace(z.policy.Sanitize(s))
}

// Text renders HTML as plain text, for search, hashtags and clients that
// show text: tags are dropped, entities decoded, a <br> is a line break and
// a paragraph or block ends with a blank line.
func (z *Sanitizer) Text(s string) string {
	var b strings.Builder
	tok := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // inside script or style: their text is not text
	for {
		tt := tok.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(tok.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := tok.TagName()
			switch string(name) {
			case "script", "style":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br":
				b.WriteByte('\n')
			case "p", "blockquote", "pre", "ul", "ol", "div", "h1", "h2", "h3", "h4", "h5", "h6":
				if tt == html.EndTagToken {
					b.WriteString("\n\n")
				}
			case "li":
				if tt == html.EndTagToken {
					b.WriteByte('\n')
				}
			}
		}
	}
}

// tidyText trims trailing spaces of lines, collapses runs of blank lines into
// one and trims the whole.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
