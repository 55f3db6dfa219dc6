// Package app is the Thoughts application: use cases grouped as commands
// (changes) and queries (reads). It depends only on interfaces; adapters
// implement them and ports call it.
package app

import (
	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/query"
)

// Application groups every use case.
type Application struct {
	Commands Commands
	Queries  Queries
	Events   EventHandlers
}

// EventHandlers are the use cases the event router calls, one per side effect
// of an event; each is idempotent, since delivery is at least once.
type EventHandlers struct {
	Notify command.NotifyHandler
}

// Commands are the use cases that change state; each commits its events with it.
type Commands struct {
	Register      command.RegisterHandler
	Login         command.LoginHandler
	UpdateProfile command.UpdateProfileHandler
	CreateAPIKey  command.CreateAPIKeyHandler
	RevokeAPIKey  command.RevokeAPIKeyHandler
	PostThought   command.PostThoughtHandler
	EditThought   command.EditThoughtHandler
	DeleteThought command.DeleteThoughtHandler

	MarkNotificationRead     command.MarkNotificationReadHandler
	MarkAllNotificationsRead command.MarkAllNotificationsReadHandler
}

// Queries are the read use cases.
type Queries struct {
	Me                 query.MeHandler
	UserProfile        query.UserProfileHandler
	Thought            query.ThoughtHandler
	ThoughtContext     query.ThoughtContextHandler
	UserThoughts       query.UserThoughtsHandler
	APIKeys            query.APIKeysHandler
	AuthenticateAPIKey query.AuthenticateAPIKeyHandler

	Notifications            query.NotificationsHandler
	Notification             query.NotificationHandler
	UnreadNotificationsCount query.UnreadNotificationsCountHandler
}

// Deps are what the application needs from the outside world.
type Deps struct {
	UoW    command.UnitOfWork
	Hasher command.PasswordHasher
	Tokens command.TokenIssuer
	Reads  query.ReadModel
	Clock  command.Clock
}

// New wires every use case to deps.
func New(d Deps) Application {
	if d.Clock == nil {
		d.Clock = command.SystemClock
	}
	return Application{
		Commands: Commands{
			Register:      command.RegisterHandler{UoW: d.UoW, Hasher: d.Hasher, Tokens: d.Tokens, Clock: d.Clock},
			Login:         command.LoginHandler{UoW: d.UoW, Hasher: d.Hasher, Tokens: d.Tokens},
			UpdateProfile: command.UpdateProfileHandler{UoW: d.UoW, Clock: d.Clock},
			CreateAPIKey:  command.CreateAPIKeyHandler{UoW: d.UoW, Clock: d.Clock},
			RevokeAPIKey:  command.RevokeAPIKeyHandler{UoW: d.UoW},
			PostThought:   command.PostThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			EditThought:   command.EditThoughtHandler{UoW: d.UoW, Clock: d.Clock},
			DeleteThought: command.DeleteThoughtHandler{UoW: d.UoW, Clock: d.Clock},

			MarkNotificationRead:     command.MarkNotificationReadHandler{UoW: d.UoW, Clock: d.Clock},
			MarkAllNotificationsRead: command.MarkAllNotificationsReadHandler{UoW: d.UoW, Clock: d.Clock},
		},
		Queries: Queries{
			Me:                 query.MeHandler{Reads: d.Reads},
			UserProfile:        query.UserProfileHandler{Reads: d.Reads},
			Thought:            query.ThoughtHandler{Reads: d.Reads},
			ThoughtContext:     query.ThoughtContextHandler{Reads: d.Reads},
			UserThoughts:       query.UserThoughtsHandler{Reads: d.Reads},
			APIKeys:            query.APIKeysHandler{Reads: d.Reads},
			AuthenticateAPIKey: query.AuthenticateAPIKeyHandler{Reads: d.Reads},

			Notifications:            query.NotificationsHandler{Reads: d.Reads},
			Notification:             query.NotificationHandler{Reads: d.Reads},
			UnreadNotificationsCount: query.UnreadNotificationsCountHandler{Reads: d.Reads},
		},
		Events: EventHandlers{
			Notify: command.NotifyHandler{UoW: d.UoW, Clock: d.Clock},
		},
	}
}
