package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/events"
)

func TestRoundTripEveryEvent(t *testing.T) {
	t.Parallel()
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	all := []events.Event{
		events.ThoughtCreated{ThoughtID: a, UserID: b, InReplyToID: &c},
		events.ThoughtCreated{ThoughtID: a, UserID: b},
		events.ThoughtUpdated{ThoughtID: a, UserID: b},
		events.ThoughtDeleted{ThoughtID: a, UserID: b},
		events.LikeAdded{LikeID: a, UserID: b, ThoughtID: c},
		events.LikeAdded{LikeID: a, UserID: b, ThoughtID: c, RemoteThought: true},
		events.LikeRemoved{UserID: b, ThoughtID: c},
		events.BoostAdded{BoostID: a, UserID: b, ThoughtID: c},
		events.BoostRemoved{UserID: b, ThoughtID: c},
		events.FollowRequested{FollowerID: a, FollowingID: b},
		events.FollowAccepted{FollowerID: a, FollowingID: b},
		events.FollowRejected{FollowerID: a, FollowingID: b},
		events.Unfollowed{FollowerID: a, FollowingID: b},
		events.UserBlocked{BlockerID: a, BlockedID: b},
		events.UserUnblocked{BlockerID: a, BlockedID: b},
		events.UserDeleted{UserID: a, Username: "alice"},
		events.ActivityReceived{ID: a},
		events.ParentWanted{ThoughtID: a, Depth: 3},
	}
	topics := map[string]string{}
	for _, ev := range all {
		payload, err := events.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal %T: %v", ev, err)
		}
		back, err := events.Unmarshal(payload)
		if err != nil {
			t.Fatalf("unmarshal %s: %v", payload, err)
		}
		if back != ev {
			// Pointer fields compare by address; compare encodings instead.
			again, err := events.Marshal(back)
			if err != nil {
				t.Fatalf("marshal %T again: %v", back, err)
			}
			if string(again) != string(payload) {
				t.Errorf("round trip changed %s into %s", payload, again)
			}
		}
		if prev, ok := topics[ev.Topic()]; ok && prev != ev.EventType() {
			t.Errorf("topic %s shared by %s and %s", ev.Topic(), prev, ev.EventType())
		}
		topics[ev.Topic()] = ev.EventType()
	}
	// One type, LikeAdded, has two topics (a like of a remote thought goes
	// to federation's).
	if len(topics) != len(events.AllTopics) || len(events.Types()) != len(events.AllTopics)-1 {
		t.Errorf("catalogue has %d topics, %d types, tested %d topics", len(events.AllTopics), len(events.Types()), len(topics))
	}
	if got := (events.LikeAdded{RemoteThought: true}).Topic(); got != events.TopicRemoteThoughtLiked {
		t.Errorf("a like of a remote thought goes to %s", got)
	}
}

func TestWireFormatIsTaggedJSON(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f")
	payload, err := events.Marshal(events.LikeAdded{LikeID: id, UserID: id, ThoughtID: id})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	if got["type"] != "LikeAdded" {
		t.Errorf("type = %v", got["type"])
	}
	data, _ := got["data"].(map[string]any)
	if data["like_id"] != id.String() || data["thought_id"] != id.String() || data["user_id"] != id.String() {
		t.Errorf("data = %v", data)
	}
	// A reply-less ThoughtCreated still names in_reply_to_id, as null.
	payload, err = events.Marshal(events.ThoughtCreated{ThoughtID: id, UserID: id})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"ThoughtCreated","data":{"thought_id":"` + id.String() + `","user_id":"` + id.String() + `","in_reply_to_id":null}}`; string(payload) != want {
		t.Errorf("payload = %s, want %s", payload, want)
	}
}

func TestUnmarshalRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{``, `nope`, `{"type":"Nope","data":{}}`, `{"type":"LikeAdded"}`, `{"type":"LikeAdded","data":{"like_id":"x"}}`, `[]`} {
		if _, err := events.Unmarshal([]byte(payload)); !errors.Is(err, events.ErrUndecodable) {
			t.Errorf("Unmarshal(%q) error = %v, want ErrUndecodable", payload, err)
		}
	}
}

func TestEnvelopeMetadata(t *testing.T) {
	t.Parallel()
	actor := uuid.New()
	ctx := events.WithCorrelationID(context.Background(), "corr-1")
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	env := events.New(ctx, actor, events.ThoughtDeleted{ThoughtID: uuid.New(), UserID: actor}, now)
	if env.ID.Version() != 7 {
		t.Errorf("event ID version = %d, want 7", env.ID.Version())
	}
	md := env.Metadata()
	want := map[string]string{
		events.MetaCorrelationID: "corr-1",
		events.MetaEventType:     "ThoughtDeleted",
		events.MetaOccurredAt:    "2026-11-28T10:00:00Z",
		events.MetaActorID:       actor.String(),
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata[%s] = %q, want %q", k, md[k], v)
		}
	}
}
