package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/thoughts-project/thoughts/app/command"
)

// Fetching objects for the inbox: Notes named by a reply or a boost, and
// keys whose id does not name their owner. Each is a signed GET (by the
// instance actor), limited per host so that a long thread or a burst of
// boosts cannot turn us into a crawler of one server.

// ErrRateLimited: the host's fetch budget is spent for now; asking later
// works (the inbox handler's retries do).
var ErrRateLimited = errors.New("fetches to this host are rate-limited")

// HostLimits bound the fetches to one host.
type HostLimits struct {
	// PerSecond is the sustained rate, Burst how many may go at once.
	PerSecond float64
	Burst     int
}

// DefaultHostLimits: a thread of 20 parents fetches at once, then one a
// second.
var DefaultHostLimits = HostLimits{PerSecond: 1, Burst: 20}

// ObjectFetcher fetches remote objects through a Fetcher, limited per host.
type ObjectFetcher struct {
	Fetcher *Fetcher
	Limits  HostLimits

	mu    sync.Mutex
	hosts map[string]*rate.Limiter
}

// maxLimitedHosts bounds the limiter table: past it, idle limiters (full
// buckets) are dropped, which is the same as having none.
const maxLimitedHosts = 10000

func (o *ObjectFetcher) allow(host string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hosts == nil {
		o.hosts = map[string]*rate.Limiter{}
	}
	l, ok := o.hosts[host]
	if !ok {
		if len(o.hosts) >= maxLimitedHosts {
			now := time.Now()
			for h, l := range o.hosts {
				if l.TokensAt(now) >= float64(l.Burst()) {
					delete(o.hosts, h)
				}
			}
		}
		limits := o.Limits
		if limits.PerSecond <= 0 || limits.Burst <= 0 {
			limits = DefaultHostLimits
		}
		l = rate.NewLimiter(rate.Limit(limits.PerSecond), limits.Burst)
		o.hosts[host] = l
	}
	return l.Allow()
}

var _ command.ObjectFetcher = (*ObjectFetcher)(nil)
var _ command.KeyOwnerFetcher = (*ObjectFetcher)(nil)

// FetchObject GETs iri, signed, as an ActivityStreams document. A 404, 410,
// 401 or 403, a response of another type, or an IRI that is not http(s)
// wrap command.ErrFetchPermanent.
func (o *ObjectFetcher) FetchObject(ctx context.Context, iri string) ([]byte, error) {
	u, err := url.Parse(iri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", command.ErrFetchPermanent, iri)
	}
	if !o.allow(strings.ToLower(u.Host)) {
		return nil, fmt.Errorf("GET %s: %w", iri, ErrRateLimited)
	}
	body, err := o.Fetcher.get(ctx, iri, acceptActivity, true, "application/activity+json", "application/ld+json")
	var st *statusError
	switch {
	case err == nil:
		return body, nil
	case errors.As(err, &st) && st.permanent():
		return nil, fmt.Errorf("%w: %w", command.ErrFetchPermanent, err)
	case errors.Is(err, ErrForbiddenAddress), errors.Is(err, errContentType), errors.Is(err, ErrResponseTooLarge):
		return nil, fmt.Errorf("%w: %w", command.ErrFetchPermanent, err)
	}
	return nil, err
}

// FetchKeyOwner GETs a key by its id and returns its owner: the document is
// the key ({id, owner, publicKeyPem}) or an actor publishing it (GoToSocial
// serves a stub of the actor at …/main-key).
func (o *ObjectFetcher) FetchKeyOwner(ctx context.Context, keyID string) (string, error) {
	body, err := o.FetchObject(ctx, keyID)
	if err != nil {
		return "", err
	}
	var doc struct {
		ID        string          `json:"id"`
		Owner     string          `json:"owner"`
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("%w: key %s: %v", command.ErrFetchPermanent, keyID, err)
	}
	if doc.Owner != "" && doc.ID == keyID {
		return doc.Owner, nil
	}
	var keys []remoteKey
	if json.Unmarshal(doc.PublicKey, &keys) != nil {
		var one remoteKey
		if json.Unmarshal(doc.PublicKey, &one) == nil {
			keys = []remoteKey{one}
		}
	}
	for _, k := range keys {
		if k.ID == keyID && k.Owner != "" {
			return k.Owner, nil
		}
	}
	return "", fmt.Errorf("%w: the document at %s names no owner of the key", command.ErrFetchPermanent, keyID)
}
