package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

func TestRegisterAndLogin(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	resp := apitest.Expect(t, rig.Post("/api/v1/auth/register", "", map[string]string{
		"username": "alice", "email": "Alice@Example.COM", "password": "correct horse",
	}), http.StatusCreated)
	body := resp.Map(t)
	user := body["user"].(map[string]any)
	if body["token"] == "" || user["username"] != "alice" || user["email"] != "Alice@example.com" {
		t.Fatalf("register body = %s", resp.Body)
	}
	if _, ok := user["password_hash"]; ok {
		t.Fatal("register leaks the password hash")
	}
	if id, err := uuid.Parse(user["id"].(string)); err != nil || id.Version() != 7 {
		t.Errorf("user id %v is not a UUIDv7", user["id"])
	}
	for _, login := range []string{"alice", "ALICE", "@alice"} {
		resp := apitest.Expect(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": login, "password": "correct horse"}), http.StatusOK)
		token := resp.Map(t)["token"].(string)
		me := apitest.Expect(t, rig.Get("/api/v1/me", token), http.StatusOK).Map(t)
		if me["username"] != "alice" {
			t.Errorf("login %q: /me = %v", login, me)
		}
	}
	// The username field is accepted as the login too.
	apitest.Expect(t, rig.Post("/api/v1/auth/login", "", map[string]string{"username": "alice", "password": "correct horse"}), http.StatusOK)
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	rig.Register("taken")
	cases := []struct {
		name                      string
		username, email, password string
		status                    int
		field                     string
	}{
		{"empty username", "", "a@example.com", "correct horse", 422, "username"},
		{"uppercase", "Bob", "a@example.com", "correct horse", 422, "username"},
		{"space", "bo b", "a@example.com", "correct horse", 422, "username"},
		{"31 chars", strings.Repeat("a", 31), "a@example.com", "correct horse", 422, "username"},
		{"bad email", "bob", "not-an-email", "correct horse", 422, "email"},
		{"email without domain dot", "bob", "bob@localhost", "correct horse", 422, "email"},
		{"short password", "bob", "a@example.com", "1234567", 422, "password"},
		{"taken username", "taken", "other@example.com", "correct horse", 409, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := rig.Post("/api/v1/auth/register", "", map[string]string{"username": c.username, "email": c.email, "password": c.password})
			p := expectProblem(t, resp, c.status)
			if p["field"] != nil && p["field"] != c.field || (c.field != "" && p["field"] != c.field) {
				t.Errorf("field = %v, want %q (%s)", p["field"], c.field, resp.Body)
			}
		})
	}
	// Uniqueness of usernames is case-insensitive even though usernames are
	// lowercase: the check lives in the database index.
	apitest.Expect(t, rig.Post("/api/v1/auth/register", "", map[string]string{"username": "taken", "email": "x@example.com", "password": "correct horse"}), 409)
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	rig.Register("carol")
	wrong := rig.Post("/api/v1/auth/login", "", map[string]string{"login": "carol", "password": "wrong password"})
	unknown := rig.Post("/api/v1/auth/login", "", map[string]string{"login": "nobody", "password": "wrong password"})
	a, b := expectProblem(t, wrong, 401), expectProblem(t, unknown, 401)
	if a["detail"] != b["detail"] || a["type"] != b["type"] {
		t.Errorf("wrong password and unknown user answer differently: %v vs %v", a, b)
	}
	expectProblem(t, rig.Post("/api/v1/auth/login", "", map[string]string{"login": "carol"}), 422)
}

func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("dave")
	now := time.Now()
	sid := apitest.SessionID(t, u.Token)
	valid := jwt.MapClaims{"sub": u.ID, "sid": sid, "iss": apitest.Issuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	without := func(k string) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, v := range valid {
			if kk != k {
				c[kk] = v
			}
		}
		return c
	}
	seg := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tokens := map[string]string{
		"alg none":     seg(map[string]string{"alg": "none", "typ": "JWT"}) + "." + seg(valid) + ".",
		"HS512":        forge(t, jwt.SigningMethodHS512, apitest.Secret, valid),
		"wrong key":    forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-0123456789"), valid),
		"expired":      forge(t, jwt.SigningMethodHS256, apitest.Secret, jwt.MapClaims{"sub": u.ID, "iss": apitest.Issuer, "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}),
		"no exp":       forge(t, jwt.SigningMethodHS256, apitest.Secret, without("exp")),
		"no iat":       forge(t, jwt.SigningMethodHS256, apitest.Secret, without("iat")),
		"no sub":       forge(t, jwt.SigningMethodHS256, apitest.Secret, without("sub")),
		"unknown user": forge(t, jwt.SigningMethodHS256, apitest.Secret, jwt.MapClaims{"sub": uuid.NewString(), "sid": sid, "iss": apitest.Issuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}),
		// Issued before sessions existed: no sid, refused (README, "Sessions").
		"no sid":          forge(t, jwt.SigningMethodHS256, apitest.Secret, without("sid")),
		"unknown session": forge(t, jwt.SigningMethodHS256, apitest.Secret, jwt.MapClaims{"sub": u.ID, "sid": uuid.NewString(), "iss": apitest.Issuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}),
		"garbage":         "not.a.token",
		"unknown key":     "thk_" + strings.Repeat("0", 32) + "_" + strings.Repeat("A", 43),
		"malformed key":   "thk_nope",
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			resp := rig.Get("/api/v1/me", token)
			expectProblem(t, resp, 401)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			// A bad credential is refused on public routes too, not silently ignored.
			expectProblem(t, rig.Get("/api/v1/users/dave", token), 401)
		})
	}
	// The hand-forged valid token works, so the failures above are about what they vary.
	apitest.Expect(t, rig.Get("/api/v1/me", forge(t, jwt.SigningMethodHS256, apitest.Secret, valid)), 200)
	expectProblem(t, rig.Get("/api/v1/me", ""), 401)
	expectProblem(t, rig.Do(apitest.Request{Method: "GET", Path: "/api/v1/me", Header: map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}}), 401)
}

func TestProfile(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("erin")
	me := apitest.Expect(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"display_name": "  Erin E.  ", "bio": "hi", "locked": true}), 200).Map(t)
	if me["display_name"] != "Erin E." || me["bio"] != "hi" || me["locked"] != true {
		t.Errorf("patched me = %v", me)
	}
	// Fields left out stay as they were.
	me = apitest.Expect(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"bio": "bye"}), 200).Map(t)
	if me["display_name"] != "Erin E." || me["locked"] != true || me["bio"] != "bye" {
		t.Errorf("partial patch = %v", me)
	}
	p := expectProblem(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"bio": strings.Repeat("x", 501)}), 422)
	if p["field"] != "bio" {
		t.Errorf("field = %v", p["field"])
	}
	expectProblem(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"display_name": strings.Repeat("x", 101)}), 422)
	// PostgreSQL text cannot hold NUL: refused as invalid, not a 500.
	expectProblem(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"bio": "a\u0000b"}), 422)
	// A refused change changes nothing, not even the valid half of it.
	expectProblem(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"display_name": "Half", "bio": strings.Repeat("x", 501)}), 422)
	if me := apitest.Expect(t, rig.Get("/api/v1/me", u.Token), 200).Map(t); me["display_name"] != "Erin E." {
		t.Errorf("half-applied change: %v", me)
	}
	expectProblem(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"locked": "yes"}), 400)
	expectProblem(t, rig.Patch("/api/v1/me", u.Token, map[string]any{"username": "mallory"}), 400)

	pub := apitest.Expect(t, rig.Get("/api/v1/users/ERIN", ""), 200).Map(t)
	if pub["username"] != "erin" || pub["display_name"] != "Erin E." || pub["locked"] != true || pub["thoughts_count"] != float64(0) {
		t.Errorf("public profile = %v", pub)
	}
	if _, ok := pub["email"]; ok {
		t.Error("public profile leaks the email")
	}
	expectProblem(t, rig.Get("/api/v1/users/nobody", ""), 404)
	expectProblem(t, rig.Get("/api/v1/users/Not%20Valid", ""), 404)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("frank")
	created := apitest.Expect(t, rig.Post("/api/v1/me/api_keys", u.Token, map[string]string{"name": "cli"}), 201)
	key := created.Map(t)
	token, _ := key["token"].(string)
	if !strings.HasPrefix(token, "thk_") {
		t.Fatalf("created key = %s", created.Body)
	}
	if created.Header.Get("Cache-Control") != "no-store" {
		t.Error("the response showing the secret may be cached")
	}
	me := apitest.Expect(t, rig.Get("/api/v1/me", token), 200).Map(t)
	if me["username"] != "frank" {
		t.Errorf("me via api key = %v", me)
	}
	list := apitest.Expect(t, rig.Get("/api/v1/me/api_keys", u.Token), 200)
	if strings.Contains(string(list.Body), token[20:]) || strings.Contains(string(list.Body), `"token"`) {
		t.Errorf("listing shows the secret: %s", list.Body)
	}
	var keys []map[string]any
	list.JSON(t, &keys)
	if len(keys) != 1 || keys[0]["name"] != "cli" || keys[0]["last_used_at"] == nil {
		t.Errorf("keys = %v", keys)
	}
	// A tampered secret with the right key ID is refused.
	tampered := token[:len(token)-1] + map[bool]string{true: "A", false: "B"}[token[len(token)-1] != 'A']
	expectProblem(t, rig.Get("/api/v1/me", tampered), 401)

	other := rig.Register("grace")
	expectProblem(t, rig.Delete("/api/v1/me/api_keys/"+key["id"].(string), other.Token), 404)
	apitest.Expect(t, rig.Delete("/api/v1/me/api_keys/"+key["id"].(string), u.Token), 204)
	expectProblem(t, rig.Get("/api/v1/me", token), 401)
	expectProblem(t, rig.Post("/api/v1/me/api_keys", u.Token, map[string]string{"name": ""}), 422)
	expectProblem(t, rig.Delete("/api/v1/me/api_keys/not-a-uuid", u.Token), 404)
}

// expectProblem asserts an RFC 9457 body with status and returns it.
func expectProblem(t *testing.T, resp apitest.Response, status int) map[string]any {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", resp.Status, status, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body: %s", ct, resp.Body)
	}
	p := resp.Map(t)
	if p["status"] != float64(status) || p["type"] == "" || p["title"] == "" || p["detail"] == "" {
		t.Fatalf("problem body = %s", resp.Body)
	}
	if strings.Contains(string(resp.Body), "goroutine") || strings.Contains(string(resp.Body), ".go:") {
		t.Fatalf("problem leaks internals: %s", resp.Body)
	}
	return p
}
