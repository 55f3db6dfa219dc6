// Package httpapi is the client HTTP API (/api/v1) plus health endpoints: JSON
// in and out, RFC 9457 problems for every error, bearer authentication by JWT
// or API key, and a correlation ID on every request.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app"
)

// TokenVerifier checks an access token and returns its user.
type TokenVerifier interface {
	Verify(token string) (uuid.UUID, error)
}

// Config is what the API needs besides the application.
type Config struct {
	App    app.Application
	Tokens TokenVerifier
	Logger *slog.Logger
	// PublicURL is the externally visible base URL, used in links.
	PublicURL string
	// Ready reports whether dependencies are usable (database reachable,
	// migrations applied); nil means always ready.
	Ready func(ctx context.Context) error
	// Routes lets other ports (federation, metrics) add their routes to the
	// same router before the catch-all handlers are installed.
	Routes []func(r *mux.Router)
	// Middleware wraps every request inside the correlation ID (e.g. metrics).
	Middleware []mux.MiddlewareFunc
	// RateLimits limits sign-in, registration and writes; the zero value
	// means DefaultRateLimits.
	RateLimits RateLimits
}

// Server holds the API's handlers.
type Server struct {
	app    app.Application
	tokens TokenVerifier
	log    *slog.Logger
	public string
	ready  func(ctx context.Context) error
	router *mux.Router
	known  *knownUsers // see auth.go
	limits *limiters   // see ratelimit.go
}

// API is the HTTP handler of the whole API.
type API struct {
	http.Handler
	router *mux.Router
}

// Route is one registered method and path template.
type Route struct{ Method, Path string }

// Routes lists every registered method and path template.
func (a *API) Routes() []Route {
	var out []Route
	_ = a.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, _ := route.GetMethods()
		for _, m := range methods {
			out = append(out, Route{Method: m, Path: path})
		}
		return nil
	})
	return out
}

// New builds the API handler.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{app: cfg.App, tokens: cfg.Tokens, log: cfg.Logger, public: cfg.PublicURL, ready: cfg.Ready,
		known: newKnownUsers(), limits: newLimiters(cfg.RateLimits)}
	r := mux.NewRouter()
	s.router = r
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)

	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)

	// Full paths on one router rather than a subrouter: mux answers a wrong
	// method on a subrouter's route with 404 instead of 405.
	api := prefixed{r, "/api/v1"}
	api.HandleFunc("/openapi.json", s.openapi).Methods(http.MethodGet)
	api.HandleFunc("/auth/register", s.register).Methods(http.MethodPost)
	api.HandleFunc("/auth/login", s.login).Methods(http.MethodPost)

	api.HandleFunc("/me", s.authed(s.getMe)).Methods(http.MethodGet)
	api.HandleFunc("/me", s.authed(s.patchMe)).Methods(http.MethodPatch)
	api.HandleFunc("/me/api_keys", s.sessionOnly(s.listAPIKeys)).Methods(http.MethodGet)
	api.HandleFunc("/me/api_keys", s.sessionOnly(s.createAPIKey)).Methods(http.MethodPost)
	api.HandleFunc("/me/api_keys/{id}", s.sessionOnly(s.revokeAPIKey)).Methods(http.MethodDelete)

	api.HandleFunc("/users/{username}", s.optional(s.getUser)).Methods(http.MethodGet)
	api.HandleFunc("/users/{username}/thoughts", s.optional(s.userThoughts)).Methods(http.MethodGet)

	api.HandleFunc("/thoughts", s.authed(s.postThought)).Methods(http.MethodPost)
	api.HandleFunc("/thoughts/{id}", s.optional(s.getThought)).Methods(http.MethodGet)
	api.HandleFunc("/thoughts/{id}", s.authed(s.editThought)).Methods(http.MethodPatch)
	api.HandleFunc("/thoughts/{id}", s.authed(s.deleteThought)).Methods(http.MethodDelete)
	api.HandleFunc("/thoughts/{id}/context", s.optional(s.thoughtContext)).Methods(http.MethodGet)

	api.HandleFunc("/notifications", s.authed(s.listNotifications)).Methods(http.MethodGet)
	api.HandleFunc("/notifications/unread_count", s.authed(s.unreadNotificationsCount)).Methods(http.MethodGet)
	api.HandleFunc("/notifications/read-all", s.authed(s.readAllNotifications)).Methods(http.MethodPost)
	api.HandleFunc("/notifications/{id}/read", s.authed(s.readNotification)).Methods(http.MethodPost)

	api.HandleFunc("/thoughts/{id}/like", s.authed(s.likeThought)).Methods(http.MethodPost)
	api.HandleFunc("/thoughts/{id}/like", s.authed(s.unlikeThought)).Methods(http.MethodDelete)
	api.HandleFunc("/thoughts/{id}/boost", s.authed(s.boostThought)).Methods(http.MethodPost)
	api.HandleFunc("/thoughts/{id}/boost", s.authed(s.unboostThought)).Methods(http.MethodDelete)
	api.HandleFunc("/thoughts/{id}/liked_by", s.optional(s.likedBy)).Methods(http.MethodGet)
	api.HandleFunc("/thoughts/{id}/boosted_by", s.optional(s.boostedBy)).Methods(http.MethodGet)
	api.HandleFunc("/users/{username}/follow", s.authed(s.followUser)).Methods(http.MethodPost)
	api.HandleFunc("/users/{username}/follow", s.authed(s.unfollowUser)).Methods(http.MethodDelete)
	api.HandleFunc("/users/{username}/followers", s.optional(s.followers)).Methods(http.MethodGet)
	api.HandleFunc("/users/{username}/following", s.optional(s.following)).Methods(http.MethodGet)
	api.HandleFunc("/users/{username}/block", s.authed(s.blockUser)).Methods(http.MethodPost)
	api.HandleFunc("/users/{username}/block", s.authed(s.unblockUser)).Methods(http.MethodDelete)
	api.HandleFunc("/follow_requests", s.authed(s.followRequests)).Methods(http.MethodGet)
	api.HandleFunc("/follow_requests/{username}/accept", s.authed(s.acceptFollowRequest)).Methods(http.MethodPost)
	api.HandleFunc("/follow_requests/{username}/reject", s.authed(s.rejectFollowRequest)).Methods(http.MethodPost)
	api.HandleFunc("/blocks", s.authed(s.blocks)).Methods(http.MethodGet)
	api.HandleFunc("/me/top_friends", s.authed(s.getTopFriends)).Methods(http.MethodGet)
	api.HandleFunc("/me/top_friends", s.authed(s.putTopFriends)).Methods(http.MethodPut)
	api.HandleFunc("/tags/{tag}", s.optional(s.tagThoughts)).Methods(http.MethodGet)
	api.HandleFunc("/feed", s.authed(s.feed)).Methods(http.MethodGet)
	api.HandleFunc("/search", s.optional(s.search)).Methods(http.MethodGet)

	for _, add := range cfg.Routes {
		add(r)
	}

	var h http.Handler = r
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		h = cfg.Middleware[i](h)
	}
	// Outermost first: correlation ID (so every later log line has it), the
	// security headers (on every answer, a panic's included), then access
	// log, panic recovery and the body limit.
	return &API{Handler: s.withCorrelationID(withSecurityHeaders(s.withAccessLog(s.withRecover(withBodyLimit(h))))), router: r}
}

type prefixed struct {
	r      *mux.Router
	prefix string
}

func (p prefixed) HandleFunc(path string, h http.HandlerFunc) *mux.Route {
	return p.r.HandleFunc(p.prefix+path, h)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, newProblem(http.StatusNotFound, ProblemNotFound, "no such route: "+r.URL.Path))
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if s.router.Match(probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	for i, m := range allowed {
		if i == 0 {
			w.Header().Set("Allow", m)
		} else {
			w.Header().Add("Allow", m)
		}
	}
	writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, ProblemMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path))
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			writeProblem(w, r, newProblem(http.StatusServiceUnavailable, ProblemUnavailable, err.Error()))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
