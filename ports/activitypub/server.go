// Package activitypub is the ActivityPub port: discovery (WebFinger,
// host-meta, NodeInfo), actor documents, Notes, outboxes and follower
// collections, at the root of the site beside the client API. Documents are
// rendered by app/vocab; this package negotiates, routes and translates
// errors.
package activitypub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// Software names the server in NodeInfo and the User-Agent.
type Software struct {
	// Name is NodeInfo's software name: lowercase letters, digits and '-'.
	Name       string
	Version    string
	Repository string
}

// Config is what the port needs.
type Config struct {
	App        app.Application
	Federation app.Federation
	// PublicURL is the base of every IRI (PUBLIC_URL).
	PublicURL string
	Software  Software
	// OpenRegistrations is published in NodeInfo.
	OpenRegistrations bool
	Logger            *slog.Logger
	// Clock is the time NodeInfo's cache runs on; nil is the system clock.
	Clock func() time.Time
	// Verifier checks the signatures of inbox deliveries and signed
	// fetches; without one the inboxes refuse everything (401).
	Verifier RequestVerifier
	// HostHealth hears of every host that sent a validly signed delivery.
	HostHealth command.HostHealth
}

// Server serves the ActivityPub routes.
type Server struct {
	app      app.Application
	fed      app.Federation
	iris     vocab.IRIs
	public   *url.URL
	software Software
	openReg  bool
	log      *slog.Logger
	clock    func() time.Time
	verifier RequestVerifier
	health   command.HostHealth

	instanceMu  sync.Mutex
	instanceKey string // the instance actor's public key, once loaded

	statsMu      sync.Mutex
	stats        nodeInfoUsage
	statsExpires time.Time
}

// New checks cfg and returns the port.
func New(cfg Config) (*Server, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("activitypub: public URL %q is not an http(s) base URL", cfg.PublicURL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Software.Name == "" {
		cfg.Software.Name = "thoughts"
	}
	return &Server{
		app: cfg.App, fed: cfg.Federation, iris: vocab.IRIs{Base: strings.TrimRight(cfg.PublicURL, "/")},
		public: u, software: cfg.Software, openReg: cfg.OpenRegistrations, log: cfg.Logger, clock: cfg.Clock,
		verifier: cfg.Verifier, health: cfg.HostHealth,
	}, nil
}

// Routes adds the federation routes to r (for httpapi.Config.Routes). They
// live at the root, outside the client API's OpenAPI document: they speak
// ActivityStreams, JRD and NodeInfo, whose specifications are their contract.
func (s *Server) Routes(r *mux.Router) {
	get := func(path string, h http.HandlerFunc) {
		r.HandleFunc(path, h).Methods(http.MethodGet, http.MethodHead)
	}
	get("/.well-known/webfinger", s.webfinger)
	get("/.well-known/host-meta", s.hostMeta)
	get("/.well-known/nodeinfo", s.nodeInfoLinks)
	get("/nodeinfo/2.1", s.nodeInfo)
	get("/actor", s.instanceActor)
	get("/actor/outbox", s.instanceOutbox)
	get("/users/{username}", s.actor)
	get("/users/{username}/outbox", s.outbox)
	get("/users/{username}/followers", s.followers)
	get("/users/{username}/following", s.following)
	get("/users/{username}/thoughts/{id}", s.note)
	get("/users/{username}/thoughts/{id}/activity", s.noteActivity)
	r.HandleFunc("/users/{username}/inbox", s.inbox).Methods(http.MethodPost)
	r.HandleFunc("/inbox", s.inbox).Methods(http.MethodPost)
}

// wantsActivity reports whether the client asked for an ActivityStreams
// document: application/activity+json or application/ld+json (any profile;
// Mastodon sends the ActivityStreams one) with a non-zero q. Anything else,
// a browser's text/html included, gets the human view.
func wantsActivity(r *http.Request) bool {
	for _, part := range strings.Split(strings.Join(r.Header.Values("Accept"), ","), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
				continue
			}
		}
		if mt == "application/activity+json" || mt == "application/ld+json" {
			return true
		}
	}
	return false
}

// writeActivity sends an ActivityStreams document in the media type the
// client asked for.
func writeActivity(w http.ResponseWriter, r *http.Request, status int, doc any) {
	ct := vocab.MediaTypeActivity + "; charset=utf-8"
	if strings.Contains(strings.Join(r.Header.Values("Accept"), ","), "application/ld+json") &&
		!strings.Contains(strings.Join(r.Header.Values("Accept"), ","), "application/activity+json") {
		ct = vocab.MediaTypeLD
	}
	writeJSON(w, status, ct, doc)
}

// writeError is the port's one translation of errors to statuses.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var verr *domain.ValidationError
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &verr):
		status = http.StatusBadRequest
	case errors.Is(err, domain.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, domain.ErrGone):
		status = http.StatusGone
	case errors.Is(err, context.Canceled):
		return // the client went away
	case r.Context().Err() != nil:
		// The request's deadline passed (the API's REQUEST_TIMEOUT) and cut
		// its work short: the sender retries later, as after any 503.
		w.Header().Set("Retry-After", "2")
		status = http.StatusServiceUnavailable
		s.log.WarnContext(r.Context(), "activitypub request stopped at its deadline", "path", r.URL.Path, "err", err)
	}
	detail := http.StatusText(status)
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "activitypub request failed", "path", r.URL.Path, "err", err)
	} else if verr != nil {
		detail = verr.Error()
	}
	writeJSON(w, status, "application/problem+json", map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}

// badRequest answers 400 with a reason.
func badRequest(w http.ResponseWriter, detail string) {
	writeJSON(w, http.StatusBadRequest, "application/problem+json", map[string]any{
		"type": "about:blank", "title": http.StatusText(http.StatusBadRequest), "status": http.StatusBadRequest, "detail": detail,
	})
}
