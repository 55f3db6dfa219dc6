package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/ports/httpapi/apitest"
)

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("henry")
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, `{"content": "x"`), 400)
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, `{"content": "x"} {"content": "y"}`), 400)
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, `[1,2]`), 400)
	// null decodes into any struct as nothing at all (FuzzDecodeJSON).
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, `null`), 400)
	expectProblem(t, rig.Patch("/api/v1/me", u.Token, ` null`), 400)
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, ``), 400)
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, `{"content": "x", "extra": 1}`), 400)
	expectProblem(t, rig.Do(apitest.Request{Method: "POST", Path: "/api/v1/thoughts", Token: u.Token, Body: `content=x`,
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}), 415)

	big := `{"content": "` + strings.Repeat("x", 70<<10) + `"}`
	expectProblem(t, rig.Post("/api/v1/thoughts", u.Token, big), 413)
	// Also when the client hides the length (chunked).
	resp := rig.Do(apitest.Request{Method: "POST", Path: "/api/v1/thoughts", Token: u.Token, Body: io.MultiReader(strings.NewReader(big))})
	expectProblem(t, resp, 413)

	resp = rig.Do(apitest.Request{Method: "PUT", Path: "/api/v1/thoughts", Token: u.Token})
	expectProblem(t, resp, 405)
	if allow := resp.Header.Values("Allow"); strings.Join(allow, ",") != "POST" {
		t.Errorf("Allow = %v", allow)
	}
	expectProblem(t, rig.Get("/api/v1/nope", ""), 404)
	expectProblem(t, rig.Get("/nope", ""), 404)

	// Nothing was stored by any of that.
	var n int
	if err := rig.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM thoughts`).Scan(&n); err != nil || n != 0 {
		t.Errorf("thoughts = %d (%v)", n, err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	apitest.Expect(t, rig.Get("/healthz", ""), 200)
	apitest.Expect(t, rig.Get("/readyz", ""), 200)
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	rig := apitest.New(t)
	u := rig.Register("ivan")

	resp := rig.Do(apitest.Request{Method: "POST", Path: "/api/v1/thoughts", Token: u.Token,
		Body: map[string]any{"content": "traced"}, Header: map[string]string{"X-Correlation-ID": "req-abc.123"}})
	apitest.Expect(t, resp, 201)
	if got := resp.Header.Get("X-Correlation-ID"); got != "req-abc.123" {
		t.Fatalf("echoed correlation ID = %q", got)
	}
	// Every log line of that request carries it.
	found := 0
	for _, line := range rig.Logs.Lines() {
		if line["path"] == "/api/v1/thoughts" && line["method"] == "POST" {
			found++
			if line["correlation_id"] != "req-abc.123" {
				t.Errorf("access log line without correlation ID: %v", line)
			}
		}
	}
	if found == 0 {
		t.Error("no access log line for the request")
	}
	// The event the request caused carries it too.
	var md []byte
	err := rig.DB.Pool.QueryRow(context.Background(), `SELECT payload FROM `+outbox.TableName(outbox.ForwarderTopic)+` ORDER BY "offset" DESC LIMIT 1`).Scan(&md)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(md, &env); err != nil || env.Metadata["correlation_id"] != "req-abc.123" {
		t.Errorf("outbox metadata = %v (%v)", env.Metadata, err)
	}

	// Absent or invalid: a fresh one is generated.
	for _, h := range []map[string]string{nil, {"X-Correlation-ID": "bad id with spaces"}, {"X-Correlation-ID": strings.Repeat("a", 129)}} {
		resp := rig.Do(apitest.Request{Method: "GET", Path: "/healthz", Header: h})
		got := resp.Header.Get("X-Correlation-ID")
		if got == "" || strings.Contains(got, " ") || len(got) > 128 {
			t.Errorf("generated correlation ID = %q", got)
		}
	}
	// Problems carry it so a client can quote it.
	resp = rig.Do(apitest.Request{Method: "GET", Path: "/nope", Header: map[string]string{"X-Correlation-ID": "find-me"}})
	if p := resp.Map(t); p["correlation_id"] != "find-me" {
		t.Errorf("problem = %v", p)
	}
}
