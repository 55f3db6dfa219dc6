package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

type notificationThoughtJSON struct {
	ID             uuid.UUID `json:"id"`
	Excerpt        string    `json:"excerpt"`
	ContentWarning string    `json:"content_warning"`
}

type notificationJSON struct {
	ID        uuid.UUID  `json:"id"`
	Type      string     `json:"type"`
	CreatedAt time.Time  `json:"created_at"`
	Read      bool       `json:"read"`
	Account   authorJSON `json:"account"`
	// Thought is null for notifications about no thought (follows).
	Thought *notificationThoughtJSON `json:"thought"`
}

func (s *Server) notificationView(v query.NotificationView) notificationJSON {
	out := notificationJSON{
		ID: v.ID, Type: string(v.Type), CreatedAt: v.CreatedAt, Read: v.Read,
		Account: authorJSON{ID: v.Account.ID, Username: v.Account.Username, DisplayName: v.Account.DisplayName},
	}
	if v.Thought != nil {
		out.Thought = &notificationThoughtJSON{ID: v.Thought.ID, Excerpt: v.Thought.Excerpt, ContentWarning: v.Thought.ContentWarning}
	}
	return out
}

// parseNotificationFilter reads types[] (repeated, or comma-separated in
// types[] or types) and unread. Unknown values are 400s naming the parameter.
func parseNotificationFilter(r *http.Request) (query.NotificationFilter, error) {
	q := r.URL.Query()
	var f query.NotificationFilter
	seen := map[domain.NotificationType]bool{}
	for _, key := range []string{"types[]", "types"} {
		for _, v := range q[key] {
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				t, err := domain.ParseNotificationType(name)
				if err != nil {
					return f, paramError("types", "has unknown type %q; known types are %s", name, notificationTypeNames())
				}
				if !seen[t] {
					seen[t] = true
					f.Types = append(f.Types, t)
				}
			}
		}
	}
	if v := q.Get("unread"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, paramError("unread", "must be true or false")
		}
		f.UnreadOnly = b
	}
	return f, nil
}

func notificationTypeNames() string {
	names := make([]string, len(domain.NotificationTypes))
	for i, t := range domain.NotificationTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := parseNotificationFilter(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	vs, err := s.app.Queries.Notifications.Handle(r.Context(), mustUser(r), f, page)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]notificationJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, s.notificationView(v))
	}
	if len(vs) > 0 {
		s.setLinks(w, r, page, vs[0].ID, vs[len(vs)-1].ID, len(vs))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) readNotification(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	user := mustUser(r)
	if err := s.app.Commands.MarkNotificationRead.Handle(r.Context(), command.MarkNotificationRead{UserID: user, NotificationID: id}); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.app.Queries.Notification.Handle(r.Context(), user, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, s.notificationView(v))
}

func (s *Server) readAllNotifications(w http.ResponseWriter, r *http.Request) {
	if _, err := s.app.Commands.MarkAllNotificationsRead.Handle(r.Context(), command.MarkAllNotificationsRead{UserID: mustUser(r)}); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) unreadNotificationsCount(w http.ResponseWriter, r *http.Request) {
	n, err := s.app.Queries.UnreadNotificationsCount.Handle(r.Context(), mustUser(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}
