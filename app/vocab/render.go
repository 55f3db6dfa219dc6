package vocab

import (
	"html"
	"strings"
	"time"

	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/query"
)

// Person renders a local user's profile as their actor document; publicKeyPEM
// is their public key.
func (i IRIs) Person(p query.Profile, publicKeyPEM string) Actor {
	id := i.Actor(p.Username)
	published := p.CreatedAt.UTC().Truncate(time.Second)
	return Actor{
		Context:                   Context,
		ID:                        id,
		Type:                      "Person",
		PreferredUsername:         p.Username,
		Name:                      p.DisplayName,
		Summary:                   TextToHTML(p.Bio),
		URL:                       id,
		Inbox:                     i.Inbox(p.Username),
		Outbox:                    i.Outbox(p.Username),
		Followers:                 i.Followers(p.Username),
		Following:                 i.Following(p.Username),
		ManuallyApprovesFollowers: p.Locked,
		Published:                 &published,
		PublicKey:                 PublicKey{ID: i.Key(p.Username), Owner: id, PublicKeyPEM: publicKeyPEM},
		Endpoints:                 &Endpoints{SharedInbox: i.SharedInbox()},
	}
}

// InstanceActorName is the preferredUsername of the instance actor: usernames
// cannot contain dots, so a host name never collides with a user; a host
// without a dot (localhost) could, and then the user wins in WebFinger.
func InstanceActorName(host string) string { return host }

// Instance renders the instance actor: an Application that signs requests
// made for no user in particular (fetching an actor, for example). It has an
// inbox and outbox because Mastodon refuses actors without them.
func (i IRIs) Instance(host, publicKeyPEM string) Actor {
	id := i.InstanceActor()
	return Actor{
		Context:                   Context,
		ID:                        id,
		Type:                      "Application",
		PreferredUsername:         InstanceActorName(host),
		Name:                      host,
		URL:                       i.Base + "/",
		Inbox:                     i.SharedInbox(),
		Outbox:                    id + "/outbox",
		ManuallyApprovesFollowers: true,
		PublicKey:                 PublicKey{ID: i.InstanceKey(), Owner: id, PublicKeyPEM: publicKeyPEM},
		Endpoints:                 &Endpoints{SharedInbox: i.SharedInbox()},
	}
}

// Addressing returns to and cc for a thought of the given visibility by
// author, as Mastodon addresses them: public is to Public and cc followers,
// unlisted the other way round, followers-only to followers alone. mentioned
// actors are added to cc.
func (i IRIs) Addressing(author string, v domain.Visibility, mentioned []string) (to, cc []string) {
	followers := i.Followers(author)
	switch v {
	case domain.VisibilityPublic:
		to, cc = []string{Public}, []string{followers}
	case domain.VisibilityUnlisted:
		to, cc = []string{followers}, []string{Public}
	default:
		to, cc = []string{followers}, []string{}
	}
	return to, append(cc, mentioned...)
}

// Mention is an account a Note mentions: Href its actor ID, Name "@name"
// (local) or "@name@host" (remote).
type Mention struct {
	Href string
	Name string
}

// Note renders a live thought. parentAuthor is the username of the author of
// the thought it replies to ("" for none).
func (i IRIs) Note(v query.ThoughtView, parentAuthor string) Note {
	var parent string
	if v.InReplyToID != nil && parentAuthor != "" {
		parent = i.Thought(parentAuthor, *v.InReplyToID)
	}
	return i.NoteTo(v, parent, nil)
}

// NoteTo renders a live thought replying to parentIRI ("" for none) and
// mentioning, besides the local users its text names, the remote accounts
// remote (resolved by the caller): every mentioned account is in cc and has
// a Mention tag.
func (i IRIs) NoteTo(v query.ThoughtView, parentIRI string, remote []Mention) Note {
	author := v.Author.Username
	id := i.Thought(author, v.ID)
	var tags []Tag
	var mentioned []string
	for _, name := range domain.ParseMentions(v.Content) {
		href := i.Actor(name)
		mentioned = append(mentioned, href)
		tags = append(tags, Tag{Type: "Mention", Href: href, Name: "@" + name})
	}
	for _, m := range remote {
		mentioned = append(mentioned, m.Href)
		tags = append(tags, Tag{Type: "Mention", Href: m.Href, Name: m.Name})
	}
	for _, name := range domain.ParseTags(v.Content) {
		tags = append(tags, Tag{Type: "Hashtag", Href: i.Tag(name), Name: "#" + name})
	}
	if tags == nil {
		tags = []Tag{}
	}
	to, cc := i.Addressing(author, v.Visibility, mentioned)
	n := Note{
		Context:      Context,
		ID:           id,
		Type:         "Note",
		AttributedTo: i.Actor(author),
		Content:      TextToHTML(v.Content),
		MediaType:    "text/html",
		Source:       &Source{Content: v.Content, MediaType: "text/plain"},
		URL:          id,
		Published:    v.CreatedAt.UTC(),
		To:           to,
		Cc:           cc,
		Sensitive:    v.Sensitive || v.ContentWarning != "",
		Tag:          tags,
	}
	if v.ContentWarning != "" {
		cw := v.ContentWarning
		n.Summary = &cw
	}
	if v.EditedAt != nil {
		t := v.EditedAt.UTC()
		n.Updated = &t
	}
	if parentIRI != "" {
		n.InReplyTo = &parentIRI
	}
	return n
}

// CreateNote wraps a rendered Note in its Create activity, addressed as the
// Note is. The embedded Note carries no @context of its own.
func (i IRIs) CreateNote(v query.ThoughtView, n Note) Activity {
	n.Context = nil
	return Activity{
		Context:   Context,
		ID:        i.ThoughtActivity(v.Author.Username, v.ID),
		Type:      "Create",
		Actor:     n.AttributedTo,
		Published: n.Published,
		To:        n.To,
		Cc:        n.Cc,
		Object:    n,
	}
}

// Tombstone renders a deleted thought.
func (i IRIs) Tombstone(v query.ThoughtView) Tombstone {
	t := Tombstone{Context: Context, ID: i.Thought(v.Author.Username, v.ID), Type: "Tombstone", FormerType: "Note"}
	if v.DeletedAt != nil {
		d := v.DeletedAt.UTC()
		t.Deleted = &d
	}
	return t
}

// TextToHTML renders plain text as the HTML ActivityStreams content carries:
// escaped, paragraphs at blank lines, line breaks within them.
func TextToHTML(text string) string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}
