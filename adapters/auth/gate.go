package auth

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/thoughts-project/thoughts/app/domain"
)

// WorkLimits bound expensive work done at once (password hashing).
type WorkLimits struct {
	// Concurrent is how many run at once.
	Concurrent int
	// Queue is how many may wait for a turn; past it a request is refused
	// at once.
	Queue int
	// Wait is how long a request waits for a turn before it is refused.
	Wait time.Duration
}

// DefaultArgon2MemoryBudget is how much memory concurrent password hashing
// may use by default: three OWASP-sized (19 MiB) hashes.
const DefaultArgon2MemoryBudget = 64 << 20

// DefaultWorkLimits sizes the password gate from the machine: one hash per
// CPU but one (more would only queue on the CPUs, each holding its memory
// meanwhile, and the rest of the API needs a CPU to answer promptly), and no
// more than memoryBudget bytes of Argon2 memory (p.MemoryKiB each); at least
// one. A few requests may wait half a second, about what a handful of hashes
// ahead of them take; the rest are refused at once.
func DefaultWorkLimits(p Argon2Params, memoryBudget int64) WorkLimits {
	n := runtime.GOMAXPROCS(0) - 1
	if each := int64(p.MemoryKiB) * 1024; each > 0 && int(memoryBudget/each) < n {
		n = int(memoryBudget / each)
	}
	n = max(n, 1)
	return WorkLimits{Concurrent: n, Queue: 4 * n, Wait: 500 * time.Millisecond}
}

// ErrBusy is returned when the gate is full: a client may retry shortly.
var ErrBusy error = &domain.DetailedError{Kind: domain.ErrUnavailable,
	Detail: "the server is busy checking other passwords; retry in a moment"}

// WorkGate lets at most Concurrent pieces of work run at once. Without it,
// every concurrent login holds its Argon2 memory (19 MiB) and competes for the
// CPUs: 64 at once took a server from ~950 MiB to ~1.9 GiB and every other
// request to a median of a second. With it, excess logins wait briefly or are
// refused with ErrBusy, and the rest of the API keeps its CPUs.
type WorkGate struct {
	slots   chan struct{}
	waiting atomic.Int64
	limits  WorkLimits
}

// NewWorkGate returns a gate with the given limits (Concurrent at least 1).
func NewWorkGate(l WorkLimits) *WorkGate {
	l.Concurrent = max(l.Concurrent, 1)
	l.Queue = max(l.Queue, 0)
	return &WorkGate{slots: make(chan struct{}, l.Concurrent), limits: l}
}

// Enter waits for a turn and returns the function that ends it, or ErrBusy
// when the queue is full or the wait runs out.
func (g *WorkGate) Enter() (release func(), err error) {
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	if g.waiting.Add(1) > int64(g.limits.Queue) {
		g.waiting.Add(-1)
		return nil, ErrBusy
	}
	defer g.waiting.Add(-1)
	timer := time.NewTimer(g.limits.Wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	}
}

// Waiting is how many requests wait for a turn now (for metrics).
func (g *WorkGate) Waiting() int { return int(g.waiting.Load()) }
