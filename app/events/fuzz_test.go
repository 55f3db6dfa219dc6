package events_test

import (
	"errors"
	"testing"

	"github.com/thoughts-project/thoughts/app/events"
)

// FuzzUnmarshal: any payload either decodes to a catalogue event that
// re-encodes and decodes to the same encoding, or fails with ErrUndecodable
// (which sends it to the poison queue at once); never a panic, never
// another error.
func FuzzUnmarshal(f *testing.F) {
	for _, typ := range events.Types() {
		f.Add([]byte(`{"type":"` + typ + `","data":{}}`))
	}
	f.Add([]byte(`{"type":"LikeAdded","data":{"like_id":"0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f","user_id":"0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f","thought_id":"0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f"}}`))
	f.Add([]byte(`{"type":"UserDeleted","data":{"user_id":"0190f5b4-7d2a-7c4e-8e4a-1a2b3c4d5e6f","username":"al\u0000ice"}}`))
	f.Add([]byte(`{"type":"ThoughtCreated","data":{"in_reply_to_id":null}}`))
	f.Add([]byte(`{"type":"LikeAdded","data":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := events.Unmarshal(payload)
		if err != nil {
			if !errors.Is(err, events.ErrUndecodable) {
				t.Fatalf("Unmarshal(%q) = %v, not ErrUndecodable", payload, err)
			}
			if ev != nil {
				t.Fatalf("Unmarshal(%q) returned an event with its error", payload)
			}
			return
		}
		once, err := events.Marshal(ev)
		if err != nil {
			t.Fatalf("Marshal(%#v) of a decoded event: %v", ev, err)
		}
		back, err := events.Unmarshal(once)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(%#v)) = %v", ev, err)
		}
		twice, err := events.Marshal(back)
		if err != nil || string(twice) != string(once) {
			t.Fatalf("round trip changed %s into %s (%v)", once, twice, err)
		}
		if back.EventType() != ev.EventType() || back.Topic() != ev.Topic() {
			t.Fatalf("round trip changed %s into %s", ev.EventType(), back.EventType())
		}
	})
}
