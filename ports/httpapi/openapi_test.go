package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/ports/httpapi"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

// TestOpenAPICoversEveryRoute fails when a registered route is missing from the
// document, so the contract cannot silently fall behind the code.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := httpapi.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	rig := apitest.New(t)
	routes := rig.API.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes found: %v", len(routes), routes)
	}
	for _, r := range routes {
		item := doc.Paths.Find(r.Path)
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet // HEAD is served wherever GET is
		}
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s %s is registered but not in openapi.yaml", r.Method, r.Path)
		}
	}
	// And the other way round: everything documented exists.
	registered := map[string]bool{}
	for _, r := range routes {
		registered[r.Method+" "+r.Path] = true
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("%s %s is documented but not registered", method, path)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	resp := apitest.Expect(t, rig.Get("/api/v1/openapi.json", ""), 200)
	doc := resp.Map(t)
	if doc["openapi"] != "3.1.0" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("served document: openapi=%v content-type=%s", doc["openapi"], resp.Header.Get("Content-Type"))
	}
	if _, ok := doc["paths"].(map[string]any)["/api/v1/thoughts"]; !ok {
		t.Error("served document lacks /api/v1/thoughts")
	}
}
