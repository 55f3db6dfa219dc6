package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTagLen bounds a hashtag, in characters.
const MaxTagLen = 100

// ParseTags returns the distinct #hashtags in content, lowercased, in order of
// first appearance. A tag is '#' followed by Unicode letters, digits or '_',
// not preceded by a letter, digit, '_' or '/' (so "a#b" and URL fragments are
// not tags); all-digit tags ("#1") are not tags.
func ParseTags(content string) []string {
	return scan(content, '#', func(word string) (string, bool) {
		if utf8.RuneCountInString(word) > MaxTagLen {
			return "", false
		}
		allDigits := true
		for _, r := range word {
			if !unicode.IsDigit(r) {
				allDigits = false
				break
			}
		}
		return strings.ToLower(word), !allDigits
	})
}

// ParseMentions returns the distinct local usernames @mentioned in content,
// lowercased, in order of first appearance. "@bob@remote.example" (a remote
// account) and "bob@example.com" (an email) are not local mentions.
func ParseMentions(content string) []string {
	return scan(content, '@', func(word string) (string, bool) {
		name := strings.ToLower(word)
		return name, ValidateUsername(name) == nil
	})
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// scan finds sigil-prefixed words not glued to a preceding word rune, passes
// each through keep, and de-duplicates.
func scan(content string, sigil rune, keep func(string) (string, bool)) []string {
	var out []string
	seen := map[string]bool{}
	prev := rune(-1)
	for i := 0; i < len(content); {
		r, size := utf8.DecodeRuneInString(content[i:])
		if r != sigil || (prev != -1 && (isWordRune(prev) || prev == sigil || prev == '/')) {
			prev = r
			i += size
			continue
		}
		j := i + size
		for j < len(content) {
			r2, s2 := utf8.DecodeRuneInString(content[j:])
			if !isWordRune(r2) {
				break
			}
			j += s2
		}
		word := content[i+size : j]
		// "@bob@host" is a remote handle, not a local mention of bob.
		glued := j < len(content) && strings.HasPrefix(content[j:], string(sigil))
		if word != "" && !glued {
			if v, ok := keep(word); ok && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		prev = r
		if j > i+size {
			prev, _ = utf8.DecodeLastRuneInString(content[:j])
		}
		i = j
	}
	return out
}

// ParseRemoteMentions returns the distinct remote accounts @mentioned in
// content as "name@host" (the host lowercased), in order of first
// appearance: "@bob@remote.example", "@bob@127.0.0.1:8080". A host needs a
// dot or a port; "bob@example.com" (no leading '@') is an email, not a
// mention.
func ParseRemoteMentions(content string) []string {
	var out []string
	seen := map[string]bool{}
	prev := rune(-1)
	isName := func(r rune) bool { return isWordRune(r) || r == '.' || r == '-' }
	isHost := func(r rune) bool {
		return r < utf8.RuneSelf && (r == '.' || r == '-' || r == ':' || unicode.IsLetter(r) || unicode.IsDigit(r))
	}
	for i := 0; i < len(content); {
		r, size := utf8.DecodeRuneInString(content[i:])
		if r != '@' || (prev != -1 && (isWordRune(prev) || prev == '@' || prev == '/')) {
			prev, i = r, i+size
			continue
		}
		j := i + size
		for j < len(content) {
			r2, s2 := utf8.DecodeRuneInString(content[j:])
			if !isName(r2) {
				break
			}
			j += s2
		}
		name := strings.TrimRight(content[i+size:j], ".-")
		if name == "" || j >= len(content) || content[j] != '@' || j != i+size+len(name) {
			prev, i = r, i+size
			continue
		}
		k := j + 1
		for k < len(content) {
			r2, s2 := utf8.DecodeRuneInString(content[k:])
			if !isHost(r2) {
				break
			}
			k += s2
		}
		host := strings.ToLower(strings.TrimRight(content[j+1:k], ".-:"))
		if host != "" && strings.ContainsAny(host, ".:") && !strings.HasPrefix(host, ".") {
			h := name + "@" + host
			if !seen[strings.ToLower(h)] {
				seen[strings.ToLower(h)] = true
				out = append(out, h)
			}
		}
		prev, i = 'x', j+1+len(host)
	}
	return out
}
