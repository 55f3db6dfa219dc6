package command

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// noteTypes are the object types stored as thoughts.
var noteTypes = []string{"Note", "Article", "Question", "Page"}

// create: a remote account's new Note.
func (in inbound) create(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	note := *obj
	if !note.Embedded {
		// Rare, allowed: the Note named by its IRI only.
		body, err := in.h.Objects.FetchObject(ctx, note.ID)
		if errors.Is(err, ErrFetchPermanent) {
			return ignored("%v", err)
		}
		if err != nil {
			return err
		}
		if note, err = vocab.ParseObject(body); err != nil || note.ID != obj.ID {
			return rejected("the object fetched at %s is not it", obj.ID)
		}
	}
	if !slices.Contains(noteTypes, note.Type) {
		return ignored("Create of %s is not supported", note.Type)
	}
	if note.AttributedTo != in.act.Actor || !vocab.SameHost(note.ID, in.act.Actor) {
		return rejected("the note %s is not the actor's own", note.ID)
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.Federated().ThoughtByIRI(ctx, note.ID); err == nil {
			return nil // delivered before under another activity id
		} else if !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		relevant, err := in.h.relevant(ctx, tx, note, in.actor())
		if err != nil {
			return err
		}
		if !relevant {
			return ignored("the note concerns no one here")
		}
		_, err = in.h.storeNote(ctx, tx, note, in.actor(), 0)
		return err
	})
}

// relevant: the note is addressed to or mentions a local account, replies
// to a thought we have, or its author has a local follower.
func (h ProcessActivityHandler) relevant(ctx context.Context, tx Tx, note vocab.Incoming, authorID uuid.UUID) (bool, error) {
	addressees := slices.Concat(note.To, note.Cc)
	for _, t := range note.Tags {
		if t.Type == "Mention" {
			addressees = append(addressees, t.Href)
		}
	}
	looked := 0
	for _, a := range addressees {
		if looked == maxAddresseeLookups {
			break
		}
		name, ok := h.IRIs.LocalUsername(a)
		if !ok || domain.ValidateUsername(name) != nil {
			continue
		}
		looked++
		if _, err := tx.Users().ByUsername(ctx, name); err == nil {
			return true, nil
		} else if !errors.Is(err, domain.ErrNotFound) {
			return false, err
		}
	}
	if note.InReplyTo != "" {
		if _, err := h.thoughtByIRI(ctx, tx, note.InReplyTo); err == nil {
			return true, nil
		} else if !errors.Is(err, domain.ErrNotFound) {
			return false, err
		}
	}
	return tx.Federated().LocalFollowerOf(ctx, authorID)
}

// maxAddresseeLookups bounds the local accounts a Note's addressing is
// checked against: a real Note names a few.
const maxAddresseeLookups = 100

// noteText is what a thought keeps of a Note's content.
type noteText struct {
	text, html, warning string
	sensitive           bool
}

// MaxRemoteTextLen bounds the text kept of a remote Note (runes); the
// sanitised HTML is kept whole.
const MaxRemoteTextLen = 20000

func (h ProcessActivityHandler) noteText(note vocab.Incoming) noteText {
	clean := func(s string) string { return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD") }
	html := clean(h.HTML.HTML(note.Content))
	text := clean(h.HTML.Text(html))
	if utf8.RuneCountInString(text) > MaxRemoteTextLen {
		text = string([]rune(text)[:MaxRemoteTextLen])
	}
	cw := clean(h.HTML.Text(note.Summary))
	if utf8.RuneCountInString(cw) > domain.MaxContentWarningLen*5 {
		cw = string([]rune(cw)[:domain.MaxContentWarningLen*5])
	}
	return noteText{text: text, html: html, warning: cw, sensitive: note.Sensitive || cw != ""}
}

// NoteVisibility derives a thought's visibility from a Note's addressing,
// as Mastodon does: Public in to is public, Public in cc unlisted, anything
// else followers-only.
func NoteVisibility(note vocab.Incoming) domain.Visibility {
	switch {
	case slices.ContainsFunc(note.To, vocab.IsPublic):
		return domain.VisibilityPublic
	case slices.ContainsFunc(note.Cc, vocab.IsPublic):
		return domain.VisibilityUnlisted
	}
	return domain.VisibilityFollowers
}

// idAt is a UUIDv7 whose time is at: a remote thought sorts (in feeds,
// threads, lists) by when it was published, not by when it reached us.
func idAt(at time.Time) uuid.UUID {
	id := newID()
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(at.UnixMilli()))
	copy(id[:6], ms[2:])
	return id
}

// storeNote stores a remote Note by authorID as a thought, in tx, with its
// hashtags and local mentions, linked to its parent if we have it (else
// with the parent's IRI, and a ParentWanted to fetch it unless depth says
// the chain is long enough), linking the replies that waited for it, and
// appends ThoughtCreated.
func (h ProcessActivityHandler) storeNote(ctx context.Context, tx Tx, note vocab.Incoming, authorID uuid.UUID, depth int) (domain.Thought, error) {
	now := h.Clock()
	created := now
	if note.Published != nil && note.Published.Before(now) && note.Published.Year() > 1970 {
		created = note.Published.Truncate(time.Microsecond)
	}
	nt := h.noteText(note)
	t := domain.Thought{
		ID: idAt(created), AuthorID: authorID, Content: nt.text, ContentWarning: nt.warning,
		Sensitive: nt.sensitive, Visibility: NoteVisibility(note), CreatedAt: created,
		Remote: domain.RemoteNote{IRI: note.ID, URL: note.URL, ContentHTML: nt.html},
	}
	if !vocab.IsHTTPURL(t.Remote.URL) {
		t.Remote.URL = ""
	}
	if note.InReplyTo != "" && vocab.IsHTTPURL(note.InReplyTo) {
		parent, err := h.thoughtByIRI(ctx, tx, note.InReplyTo)
		switch {
		case err == nil:
			t.InReplyToID, t.InReplyToAuthorID = &parent.ID, &parent.AuthorID
		case errors.Is(err, domain.ErrNotFound):
			t.Remote.InReplyToIRI = note.InReplyTo
		default:
			return domain.Thought{}, err
		}
	}
	if err := tx.Thoughts().Create(ctx, t); err != nil {
		return domain.Thought{}, err
	}
	if err := h.storeEntities(ctx, tx, t, note); err != nil {
		return domain.Thought{}, err
	}
	if _, err := tx.Federated().LinkReplies(ctx, t); err != nil {
		return domain.Thought{}, err
	}
	envs := []events.Envelope{events.New(ctx, authorID,
		events.ThoughtCreated{ThoughtID: t.ID, UserID: authorID, InReplyToID: t.InReplyToID}, now)}
	if t.Remote.InReplyToIRI != "" && !h.IRIs.IsLocal(t.Remote.InReplyToIRI) && depth < h.maxDepth() {
		envs = append(envs, events.New(ctx, authorID, events.ParentWanted{ThoughtID: t.ID, Depth: depth}, now))
	}
	return t, tx.Publish(ctx, envs...)
}

func (h ProcessActivityHandler) maxDepth() int {
	if h.MaxThreadDepth > 0 {
		return h.MaxThreadDepth
	}
	return DefaultMaxThreadDepth
}

// storeEntities stores a remote thought's hashtags (from its text and its
// Hashtag tags) and the local accounts its Mention tags name.
func (h ProcessActivityHandler) storeEntities(ctx context.Context, tx Tx, t domain.Thought, note vocab.Incoming) error {
	tags := domain.ParseTags(t.Content)
	var names []string
	for _, tag := range note.Tags {
		switch tag.Type {
		case "Hashtag":
			if name, ok := domain.NormalizeTag(strings.TrimSpace(tag.Name)); ok && !slices.Contains(tags, name) {
				tags = append(tags, name)
			}
		case "Mention":
			if name, ok := h.IRIs.LocalUsername(tag.Href); ok && domain.ValidateUsername(name) == nil && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if err := tx.Entities().ReplaceTags(ctx, t.ID, tags, h.Clock()); err != nil {
		return err
	}
	return tx.Entities().ReplaceMentions(ctx, t.ID, names)
}

// update: a remote account edits its Note, or its profile.
func (in inbound) update(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	if obj.ID == in.act.Actor || slices.Contains([]string{"Person", "Service", "Application", "Group", "Organization"}, obj.Type) {
		if obj.ID != in.act.Actor {
			return rejected("an actor may update only itself")
		}
		if _, err := in.h.Actors.Handle(ctx, ResolveRemoteActor{IRI: in.act.Actor, Refresh: true}); err != nil {
			return ignored("fetching the actor again failed: %v", err)
		}
		return in.apply(ctx, func(context.Context, Tx) error { return nil })
	}
	if !slices.Contains(noteTypes, obj.Type) || !obj.Embedded {
		return ignored("Update of %s is not supported", obj.Type)
	}
	if obj.AttributedTo != in.act.Actor {
		return rejected("only the author may update a note")
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		t, err := in.known(ctx, tx, "note", obj.ID)
		if err != nil {
			return err
		}
		if t.AuthorID != in.actor() {
			return rejected("only the author may update a note")
		}
		if t.Deleted() {
			return ignored("the note was deleted")
		}
		nt := in.h.noteText(*obj)
		if nt.text == t.Content && nt.html == t.Remote.ContentHTML && nt.warning == t.ContentWarning && nt.sensitive == t.Sensitive {
			return nil
		}
		edited := in.h.Clock()
		if obj.Updated != nil && obj.Updated.Before(edited) {
			edited = obj.Updated.Truncate(time.Microsecond)
		}
		t.Content, t.Remote.ContentHTML, t.ContentWarning, t.Sensitive, t.EditedAt = nt.text, nt.html, nt.warning, nt.sensitive, &edited
		if err := tx.Thoughts().Update(ctx, t); err != nil {
			return err
		}
		if err := in.h.storeEntities(ctx, tx, t, *obj); err != nil {
			return err
		}
		return in.publish(ctx, tx, events.ThoughtUpdated{ThoughtID: t.ID, UserID: in.actor()})
	})
}

// delete: a remote account deletes a Note, or itself (its content goes and
// its account is deleted, as a local account's).
func (in inbound) delete(ctx context.Context) error {
	obj, err := in.object()
	if err != nil {
		return err
	}
	if obj.ID == in.act.Actor {
		return in.apply(ctx, func(ctx context.Context, tx Tx) error {
			u, err := tx.Users().ByID(ctx, in.actor())
			if err != nil {
				return err
			}
			now := in.h.Clock()
			if err := tx.Accounts().EraseContent(ctx, u.ID, now); err != nil {
				return err
			}
			if err := tx.Users().Delete(ctx, u.ID, now); err != nil {
				return err
			}
			return in.publish(ctx, tx, events.UserDeleted{UserID: u.ID, Username: u.Username})
		})
	}
	return in.apply(ctx, func(ctx context.Context, tx Tx) error {
		t, err := in.known(ctx, tx, "note", obj.ID)
		if err != nil {
			return err
		}
		if t.AuthorID != in.actor() {
			return rejected("only the author may delete a note")
		}
		dead, err := t.Tombstone(in.h.Clock())
		if errors.Is(err, domain.ErrGone) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.Thoughts().Update(ctx, dead); err != nil {
			return err
		}
		return in.publish(ctx, tx, events.ThoughtDeleted{ThoughtID: t.ID, UserID: in.actor()})
	})
}

// fetchNote fetches the Note at iri (signed), checks it is what was asked
// for and its author's own, resolves the author and stores it (depth as in
// storeNote). A Note stored meanwhile is returned as it is. Errors that
// asking again will not cure wrap ErrFetchPermanent.
func (h ProcessActivityHandler) fetchNote(ctx context.Context, iri string, depth int) (domain.Thought, error) {
	body, err := h.Objects.FetchObject(ctx, iri)
	if err != nil {
		return domain.Thought{}, fmt.Errorf("fetch %s: %w", iri, err)
	}
	note, err := vocab.ParseObject(body)
	switch {
	case err != nil:
		return domain.Thought{}, fmt.Errorf("%w: %s: %v", ErrFetchPermanent, iri, err)
	case note.ID != iri:
		return domain.Thought{}, fmt.Errorf("%w: fetched %s, got %s", ErrFetchPermanent, iri, note.ID)
	case !slices.Contains(noteTypes, note.Type):
		return domain.Thought{}, fmt.Errorf("%w: %s is a %s", ErrFetchPermanent, iri, note.Type)
	case !vocab.IsHTTPURL(note.AttributedTo) || !vocab.SameHost(note.AttributedTo, note.ID):
		return domain.Thought{}, fmt.Errorf("%w: %s is not attributed to an actor of its host", ErrFetchPermanent, iri)
	}
	author, err := h.Actors.Handle(ctx, ResolveRemoteActor{IRI: note.AttributedTo})
	if err != nil {
		return domain.Thought{}, fmt.Errorf("author of %s: %w", iri, err)
	}
	var t domain.Thought
	err = h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if t, err = tx.Federated().ThoughtByIRI(ctx, iri); !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		if _, err := tx.Users().ByID(ctx, author.UserID); err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return fmt.Errorf("%w: the author of %s is deleted", ErrFetchPermanent, iri)
			}
			return err
		}
		t, err = h.storeNote(ctx, tx, note, author.UserID, depth)
		return err
	})
	return t, err
}

// parentWanted fetches the missing parent of a remote reply (and, through
// the parent's own ParentWanted, its ancestors, up to MaxThreadDepth). A
// parent that cannot be had (gone, refused, not a Note) is given up on: the
// reply keeps its parent's IRI. A failure that may pass is retried.
func (h ProcessActivityHandler) parentWanted(ctx context.Context, ev events.ParentWanted) error {
	var child domain.Thought
	var parent *domain.Thought
	err := h.UoW.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if child, err = tx.Thoughts().ByID(ctx, ev.ThoughtID); err != nil {
			return err
		}
		if child.InReplyToID != nil || child.Remote.InReplyToIRI == "" {
			return nil
		}
		// Stored meanwhile (another reply fetched it): link.
		p, err := h.thoughtByIRI(ctx, tx, child.Remote.InReplyToIRI)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		parent = &p
		if p.Remote.IRI == "" {
			return nil
		}
		_, err = tx.Federated().LinkReplies(ctx, p)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	iri := child.Remote.InReplyToIRI
	if parent != nil || child.InReplyToID != nil || iri == "" || h.IRIs.IsLocal(iri) || ev.Depth >= h.maxDepth() {
		return nil
	}
	_, err = h.fetchNote(ctx, iri, ev.Depth+1)
	if errors.Is(err, ErrFetchPermanent) {
		return nil
	}
	return err
}
