package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// Issue 9, item 8: text that is not valid UTF-8, or holds an unpaired UTF-16
// surrogate escape, is refused naming its field instead of being stored as
// U+FFFD.
func TestInvalidTextIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("alice")
	for _, c := range []struct {
		name, method, path, body, field string
	}{
		{"invalid byte in content", "POST", "/api/v1/thoughts", "{\"content\":\"hi \xff there\"}", "content"},
		{"truncated sequence in content", "POST", "/api/v1/thoughts", "{\"content\":\"hi \xe2\x82\"}", "content"},
		{"encoded surrogate in content", "POST", "/api/v1/thoughts", "{\"content\":\"hi \xed\xa0\x80\"}", "content"},
		{"lone high surrogate in content", "POST", "/api/v1/thoughts", `{"content":"hi \ud800 there"}`, "content"},
		{"lone low surrogate in content", "POST", "/api/v1/thoughts", `{"content":"hi \uDC00"}`, "content"},
		{"reversed pair in content", "POST", "/api/v1/thoughts", `{"content":"\udc00\ud800"}`, "content"},
		{"lone surrogate in the warning", "POST", "/api/v1/thoughts", `{"content":"ok","content_warning":"\ud83d"}`, "content_warning"},
		{"lone surrogate in an edit", "PATCH", "/api/v1/thoughts/{id}", `{"content":"\ud83d!"}`, "content"},
		{"invalid byte in bio", "PATCH", "/api/v1/me", "{\"bio\":\"\xc0\xaf\"}", "bio"},
		{"lone surrogate in bio", "PATCH", "/api/v1/me", `{"bio":"x\udfff"}`, "bio"},
		{"lone surrogate in display name", "PATCH", "/api/v1/me", `{"display_name":"\ud800"}`, "display_name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if strings.Contains(path, "{id}") {
				path = strings.Replace(path, "{id}", rig.Think(u, map[string]any{"content": "to edit"})["id"].(string), 1)
			}
			p := expectProblem(t, rig.Do(apitest.Request{Method: c.method, Path: path, Token: u.Token, Body: []byte(c.body)}), 422)
			if p["field"] != c.field || !strings.Contains(p["detail"].(string), "UTF-8") {
				t.Errorf("problem = %v, want field %s", p, c.field)
			}
		})
	}
	// Proper pairs, escaped backslashes and a literal U+FFFD are text.
	resp := apitest.Expect(t, rig.Do(apitest.Request{Method: "POST", Path: "/api/v1/thoughts", Token: u.Token,
		Body: []byte(`{"content":"\ud83d\ude00 \\ud800 \ufffd é"}`)}), http.StatusCreated)
	if got := resp.Map(t)["content"]; got != "😀 \\ud800 \ufffd é" {
		t.Errorf("content = %q", got)
	}
	me := apitest.Expect(t, rig.Do(apitest.Request{Method: "PATCH", Path: "/api/v1/me", Token: u.Token,
		Body: []byte(`{"bio":"\uD83D\uDE00"}`)}), http.StatusOK).Map(t)
	if me["bio"] != "😀" {
		t.Errorf("bio = %q", me["bio"])
	}
}

// Issue 9, item 8: names that read as system accounts, or as nothing at all,
// cannot be registered; nor can a password of control characters.
func TestRegistrationRefusesReservedNamesAndEmptyPasswords(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	register := func(username, password string) apitest.Response {
		return rig.Post("/api/v1/auth/register", "", map[string]string{
			"username": username, "email": username + "x@example.com", "password": password,
		})
	}
	for _, name := range []string{"admin", "root", "me", "_", "0", "123", "__", "_1_", "administrator", "support", "thoughts", "api"} {
		p := expectProblem(t, register(name, "correct horse"), 422)
		if p["field"] != "username" {
			t.Errorf("%s: %v", name, p)
		}
	}
	for name, pw := range map[string]string{
		"nuls":          strings.Repeat("\x00", 8),
		"controls":      "\x01\x02\x03\x04\x05\x06\x07\x08\x1b\x7f",
		"shortcontrols": "abc\x00\x00\x00\x00\x00\x00",
		"onenul":        "correct horse\x00",
	} {
		p := expectProblem(t, register("pw_"+name, pw), 422)
		if p["field"] != "password" {
			t.Errorf("%s: %v", name, p)
		}
	}
	// Names with a letter are fine, digits and underscores included.
	apitest.Expect(t, register("r2d2", "correct horse"), http.StatusCreated)
	apitest.Expect(t, register("_x_", "correct horse"), http.StatusCreated)
	apitest.Expect(t, register("adminsitrator", "correct horse"), http.StatusCreated)
	apitest.Expect(t, register("tabby", "tab\tseparated words"), http.StatusCreated)
}

// Issue 9, item 8: a query string that is not UTF-8 is a bad request saying
// so, not "q is required".
func TestSearchQueryMustBeUTF8(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	p := expectProblem(t, rig.Get("/api/v1/search?q=%ff", ""), 400)
	if p["field"] != "q" || !strings.Contains(p["detail"].(string), "UTF-8") {
		t.Errorf("problem = %v", p)
	}
	p = expectProblem(t, rig.Get("/api/v1/search?q=", ""), 400)
	if !strings.Contains(p["detail"].(string), "required") {
		t.Errorf("problem = %v", p)
	}
}

// Issue 9, item 8: an ID in a body that is not a UUID is named, without the
// UUID parser's own words.
func TestBadIDInBodyNamesTheField(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("alice")
	for _, v := range []string{"' OR 1=1--", "", "0000", "not-a-uuid-at-all-not-a-uuid-at-all!"} {
		p := expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, map[string]any{"content": "x", "in_reply_to_id": v}), 400)
		detail := p["detail"].(string)
		if p["field"] != "in_reply_to_id" || strings.Contains(detail, "length") || strings.Contains(detail, "invalid UUID") {
			t.Errorf("%q: problem = %v", v, p)
		}
	}
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, map[string]any{"content": "x", "in_reply_to_id": 12}), 400)
	// A well-formed ID of nothing is still a 404-like refusal, as before.
	resp := rig.Post("/api/v1/thoughts", u.Token, map[string]any{"content": "x", "in_reply_to_id": "01a23333-f208-7727-bfa8-f3e36e6af28b"})
	if resp.Status == http.StatusCreated || resp.Status >= 500 {
		t.Errorf("reply to nothing: %d %s", resp.Status, resp.Body)
	}
	apitest.Expect(t, rig.Post("/api/v1/thoughts", u.Token, map[string]any{"content": "x", "in_reply_to_id": nil}), http.StatusCreated)
}
