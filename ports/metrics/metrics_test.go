package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/ports/metrics"
)

// TestRequestsCountedByRouteTemplate: requests are labelled with their route
// template (one series per route, not per thought), unmatched ones as such,
// and /metrics serves them.
func TestRequestsCountedByRouteTemplate(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	m, err := metrics.NewHTTP(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.HandleFunc("/api/v1/thoughts/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }).Methods(http.MethodGet)
	m.Routes(r)
	srv := httptest.NewServer(m.Middleware(r))
	defer srv.Close()
	scrape := httptest.NewServer(metrics.Handler(reg))
	defer scrape.Close()
	// /metrics is not among the API's routes: it is served on its own listener.
	for _, path := range []string{"/api/v1/thoughts/1", "/api/v1/thoughts/2", "/nowhere", "/metrics"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(scrape.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`thoughts_http_requests_total{method="GET",route="/api/v1/thoughts/{id}",status="418"} 2`,
		`thoughts_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`thoughts_http_request_duration_seconds_count{method="GET",route="/api/v1/thoughts/{id}"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

type fakeStats struct{}

func (fakeStats) HostCounts(context.Context) (map[string]int, error) {
	return map[string]int{"available": 3, "open": 1, "unavailable": 2}, nil
}
func (fakeStats) PendingCount(context.Context) (int, error) { return 7, nil }

func TestDeliveryMetrics(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	d, err := metrics.NewDelivery(reg, fakeStats{})
	if err != nil {
		t.Fatal(err)
	}
	d.Observe("delivered")
	d.Observe("delivered")
	d.Observe("failed")
	rec := httptest.NewRecorder()
	metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`thoughts_federation_deliveries_total{outcome="delivered"} 2`, `thoughts_federation_deliveries_total{outcome="failed"} 1`,
		`thoughts_federation_deliveries_total{outcome="retry"} 0`,
		`thoughts_federation_hosts{state="open"} 1`, `thoughts_federation_hosts{state="unavailable"} 2`,
		`thoughts_federation_deliveries_pending 7`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
