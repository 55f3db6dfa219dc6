package auth_test

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/app/domain"
)

func TestDefaultWorkLimits(t *testing.T) {
	t.Parallel()
	owasp := auth.DefaultArgon2Params
	l := auth.DefaultWorkLimits(owasp, auth.DefaultArgon2MemoryBudget)
	if l.Concurrent < 1 || l.Concurrent > runtime.GOMAXPROCS(0) || l.Concurrent > 3 {
		t.Errorf("Concurrent = %d with %d CPUs and room for 3 hashes", l.Concurrent, runtime.GOMAXPROCS(0))
	}
	if l := auth.DefaultWorkLimits(owasp, 1<<20); l.Concurrent != 1 {
		t.Errorf("a budget below one hash still allows one: %d", l.Concurrent)
	}
	if l.Queue < l.Concurrent || l.Wait <= 0 || l.Wait > time.Second {
		t.Errorf("limits = %+v", l)
	}
}

func TestWorkGateRefusesPastItsQueue(t *testing.T) {
	t.Parallel()
	g := auth.NewWorkGate(auth.WorkLimits{Concurrent: 2, Queue: 1, Wait: time.Hour})
	r1, err1 := g.Enter()
	r2, err2 := g.Enter()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// The third waits (the queue has room for one) until a turn ends.
	entered := make(chan func())
	go func() {
		r, err := g.Enter()
		if err != nil {
			t.Error(err)
		}
		entered <- r
	}()
	// Once it waits, the queue is full: the fourth is refused at once,
	// however long the wait would be.
	for g.Waiting() < 1 {
		runtime.Gosched()
	}
	if _, err := g.Enter(); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("fourth Enter = %v, want ErrBusy", err)
	}
	if !errors.Is(auth.ErrBusy, domain.ErrUnavailable) {
		t.Error("ErrBusy must be a domain.ErrUnavailable")
	}
	r1()
	r3 := <-entered
	r2()
	r3()
}

func TestWorkGateWaitRunsOut(t *testing.T) {
	t.Parallel()
	g := auth.NewWorkGate(auth.WorkLimits{Concurrent: 1, Queue: 5, Wait: time.Millisecond})
	release, err := g.Enter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Enter(); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("Enter while full = %v, want ErrBusy after the wait", err)
	}
	release()
	release, err = g.Enter()
	if err != nil {
		t.Fatalf("Enter after release = %v", err)
	}
	release()
}

func TestArgon2HasherWorkPassesTheGate(t *testing.T) {
	t.Parallel()
	g := auth.NewWorkGate(auth.WorkLimits{Concurrent: 1, Queue: 0})
	h, err := auth.NewGatedArgon2Hasher(cheapArgon2, g)
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	hold, _ := g.Enter()
	if _, err := h.Hash("x"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("Hash = %v", err)
	}
	if _, err := h.Verify("correct horse", encoded); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("Verify = %v", err)
	}
	if err := h.VerifyDummy("x"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("VerifyDummy = %v", err)
	}
	hold()
	// The turns it took were given back.
	for range 3 {
		if ok, err := h.Verify("correct horse", encoded); !ok || err != nil {
			t.Fatalf("Verify after release = %v, %v", ok, err)
		}
	}
}
