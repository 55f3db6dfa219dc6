package apitest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/outbox"
	"github.com/thoughts-project/thoughts/app/events"
)

// Events decodes every event the rig's commands appended to the forwarder
// outbox (the default layout), oldest first: what a test asserts to prove an
// action committed its events, and that a repeated one added none.
func (r *Rig) Events(t testing.TB) []events.Envelope {
	t.Helper()
	rows, err := r.DB.Pool.Query(context.Background(),
		`SELECT payload FROM `+outbox.TableName(outbox.ForwarderTopic)+` ORDER BY "offset"`)
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	defer rows.Close()
	var out []events.Envelope
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatalf("scan outbox: %v", err)
		}
		// The forwarder's envelope around the event message.
		var fwd struct {
			UUID     string            `json:"uuid"`
			Payload  []byte            `json:"payload"`
			Metadata map[string]string `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &fwd); err != nil {
			t.Fatalf("decode outbox row %s: %v", raw, err)
		}
		ev, err := events.Unmarshal(fwd.Payload)
		if err != nil {
			t.Fatalf("decode event %s: %v", fwd.Payload, err)
		}
		env := events.Envelope{Event: ev, CorrelationID: fwd.Metadata[events.MetaCorrelationID]}
		if env.ID, err = uuid.Parse(fwd.UUID); err != nil {
			t.Fatalf("event ID %q: %v", fwd.UUID, err)
		}
		if a := fwd.Metadata[events.MetaActorID]; a != "" {
			if env.ActorID, err = uuid.Parse(a); err != nil {
				t.Fatalf("actor ID %q: %v", a, err)
			}
		}
		if env.OccurredAt, err = time.Parse(time.RFC3339Nano, fwd.Metadata[events.MetaOccurredAt]); err != nil {
			t.Fatalf("occurred_at: %v", err)
		}
		out = append(out, env)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return out
}
