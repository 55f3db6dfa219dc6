package command_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// chainObjects serves Notes there.example/n/K, each replying to n/K-1.
type chainObjects struct{ fetched map[string]int }

func (c chainObjects) FetchObject(_ context.Context, iri string) ([]byte, error) {
	c.fetched[iri]++
	var k int
	if _, err := fmt.Sscanf(iri, "https://there.example/n/%d", &k); err != nil {
		return nil, command.ErrFetchPermanent
	}
	return []byte(fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Note",
		"attributedTo":"https://there.example/users/bob","content":"note %d","to":["https://www.w3.org/ns/activitystreams#Public"],
		"inReplyTo":"https://there.example/n/%d"}`, iri, k, k-1)), nil
}

type bobResolver struct{ w *inboxWorld }

func (b bobResolver) Handle(context.Context, command.ResolveRemoteActor) (domain.RemoteActor, error) {
	return b.w.signer, nil
}

// TestParentChainIsDepthLimited: each ParentWanted fetches one parent and
// asks for the next, until MaxThreadDepth parents were fetched for the
// reply that started the chain; a ParentWanted at the limit fetches nothing.
func TestParentChainIsDepthLimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newInboxWorld("https://here.example")
	objects := chainObjects{fetched: map[string]int{}}
	h := command.ProcessActivityHandler{
		UoW: w, Actors: bobResolver{w}, Objects: objects, HTML: plainHTML{},
		IRIs: vocab.IRIs{Base: "https://here.example"}, Clock: w.clock, MaxThreadDepth: 3,
	}
	leaf := domain.Thought{ID: uuid.New(), AuthorID: w.signer.UserID, Content: "leaf", Visibility: domain.VisibilityPublic,
		Remote: domain.RemoteNote{IRI: "https://there.example/n/100", InReplyToIRI: "https://there.example/n/99"}}
	w.thought[leaf.ID] = leaf
	pending := []events.Envelope{events.New(ctx, w.signer.UserID, events.ParentWanted{ThoughtID: leaf.ID}, w.clock())}
	for steps := 0; len(pending) > 0; steps++ {
		if steps > 10 {
			t.Fatal("the chain never ends")
		}
		env := pending[0]
		pending = pending[1:]
		before := len(w.outbox)
		if err := h.Handle(ctx, env); err != nil {
			t.Fatal(err)
		}
		for _, e := range w.outbox[before:] {
			if _, ok := e.Event.(events.ParentWanted); ok {
				pending = append(pending, e)
			}
		}
	}
	for k := 97; k <= 99; k++ {
		if n := objects.fetched[fmt.Sprintf("https://there.example/n/%d", k)]; n != 1 {
			t.Errorf("n/%d fetched %d times", k, n)
		}
	}
	if n := objects.fetched["https://there.example/n/96"]; n != 0 {
		t.Errorf("fetched past the depth limit")
	}
	// The fetched parents are linked to one another through their IRIs.
	var stored int
	for _, th := range w.thought {
		if th.Remote.IRI != "" && th.ID != leaf.ID && th.ID != w.theirs.ID {
			stored++
		}
	}
	if stored != 3 {
		t.Errorf("%d parents stored, want 3", stored)
	}
}
