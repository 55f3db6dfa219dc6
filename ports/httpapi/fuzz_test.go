package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/thoughts-project/thoughts/app/domain"
)

// writeBodies are the request bodies of the write endpoints: the types the
// handlers decode (TestRequestBodiesAreFuzzed checks that none is missing).
func writeBodies() map[string]func() any {
	return map[string]func() any{
		"registerRequest":       func() any { return new(registerRequest) },
		"loginRequest":          func() any { return new(loginRequest) },
		"patchMeRequest":        func() any { return new(patchMeRequest) },
		"createAPIKeyRequest":   func() any { return new(createAPIKeyRequest) },
		"changePasswordRequest": func() any { return new(changePasswordRequest) },
		"deleteMeRequest":       func() any { return new(deleteMeRequest) },
		"topFriendsRequest":     func() any { return new(topFriendsRequest) },
		"postThoughtRequest":    func() any { return new(postThoughtRequest) },
		"editThoughtRequest":    func() any { return new(editThoughtRequest) },
	}
}

// TestRequestBodiesAreFuzzed reads the package's source: every value passed
// to decodeJSON is a variable of a named type that writeBodies lists, so the
// fuzz target covers each body a handler decodes, and a new endpoint with an
// anonymous or unlisted body fails here.
func TestRequestBodiesAreFuzzed(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	bodies := writeBodies()
	calls := 0
	for _, pkg := range pkgs {
		for _, file := range pkg.Files {
			// The declared type of each local variable, by name, per function.
			ast.Inspect(file, func(n ast.Node) bool {
				fn, ok := n.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					return true
				}
				declared := map[string]ast.Expr{}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.ValueSpec:
						for _, name := range n.Names {
							declared[name.Name] = n.Type
						}
					case *ast.CallExpr:
						if id, ok := n.Fun.(*ast.Ident); !ok || id.Name != "decodeJSON" || len(n.Args) != 2 {
							return true
						}
						calls++
						pos := fset.Position(n.Pos())
						u, ok := n.Args[1].(*ast.UnaryExpr)
						if !ok || u.Op != token.AND {
							t.Errorf("%s: decodeJSON into %s: want &variable of a named request type", pos, types.ExprString(n.Args[1]))
							return true
						}
						v, ok := u.X.(*ast.Ident)
						typ := declared[v.Name]
						tid, named := typ.(*ast.Ident)
						if !ok || !named {
							t.Errorf("%s: decodeJSON into %s of type %s: want a named request type listed in writeBodies", pos, types.ExprString(u.X), types.ExprString(typ))
							return true
						}
						if _, fuzzed := bodies[tid.Name]; !fuzzed {
							t.Errorf("%s: %s is decoded but not in writeBodies (FuzzDecodeJSON)", pos, tid.Name)
						}
					}
					return true
				})
				return false
			})
		}
	}
	if calls < len(bodies) {
		t.Errorf("found %d decodeJSON calls for %d fuzzed bodies: the source scan is broken", calls, len(bodies))
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
