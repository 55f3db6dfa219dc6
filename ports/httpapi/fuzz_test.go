package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/thoughts-project/thoughts/app/domain"
)

// writeBodies are the request bodies of the write endpoints, as their
// handlers declare them (keep in step with handlers_*.go).
func writeBodies() map[string]func() any {
	return map[string]func() any{
		"register": func() any {
			return &struct {
				Username string `json:"username"`
				Email    string `json:"email"`
				Password string `json:"password"`
			}{}
		},
		"login": func() any {
			return &struct {
				Login    string `json:"login"`
				Username string `json:"username"`
				Email    string `json:"email"`
				Password string `json:"password"`
			}{}
		},
		"patch me": func() any {
			return &struct {
				DisplayName *string `json:"display_name"`
				Bio         *string `json:"bio"`
				Locked      *bool   `json:"locked"`
			}{}
		},
		"api key": func() any {
			return &struct {
				Name   string    `json:"name"`
				Scopes *[]string `json:"scopes"`
			}{}
		},
		"password": func() any {
			return &struct {
				CurrentPassword string `json:"current_password"`
				NewPassword     string `json:"new_password"`
				KeepAPIKeys     bool   `json:"keep_api_keys"`
			}{}
		},
		"delete me": func() any {
			return &struct {
				Password string `json:"password"`
			}{}
		},
		"top friends": func() any {
			return &struct {
				Usernames *[]string `json:"usernames"`
			}{}
		},
		"post thought": func() any {
			return &struct {
				Content        string  `json:"content"`
				ContentWarning string  `json:"content_warning"`
				Sensitive      bool    `json:"sensitive"`
				Visibility     string  `json:"visibility"`
				InReplyToID    *string `json:"in_reply_to_id"`
			}{}
		},
		"edit thought": func() any {
			return &struct {
				Content        *string `json:"content"`
				ContentWarning *string `json:"content_warning"`
				Sensitive      *bool   `json:"sensitive"`
			}{}
		},
	}
}

func jsonRequest(body []byte) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://thoughts.test/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// clientError reports whether err is what decodeJSON may answer: a problem
// with a 4xx status, or a validation error naming a field.
func clientError(err error) bool {
	var re *requestError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &re):
		return re.problem.Status >= 400 && re.problem.Status < 500
	case errors.As(err, &ve):
		return ve.Field != ""
	}
	return false
}

// FuzzDecodeJSON: for every write endpoint's body, any input is either
// refused as the client's mistake (4xx) or decoded into a value that holds
// only valid UTF-8 it did not invent (no U+FFFD the client did not send) and
// that survives a round trip through encoding unchanged.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"content":"hi","visibility":"public","in_reply_to_id":null}`, `{"content":"x"} {"content":"y"}`,
		`{"content":"\ud800"}`, `{"bio":"\ud83d\ude00"}`, "{\"bio\":\"\xff\"}", `{"scopes":["read","write"]}`,
		`{"usernames":[]}`, `[1,2]`, ``, `null`, `{"locked":"yes"}`, `{"extra":1}`, `{"content":"\\ud800"}`,
		`{"password":"correct horse","keep_api_keys":true}`, `{"a":` + strings.Repeat("[", 1000),
	} {
		f.Add([]byte(s))
	}
	bodies := writeBodies()
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, mk := range bodies {
			dst := mk()
			err := decodeJSON(jsonRequest(body), dst)
			if err != nil {
				if !clientError(err) {
					t.Fatalf("%s: decodeJSON(%q) = %v (%T), not a client error", name, body, err, err)
				}
				continue
			}
			if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
				t.Fatalf("%s: decodeJSON accepted %q, not a JSON object", name, body)
			}
			enc, err := json.Marshal(dst)
			if err != nil {
				t.Fatalf("%s: re-encode %#v: %v", name, dst, err)
			}
			if !utf8.Valid(enc) {
				t.Fatalf("%s: decoded %q into invalid UTF-8", name, body)
			}
			if bytes.Contains(enc, []byte("\ufffd")) && !bytes.Contains(body, []byte("\ufffd")) &&
				!bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
				t.Fatalf("%s: decoding %q invented U+FFFD: %s", name, body, enc)
			}
			again := mk()
			if err := decodeJSON(jsonRequest(enc), again); err != nil {
				t.Fatalf("%s: its own encoding %s is refused: %v", name, enc, err)
			}
			if !reflect.DeepEqual(dst, again) {
				t.Fatalf("%s: round trip changed %#v into %#v", name, dst, again)
			}
		}
	})
}

// FuzzParsePage: any query string gives a 400 naming a parameter, or a page
// within the limits that encodes back to the same page.
func FuzzParsePage(f *testing.F) {
	for _, s := range []string{
		"", "limit=20", "limit=0", "limit=101", "limit=-1", "limit=1e2", "limit=%ff",
		"max_id=01a23333-f208-7727-bfa8-f3e36e6af28b", "since_id=x", "min_id=01a23333-f208-7727-bfa8-f3e36e6af28b&since_id=01a23333-f208-7727-bfa8-f3e36e6af28b",
		"min_id={01a23333-f208-7727-bfa8-f3e36e6af28b}", "max_id=urn:uuid:01a23333-f208-7727-bfa8-f3e36e6af28b", "limit=5&limit=500", "%zz", ";;&&==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/v1/feed", RawQuery: rawQuery}}
		p, err := parsePage(r)
		if err != nil {
			var re *requestError
			var ve *domain.ValidationError
			switch {
			case errors.As(err, &re) && re.problem.Status == http.StatusBadRequest && re.problem.Field != "":
			case errors.As(err, &ve) && ve.Field != "":
			default:
				t.Fatalf("parsePage(%q) = %v (%T), not a 400 naming a parameter", rawQuery, err, err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > domain.MaxPageLimit || (p.SinceID != nil && p.MinID != nil) {
			t.Fatalf("parsePage(%q) = %+v", rawQuery, p)
		}
		q := url.Values{"limit": {strconv.Itoa(p.Limit)}}
		if p.MaxID != nil {
			q.Set("max_id", p.MaxID.String())
		}
		if p.SinceID != nil {
			q.Set("since_id", p.SinceID.String())
		}
		if p.MinID != nil {
			q.Set("min_id", p.MinID.String())
		}
		again, err := parsePage(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/v1/feed", RawQuery: q.Encode()}})
		if err != nil || !reflect.DeepEqual(p, again) {
			t.Fatalf("parsePage(%q) = %+v; its encoding %q gives %+v, %v", rawQuery, p, q.Encode(), again, err)
		}
	})
}
