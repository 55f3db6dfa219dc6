package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ClientConfig tunes the outbound client; zero values take the defaults.
type ClientConfig struct {
	// AllowPrivate lets requests reach loopback, private, link-local and
	// other non-public addresses (FEDERATION_ALLOW_PRIVATE: tests and
	// private networks only).
	AllowPrivate bool
	// UserAgent is sent with every request ("Thoughts/1.2.3 (+PUBLIC_URL)").
	UserAgent string
	// ConnectTimeout bounds connecting (TCP and TLS): default 5 s.
	ConnectTimeout time.Duration
	// Timeout bounds a whole request, redirects and reading the body
	// included: default 30 s.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body: default 1 MiB.
	MaxResponseBytes int64
	// MaxRedirects is how many redirects a request may follow: default 3.
	MaxRedirects int
}

// Client defaults.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxRedirects     = 3
)

// Errors of the outbound client.
var (
	// ErrForbiddenAddress: the host resolved to an address federation may
	// not reach (loopback, private, link-local, multicast…).
	ErrForbiddenAddress = errors.New("address not allowed for federation")
	// ErrResponseTooLarge: the body exceeded MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response body too large")
	// ErrTooManyRedirects: more than MaxRedirects redirects.
	ErrTooManyRedirects = errors.New("too many redirects")
)

// Client is the HTTP client for every request to another server. The
// address check runs when a connection is made, on the address actually
// dialled, so a name that resolves differently later (DNS rebinding) or a
// redirect to an internal host is still refused. No proxy is used: a proxy
// would do the dialling, beyond the check.
type Client struct {
	http      *http.Client
	userAgent string
	maxBody   int64
}

// NewClient builds the client.
func NewClient(cfg ClientConfig) *Client {
	var control func(network, address string, c syscall.RawConn) error
	if !cfg.AllowPrivate {
		control = refusePrivate
	}
	return newClient(cfg, control)
}

// newClient builds the client with control checking every dial.
func newClient(cfg ClientConfig, control func(network, address string, c syscall.RawConn) error) *Client {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Control: control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	maxRedirects := cfg.MaxRedirects
	return &Client{
		userAgent: cfg.UserAgent,
		maxBody:   cfg.MaxResponseBytes,
		http: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				// Only reads follow redirects. Followed, a delivery's POST
				// would come back as a GET without its body after a 301,
				// 302 or 303 (and as a POST whose signature no longer
				// matches its target after a 307 or 308): a 2xx to that GET
				// would count an activity delivered that never was. The
				// 3xx itself is the answer (the delivery is retried).
				if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
					return http.ErrUseLastResponse
				}
				if len(via) > maxRedirects {
					return fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, maxRedirects)
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return fmt.Errorf("redirect to a %s: URL", req.URL.Scheme)
				}
				return nil
			},
		},
	}
}

// Do sends req with the User-Agent set. The response body stops with
// ErrResponseTooLarge past the size limit; a declared Content-Length past it
// is refused at once. The caller closes the body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > c.maxBody {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes declared, at most %d", ErrResponseTooLarge, resp.ContentLength, c.maxBody)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.maxBody}
	return resp, nil
}

// limitedBody reads at most left bytes, then fails rather than truncating
// silently (a cut JSON document must not parse as a shorter one).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), ErrResponseTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// refusePrivate is the dialer's Control: it sees the resolved address.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s (%v)", ErrForbiddenAddress, address, err)
	}
	if !PublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// nonPublic lists special-purpose ranges (RFC 6890 and successors) that the
// netip predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: would reach IPv4 behind it
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ORCHID…)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4
}

// PublicAddress reports whether federation may connect to a: a global
// unicast address outside every private and special-purpose range.
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
func PublicAddress(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Get is a GET of url with accept as the Accept header, bounded by ctx.
func (c *Client) Get(ctx context.Context, url, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return c.Do(req)
}
