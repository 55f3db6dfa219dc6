package vocab_test

import (
	"slices"
	"testing"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/vocab"
)

func TestTextToHTML(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                          "",
		"  \n ":                     "",
		"hello":                     "<p>hello</p>",
		"<script>&\"'":              "<p>&lt;script&gt;&amp;&#34;&#39;</p>",
		"one\ntwo\n\nthree\r\nfour": "<p>one<br>two</p><p>three<br>four</p>",
		"a\n\n\n\nb":                "<p>a</p><p>b</p>",
	} {
		if got := vocab.TextToHTML(in); got != want {
			t.Errorf("TextToHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddressing(t *testing.T) {
	t.Parallel()
	iris := vocab.IRIs{Base: "https://social.example"}
	followers := "https://social.example/users/alice/followers"
	bob := "https://social.example/users/bob"
	for v, want := range map[domain.Visibility][2][]string{
		domain.VisibilityPublic:    {{vocab.Public}, {followers, bob}},
		domain.VisibilityUnlisted:  {{followers}, {vocab.Public, bob}},
		domain.VisibilityFollowers: {{followers}, {bob}},
	} {
		to, cc := iris.Addressing("alice", v, []string{bob})
		if !slices.Equal(to, want[0]) || !slices.Equal(cc, want[1]) {
			t.Errorf("%s: to %v cc %v, want %v %v", v, to, cc, want[0], want[1])
		}
	}
}
