package apitest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/thoughts-project/thoughts/ports/httpapi"
)

// ContractCheck holds every request the API accepts and every response it gives
// to the OpenAPI document (ports/httpapi/openapi.yaml). A test may turn it off
// only to send traffic the document cannot describe.
var ContractCheck = true

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractErr    error
)

func contract() (routers.Router, error) {
	contractOnce.Do(func() {
		var doc *openapi3.T
		doc, contractErr = httpapi.OpenAPI()
		if contractErr != nil {
			return
		}
		// Route by path only: the document's server is "/".
		contractRouter, contractErr = gorillamux.NewRouter(doc)
	})
	return contractRouter, contractErr
}

// checkContract validates one exchange: the response always (its status must be
// documented and its body match), the request when the server accepted it (a
// request the API takes must be one the document allows). Requests a test makes
// invalid on purpose are refused by the server and so not held to the schema.
func checkContract(t testing.TB, method, rawURL string, reqHeader http.Header, reqBody []byte, resp Response) {
	t.Helper()
	router, err := contract()
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, "http://localhost"+u.RequestURI(), bytes.NewReader(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = reqHeader.Clone()
	route, params, err := router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		if resp.Status == http.StatusNotFound || resp.Status == http.StatusMethodNotAllowed {
			return // an unknown route or method, answered as such
		}
		t.Errorf("openapi: %s %s answered %d but is not in the document", method, u.Path, resp.Status)
		return
	}
	if err != nil {
		t.Fatalf("openapi: find route %s %s: %v", method, u.Path, err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		MultiError:         true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if resp.Status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("openapi: the API accepted a request the document forbids: %s %s %s: %v", method, u.RequestURI(), reqBody, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.Status, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(resp.Body)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		msg := err.Error()
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		t.Errorf("openapi: response to %s %s does not match the document: status %d, body %s: %s",
			method, u.RequestURI(), resp.Status, truncate(resp.Body), strings.TrimSpace(msg))
	}
}

func truncate(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}
