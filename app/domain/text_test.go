package domain_test

import (
	"fmt"
	"testing"

	"github.com/thoughts-project/thoughts/app/domain"
)

func TestParseTags(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"#Go is #fun, #go again":         {"go", "fun"},
		"#café #日本語 #snake_case":         {"café", "日本語", "snake_case"},
		"no#tag here, #1 is a number":    nil,
		"(#paren) #end.":                 {"paren", "end"},
		"##double #":                     nil,
		"#a1 #1a":                        {"a1", "1a"},
		"http://x.example/#anchor #real": {"real"},
	}
	for in, want := range cases {
		if got := domain.ParseTags(in); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ParseTags(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseMentions(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"hi @Alice and @bob_2, @alice again": {"alice", "bob_2"},
		"mail me: carol@example.com":         nil,
		"@remote@server.example is remote":   nil,
		"(@dave) @erin.":                     {"dave", "erin"},
		"@" + string(make([]byte, 0)) + " @": nil,
		"@ünï is no username":                nil,
		"@abcdefghijabcdefghijabcdefghijk":   nil, // 31 characters
	}
	for in, want := range cases {
		if got := domain.ParseMentions(in); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ParseMentions(%q) = %v, want %v", in, got, want)
		}
	}
}
