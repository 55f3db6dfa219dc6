// Package httpapi is the client HTTP API (/api/v1) plus health endpoints: JSON
// in and out, RFC 9457 problems for every error, bearer authentication by JWT
// or API key, and a correlation ID on every request.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app"
	"github.com/thoughts-project/thoughts/app/domain"
)

// TokenVerifier checks an access token's signature, expiry and claims and
// returns its user and session (whether the session is live is the API's
// check).
type TokenVerifier interface {
	Verify(token string) (userID, sessionID uuid.UUID, err error)
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
	// Unavailable reports errors meaning a dependency (the database) is
	// unreachable or restarting: they are answered 503 with Retry-After,
	// without internals, instead of 500. Nil: none is.
	Unavailable func(error) bool
	// RequestTimeout bounds each request's work: its context ends then, so
	// a statement waiting for a lock or for a pool connection is cancelled
	// (pgx cancels it on the server too) and the client gets a 503 problem
	// instead of a connection held until a proxy gives up. 0: no bound.
	RequestTimeout time.Duration
}

// Server holds the API's handlers.
type Server struct {
	app      app.Application
	tokens   TokenVerifier
	log      *slog.Logger
	public   string
	ready    func(ctx context.Context) error
	router   *mux.Router
	sessions *sessionCache // see session_cache.go
	limits   *limiters     // see ratelimit.go
	access   map[string]Access
	// unavailable is Config.Unavailable.
	unavailable func(error) bool
	// timeout is Config.RequestTimeout.
	timeout time.Duration
}

// API is the HTTP handler of the whole API.
type API struct {
	http.Handler
	router   *mux.Router
	access   map[string]Access
	sessions *sessionCache
}

// ForgetSession drops a revoked session from this process's cache of live
// sessions (a revocation another process made, announced by the database).
func (a *API) ForgetSession(id uuid.UUID) { a.sessions.forget(id) }

// SessionsAnnounced tells the API whether revocations made by other
// processes are being announced to it (ForgetSession): the listener calls it
// with true once it listens, false when it loses its connection. Either way
// the cache of live sessions is emptied; it is used only while announced
// (until then every request's session is looked up).
func (a *API) SessionsAnnounced(listening bool) { a.sessions.setTrusted(listening) }

// Access is what a route asks of a request's credentials.
type Access int

// The kinds of access. Every route of the API is registered with one, and
// Routes reports it, so tests can hold each route to its kind.
const (
	// AccessOther: a route added by another port (Config.Routes); the API
	// does not know what it asks.
	AccessOther Access = iota
	// AccessPublic: credentials are not looked at (sign-in, health).
	AccessPublic
	// AccessOptional: anonymous, or any valid credential (an API key needs
	// the read scope); an invalid credential is refused.
	AccessOptional
	// AccessCredential: a valid session token, or an API key with the scope
	// of the method (read for GET and HEAD, write otherwise).
	AccessCredential
	// AccessSession: a valid session token; API keys are refused whatever
	// their scopes (managing keys, sessions, the password, the account).
	AccessSession
)

func (a Access) String() string {
	switch a {
	case AccessPublic:
		return "public"
	case AccessOptional:
		return "optional"
	case AccessCredential:
		return "credential"
	case AccessSession:
		return "session"
	}
	return "other"
}

// Route is one registered method and path template, and its access.
type Route struct {
	Method, Path string
	Access       Access
}

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
			out = append(out, Route{Method: m, Path: path, Access: a.access[m+" "+path]})
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
	if !sessionCheck {
		cfg.Logger.Warn("this binary was built without the session check (build tag bench_no_session_check): " +
			"revoked sessions are NOT refused; it is for benchmarks only (bench/social -session-ab), never deploy it")
	}
	s := &Server{app: cfg.App, tokens: cfg.Tokens, log: cfg.Logger, public: cfg.PublicURL, ready: cfg.Ready,
		sessions: newSessionCache(), limits: newLimiters(cfg.RateLimits), access: map[string]Access{},
		unavailable: cfg.Unavailable, timeout: cfg.RequestTimeout}
	r := mux.NewRouter()
	s.router = r
	r.Use(s.withRouteDeadline)
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)

	s.routeAll(AccessPublic, []string{http.MethodGet, http.MethodHead}, "/healthz", s.healthz)
	s.routeAll(AccessPublic, []string{http.MethodGet, http.MethodHead}, "/readyz", s.readyz)

	// Full paths on one router rather than a subrouter: mux answers a wrong
	// method on a subrouter's route with 404 instead of 405.
	s.route(AccessPublic, http.MethodGet, "/api/v1/openapi.json", s.openapi)
	s.route(AccessPublic, http.MethodPost, "/api/v1/auth/register", s.register)
	s.route(AccessPublic, http.MethodPost, "/api/v1/auth/login", s.login)
	s.route(AccessSession, http.MethodPost, "/api/v1/auth/logout", s.logout)

	s.route(AccessCredential, http.MethodGet, "/api/v1/me", s.getMe)
	s.route(AccessCredential, http.MethodPatch, "/api/v1/me", s.patchMe)
	s.route(AccessSession, http.MethodDelete, "/api/v1/me", s.deleteMe)
	s.route(AccessSession, http.MethodPost, "/api/v1/me/password", s.changePassword)
	s.route(AccessSession, http.MethodGet, "/api/v1/me/sessions", s.listSessions)
	s.route(AccessSession, http.MethodDelete, "/api/v1/me/sessions/{id}", s.revokeSession)
	s.route(AccessSession, http.MethodGet, "/api/v1/me/api_keys", s.listAPIKeys)
	s.route(AccessSession, http.MethodPost, "/api/v1/me/api_keys", s.createAPIKey)
	s.route(AccessSession, http.MethodDelete, "/api/v1/me/api_keys/{id}", s.revokeAPIKey)

	s.route(AccessOptional, http.MethodGet, "/api/v1/users/{username}", s.getUser)
	s.route(AccessOptional, http.MethodGet, "/api/v1/users/{username}/thoughts", s.userThoughts)

	s.route(AccessCredential, http.MethodPost, "/api/v1/thoughts", s.postThought)
	s.route(AccessOptional, http.MethodGet, "/api/v1/thoughts/{id}", s.getThought)
	s.route(AccessCredential, http.MethodPatch, "/api/v1/thoughts/{id}", s.editThought)
	s.route(AccessCredential, http.MethodDelete, "/api/v1/thoughts/{id}", s.deleteThought)
	s.route(AccessOptional, http.MethodGet, "/api/v1/thoughts/{id}/context", s.thoughtContext)
	s.route(AccessCredential, http.MethodGet, "/api/v1/thoughts/{id}/deliveries", s.thoughtDeliveries)

	s.route(AccessCredential, http.MethodGet, "/api/v1/notifications", s.listNotifications)
	s.route(AccessCredential, http.MethodGet, "/api/v1/notifications/unread_count", s.unreadNotificationsCount)
	s.route(AccessCredential, http.MethodPost, "/api/v1/notifications/read-all", s.readAllNotifications)
	s.route(AccessCredential, http.MethodPost, "/api/v1/notifications/{id}/read", s.readNotification)

	s.route(AccessCredential, http.MethodPost, "/api/v1/thoughts/{id}/like", s.likeThought)
	s.route(AccessCredential, http.MethodDelete, "/api/v1/thoughts/{id}/like", s.unlikeThought)
	s.route(AccessCredential, http.MethodPost, "/api/v1/thoughts/{id}/boost", s.boostThought)
	s.route(AccessCredential, http.MethodDelete, "/api/v1/thoughts/{id}/boost", s.unboostThought)
	s.route(AccessOptional, http.MethodGet, "/api/v1/thoughts/{id}/liked_by", s.likedBy)
	s.route(AccessOptional, http.MethodGet, "/api/v1/thoughts/{id}/boosted_by", s.boostedBy)
	s.route(AccessCredential, http.MethodPost, "/api/v1/users/{username}/follow", s.followUser)
	s.route(AccessCredential, http.MethodDelete, "/api/v1/users/{username}/follow", s.unfollowUser)
	s.route(AccessOptional, http.MethodGet, "/api/v1/users/{username}/followers", s.followers)
	s.route(AccessOptional, http.MethodGet, "/api/v1/users/{username}/following", s.following)
	s.route(AccessCredential, http.MethodPost, "/api/v1/users/{username}/block", s.blockUser)
	s.route(AccessCredential, http.MethodDelete, "/api/v1/users/{username}/block", s.unblockUser)
	s.route(AccessCredential, http.MethodGet, "/api/v1/follow_requests", s.followRequests)
	s.route(AccessCredential, http.MethodPost, "/api/v1/follow_requests/{username}/accept", s.acceptFollowRequest)
	s.route(AccessCredential, http.MethodPost, "/api/v1/follow_requests/{username}/reject", s.rejectFollowRequest)
	s.route(AccessCredential, http.MethodGet, "/api/v1/blocks", s.blocks)
	s.route(AccessCredential, http.MethodGet, "/api/v1/me/top_friends", s.getTopFriends)
	s.route(AccessCredential, http.MethodPut, "/api/v1/me/top_friends", s.putTopFriends)
	s.route(AccessOptional, http.MethodGet, "/api/v1/tags/{tag}", s.tagThoughts)
	s.route(AccessCredential, http.MethodGet, "/api/v1/feed", s.feed)
	s.route(AccessOptional, http.MethodGet, "/api/v1/search", s.search)

	for _, add := range cfg.Routes {
		add(r)
	}

	var h http.Handler = r
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		h = cfg.Middleware[i](h)
	}
	// Outermost first: correlation ID (so every later log line has it), the
	// security headers (on every answer, a panic's included), then access
	// log, panic recovery and the body limit; the request's deadline is
	// set once its route is known (withRouteDeadline).
	return &API{Handler: s.withCorrelationID(withSecurityHeaders(s.withAccessLog(s.withRecover(withBodyLimit(h))))),
		router: r, access: s.access, sessions: s.sessions}
}

// route registers h for method and path behind the authentication its
// access asks for, and records the access for Routes.
func (s *Server) route(access Access, method, path string, h http.HandlerFunc) {
	s.routeAll(access, []string{method}, path, h)
}

func (s *Server) routeAll(access Access, methods []string, path string, h http.HandlerFunc) {
	switch access {
	case AccessOptional:
		h = s.optional(h)
	case AccessCredential:
		h = s.authed(h)
	case AccessSession:
		h = s.sessionOnly(h)
	case AccessPublic:
	default:
		panic("httpapi: route " + path + " without an access kind")
	}
	for _, m := range methods {
		s.access[m+" "+path] = access
	}
	s.router.HandleFunc(path, h).Methods(methods...)
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
			// The detail is the client-safe one the check gave, if any: the
			// error itself may name hosts, users and databases.
			detail := "not ready"
			var derr *domain.DetailedError
			if errors.As(err, &derr) {
				detail = derr.Detail
			}
			w.Header().Set("Retry-After", "2")
			writeProblem(w, r, newProblem(http.StatusServiceUnavailable, ProblemUnavailable, detail))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
