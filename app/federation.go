package app

import (
	"strings"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
	"github.com/thoughts-project/thoughts/app/vocab"
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

	// RemoteSigner names the owner of a signature's key; ReceiveActivity
	// takes a signed delivery into the inbox; NoteForHost serves Notes to
	// signed fetches (followers-only ones to a follower's server).
	RemoteSigner    command.RemoteSignerHandler
	ReceiveActivity command.ReceiveActivityHandler
	NoteForHost     query.NoteForHostHandler
}

// FederationReads are the reads of the federation queries.
type FederationReads interface {
	query.OutboxReads
	query.InstanceStatsReads
	query.NoteForHostReads
}

// FederationDeps are what the federation use cases need.
type FederationDeps struct {
	Reads        FederationReads
	Keys         domain.ActorKeyRepository
	Generator    command.KeyGenerator
	RemoteActors domain.RemoteActorRepository
	Fetcher      command.RemoteActorFetcher
	Clock        command.Clock

	// What the inbox needs: the unit of work its deliveries are stored
	// with, the cache of remote keys, fetches of objects and key owners, the
	// sanitiser of remote HTML and PUBLIC_URL (to read local IRIs back).
	UoW        command.UnitOfWork
	RemoteKeys command.RemoteKeyLookup
	Objects    command.ObjectFetcher
	KeyOwners  command.KeyOwnerFetcher
	HTML       command.HTMLSanitizer
	PublicURL  string
}

// NewFederation wires the federation use cases to deps.
func NewFederation(d FederationDeps) Federation {
	if d.Clock == nil {
		d.Clock = command.SystemClock
	}
	resolve := command.ResolveRemoteActorHandler{Actors: d.RemoteActors, Fetcher: d.Fetcher, Clock: d.Clock}
	signers := command.RemoteSignerHandler{Keys: d.RemoteKeys, Owners: d.KeyOwners, Resolve: resolve}
	return Federation{
		Note:               query.NoteHandler{Reads: d.Reads},
		Outbox:             query.OutboxHandler{Reads: d.Reads},
		InstanceStats:      query.InstanceStatsHandler{Reads: d.Reads},
		EnsureUserKey:      command.EnsureUserKeyHandler{Keys: d.Keys, Generator: d.Generator},
		EnsureInstanceKey:  command.EnsureInstanceKeyHandler{Keys: d.Keys, Generator: d.Generator},
		BackfillUserKeys:   command.BackfillUserKeysHandler{Keys: d.Keys, Generator: d.Generator},
		ResolveRemoteActor: resolve,
		RemoteSigner:       signers,
		ReceiveActivity:    command.ReceiveActivityHandler{UoW: d.UoW, Signers: signers, Clock: d.Clock},
		NoteForHost:        query.NoteForHostHandler{Reads: d.Reads},
	}
}

// InboxHandler is the router handler that applies received activities,
// working through uow (the event handlers' own).
func InboxHandler(uow command.UnitOfWork, d FederationDeps) command.ProcessActivityHandler {
	if d.Clock == nil {
		d.Clock = command.SystemClock
	}
	return command.ProcessActivityHandler{
		UoW:     uow,
		Actors:  command.ResolveRemoteActorHandler{Actors: d.RemoteActors, Fetcher: d.Fetcher, Clock: d.Clock},
		Objects: d.Objects,
		HTML:    d.HTML,
		IRIs:    vocab.IRIs{Base: strings.TrimRight(d.PublicURL, "/")},
		Clock:   d.Clock,
	}
}
