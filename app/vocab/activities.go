package vocab

import "time"

// SimpleActivity is an activity whose object is an IRI or a small embedded
// activity or object: Follow, Accept, Reject, Undo, Like, Announce, Block,
// Delete.
type SimpleActivity struct {
	Context   any        `json:"@context,omitempty"`
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Actor     string     `json:"actor"`
	Published *time.Time `json:"published,omitempty"`
	To        []string   `json:"to,omitempty"`
	Cc        []string   `json:"cc,omitempty"`
	Object    any        `json:"object"`
}

// Embedded returns a without its @context, to embed in another activity.
func (a SimpleActivity) Embedded() SimpleActivity {
	a.Context = nil
	return a
}

// FollowOf is actor's Follow (id) of object.
func FollowOf(id, actor, object string) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: "Follow", Actor: actor, Object: object}
}

// Answer is actor's Accept or Reject (typ) of follow, embedded as Mastodon
// and GoToSocial expect, addressed to the follower.
func Answer(typ, id, actor string, follow SimpleActivity) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: typ, Actor: actor, To: []string{follow.Actor}, Object: follow.Embedded()}
}

// Undo is actor's Undo (id) of object, addressed as the undone activity was.
func Undo(id, actor string, object SimpleActivity) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: "Undo", Actor: actor, To: object.To, Cc: object.Cc, Object: object.Embedded()}
}

// LikeOf is actor's Like (id) of the note, addressed to its author.
func LikeOf(id, actor, note, noteAuthor string) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: "Like", Actor: actor, To: []string{noteAuthor}, Object: note}
}

// AnnounceOf is actor's Announce (id) of the note, as Mastodon addresses a
// boost: to Public, cc the note's author and the booster's followers.
func (i IRIs) AnnounceOf(id, actorName, note, noteAuthor string, published time.Time) SimpleActivity {
	p := published.UTC()
	return SimpleActivity{Context: Context, ID: id, Type: "Announce", Actor: i.Actor(actorName), Published: &p,
		To: []string{Public}, Cc: []string{noteAuthor, i.Followers(actorName)}, Object: note}
}

// BlockOf is actor's Block (id) of object, addressed to it.
func BlockOf(id, actor, object string) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: "Block", Actor: actor, To: []string{object}, Object: object}
}

// UpdateNote wraps an edited Note in its Update (id), addressed as the Note.
func UpdateNote(id string, n Note, at time.Time) Activity {
	n.Context = nil
	return Activity{Context: Context, ID: id, Type: "Update", Actor: n.AttributedTo, Published: at.UTC(), To: n.To, Cc: n.Cc, Object: n}
}

// DeleteNote is the Delete (id) of the Note noteID by actor, addressed to
// to and cc (whom the Note reached); its object is the Tombstone.
func DeleteNote(id, actor, noteID string, to, cc []string) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: "Delete", Actor: actor, To: to, Cc: cc,
		Object: Tombstone{ID: noteID, Type: "Tombstone"}}
}

// DeleteActor is the Delete (id) of the actor by itself.
func DeleteActor(id, actor string) SimpleActivity {
	return SimpleActivity{Context: Context, ID: id, Type: "Delete", Actor: actor, To: []string{Public}, Object: actor}
}
