//go:build faults

package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// bins holds the binaries built by TestMain.
var bins struct{ thoughts, natsServer, pgBin string }

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "thoughts-faults-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bins.thoughts = filepath.Join(dir, "thoughts")
		bins.natsServer = filepath.Join(dir, "nats-server")
		for _, b := range []struct{ out, pkg string }{
			{bins.thoughts, "github.com/thoughts-project/thoughts"},
			{bins.natsServer, "github.com/nats-io/nats-server/v2"},
		} {
			cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n", b.pkg, err)
				return 1
			}
		}
		if bins.pgBin, err = postgresBin(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Binaries made in a root-owned 0700 temp dir: the postgres OS user
		// needs nothing of them, only of the cluster directories.
		return m.Run()
	}())
}

// likes is the size of a like burst: FAULTS_LIKES, default 10,000.
func likes(t *testing.T) int {
	if v := os.Getenv("FAULTS_LIKES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			t.Fatalf("FAULTS_LIKES=%q: want a whole number of at least 100", v)
		}
		return n
	}
	return 10000
}

// freePort returns a loopback port nothing listens on (for processes that
// take an address, not a listener).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

// proc is a child process whose output goes to a log file, shown when the
// test fails.
type proc struct {
	t    *testing.T
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(t *testing.T, dir, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, args: append([]string{bin}, args...), env: env, log: filepath.Join(dir, name+".log")}
	p.start()
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("---- last lines of %s ----\n%s", p.name, tail(p.log, 40))
		}
	})
	return p
}

func (p *proc) start() {
	p.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a signal to the test does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL: no shutdown, as a crash.
func (p *proc) kill() {
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// stop asks the process to stop (SIGTERM) and kills it after grace.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// restart starts the process again with the same arguments.
func (p *proc) restart() {
	p.t.Helper()
	if p.running() {
		p.t.Fatalf("restart %s: still running", p.name)
	}
	p.start()
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---------------------------------------------------------------------------
// PostgreSQL: a throwaway cluster
// ---------------------------------------------------------------------------

func postgresBin() (string, error) {
	if dir := os.Getenv("FAULTS_PG_BIN"); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("no pg_ctl found (install PostgreSQL or set FAULTS_PG_BIN)")
	}
	// The newest version.
	best, bestV := "", -1
	for _, m := range matches {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m))))
		if v > bestV {
			best, bestV = filepath.Dir(m), v
		}
	}
	return best, nil
}

// pgCluster is a PostgreSQL cluster of the test's own.
type pgCluster struct {
	t    *testing.T
	dir  string // owned by the cluster's OS user
	port int
	user string // OS user running the server ("" = the test's own)
}

// startPostgres creates and starts a throwaway cluster, owned by the
// postgres OS user when the test runs as root (PostgreSQL refuses to run as
// root), with a database "thoughts" reachable without a password on
// loopback. It is stopped and removed at the end of the test.
func startPostgres(t *testing.T) *pgCluster {
	t.Helper()
	base, err := os.MkdirTemp("", "thoughts-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{t: t, dir: base, port: freePort(t)}
	if os.Geteuid() == 0 {
		c.user = "postgres"
		if err := exec.Command("chown", c.user, base).Run(); err != nil {
			t.Fatalf("chown %s to %s: %v", base, c.user, err)
		}
	}
	t.Cleanup(func() {
		_ = c.pgctl("stop", "-m", "immediate", "-w", "-t", "30")
		os.RemoveAll(base)
	})
	if out, err := c.as(filepath.Join(bins.pgBin, "initdb"), "-D", c.data(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// A test cluster: fsync off (a crash of the machine is not under test;
	// process restarts are, and the OS keeps what a killed server wrote),
	// connections for three processes' pools.
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
max_connections = 300
fsync = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
`, c.port, base)
	if err := os.WriteFile(filepath.Join(c.data(), "postgresql.auto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if c.user != "" {
		_ = exec.Command("chown", c.user, filepath.Join(c.data(), "postgresql.auto.conf")).Run()
	}
	c.start()
	conn, err := pgx.Connect(context.Background(), c.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE DATABASE thoughts`); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// as runs a PostgreSQL tool as the cluster's OS user.
func (c *pgCluster) as(name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if c.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.user, "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = "/"
	return cmd
}

func (c *pgCluster) pgctl(args ...string) error {
	out, err := c.as(filepath.Join(bins.pgBin, "pg_ctl"), append([]string{"-D", c.data()}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start() {
	c.t.Helper()
	if err := c.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log")); err != nil {
		c.t.Fatalf("%v\n%s", err, tail(filepath.Join(c.dir, "server.log"), 20))
	}
}

// stop shuts the server down: mode "fast" (sessions are ended, as in a
// planned restart) or "immediate" (as a crash).
func (c *pgCluster) stop(mode string) {
	c.t.Helper()
	if err := c.pgctl("stop", "-m", mode, "-w", "-t", "60"); err != nil {
		c.t.Fatal(err)
	}
}

func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// pool is a connection pool for the test's own checks.
func (c *pgCluster) pool() *pgxpool.Pool {
	c.t.Helper()
	p, err := pgxpool.New(context.Background(), c.url("thoughts")+"&pool_max_conns=4")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(p.Close)
	return p
}

// ---------------------------------------------------------------------------
// NATS: server processes
// ---------------------------------------------------------------------------

// natsNode is one nats-server process with JetStream.
type natsNode struct {
	*proc
	port int
}

func (n *natsNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// startNATS starts `size` nats-server processes with JetStream; with size > 1
// they form a cluster over loopback routes. Each keeps its store in dir.
func startNATS(t *testing.T, dir string, size int) []*natsNode {
	t.Helper()
	nodes := make([]*natsNode, size)
	routes := make([]int, size)
	for i := range size {
		nodes[i] = &natsNode{port: freePort(t)}
		routes[i] = freePort(t)
	}
	for i, n := range nodes {
		name := fmt.Sprintf("nats%d", i+1)
		var conf strings.Builder
		fmt.Fprintf(&conf, "server_name: %s\nlisten: 127.0.0.1:%d\n", name, n.port)
		fmt.Fprintf(&conf, "jetstream {\n  store_dir: %q\n  max_memory_store: 64MB\n  max_file_store: 8GB\n}\n", filepath.Join(dir, name))
		if size > 1 {
			fmt.Fprintf(&conf, "cluster {\n  name: thoughts\n  listen: 127.0.0.1:%d\n  routes: [\n", routes[i])
			for j, r := range routes {
				if j != i {
					fmt.Fprintf(&conf, "    nats-route://127.0.0.1:%d\n", r)
				}
			}
			conf.WriteString("  ]\n}\n")
		}
		path := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(path, []byte(conf.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		n.proc = startProc(t, dir, name, os.Environ(), bins.natsServer, "-c", path)
	}
	return nodes
}

func natsURLs(nodes []*natsNode) string {
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url())
	}
	return strings.Join(urls, ",")
}

// ---------------------------------------------------------------------------
// Thoughts processes
// ---------------------------------------------------------------------------

// thoughtsProc is a `thoughts` command running as a process.
type thoughtsProc struct {
	*proc
	base, metrics string
}

const jwtSecret = "faults-test-secret-0123456789abcdef0123"

// thoughtsEnv is the environment of a `thoughts` process against db.
func thoughtsEnv(dir, dbURL, backend, natsURL string, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"EVENTS_BACKEND=" + backend,
		"NATS_URL=" + natsURL,
		"JWT_SECRET=" + jwtSecret,
		"PUBLIC_URL=http://localhost:8080",
		"DATA_DIR=" + dir,
		"RATE_LIMITS=off",
		"LOG_LEVEL=warn",
		"SHUTDOWN_TIMEOUT=5s",
		"RETENTION_INTERVAL=5s",
	}
	return append(env, extra...)
}

// startThoughts runs `thoughts <command>` with env, on free ports, and waits
// until it answers (readyz for api, healthz otherwise).
func startThoughts(t *testing.T, dir, name string, env []string, command string) *thoughtsProc {
	t.Helper()
	port, mport := freePort(t), freePort(t)
	env = append(env, fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port), fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", mport))
	p := &thoughtsProc{
		proc:    startProc(t, dir, name, env, bins.thoughts, command),
		base:    fmt.Sprintf("http://127.0.0.1:%d", port),
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", mport),
	}
	probe := "/healthz"
	if command == "api" || command == "serve" {
		probe = "/readyz"
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if code, _ := httpGet(p.base+probe, 2*time.Second); code == 200 {
			return p
		}
		if !p.running() {
			t.Fatalf("%s exited: %v\n%s", name, p.err, tail(p.log, 30))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 90 s\n%s", name, tail(p.log, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// migrate runs `thoughts migrate` against dbURL.
func migrate(t *testing.T, dbURL string) {
	t.Helper()
	cmd := exec.Command(bins.thoughts, "migrate")
	cmd.Env = []string{"DATABASE_URL=" + dbURL, "LOG_LEVEL=warn", "PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("thoughts migrate: %v\n%s", err, out)
	}
}

func httpGet(url string, timeout time.Duration) (int, string) {
	c := http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads one sample of /metrics: the value of the line starting with
// series (name and labels as exposed).
func metric(url, series string) (float64, error) {
	code, body := httpGet(url, 10*time.Second)
	if code != 200 {
		return 0, fmt.Errorf("GET %s: %d %s", url, code, body)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	return 0, fmt.Errorf("%s has no %s", url, series)
}

// relayed is how many events the outbox forwarder of the process serving
// metricsURL has relayed to the broker; -1 if it could not be read.
func relayed(metricsURL string) float64 {
	v, err := metric(metricsURL, "thoughts_forwarder_relayed_total")
	if err != nil {
		return -1
	}
	return v
}

// handled is how many messages handler (a Watermill handler name such as
// "notifications:likes.added") has handled successfully
// in the process serving metricsURL; -1 if it could not be read.
func handled(metricsURL, handler string) float64 {
	v, err := metric(metricsURL, fmt.Sprintf(`handler_execution_time_seconds_count{handler_name=%q,success="true"}`, handler))
	if err != nil {
		return -1
	}
	return v
}

// ---------------------------------------------------------------------------
// The workload: users, thoughts and a burst of likes over HTTP
// ---------------------------------------------------------------------------

// api is an HTTP client of the API.
type api struct {
	base string
	c    *http.Client
}

func newAPI(base string) api {
	return api{base: base, c: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
	}}
}

// call sends a JSON request; it returns the status and body (status 0: the
// request failed without an answer).
func (a api) call(method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must sends a request that must answer want.
func (a api) must(t *testing.T, method, path, token string, body any, want int) map[string]any {
	t.Helper()
	code, b, err := a.call(method, path, token, body)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %v, want %d: %s", method, path, code, err, want, b)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

type account struct{ name, token string }

// population is the users and thoughts a burst works on: every liker likes
// every thought, each like a distinct (liker, thought) pair.
type population struct {
	likers   []account
	thoughts []string
}

// populate registers likers and authors and has each author post thoughts,
// for n likes in all (n = likers × thoughts).
func populate(t *testing.T, a api, prefix string, n int) population {
	t.Helper()
	const authors = 5
	likers := 20
	if n < 1000 {
		likers = 10
	}
	perAuthor := (n + likers*authors - 1) / (likers * authors)
	var p population
	register := func(name string) account {
		out := a.must(t, "POST", "/api/v1/auth/register", "", map[string]string{
			"username": name, "email": name + "@example.com", "password": "correct horse battery"}, 201)
		return account{name: name, token: out["token"].(string)}
	}
	for i := range authors {
		au := register(fmt.Sprintf("%sauthor%d", prefix, i))
		for j := range perAuthor {
			out := a.must(t, "POST", "/api/v1/thoughts", au.token, map[string]any{"content": fmt.Sprintf("thought %d of %s", j, au.name)}, 201)
			p.thoughts = append(p.thoughts, out["id"].(string))
		}
	}
	for i := range likers {
		p.likers = append(p.likers, register(fmt.Sprintf("%sliker%d", prefix, i)))
	}
	return p
}

// burst is the outcome of a burst of likes.
type burst struct {
	sent atomic.Int64 // likes answered 200
	// statuses counts every answer other than 200 (0: no answer).
	mu       sync.Mutex
	statuses map[int]int
	// worst is the longest a failed request took.
	worst time.Duration
	// bodies holds a few of the failed answers.
	bodies []string
}

func (b *burst) failed(code int, took time.Duration, body string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.statuses[code]++
	b.worst = max(b.worst, took)
	if len(b.bodies) < 5 {
		b.bodies = append(b.bodies, fmt.Sprintf("%d after %v: %.300s", code, took, body))
	}
}

func (b *burst) failures() (map[int]int, time.Duration, []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[int]int{}
	for k, v := range b.statuses {
		out[k] = v
	}
	return out, b.worst, append([]string(nil), b.bodies...)
}

// likeAll has every liker like every thought, n likes in all, over
// `workers` concurrent clients. A like that does not answer 200 is sent
// again after a pause (liking is idempotent) until it does or ctx ends, so
// every like is eventually stored; every failed answer is recorded. progress
// is called after each like answered 200 with the number so far.
func likeAll(ctx context.Context, a api, p population, n, workers int, progress func(int64)) *burst {
	return likePaced(ctx, a, p, n, workers, 0, progress)
}

// likePaced is likeAll sending at most one like per `every` (0: no pause).
func likePaced(ctx context.Context, a api, p population, n, workers int, every time.Duration, progress func(int64)) *burst {
	b := &burst{statuses: map[int]int{}}
	type like struct {
		token, thought string
	}
	work := make(chan like)
	go func() {
		defer close(work)
		var tick <-chan time.Time
		if every > 0 {
			t := time.NewTicker(every)
			defer t.Stop()
			tick = t.C
		}
		i := 0
		for _, th := range p.thoughts {
			for _, l := range p.likers {
				if i == n {
					return
				}
				i++
				if tick != nil {
					select {
					case <-tick:
					case <-ctx.Done():
						return
					}
				}
				select {
				case work <- like{l.token, th}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for l := range work {
				for ctx.Err() == nil {
					start := time.Now()
					code, body, _ := a.call("POST", "/api/v1/thoughts/"+l.thought+"/like", l.token, nil)
					if code == 200 {
						if progress != nil {
							progress(b.sent.Add(1))
						} else {
							b.sent.Add(1)
						}
						break
					}
					b.failed(code, time.Since(start), string(body))
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
		})
	}
	wg.Wait()
	return b
}

// tally is what the database holds after a burst.
type tally struct {
	stored     int // likes stored
	notified   int // like notifications
	missing    int // likes without a notification
	duplicates int // like notifications beyond one per like
}

func (t tally) String() string {
	return fmt.Sprintf("stored %d / notified %d / missing %d / duplicates %d", t.stored, t.notified, t.missing, t.duplicates)
}

func count(ctx context.Context, pool *pgxpool.Pool) (tally, error) {
	var t tally
	err := pool.QueryRow(ctx, `
		WITH per_like AS (
			SELECT l.user_id, l.thought_id,
				(SELECT count(*) FROM notifications n
				 WHERE n.type = 'like' AND n.actor_id = l.user_id AND n.thought_id = l.thought_id) AS k
			FROM likes l)
		SELECT count(*), coalesce(sum(k), 0), count(*) FILTER (WHERE k = 0), coalesce(sum(greatest(k - 1, 0)), 0)
		FROM per_like`).Scan(&t.stored, &t.notified, &t.missing, &t.duplicates)
	return t, err
}

// awaitNotified waits, up to within, until every stored like has its
// notification; it returns the last tally and how long the wait took.
func awaitNotified(t *testing.T, pool *pgxpool.Pool, want int, within time.Duration) (tally, time.Duration) {
	t.Helper()
	start := time.Now()
	var last tally
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := count(ctx, pool)
		cancel()
		if err == nil {
			last = got
			if got.stored >= want && got.missing == 0 {
				return got, time.Since(start)
			}
		}
		if time.Since(start) > within {
			t.Errorf("after %v: %v (want %d likes, each notified once)", within, last, want)
			return last, time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// report prints a fault test's figures (go test -v shows them; the Makefile
// target runs verbosely).
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	t.Log(msg)
	fmt.Printf("FAULTS %s: %s (load: %s)\n", t.Name(), msg, loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return runtime.GOOS
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return string(b)
	}
	return strings.Join(f[:3], " ")
}
