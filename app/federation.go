package app

import (
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// Federation groups the use cases of ActivityPub that are not a client's:
// what the ActivityPub port serves and the keys its actors sign with. The
// port also calls Application's queries (profiles, followers) where they
// answer the same question.
type Federation struct {
	Note          query.NoteHandler
	Outbox        query.OutboxHandler
	InstanceStats query.InstanceStatsHandler

	EnsureUserKey     command.EnsureUserKeyHandler
	EnsureInstanceKey command.EnsureInstanceKeyHandler
	BackfillUserKeys  command.BackfillUserKeysHandler
	// ResolveRemoteActor finds remote actors by IRI or name@host (cached,
	// fetched signed by the instance actor).
	ResolveRemoteActor command.ResolveRemoteActorHandler
}

// FederationReads are the reads of the federation queries.
type FederationReads interface {
	query.OutboxReads
	query.InstanceStatsReads
}

// FederationDeps are what the federation use cases need.
type FederationDeps struct {
	Reads        FederationReads
	Keys         domain.ActorKeyRepository
	Generator    command.KeyGenerator
	RemoteActors domain.RemoteActorRepository
	Fetcher      command.RemoteActorFetcher
	Clock        command.Clock
}

// NewFederation wires the federation use cases to deps.
func NewFederation(d FederationDeps) Federation {
	if d.Clock == nil {
		d.Clock = command.SystemClock
	}
	return Federation{
		Note:              query.NoteHandler{Reads: d.Reads},
		Outbox:            query.OutboxHandler{Reads: d.Reads},
		InstanceStats:     query.InstanceStatsHandler{Reads: d.Reads},
		EnsureUserKey:     command.EnsureUserKeyHandler{Keys: d.Keys, Generator: d.Generator},
		EnsureInstanceKey: command.EnsureInstanceKeyHandler{Keys: d.Keys, Generator: d.Generator},
		BackfillUserKeys:  command.BackfillUserKeysHandler{Keys: d.Keys, Generator: d.Generator},
		ResolveRemoteActor: command.ResolveRemoteActorHandler{
			Actors: d.RemoteActors, Fetcher: d.Fetcher, Clock: d.Clock,
		},
	}
}
