package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thoughts-project/thoughts/bench/internal/benchproc"
)

// freeAddr is a free 127.0.0.1 port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// migrate runs `thoughts migrate`.
func migrate(ctx context.Context, bin string, env map[string]string) error {
	cmd := exec.CommandContext(ctx, bin, "migrate")
	cmd.Env = benchproc.Env(env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("thoughts migrate: %w\n%s", err, out.String())
	}
	return nil
}

// process is one running `thoughts` command.
type process struct {
	Name        string // api, router-1, serve
	cmd         *exec.Cmd
	exited      chan struct{}
	err         error
	HTTPAddr    string
	MetricsAddr string
	logPath     string
	logFile     *os.File
}

// startProcess runs `thoughts <command>` with env, its output going to a
// log file in dir, and waits until readyPath on HTTPAddr answers 200.
func startProcess(ctx context.Context, name, bin, command, dir, readyPath string, env map[string]string) (*process, error) {
	return startProcessAt(ctx, name, []string{bin, command}, dir, readyPath, "", env)
}

// startProcessAt runs argv with HTTP_ADDR httpAddr ("": a free port).
func startProcessAt(ctx context.Context, name string, argv []string, dir, readyPath, httpAddr string, env map[string]string) (*process, error) {
	command := filepath.Base(argv[0]) + " " + strings.Join(argv[1:], " ")
	var err error
	if httpAddr == "" {
		if httpAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &process{Name: name, exited: make(chan struct{}), HTTPAddr: httpAddr, MetricsAddr: metricsAddr,
		logPath: filepath.Join(dir, name+".log")}
	if p.logFile, err = os.Create(p.logPath); err != nil {
		return nil, fmt.Errorf("create %s: %w", p.logPath, err)
	}
	set := map[string]string{"HTTP_ADDR": httpAddr, "METRICS_ADDR": metricsAddr}
	for k, v := range env {
		set[k] = v
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = benchproc.Env(set)
	p.cmd.Stdout, p.cmd.Stderr = p.logFile, p.logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", command, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := client.Get("http://" + httpAddr + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s not ready after 90s (last: %v); log %s", command, err, p.logPath)
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before it was ready: %v\n%s", command, p.err, p.logTail(20))
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Pid is the process ID.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process is still running.
func (p *process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM (the process drains) and SIGKILL after 30 s.
func (p *process) Stop() {
	defer p.logFile.Close()
	benchproc.Stop(p.cmd, p.exited)
}

// logTail is the last n lines of the process's log.
func (p *process) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// LogSummary counts the process's log lines by level and keeps the first few
// errors and warnings.
type LogSummary struct {
	Errors   int      `json:"errors"`
	Warnings int      `json:"warnings"`
	Samples  []string `json:"samples,omitempty"`
}

func (p *process) logSummary() LogSummary {
	var s LogSummary
	f, err := os.Open(p.logPath)
	if err != nil {
		return s
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "level=ERROR") || strings.Contains(line, `"level":"ERROR"`):
			s.Errors++
		case strings.Contains(line, "level=WARN") || strings.Contains(line, `"level":"WARN"`):
			s.Warnings++
		default:
			continue
		}
		if len(s.Samples) < 8 {
			s.Samples = append(s.Samples, truncate(line, 400))
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ProcSample is one reading of a process's resources.
type ProcSample struct {
	AtSeconds  float64 `json:"at_s"` // since the measured load began
	RSSKiB     int64   `json:"rss_kib"`
	CPUSeconds float64 `json:"cpu_s"` // user + system, since the process started
	Goroutines int64   `json:"goroutines,omitempty"`
	HeapKiB    int64   `json:"heap_inuse_kib,omitempty"`
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times; 100 on
// every Linux platform Go supports.
const clockTicks = 100

// readProc reads RSS and CPU time of pid from /proc.
func readProc(pid int) (rssKiB int64, cpu float64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				rssKiB, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return rssKiB, 0, err
	}
	// The command name may contain spaces; fields count from after its ')'.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) > 12 {
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		cpu = (ut + st) / clockTicks
	}
	return rssKiB, cpu, nil
}

// scrapeGo reads go_goroutines and go_memstats_heap_inuse_bytes from a
// Prometheus text endpoint.
func scrapeGo(client *http.Client, addr string) (goroutines, heapKiB int64) {
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			goroutines = int64(f)
		}
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			heapKiB = int64(f) / 1024
		}
	}
	return goroutines, heapKiB
}

// XactSample is the age of the oldest transaction holding a transaction ID
// anywhere on the PostgreSQL server: watermill-sql reads a row only once
// every older transaction has ended, in any database of the cluster, so a
// long transaction elsewhere (another test suite on a shared server) delays
// every event.
type XactSample struct {
	AtSeconds float64 `json:"at_s"`
	AgeMs     float64 `json:"oldest_xact_ms"`
}

// DBActivity is one reading of the soak database's server sessions: how
// many run a statement (or are idle in a transaction), and what those wait
// for ("IO:WALSync", "Lock:transactionid", "LWLock:WALWrite", "running" when
// not waiting). It tells a stall of the storage from a lock queue.
type DBActivity struct {
	AtSeconds float64        `json:"at_s"`
	Active    int            `json:"active"`
	Waits     map[string]int `json:"waits,omitempty"`
}

// sampler reads every process's resources at an interval.
type sampler struct {
	mu      sync.Mutex
	xacts   []XactSample
	xactAge func() (float64, error)
	db      []DBActivity
	dbWaits func() (DBActivity, error)
	series  map[string][]ProcSample
	procs   []*process
	begin   time.Time
	client  *http.Client
	stopped chan struct{}
}

func newSampler(procs []*process) *sampler {
	return &sampler{series: map[string][]ProcSample{}, procs: procs, client: &http.Client{Timeout: 2 * time.Second}}
}

// sample takes one reading of every process now.
func (s *sampler) sample() {
	at := time.Since(s.begin).Seconds()
	for _, p := range s.procs {
		if !p.Alive() {
			continue
		}
		rss, cpu, err := readProc(p.Pid())
		if err != nil {
			continue
		}
		g, heap := scrapeGo(s.client, p.MetricsAddr)
		s.mu.Lock()
		s.series[p.Name] = append(s.series[p.Name], ProcSample{AtSeconds: float64(int(at*10)) / 10, RSSKiB: rss, CPUSeconds: cpu, Goroutines: g, HeapKiB: heap})
		s.mu.Unlock()
	}
	if s.dbWaits != nil {
		if a, err := s.dbWaits(); err == nil {
			a.AtSeconds = float64(int(at*10)) / 10
			s.mu.Lock()
			s.db = append(s.db, a)
			s.mu.Unlock()
		}
	}
	if s.xactAge != nil {
		if age, err := s.xactAge(); err == nil {
			s.mu.Lock()
			s.xacts = append(s.xacts, XactSample{AtSeconds: float64(int(at*10)) / 10, AgeMs: age})
			s.mu.Unlock()
		}
	}
}

// run samples every interval until ctx ends.
func (s *sampler) run(ctx context.Context, begin time.Time, every time.Duration) {
	s.begin = begin
	s.stopped = make(chan struct{})
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		s.sample()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
}

// at returns the first sample of proc at or after sec seconds, or the last
// one before it.
func (s *sampler) at(proc string, sec float64) (ProcSample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ser := s.series[proc]
	for _, x := range ser {
		if x.AtSeconds >= sec {
			return x, true
		}
	}
	if len(ser) > 0 {
		return ser[len(ser)-1], true
	}
	return ProcSample{}, false
}

func (s *sampler) last(proc string) (ProcSample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ser := s.series[proc]
	if len(ser) == 0 {
		return ProcSample{}, false
	}
	return ser[len(ser)-1], true
}
