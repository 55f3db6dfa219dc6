package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// matrixEntry is how the authorisation matrix calls one route: a concrete
// path (IDs and names of alice's resources, or of a bystander where acting
// on alice would change what later rows see), a body that passes the
// handler's decoding, and the status another signed-in user (mallory)
// gets: her own data for /me routes, 403 or 404 for alice's resources as
// the API answers, the ordinary answer for what anyone may do.
type matrixEntry struct {
	path  string
	body  any
	other int
}

// matrixCredential is one kind of credential a request may carry.
type matrixCredential struct {
	name string
	// header is the Authorization header; "" sends none. fresh, if set,
	// makes one per request instead (for credentials a request may use up).
	header string
	fresh  func() string
	// bad: a credential that must be refused (401) wherever one is looked at.
	bad bool
}

// TestAuthorizationMatrix (issue 9): every route of the router's own table
// × every kind of credential → the expected status. A route without an entry
// in routesUnderTest fails the test, so a new route cannot be forgotten.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	alice, mallory := rig.Register("alice"), rig.Register("mallory")
	rig.Register("carol") // a bystander mallory follows
	rig.Register("dave")  // and one she blocks (a block would refuse the follow)
	thought := rig.Think(alice, map[string]any{"content": "alice's #matrix"})
	th := thought["id"].(string)
	emit(t, rig, uid(mallory), like(mallory, tid(thought)))
	var notes []map[string]any
	apitest.Expect(t, rig.Get("/api/v1/notifications", alice.Token), http.StatusOK).JSON(t, &notes)
	if len(notes) != 1 {
		t.Fatalf("alice's notifications = %v", notes)
	}
	aliceKeyID, _ := newKey(t, rig, alice.Token)
	aliceSession := apitest.SessionID(t, alice.Token)

	revokedSession := rig.Login("alice")
	apitest.Expect(t, rig.Post("/api/v1/auth/logout", revokedSession, nil), http.StatusNoContent)
	revokedKeyID, revokedKey := newKey(t, rig, alice.Token)
	apitest.Expect(t, rig.Delete("/api/v1/me/api_keys/"+revokedKeyID, alice.Token), http.StatusNoContent)
	_, readOnly := newKey(t, rig, alice.Token, "read")

	now := time.Now()
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": alice.ID, "sid": aliceSession, "iss": apitest.Issuer,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": uuid.NewString()}
		if change != nil {
			change(c)
		}
		return c
	}
	hs256 := func(c jwt.MapClaims) string { return forge(t, jwt.SigningMethodHS256, apitest.Secret, c) }
	// The control: hand-forged like the bad ones below, with nothing wrong.
	apitest.Expect(t, rig.Get("/api/v1/me", hs256(claims(nil))), http.StatusOK)
	noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) string { return "Bearer " + tok }
	creds := []matrixCredential{
		{name: "none"},
		{name: "malformed", header: "Bearer not-a-jwt", bad: true},
		{name: "not bearer", header: "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==", bad: true},
		{name: "expired", header: bearer(hs256(claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}))), bad: true},
		{name: "alg none", header: bearer(noneToken), bad: true},
		{name: "HS512", header: bearer(forge(t, jwt.SigningMethodHS512, apitest.Secret, claims(nil))), bad: true},
		{name: "wrong key", header: bearer(forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-0123456789"), claims(nil))), bad: true},
		{name: "wrong issuer", header: bearer(hs256(claims(func(c jwt.MapClaims) { c["iss"] = "http://evil.test" }))), bad: true},
		{name: "unknown user", header: bearer(hs256(claims(func(c jwt.MapClaims) { c["sub"] = uuid.NewString() }))), bad: true},
		{name: "no session (pre-sessions token)", header: bearer(hs256(claims(func(c jwt.MapClaims) { delete(c, "sid") }))), bad: true},
		{name: "revoked session", header: bearer(revokedSession), bad: true},
		{name: "revoked API key", header: bearer(revokedKey), bad: true},
		{name: "read-only API key", header: bearer(readOnly)},
		{name: "another user's token", fresh: func() string { return bearer(rig.Login("mallory")) }},
	}

	note := notes[0]["id"].(string)
	routesUnderTest := map[string]matrixEntry{
		"GET /healthz":                                   {"/healthz", nil, 200},
		"HEAD /healthz":                                  {"/healthz", nil, 200},
		"GET /readyz":                                    {"/readyz", nil, 200},
		"HEAD /readyz":                                   {"/readyz", nil, 200},
		"GET /api/v1/openapi.json":                       {"/api/v1/openapi.json", nil, 200},
		"POST /api/v1/auth/register":                     {"/api/v1/auth/register", map[string]any{"username": "Bad Name", "email": "x@example.com", "password": "correct horse"}, 422},
		"POST /api/v1/auth/login":                        {"/api/v1/auth/login", map[string]any{"login": "alice", "password": "wrong horse"}, 401},
		"POST /api/v1/auth/logout":                       {"/api/v1/auth/logout", nil, 204},
		"GET /api/v1/me":                                 {"/api/v1/me", nil, 200},
		"PATCH /api/v1/me":                               {"/api/v1/me", map[string]any{"bio": "hello"}, 200},
		"DELETE /api/v1/me":                              {"/api/v1/me", map[string]any{"password": "wrong horse"}, 403},
		"POST /api/v1/me/password":                       {"/api/v1/me/password", map[string]any{"current_password": "wrong horse", "new_password": "battery staple"}, 403},
		"GET /api/v1/me/sessions":                        {"/api/v1/me/sessions", nil, 200},
		"DELETE /api/v1/me/sessions/{id}":                {"/api/v1/me/sessions/" + aliceSession, nil, 404},
		"GET /api/v1/me/api_keys":                        {"/api/v1/me/api_keys", nil, 200},
		"POST /api/v1/me/api_keys":                       {"/api/v1/me/api_keys", map[string]any{"name": "m"}, 201},
		"DELETE /api/v1/me/api_keys/{id}":                {"/api/v1/me/api_keys/" + aliceKeyID, nil, 404},
		"GET /api/v1/users/{username}":                   {"/api/v1/users/alice", nil, 200},
		"GET /api/v1/users/{username}/thoughts":          {"/api/v1/users/alice/thoughts", nil, 200},
		"POST /api/v1/thoughts":                          {"/api/v1/thoughts", map[string]any{"content": "mine"}, 201},
		"GET /api/v1/thoughts/{id}":                      {"/api/v1/thoughts/" + th, nil, 200},
		"PATCH /api/v1/thoughts/{id}":                    {"/api/v1/thoughts/" + th, map[string]any{"content": "defaced"}, 403},
		"DELETE /api/v1/thoughts/{id}":                   {"/api/v1/thoughts/" + th, nil, 403},
		"GET /api/v1/thoughts/{id}/context":              {"/api/v1/thoughts/" + th + "/context", nil, 200},
		"GET /api/v1/thoughts/{id}/deliveries":           {"/api/v1/thoughts/" + th + "/deliveries", nil, 404}, // the author's only
		"GET /api/v1/notifications":                      {"/api/v1/notifications", nil, 200},
		"GET /api/v1/notifications/unread_count":         {"/api/v1/notifications/unread_count", nil, 200},
		"POST /api/v1/notifications/read-all":            {"/api/v1/notifications/read-all", nil, 204},
		"POST /api/v1/notifications/{id}/read":           {"/api/v1/notifications/" + note + "/read", nil, 404},
		"POST /api/v1/thoughts/{id}/like":                {"/api/v1/thoughts/" + th + "/like", nil, 200},
		"DELETE /api/v1/thoughts/{id}/like":              {"/api/v1/thoughts/" + th + "/like", nil, 200},
		"POST /api/v1/thoughts/{id}/boost":               {"/api/v1/thoughts/" + th + "/boost", nil, 200},
		"DELETE /api/v1/thoughts/{id}/boost":             {"/api/v1/thoughts/" + th + "/boost", nil, 200},
		"GET /api/v1/thoughts/{id}/liked_by":             {"/api/v1/thoughts/" + th + "/liked_by", nil, 200},
		"GET /api/v1/thoughts/{id}/boosted_by":           {"/api/v1/thoughts/" + th + "/boosted_by", nil, 200},
		"POST /api/v1/users/{username}/follow":           {"/api/v1/users/carol/follow", nil, 200},
		"DELETE /api/v1/users/{username}/follow":         {"/api/v1/users/carol/follow", nil, 200},
		"GET /api/v1/users/{username}/followers":         {"/api/v1/users/alice/followers", nil, 200},
		"GET /api/v1/users/{username}/following":         {"/api/v1/users/alice/following", nil, 200},
		"POST /api/v1/users/{username}/block":            {"/api/v1/users/dave/block", nil, 200},
		"DELETE /api/v1/users/{username}/block":          {"/api/v1/users/dave/block", nil, 200},
		"GET /api/v1/follow_requests":                    {"/api/v1/follow_requests", nil, 200},
		"POST /api/v1/follow_requests/{username}/accept": {"/api/v1/follow_requests/alice/accept", nil, 404},
		"POST /api/v1/follow_requests/{username}/reject": {"/api/v1/follow_requests/alice/reject", nil, 200}, // no request: nothing to reject
		"GET /api/v1/blocks":                             {"/api/v1/blocks", nil, 200},
		"GET /api/v1/me/top_friends":                     {"/api/v1/me/top_friends", nil, 200},
		"PUT /api/v1/me/top_friends":                     {"/api/v1/me/top_friends", map[string]any{"usernames": []string{}}, 200},
		"GET /api/v1/tags/{tag}":                         {"/api/v1/tags/matrix", nil, 200},
		"GET /api/v1/feed":                               {"/api/v1/feed", nil, 200},
		"GET /api/v1/search":                             {"/api/v1/search?q=alice", nil, 200},
	}

	routes := rig.API.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	cells := 0
	for _, route := range routes {
		key := route.Method + " " + route.Path
		e, ok := routesUnderTest[key]
		if !ok {
			t.Errorf("%s (%s) has no entry in the authorisation matrix: add one", key, route.Access)
			continue
		}
		delete(routesUnderTest, key)
		if route.Access == httpapi.AccessOther {
			t.Errorf("%s is registered without an access kind", key)
			continue
		}
		baseline := 0
		for _, c := range creds {
			header := c.header
			if c.fresh != nil {
				header = c.fresh()
			}
			got := matrixDo(t, rig, route.Method, e, header)
			cells++
			want, why := matrixExpect(route, e, c, baseline)
			if c.name == "none" {
				baseline = got
			}
			if !want(got) {
				t.Errorf("%s with %s: status %d, want %s", key, c.name, got, why)
			}
		}
	}
	for key := range routesUnderTest {
		t.Errorf("the matrix has an entry for %s, which is not a route", key)
	}
	t.Logf("authorisation matrix: %d routes × %d credentials = %d cells", len(routes), len(creds), cells)
}

// matrixExpect says what status route must answer with credential c.
func matrixExpect(route httpapi.Route, e matrixEntry, c matrixCredential, baseline int) (func(int) bool, string) {
	is := func(s int) (func(int) bool, string) { return func(got int) bool { return got == s }, fmt.Sprint(s) }
	read := route.Method == http.MethodGet || route.Method == http.MethodHead
	switch {
	case route.Access == httpapi.AccessPublic && c.name != "none":
		return is(baseline) // credentials are not looked at
	case route.Access == httpapi.AccessPublic:
		return is(e.other)
	case c.name == "none" && route.Access == httpapi.AccessOptional:
		return func(got int) bool { return got < 400 }, "an anonymous answer (2xx)"
	case c.name == "none", c.bad:
		return is(http.StatusUnauthorized)
	case c.name == "read-only API key" && route.Access == httpapi.AccessSession:
		return is(http.StatusForbidden) // no key manages credentials or the account
	case c.name == "read-only API key" && !read:
		return is(http.StatusForbidden)
	case c.name == "read-only API key":
		return func(got int) bool { return got < 400 }, "a 2xx (reading is in scope)"
	}
	return is(e.other)
}

func matrixDo(t *testing.T, rig *apitest.Rig, method string, e matrixEntry, header string) int {
	t.Helper()
	if method == http.MethodHead {
		// HEAD is outside the contract check (the document describes GET).
		req, err := http.NewRequest(method, rig.Server.URL+e.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := rig.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	h := map[string]string{}
	if header != "" {
		h["Authorization"] = header
	}
	return rig.Do(apitest.Request{Method: method, Path: e.path, Body: e.body, Header: h}).Status
}
