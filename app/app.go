// Package app is the Thoughts application: use cases grouped as commands
// (changes) and queries (reads). It depends only on interfaces; adapters
// implement them and ports call it.
package app

import (
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/query"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// Application groups the use cases clients call. The use cases the event
// router calls (one per side effect of an event, each idempotent) are built
// by the router's handler list from the same Deps.
type Application struct {
	Commands Commands
	Queries  Queries
}

// Commands are the use cases that change state; each commits its events with it.
type Commands struct {
	Register      command.RegisterHandler
	Login         command.LoginHandler
	UpdateProfile command.UpdateProfileHandler
	CreateAPIKey  command.CreateAPIKeyHandler
	RevokeAPIKey  command.RevokeAPIKeyHandler
	// RevokeSession ends a session (signing out is revoking one's own).
	RevokeSession  command.RevokeSessionHandler
	ChangePassword command.ChangePasswordHandler
	DeleteAccount  command.DeleteAccountHandler
	PostThought    command.PostThoughtHandler
	EditThought    command.EditThoughtHandler
	DeleteThought  command.DeleteThoughtHandler

	// AuthenticateAPIKey records each key's last use: a write, hence a command.
	AuthenticateAPIKey command.AuthenticateAPIKeyHandler
	// AuthenticateSession records when a session was last seen, likewise.
	AuthenticateSession command.AuthenticateSessionHandler

	MarkNotificationRead     command.MarkNotificationReadHandler
	MarkAllNotificationsRead command.MarkAllNotificationsReadHandler

	LikeThought         command.LikeThoughtHandler
	UnlikeThought       command.UnlikeThoughtHandler
	BoostThought        command.BoostThoughtHandler
	UnboostThought      command.UnboostThoughtHandler
	FollowUser          command.FollowUserHandler
	UnfollowUser        command.UnfollowUserHandler
	AcceptFollowRequest command.AcceptFollowRequestHandler
	RejectFollowRequest command.RejectFollowRequestHandler
	BlockUser           command.BlockUserHandler
	UnblockUser         command.UnblockUserHandler
	SetTopFriends       command.SetTopFriendsHandler
	// ResolveAccount resolves a remote account's name@host (WebFinger and
	// its actor, cached); nil without federation.
	ResolveAccount command.RemoteAccounts
}

// Queries are the read use cases.
type Queries struct {
	Me             query.MeHandler
	UserProfile    query.UserProfileHandler
	Thought        query.ThoughtHandler
	ThoughtContext query.ThoughtContextHandler
	UserThoughts   query.UserThoughtsHandler
	APIKeys        query.APIKeysHandler
	Sessions       query.SessionsHandler

	Notifications            query.NotificationsHandler
	Notification             query.NotificationHandler
	UnreadNotificationsCount query.UnreadNotificationsCountHandler

	Relationship   query.RelationshipHandler
	Followers      query.FollowersHandler
	Following      query.FollowingHandler
	FollowRequests query.FollowRequestsHandler
	Blocks         query.BlocksHandler
	LikedBy        query.LikedByHandler
	BoostedBy      query.BoostedByHandler
	TopFriends     query.TopFriendsHandler
	Feed           query.FeedHandler
	TagThoughts    query.TagThoughtsHandler
	Search         query.SearchHandler
	// ProfileByID shows any account, remote ones included.
	ProfileByID query.ProfileByIDHandler
	// ThoughtDeliveries shows an author where their thought's deliveries stand.
	ThoughtDeliveries query.ThoughtDeliveriesHandler
}

// Deps are what the application needs from the outside world.
type Deps struct {
	// UoW runs the commands in transactions; the notification handler also
	// stores notifications through it outside a transaction.
	UoW    command.NotificationStore
	Hasher command.PasswordHasher
	Tokens command.TokenIssuer
	Reads  query.ReadModel
	Clock  command.Clock
	// APIKeys and Sessions serve authentication; only an application
	// serving HTTP needs them.
	APIKeys  command.APIKeyUsage
	Sessions command.SessionUsage
	// Federation is what the inbox handler needs besides UoW; nil in a
	// process that runs no federation handlers (benchmarks).
	Federation *FederationDeps
	// RemoteAccounts resolves name@host for the relationship commands and
	// the API; nil: remote accounts are not found.
	RemoteAccounts command.RemoteAccounts
	// PublicURL is the base of the IRIs commands mint (a remote follow's
	// Follow activity).
	PublicURL string
	// Outbound serves remote profiles and the delivery views; nil: none.
	Outbound query.OutboundReads
	// OutboundStore is the federation handler's store; nil: the router runs
	// no federation handler. RemoteActors resolves the remote accounts a
	// thought mentions.
	OutboundStore command.OutboundStore
	RemoteActors  command.RemoteActorResolver
}

// WithDefaults fills in what Deps may leave out: the system clock.
func (d Deps) WithDefaults() Deps {
	if d.Clock == nil {
		d.Clock = command.SystemClock
	}
	return d
}

// New wires every use case to deps.
func New(d Deps) Application {
	d = d.WithDefaults()
	return Application{
		Commands: Commands{
			Register:       command.RegisterHandler{UoW: d.UoW, Hasher: d.Hasher, Tokens: d.Tokens, Clock: d.Clock},
			Login:          command.LoginHandler{UoW: d.UoW, Hasher: d.Hasher, Tokens: d.Tokens, Clock: d.Clock},
			UpdateProfile:  command.UpdateProfileHandler{UoW: d.UoW, Clock: d.Clock},
			CreateAPIKey:   command.CreateAPIKeyHandler{UoW: d.UoW, Clock: d.Clock},
			RevokeAPIKey:   command.RevokeAPIKeyHandler{UoW: d.UoW},
			RevokeSession:  command.RevokeSessionHandler{UoW: d.UoW, Clock: d.Clock},
			ChangePassword: command.ChangePasswordHandler{UoW: d.UoW, Hasher: d.Hasher, Clock: d.Clock},
			DeleteAccount:  command.DeleteAccountHandler{UoW: d.UoW, Hasher: d.Hasher, Clock: d.Clock},
			PostThought:    command.PostThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			EditThought:    command.EditThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			DeleteThought:  command.DeleteThoughtHandler{UoW: d.UoW, Clock: d.Clock},

			AuthenticateAPIKey:  command.AuthenticateAPIKeyHandler{Keys: d.APIKeys},
			AuthenticateSession: command.AuthenticateSessionHandler{Sessions: d.Sessions},

			MarkNotificationRead:     command.MarkNotificationReadHandler{UoW: d.UoW, Clock: d.Clock},
			MarkAllNotificationsRead: command.MarkAllNotificationsReadHandler{UoW: d.UoW, Clock: d.Clock},

			LikeThought:    command.LikeThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			UnlikeThought:  command.UnlikeThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			BoostThought:   command.BoostThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			UnboostThought: command.UnboostThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			FollowUser: command.FollowUserHandler{UoW: d.UoW, Clock: d.Clock, Remote: d.RemoteAccounts,
				FollowIRI: vocab.IRIs{Base: d.PublicURL}.Follow},
			UnfollowUser:        command.UnfollowUserHandler{UoW: d.UoW, Clock: d.Clock, Remote: d.RemoteAccounts},
			AcceptFollowRequest: command.AcceptFollowRequestHandler{UoW: d.UoW, Clock: d.Clock, Remote: d.RemoteAccounts},
			RejectFollowRequest: command.RejectFollowRequestHandler{UoW: d.UoW, Clock: d.Clock, Remote: d.RemoteAccounts},
			BlockUser:           command.BlockUserHandler{UoW: d.UoW, Clock: d.Clock, Remote: d.RemoteAccounts},
			UnblockUser:         command.UnblockUserHandler{UoW: d.UoW, Clock: d.Clock, Remote: d.RemoteAccounts},
			SetTopFriends:       command.SetTopFriendsHandler{UoW: d.UoW},
			ResolveAccount:      d.RemoteAccounts,
		},
		Queries: Queries{
			Me:             query.MeHandler{Reads: d.Reads},
			UserProfile:    query.UserProfileHandler{Reads: d.Reads},
			Thought:        query.ThoughtHandler{Reads: d.Reads},
			ThoughtContext: query.ThoughtContextHandler{Reads: d.Reads},
			UserThoughts:   query.UserThoughtsHandler{Reads: d.Reads},
			APIKeys:        query.APIKeysHandler{Reads: d.Reads},
			Sessions:       query.SessionsHandler{Reads: d.Reads},

			Notifications:            query.NotificationsHandler{Reads: d.Reads},
			Notification:             query.NotificationHandler{Reads: d.Reads},
			UnreadNotificationsCount: query.UnreadNotificationsCountHandler{Reads: d.Reads},

			Relationship:   query.RelationshipHandler{Reads: d.Reads},
			Followers:      query.FollowersHandler{Reads: d.Reads},
			Following:      query.FollowingHandler{Reads: d.Reads},
			FollowRequests: query.FollowRequestsHandler{Reads: d.Reads},
			Blocks:         query.BlocksHandler{Reads: d.Reads},
			LikedBy:        query.LikedByHandler{Reads: d.Reads},
			BoostedBy:      query.BoostedByHandler{Reads: d.Reads},
			TopFriends:     query.TopFriendsHandler{Reads: d.Reads},
			Feed:           query.FeedHandler{Reads: d.Reads},
			TagThoughts:    query.TagThoughtsHandler{Reads: d.Reads},
			Search:         query.SearchHandler{Reads: d.Reads},

			ProfileByID:       query.ProfileByIDHandler{Reads: d.Outbound},
			ThoughtDeliveries: query.ThoughtDeliveriesHandler{Reads: d.Outbound},
		},
	}
}
