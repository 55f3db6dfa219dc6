package httpapi

import (
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// Response bodies. Field names are snake_case and stable.

type userJSON struct {
	ID          uuid.UUID `json:"id"`
	Username    string    `json:"username"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Bio         string    `json:"bio"`
	Locked      bool      `json:"locked"`
	CreatedAt   time.Time `json:"created_at"`
	URL         string    `json:"url"`
}

func (s *Server) userView(u domain.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Bio: u.Bio,
		Locked: u.Locked, CreatedAt: u.CreatedAt, URL: s.public + "/users/" + u.Username}
}

type profileJSON struct {
	ID            uuid.UUID `json:"id"`
	Username      string    `json:"username"`
	DisplayName   string    `json:"display_name"`
	Bio           string    `json:"bio"`
	Locked        bool      `json:"locked"`
	CreatedAt     time.Time `json:"created_at"`
	ThoughtsCount int       `json:"thoughts_count"`
	URL           string    `json:"url"`

	FollowersCount int          `json:"followers_count"`
	FollowingCount int          `json:"following_count"`
	TopFriends     []authorJSON `json:"top_friends"`
	// Relationship is the caller's relationship with the user; absent for an
	// anonymous caller.
	Relationship *relationshipJSON `json:"relationship,omitempty"`
}

func (s *Server) profileView(p query.Profile) profileJSON {
	url := p.URL
	if url == "" {
		url = s.public + "/users/" + p.Username
	}
	return profileJSON{ID: p.ID, Username: p.Username, DisplayName: p.DisplayName, Bio: p.Bio, Locked: p.Locked,
		CreatedAt: p.CreatedAt, ThoughtsCount: p.Thoughts, URL: url,
		FollowersCount: p.Followers, FollowingCount: p.Following, TopFriends: summariesView(p.TopFriends)}
}

type authorJSON struct {
	ID          uuid.UUID `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
}

type thoughtJSON struct {
	ID                uuid.UUID  `json:"id"`
	Author            authorJSON `json:"author"`
	Content           string     `json:"content"`
	ContentWarning    string     `json:"content_warning"`
	Sensitive         bool       `json:"sensitive"`
	Visibility        string     `json:"visibility"`
	InReplyToID       *uuid.UUID `json:"in_reply_to_id"`
	InReplyToAuthorID *uuid.UUID `json:"in_reply_to_author_id"`
	RepliesCount      int        `json:"replies_count"`
	LikesCount        int        `json:"likes_count"`
	BoostsCount       int        `json:"boosts_count"`
	Liked             bool       `json:"liked"`
	Boosted           bool       `json:"boosted"`
	CreatedAt         time.Time  `json:"created_at"`
	EditedAt          *time.Time `json:"edited_at"`
	DeletedAt         *time.Time `json:"deleted_at,omitempty"`
	URL               string     `json:"url"`
}

func (s *Server) thoughtView(v query.ThoughtView) thoughtJSON {
	return thoughtJSON{
		ID:                v.ID,
		Author:            authorJSON{ID: v.Author.ID, Username: v.Author.Username, DisplayName: v.Author.DisplayName},
		Content:           v.Content,
		ContentWarning:    v.ContentWarning,
		Sensitive:         v.Sensitive,
		Visibility:        string(v.Visibility),
		InReplyToID:       v.InReplyToID,
		InReplyToAuthorID: v.InReplyToAuthorID,
		RepliesCount:      v.RepliesCount,
		LikesCount:        v.LikesCount,
		BoostsCount:       v.BoostsCount,
		Liked:             v.Liked,
		Boosted:           v.Boosted,
		CreatedAt:         v.CreatedAt,
		EditedAt:          v.EditedAt,
		DeletedAt:         v.DeletedAt,
		URL:               s.public + "/users/" + v.Author.Username + "/thoughts/" + v.ID.String(),
	}
}

func (s *Server) thoughtViews(vs []query.ThoughtView) []thoughtJSON {
	out := make([]thoughtJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, s.thoughtView(v))
	}
	return out
}

type apiKeyJSON struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Scopes     []string   `json:"scopes"`
	// Token is present only in the response that creates the key.
	Token string `json:"token,omitempty"`
}

func apiKeyView(k domain.APIKey) apiKeyJSON {
	scopes := make([]string, 0, len(k.Scopes))
	for _, sc := range k.Scopes {
		scopes = append(scopes, string(sc))
	}
	return apiKeyJSON{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, Scopes: scopes}
}
