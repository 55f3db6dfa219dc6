package httpapi

import (
	"net/url"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

func summaryView(u query.UserSummary) authorJSON {
	return authorJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}
}

func summariesView(us []query.UserSummary) []authorJSON {
	out := make([]authorJSON, 0, len(us))
	for _, u := range us {
		out = append(out, summaryView(u))
	}
	return out
}

func listedUsersView(us []query.ListedUser) []authorJSON {
	out := make([]authorJSON, 0, len(us))
	for _, u := range us {
		out = append(out, summaryView(u.UserSummary))
	}
	return out
}

// relationshipJSON is how the caller stands with the user ID.
type relationshipJSON struct {
	ID          uuid.UUID `json:"id"`
	Following   bool      `json:"following"`
	Requested   bool      `json:"requested"`
	FollowedBy  bool      `json:"followed_by"`
	RequestedBy bool      `json:"requested_by"`
	Blocking    bool      `json:"blocking"`
	BlockedBy   bool      `json:"blocked_by"`
}

func relationshipView(r domain.Relationship) relationshipJSON {
	return relationshipJSON{ID: r.UserID, Following: r.Following, Requested: r.Requested, FollowedBy: r.FollowedBy,
		RequestedBy: r.RequestedBy, Blocking: r.Blocking, BlockedBy: r.BlockedBy}
}

// feedItemJSON is a thought in a home feed. FeedID is the entry's cursor for
// max_id/min_id: the thought's ID for an original, the boost's for a boost.
type feedItemJSON struct {
	thoughtJSON
	FeedID    uuid.UUID   `json:"feed_id"`
	BoostedBy *authorJSON `json:"boosted_by"`
}

func (s *Server) feedView(items []query.FeedItem) []feedItemJSON {
	out := make([]feedItemJSON, 0, len(items))
	for _, it := range items {
		j := feedItemJSON{thoughtJSON: s.thoughtView(it.ThoughtView), FeedID: it.ID}
		if it.BoostedBy != nil {
			b := summaryView(*it.BoostedBy)
			j.BoostedBy = &b
		}
		out = append(out, j)
	}
	return out
}

type tagJSON struct {
	Name string `json:"name"`
	// URL lists the tag's thoughts.
	URL string `json:"url"`
}

func (s *Server) tagsView(tags []string) []tagJSON {
	out := make([]tagJSON, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagJSON{Name: t, URL: s.public + "/api/v1/tags/" + url.PathEscape(t)})
	}
	return out
}
