package events

import "github.com/google/uuid"

// TopicActivityReceived is where ActivityReceived is published.
const TopicActivityReceived = "activities.received"

// ActivityReceived: a remote server delivered an activity with a valid
// signature; it is stored in the inbox (under ID) until the inbox handler
// has applied it. The envelope's actor is the remote account that signed it.
type ActivityReceived struct {
	ID uuid.UUID `json:"id"`
}

func (ActivityReceived) EventType() string { return "ActivityReceived" }
func (ActivityReceived) Topic() string     { return TopicActivityReceived }

// TopicParentWanted is where ParentWanted is published.
const TopicParentWanted = "threads.parent_wanted"

// ParentWanted: a remote thought replies to a parent we do not have (its
// IRI is kept in the thought); the inbox handler fetches it. Depth counts
// the parents fetched so far on behalf of the reply that started the chain.
type ParentWanted struct {
	ThoughtID uuid.UUID `json:"thought_id"`
	Depth     int       `json:"depth"`
}

func (ParentWanted) EventType() string { return "ParentWanted" }
func (ParentWanted) Topic() string     { return TopicParentWanted }
