package fedtest

import (
	"fmt"
	"strings"
)

// Feature names used in failure messages (issue 8), so a failing part says
// which piece of work it waits for.
const (
	featFollow       = "outbound remote follow: POST /api/v1/users/{name@host}/follow (WebFinger, Follow delivered, Accept applied)"
	featProfile      = "remote profile: GET /api/v1/users/{name@host} with relationship"
	featInboxFollow  = "inbox: Follow applied (follower listed, follow/follow_request notification)"
	featAcceptReq    = "locked accounts: POST /api/v1/follow_requests/{name@host}/accept sends Accept"
	featFeed         = "inbound Create(Note): remote thoughts in followers' home feeds"
	featOutCreate    = "outbound delivery: Create(Note) to remote followers, addressed by visibility"
	featVisibility   = "visibility of remote thoughts: followers-only reaches followers only"
	featInteractions = "remote interactions: outbound Like/Announce/reply/mention, inbound notifications"
	featUpdateDelete = "Update(Note)/Delete propagation"
	featUnfollow     = "Undo(Follow): unfollow stops delivery"
	featBlock        = "Block: outbound Block removes the follow and stops delivery"
	featInbox        = "inbox: POST /users/{name}/inbox verifying HTTP signatures (401 forged/stale, 202 valid)"
	featDeliveries   = "delivery status: GET /api/v1/thoughts/{id}/deliveries"
	featRetry        = "durable delivery: retries after the peer is back"
	featSearch       = "search?type=users&q=@name@host resolves a remote account"
)

// delivery is one row of GET /api/v1/thoughts/{id}/deliveries, read
// tolerantly: the issue fixes what it says (per remote server: pending /
// delivered / failed, attempts, last status, next attempt), not the field
// names, which the outbound work chooses.
type delivery struct {
	raw    map[string]any
	target string // every string field, joined: the host or inbox is among them
	status string
}

// parseDeliveries accepts a JSON array of rows or an object holding one
// (under any key).
func parseDeliveries(v any) ([]delivery, bool) {
	rows := list(v)
	if _, isArr := v.([]any); !isArr {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		for _, x := range m {
			if arr, ok := x.([]any); ok {
				rows, found = list(arr), true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	out := make([]delivery, 0, len(rows))
	for _, r := range rows {
		d := delivery{raw: r}
		var parts []string
		for k, x := range r {
			if s, ok := x.(string); ok {
				parts = append(parts, s)
				if k == "status" || k == "state" {
					d.status = strings.ToLower(s)
				}
			}
		}
		d.target = strings.Join(parts, " ")
		out = append(out, d)
	}
	return out, true
}

// deliveriesTo returns the rows for host of thought id's deliveries as a.
func (a account) deliveriesTo(id, host string) ([]delivery, int, string) {
	code, v, raw := a.try("GET", "/api/v1/thoughts/"+id+"/deliveries", nil)
	if code != 200 {
		return nil, code, raw
	}
	all, ok := parseDeliveries(v)
	if !ok {
		return nil, code, "not a list of deliveries: " + raw
	}
	var out []delivery
	for _, d := range all {
		if strings.Contains(d.target, host) {
			out = append(out, d)
		}
	}
	return out, code, raw
}

func statuses(ds []delivery) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%s(%v)", d.status, d.raw))
	}
	return strings.Join(s, ", ")
}
