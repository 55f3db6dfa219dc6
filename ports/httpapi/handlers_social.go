package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// interact runs a like/boost command on the thought in the path and answers
// with the thought as the caller now sees it (counts and flags updated).
func (s *Server) interact(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, userID, thoughtID uuid.UUID) error) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := run(r.Context(), mustUser(r), id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.writeThought(w, r, id, http.StatusOK)
}

func (s *Server) likeThought(w http.ResponseWriter, r *http.Request) {
	s.interact(w, r, func(ctx context.Context, user, id uuid.UUID) error {
		return s.app.Commands.LikeThought.Handle(ctx, command.LikeThought{UserID: user, ThoughtID: id})
	})
}

func (s *Server) unlikeThought(w http.ResponseWriter, r *http.Request) {
	s.interact(w, r, func(ctx context.Context, user, id uuid.UUID) error {
		return s.app.Commands.UnlikeThought.Handle(ctx, command.UnlikeThought{UserID: user, ThoughtID: id})
	})
}

func (s *Server) boostThought(w http.ResponseWriter, r *http.Request) {
	s.interact(w, r, func(ctx context.Context, user, id uuid.UUID) error {
		return s.app.Commands.BoostThought.Handle(ctx, command.BoostThought{UserID: user, ThoughtID: id})
	})
}

func (s *Server) unboostThought(w http.ResponseWriter, r *http.Request) {
	s.interact(w, r, func(ctx context.Context, user, id uuid.UUID) error {
		return s.app.Commands.UnboostThought.Handle(ctx, command.UnboostThought{UserID: user, ThoughtID: id})
	})
}

// relate runs a command on the relationship with the user in the path and
// answers with the relationship afterwards.
func (s *Server) relate(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, me uuid.UUID, username string) (domain.Relationship, error)) {
	rel, err := run(r.Context(), mustUser(r), mux.Vars(r)["username"])
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, relationshipView(rel))
}

func (s *Server) followUser(w http.ResponseWriter, r *http.Request) {
	s.relate(w, r, func(ctx context.Context, me uuid.UUID, name string) (domain.Relationship, error) {
		return s.app.Commands.FollowUser.Handle(ctx, command.FollowUser{FollowerID: me, Username: name})
	})
}

func (s *Server) unfollowUser(w http.ResponseWriter, r *http.Request) {
	s.relate(w, r, func(ctx context.Context, me uuid.UUID, name string) (domain.Relationship, error) {
		return s.app.Commands.UnfollowUser.Handle(ctx, command.UnfollowUser{FollowerID: me, Username: name})
	})
}

func (s *Server) acceptFollowRequest(w http.ResponseWriter, r *http.Request) {
	s.relate(w, r, func(ctx context.Context, me uuid.UUID, name string) (domain.Relationship, error) {
		return s.app.Commands.AcceptFollowRequest.Handle(ctx, command.AcceptFollowRequest{UserID: me, Requester: name})
	})
}

func (s *Server) rejectFollowRequest(w http.ResponseWriter, r *http.Request) {
	s.relate(w, r, func(ctx context.Context, me uuid.UUID, name string) (domain.Relationship, error) {
		return s.app.Commands.RejectFollowRequest.Handle(ctx, command.RejectFollowRequest{UserID: me, Requester: name})
	})
}

func (s *Server) blockUser(w http.ResponseWriter, r *http.Request) {
	s.relate(w, r, func(ctx context.Context, me uuid.UUID, name string) (domain.Relationship, error) {
		return s.app.Commands.BlockUser.Handle(ctx, command.BlockUser{BlockerID: me, Username: name})
	})
}

func (s *Server) unblockUser(w http.ResponseWriter, r *http.Request) {
	s.relate(w, r, func(ctx context.Context, me uuid.UUID, name string) (domain.Relationship, error) {
		return s.app.Commands.UnblockUser.Handle(ctx, command.UnblockUser{BlockerID: me, Username: name})
	})
}

// userList answers a paginated list of users; the Link header carries the
// cursors of the list's entries (follows, likes...), not user IDs.
func (s *Server) userList(w http.ResponseWriter, r *http.Request, list func(page domain.Page) ([]query.ListedUser, error)) {
	page, err := parsePage(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	us, err := list(page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(us) > 0 {
		s.setLinks(w, r, page, us[0].Cursor, us[len(us)-1].Cursor, len(us))
	}
	writeJSON(w, http.StatusOK, listedUsersView(us))
}

func (s *Server) followers(w http.ResponseWriter, r *http.Request) {
	s.userList(w, r, func(page domain.Page) ([]query.ListedUser, error) {
		return s.app.Queries.Followers.Handle(r.Context(), mux.Vars(r)["username"], page)
	})
}

func (s *Server) following(w http.ResponseWriter, r *http.Request) {
	s.userList(w, r, func(page domain.Page) ([]query.ListedUser, error) {
		return s.app.Queries.Following.Handle(r.Context(), mux.Vars(r)["username"], page)
	})
}

func (s *Server) followRequests(w http.ResponseWriter, r *http.Request) {
	s.userList(w, r, func(page domain.Page) ([]query.ListedUser, error) {
		return s.app.Queries.FollowRequests.Handle(r.Context(), mustUser(r), page)
	})
}

func (s *Server) blocks(w http.ResponseWriter, r *http.Request) {
	s.userList(w, r, func(page domain.Page) ([]query.ListedUser, error) {
		return s.app.Queries.Blocks.Handle(r.Context(), mustUser(r), page)
	})
}

func (s *Server) likedBy(w http.ResponseWriter, r *http.Request) {
	s.userList(w, r, func(page domain.Page) ([]query.ListedUser, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return nil, err
		}
		return s.app.Queries.LikedBy.Handle(r.Context(), viewer(r), id, page)
	})
}

func (s *Server) boostedBy(w http.ResponseWriter, r *http.Request) {
	s.userList(w, r, func(page domain.Page) ([]query.ListedUser, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return nil, err
		}
		return s.app.Queries.BoostedBy.Handle(r.Context(), viewer(r), id, page)
	})
}

func (s *Server) getTopFriends(w http.ResponseWriter, r *http.Request) {
	us, err := s.app.Queries.TopFriends.Handle(r.Context(), mustUser(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, summariesView(us))
}

func (s *Server) putTopFriends(w http.ResponseWriter, r *http.Request) {
	var req topFriendsRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Usernames == nil {
		writeError(w, r, s.log, domain.Invalid("usernames", "is required (an empty list clears the top friends)"))
		return
	}
	if err := s.app.Commands.SetTopFriends.Handle(r.Context(), command.SetTopFriends{UserID: mustUser(r), Usernames: *req.Usernames}); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.getTopFriends(w, r)
}
