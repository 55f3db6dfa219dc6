package main

// The floor: what the same machine, database and pool settings give for the
// same kind of work with no Thoughts code in the request path. A minimal
// net/http + pgx server, run as a child process of this benchmark (as the API
// is a process of its own), answers the paths the throughput runs use:
//
//	GET  /api/v1/feed                 one indexed read: the 20 newest public live
//	                                  thoughts with their authors' names
//	POST /api/v1/thoughts             one INSERT into thoughts, committed
//	POST /api/v1/thoughts/{id}/like   one INSERT into likes, committed
//
// Each request's bearer token is verified (HS256, golang-jwt, the API's
// secret and issuer) so the floor does not skip work every real request
// does; there is no session check, no visibility rule, no outbox row, no
// tags or mentions, no middleware. The pool is built by postgres.Connect,
// so it has the API's settings (size, jit off) by construction.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/bench/internal/benchproc"
)

// The floor child process reads its settings from these variables.
const (
	floorEnvDSN    = "BENCH_FLOOR_DSN"
	floorEnvAddr   = "BENCH_FLOOR_ADDR"
	floorEnvSecret = "BENCH_FLOOR_SECRET"
	floorEnvIssuer = "BENCH_FLOOR_ISSUER"
)

// floorServer is the minimal endpoint.
type floorServer struct {
	pool   *pgxpool.Pool
	secret []byte
	issuer string
	log    *slog.Logger
}

// serveFloor runs the floor until ctx ends; it is the body of the child
// process (-floor-serve).
func serveFloor(ctx context.Context, log *slog.Logger) error {
	dsn, addr := os.Getenv(floorEnvDSN), os.Getenv(floorEnvAddr)
	secret, issuer := os.Getenv(floorEnvSecret), os.Getenv(floorEnvIssuer)
	if dsn == "" || addr == "" || secret == "" || issuer == "" {
		return fmt.Errorf("-floor-serve needs %s, %s, %s and %s", floorEnvDSN, floorEnvAddr, floorEnvSecret, floorEnvIssuer)
	}
	pool, err := postgres.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	defer pool.Close()
	f := &floorServer{pool: pool, secret: []byte(secret), issuer: issuer, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /api/v1/feed", f.feed)
	mux.HandleFunc("POST /api/v1/thoughts", f.post)
	mux.HandleFunc("POST /api/v1/thoughts/{id}/like", f.like)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("floor: serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// user verifies the bearer token and returns its subject.
func (f *floorServer) user(r *http.Request) (uuid.UUID, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return uuid.Nil, false
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return f.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(f.issuer), jwt.WithExpirationRequired())
	if err != nil {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(claims.Subject)
	return id, err == nil
}

func (f *floorServer) fail(w http.ResponseWriter, status int, err error) {
	if status >= 500 {
		f.log.Error("floor request failed", "err", err)
	}
	http.Error(w, http.StatusText(status), status)
}

func writeFloorJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type floorThought struct {
	ID         uuid.UUID `json:"id"`
	AuthorID   uuid.UUID `json:"author_id"`
	Username   string    `json:"username,omitempty"`
	Content    string    `json:"content"`
	Visibility string    `json:"visibility"`
	CreatedAt  time.Time `json:"created_at"`
}

// feed is one indexed read: a backward scan of the live thoughts' id index
// (thoughts_live_window_idx) for the 20 newest public ones, joined to their
// authors by primary key.
func (f *floorServer) feed(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.user(r); !ok {
		f.fail(w, http.StatusUnauthorized, nil)
		return
	}
	rows, err := f.pool.Query(r.Context(), `SELECT t.id, t.author_id, u.username, t.content, t.visibility, t.created_at
		FROM thoughts t JOIN users u ON u.id = t.author_id
		WHERE t.deleted_at IS NULL AND t.visibility = 'public'
		ORDER BY t.id DESC LIMIT 20`)
	if err != nil {
		f.fail(w, http.StatusInternalServerError, fmt.Errorf("feed: %w", err))
		return
	}
	items := make([]floorThought, 0, 20)
	for rows.Next() {
		var t floorThought
		if err := rows.Scan(&t.ID, &t.AuthorID, &t.Username, &t.Content, &t.Visibility, &t.CreatedAt); err != nil {
			rows.Close()
			f.fail(w, http.StatusInternalServerError, fmt.Errorf("feed: scan: %w", err))
			return
		}
		items = append(items, t)
	}
	if err := rows.Err(); err != nil {
		f.fail(w, http.StatusInternalServerError, fmt.Errorf("feed: %w", err))
		return
	}
	writeFloorJSON(w, http.StatusOK, items)
}

// post is one INSERT into thoughts, committed (autocommit).
func (f *floorServer) post(w http.ResponseWriter, r *http.Request) {
	me, ok := f.user(r)
	if !ok {
		f.fail(w, http.StatusUnauthorized, nil)
		return
	}
	var in struct {
		Content    string `json:"content"`
		Visibility string `json:"visibility"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || in.Content == "" {
		f.fail(w, http.StatusBadRequest, nil)
		return
	}
	if in.Visibility == "" {
		in.Visibility = "public"
	}
	t := floorThought{ID: uuid.Must(uuid.NewV7()), AuthorID: me, Content: in.Content, Visibility: in.Visibility, CreatedAt: time.Now().UTC()}
	if _, err := f.pool.Exec(r.Context(), `INSERT INTO thoughts (id, author_id, content, visibility, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.AuthorID, t.Content, t.Visibility, t.CreatedAt); err != nil {
		f.fail(w, http.StatusInternalServerError, fmt.Errorf("post: %w", err))
		return
	}
	writeFloorJSON(w, http.StatusCreated, t)
}

// like is one INSERT into likes, committed (the counter trigger runs as it
// does for the API).
func (f *floorServer) like(w http.ResponseWriter, r *http.Request) {
	me, ok := f.user(r)
	if !ok {
		f.fail(w, http.StatusUnauthorized, nil)
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		f.fail(w, http.StatusNotFound, nil)
		return
	}
	if _, err := f.pool.Exec(r.Context(), `INSERT INTO likes (user_id, thought_id, id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, thought_id) DO NOTHING`, me, id, uuid.Must(uuid.NewV7()), time.Now().UTC()); err != nil {
		f.fail(w, http.StatusInternalServerError, fmt.Errorf("like: %w", err))
		return
	}
	writeFloorJSON(w, http.StatusOK, map[string]bool{"liked": true})
}

// floorProcess is the running floor child.
type floorProcess struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
	BaseURL string
}

// startFloor runs this program again with -floor-serve on a free loopback
// port and waits for /readyz.
func startFloor(ctx context.Context, dsn string, secret []byte, issuer string, log *slog.Logger) (*floorProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("floor: find this program: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("floor: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &floorProcess{exited: make(chan struct{}), BaseURL: "http://" + addr}
	p.cmd = exec.Command(self, "-floor-serve")
	p.cmd.Env = benchproc.Env(map[string]string{floorEnvDSN: dsn, floorEnvAddr: addr, floorEnvSecret: string(secret), floorEnvIssuer: issuer})
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the floor: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	log.Info("floor started", "pid", p.cmd.Process.Pid, "url", p.BaseURL)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(p.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("floor not ready after 30s (last: %v)", err)
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("floor exited before it was ready: %v", p.err)
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and waits (SIGKILL after 15 s).
func (p *floorProcess) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
