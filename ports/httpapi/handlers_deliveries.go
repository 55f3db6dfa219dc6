package httpapi

import (
	"net/http"
	"time"

	"github.com/thoughts-project/thoughts/app/domain"
)

type deliveryJSON struct {
	Host          string     `json:"host"`
	Inbox         string     `json:"inbox"`
	Activity      string     `json:"activity"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastStatus    *int       `json:"last_status"`
	LastError     string     `json:"last_error"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DoneAt        *time.Time `json:"done_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

type deliveriesJSON struct {
	Pending   int            `json:"pending"`
	Delivered int            `json:"delivered"`
	Failed    int            `json:"failed"`
	Servers   []deliveryJSON `json:"servers"`
}

// thoughtDeliveries answers GET /thoughts/{id}/deliveries: for the author
// only (anyone else gets 404), where each activity about the thought (its
// Create, Updates, Delete) stands with each remote server.
func (s *Server) thoughtDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ds, err := s.app.Queries.ThoughtDeliveries.Handle(r.Context(), mustUser(r), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := deliveriesJSON{Servers: make([]deliveryJSON, 0, len(ds))}
	for _, d := range ds {
		switch d.State {
		case domain.DeliveryPending:
			out.Pending++
		case domain.DeliveryDelivered:
			out.Delivered++
		case domain.DeliveryFailed:
			out.Failed++
		}
		v := deliveryJSON{Host: d.Host, Inbox: d.Inbox, Activity: d.ActivityType, State: string(d.State), Attempts: d.Attempts,
			LastError: d.LastError, LastAttemptAt: d.LastAttemptAt, NextAttemptAt: d.NextAttemptAt, DoneAt: d.DoneAt, CreatedAt: d.CreatedAt}
		if d.LastStatus != 0 {
			st := d.LastStatus
			v.LastStatus = &st
		}
		out.Servers = append(out.Servers, v)
	}
	writeJSON(w, http.StatusOK, out)
}
