package federation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	cavage "code.superseriousbusiness.org/httpsig"
	"github.com/dunglas/httpsfv"
	rfc9421 "github.com/remitly-oss/httpsig-go"
)

// HTTP signatures: outbound requests are signed the way Mastodon and
// GoToSocial sign and expect (draft-cavage-12, rsa-sha256); inbound requests
// are verified in that scheme or in RFC 9421, which Mastodon accepts since
// 4.5 and Fedify sends first. The libraries compute and check the signature
// itself; everything they leave to the caller is done here: the Digest of a
// body (code.superseriousbusiness.org/httpsig never compares it with the
// body — GHSA-2xf4-24vg-253p), which headers must be signed, the clock, and
// the RFC 9421 target URI and host field (see forRFC9421).

// SignRequest signs req for delivery or fetching as keyID with key (RSA):
// draft-cavage-12 rsa-sha256 over "(request-target) host date", plus
// "digest" with a Digest: SHA-256=… header when body is not nil (a POST). It
// sets the Host, Date and Digest headers. req must not be sent before, and
// body must be exactly what will be sent.
func SignRequest(req *http.Request, body []byte, keyID string, key crypto.PrivateKey, now time.Time) error {
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("sign request: key is %T, want an RSA key", key)
	}
	headers := []string{cavage.RequestTarget, "host", "date"}
	if body != nil {
		headers = append(headers, "digest")
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	// Go sends Host from req.Host or the URL, never from Header; it is set
	// there only for the signing string.
	req.Header.Set("Host", host)
	req.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	req.Header.Del("Digest")
	req.Header.Del("Signature")
	// A signer per request: the library's signers are not safe for
	// concurrent use.
	signer, _, err := cavage.NewSigner([]cavage.Algorithm{cavage.RSA_SHA256}, cavage.DigestSha256, headers, cavage.Signature, 0)
	if err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	if err := signer.SignRequest(key, keyID, req, body); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	// The library always writes algorithm="hs2019". Name the algorithm, as
	// Mastodon does: every server accepts rsa-sha256, not all know hs2019.
	// The parameter is not part of the signed string.
	sig := req.Header.Get("Signature")
	if fixed := strings.Replace(sig, `,algorithm="hs2019",`, `,algorithm="rsa-sha256",`, 1); fixed != sig {
		req.Header.Set("Signature", fixed)
	} else {
		return errors.New("sign request: unexpected Signature header layout")
	}
	return nil
}

// PublicKeyResolver finds the public key a signature names.
type PublicKeyResolver interface {
	// PublicKey returns the key keyID identifies. refresh asks for a fresh
	// copy instead of a cached one: the verifier asks once more with it when
	// a signature fails, since the owner may have rotated the key.
	PublicKey(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error)
}

// Errors of verification. Each rejection wraps ErrInvalidSignature (or is
// ErrUnsigned) with the reason; a port answers both with 401.
var (
	ErrUnsigned         = errors.New("the request is not signed")
	ErrInvalidSignature = errors.New("invalid HTTP signature")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSignature, fmt.Sprintf(format, args...))
}

// Signature schemes a request may be signed with.
const (
	SchemeCavage  = "draft-cavage-12"
	SchemeRFC9421 = "rfc9421"
)

// DefaultMaxSkew is how far a signature's Date or created may be from our
// clock: an hour, as Mastodon allows.
const DefaultMaxSkew = time.Hour

// Verifier checks the signatures of inbound requests.
type Verifier struct {
	Keys PublicKeyResolver
	// PublicURL is this server's base URL. Its scheme is the one senders
	// signed in RFC 9421's @target-uri (a TLS-terminating proxy in front
	// hides it from the request).
	PublicURL string
	// Clock is the time signatures are checked against; nil is time.Now.
	Clock func() time.Time
	// MaxSkew bounds the age (and the future) of a signature; 0 is
	// DefaultMaxSkew.
	MaxSkew time.Duration
}

// Verified says who signed a request.
type Verified struct {
	// KeyID is the key the request was signed with; its owner is the
	// sender, whom the caller must match against the activity's actor.
	KeyID  string
	Scheme string
}

// Verify checks that r (whose body, already read, is body) is signed by the
// key it names, in RFC 9421 when it has a Signature-Input header, else in
// draft-cavage-12:
//   - cavage: algorithm rsa-sha256 or hs2019 (verified as RSA-SHA256),
//     "(request-target)" (with or without the query string), "host" and
//     "date" or "(created)" signed; with a body, "digest" signed and the
//     Digest matching the body;
//   - RFC 9421: keyid and created present, "@method" and "@target-uri"
//     signed, with a body "content-digest" signed and matching, algorithm
//     rsa-v1_5-sha256 or ed25519;
//   - either way the Date or created within MaxSkew of the clock, and an
//     expiry, if any, not passed.
func (v Verifier) Verify(r *http.Request, body []byte) (Verified, error) {
	if len(r.Header.Values("Signature-Input")) > 0 {
		return v.verifyRFC9421(r, body)
	}
	if r.Header.Get("Signature") == "" && !hasPrefixFold(r.Header.Get("Authorization"), "Signature ") {
		return Verified{}, ErrUnsigned
	}
	return v.verifyCavage(r, body)
}

func (v Verifier) now() time.Time {
	if v.Clock != nil {
		return v.Clock()
	}
	return time.Now()
}

func (v Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// checkTime refuses a time further than MaxSkew from now either way.
func (v Verifier) checkTime(what string, t time.Time) error {
	if d := v.now().Sub(t); d > v.maxSkew() || d < -v.maxSkew() {
		return invalid("%s %s is more than %s from now", what, t.UTC().Format(time.RFC3339), v.maxSkew())
	}
	return nil
}

// hasBody: a request that carries content must have it digested.
func hasBody(r *http.Request, body []byte) bool {
	return len(body) > 0 || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
}

// withKey verifies with the cached key, and once more with a fresh one if
// the signature did not verify (the sender may have rotated its key).
func (v Verifier) withKey(ctx context.Context, keyID string, check func(crypto.PublicKey) error) error {
	key, err := v.Keys.PublicKey(ctx, keyID, false)
	if err != nil {
		return invalid("key %q: %v", keyID, err)
	}
	err = check(key)
	if err == nil || !errors.Is(err, errSignatureMismatch) {
		return err
	}
	fresh, ferr := v.Keys.PublicKey(ctx, keyID, true)
	if ferr != nil {
		return invalid("key %q: %v", keyID, ferr)
	}
	return check(fresh)
}

// errSignatureMismatch marks a signature that is well formed but does not
// verify with the key: the one failure a fresh key can cure.
var errSignatureMismatch = fmt.Errorf("%w: the signature does not match", ErrInvalidSignature)

// --- draft-cavage-12 ---

func (v Verifier) verifyCavage(r *http.Request, body []byte) (Verified, error) {
	raw := r.Header.Get("Signature")
	if raw == "" {
		raw = strings.TrimSpace(r.Header.Get("Authorization")[len("Signature "):])
	}
	params, err := parseCavageParams(raw)
	if err != nil {
		return Verified{}, err
	}
	keyID := params["keyid"]
	if keyID == "" || params["signature"] == "" {
		return Verified{}, invalid("keyId and signature are required")
	}
	switch alg := strings.ToLower(params["algorithm"]); alg {
	case "", "rsa-sha256", "hs2019":
	default:
		return Verified{}, invalid("algorithm %q is not rsa-sha256 or hs2019", alg)
	}
	signed := []string{"date"} // the draft's default
	if h, ok := params["headers"]; ok {
		signed = strings.Fields(strings.ToLower(h))
	}
	has := func(h string) bool { return slices.Contains(signed, h) }
	for _, h := range []string{"(request-target)", "host"} {
		if !has(h) {
			return Verified{}, invalid("%s must be signed", h)
		}
	}
	if !has("date") && !has("(created)") {
		return Verified{}, invalid("date or (created) must be signed")
	}
	if has("date") {
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return Verified{}, invalid("the Date header is missing or malformed")
		}
		if err := v.checkTime("Date", d); err != nil {
			return Verified{}, err
		}
	}
	if has("(created)") {
		created, err := strconv.ParseInt(params["created"], 10, 64)
		if err != nil {
			return Verified{}, invalid("created is missing or malformed")
		}
		if err := v.checkTime("created", time.Unix(created, 0)); err != nil {
			return Verified{}, err
		}
	}
	if e, ok := params["expires"]; ok {
		expires, err := strconv.ParseInt(e, 10, 64)
		if err != nil || v.now().After(time.Unix(expires, 0)) {
			return Verified{}, invalid("the signature has expired")
		}
	}
	if hasBody(r, body) {
		if !has("digest") {
			return Verified{}, invalid("digest must be signed for a request with a body")
		}
		if err := checkDigest(r.Header.Values("Digest"), body); err != nil {
			return Verified{}, err
		}
	}
	err = v.withKey(r.Context(), keyID, func(key crypto.PublicKey) error { return cavageCrypto(r, key) })
	if err != nil {
		return Verified{}, err
	}
	return Verified{KeyID: keyID, Scheme: SchemeCavage}, nil
}

// cavageCrypto verifies the signature itself with the library, as
// RSA-SHA256 whatever the algorithm parameter says, over (request-target)
// with the query string and, failing that, without it (some servers sign
// the path alone).
func cavageCrypto(r *http.Request, key crypto.PublicKey) error {
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return invalid("key is %T; draft-cavage signatures are verified as RSA-SHA256", key)
	}
	// The library adds Host to the header it is given: give it a copy.
	c := r.Clone(r.Context())
	ver, err := cavage.NewVerifier(c)
	if err != nil {
		return invalid("%v", err)
	}
	err = ver.VerifyWithOptions(pub, cavage.RSA_SHA256, cavage.SignatureOption{})
	if err != nil && r.URL.RawQuery != "" {
		err = ver.VerifyWithOptions(pub, cavage.RSA_SHA256, cavage.SignatureOption{ExcludeQueryStringFromPathPseudoHeader: true})
	}
	if err != nil {
		return errSignatureMismatch
	}
	return nil
}

// parseCavageParams splits keyId="…",headers="…",… into lowercase names and
// unquoted values. Quoted values may hold commas.
func parseCavageParams(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, invalid("malformed signature parameters")
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimSpace(s[eq+1:])
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, invalid("unterminated quoted value of %s", name)
			}
			val, s = s[1:end+1], s[end+2:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if _, dup := out[name]; dup {
			return nil, invalid("parameter %s repeated", name)
		}
		out[name] = val
		s = strings.TrimSpace(s)
		if s != "" {
			if s[0] != ',' {
				return nil, invalid("malformed signature parameters")
			}
			s = strings.TrimSpace(s[1:])
		}
	}
	return out, nil
}

// checkDigest compares the Digest header (RFC 3230) with the body: it needs
// at least one SHA-256 or SHA-512 entry, and every such entry must match.
func checkDigest(values []string, body []byte) error {
	matched := false
	for _, v := range values {
		for _, entry := range strings.Split(v, ",") {
			alg, b64, ok := strings.Cut(strings.TrimSpace(entry), "=")
			if !ok {
				return invalid("malformed Digest header")
			}
			var sum []byte
			switch strings.ToUpper(alg) {
			case "SHA-256":
				s := sha256.Sum256(body)
				sum = s[:]
			case "SHA-512":
				s := sha512.Sum512(body)
				sum = s[:]
			default:
				continue // an algorithm we do not check (MD5, SHA); another entry must do
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || subtle.ConstantTimeCompare(got, sum) != 1 {
				return invalid("the Digest does not match the body")
			}
			matched = true
		}
	}
	if !matched {
		return invalid("a Digest of SHA-256 or SHA-512 is required")
	}
	return nil
}

// --- RFC 9421 ---

func (v Verifier) verifyRFC9421(r *http.Request, body []byte) (Verified, error) {
	required := []string{"@method", "@target-uri"}
	if hasBody(r, body) {
		required = append(required, "content-digest")
		if len(r.Header.Values("Content-Digest")) == 0 {
			return Verified{}, invalid("a Content-Digest is required for a request with a body")
		}
	}
	label, params, err := chooseRFC9421Signature(r.Header.Values("Signature-Input"), required)
	if err != nil {
		return Verified{}, err
	}
	return v.verifyRFC9421Label(r, body, label, params, required)
}

// rfc9421Params are the metadata of the signature chosen.
type rfc9421Params struct {
	keyID   string
	created int64
	expires *int64
	alg     string
}

// chooseRFC9421Signature picks the first signature covering required; the
// library verifies one label per profile.
func chooseRFC9421Signature(inputs []string, required []string) (string, rfc9421Params, error) {
	dict, err := httpsfv.UnmarshalDictionary(inputs)
	if err != nil {
		return "", rfc9421Params{}, invalid("malformed Signature-Input")
	}
	for _, label := range dict.Names() {
		m, _ := dict.Get(label)
		list, ok := m.(httpsfv.InnerList)
		if !ok {
			continue
		}
		var covered []string
		for _, item := range list.Items {
			if name, ok := item.Value.(string); ok {
				covered = append(covered, name)
			}
		}
		if slices.ContainsFunc(required, func(c string) bool { return !slices.Contains(covered, c) }) {
			continue
		}
		var p rfc9421Params
		if k, ok := list.Params.Get("keyid"); ok {
			p.keyID, _ = k.(string)
		}
		if c, ok := list.Params.Get("created"); ok {
			p.created, _ = c.(int64)
		}
		if e, ok := list.Params.Get("expires"); ok {
			if n, ok := e.(int64); ok {
				p.expires = &n
			}
		}
		if a, ok := list.Params.Get("alg"); ok {
			p.alg, _ = a.(string)
		}
		if p.keyID == "" || p.created == 0 {
			return "", rfc9421Params{}, invalid("signature %s lacks keyid or created", label)
		}
		return label, p, nil
	}
	return "", rfc9421Params{}, invalid("no signature covers %s", strings.Join(required, ", "))
}

// verifyRFC9421Label verifies one chosen signature: our own checks of time
// and algorithm, the library's of the signature, components and digest.
func (v Verifier) verifyRFC9421Label(r *http.Request, body []byte, label string, p rfc9421Params, required []string) (Verified, error) {
	if err := v.checkTime("created", time.Unix(p.created, 0)); err != nil {
		return Verified{}, err
	}
	if p.expires != nil && v.now().After(time.Unix(*p.expires, 0)) {
		return Verified{}, invalid("the signature has expired")
	}
	profile := rfc9421.VerifyProfile{
		SignatureLabel:    label,
		RequiredFields:    rfc9421.Fields(required...),
		RequiredMetadata:  []rfc9421.Metadata{rfc9421.MetaCreated, rfc9421.MetaKeyID},
		AllowedAlgorithms: []rfc9421.Algorithm{rfc9421.Algo_RSA_v1_5_sha256, rfc9421.Algo_ED25519},
		// The library's clock cannot be set; the times were checked above.
		DisableTimeEnforcement: true,
	}
	err := v.withKey(r.Context(), p.keyID, func(key crypto.PublicKey) error {
		algo, err := rfc9421Algorithm(key, p.alg)
		if err != nil {
			return err
		}
		fetch := keyFetcher{rfc9421.KeySpec{KeyID: p.keyID, Algo: algo, PubKey: key}}
		_, err = rfc9421.Verify(v.forRFC9421(r, body), fetch, profile)
		var se *rfc9421.SignatureError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &se) && se.Code == rfc9421.ErrSigVerification:
			return errSignatureMismatch
		}
		return invalid("%v", err)
	})
	if err != nil {
		return Verified{}, err
	}
	return Verified{KeyID: p.keyID, Scheme: SchemeRFC9421}, nil
}

// rfc9421Algorithm is the algorithm for key: the alg parameter if given
// (it must fit the key), else what the key's type implies. RSA keys verify as
// rsa-v1_5-sha256, what Mastodon signs with.
func rfc9421Algorithm(key crypto.PublicKey, alg string) (rfc9421.Algorithm, error) {
	var implied rfc9421.Algorithm
	switch key.(type) {
	case *rsa.PublicKey:
		implied = rfc9421.Algo_RSA_v1_5_sha256
	case ed25519.PublicKey:
		implied = rfc9421.Algo_ED25519
	default:
		return "", invalid("key type %T is not supported", key)
	}
	if alg != "" && rfc9421.Algorithm(alg) != implied {
		return "", invalid("alg %q does not fit the key (%s)", alg, implied)
	}
	return implied, nil
}

// forRFC9421 is r as httpsig-go v1.2.0 needs it to derive the components
// the sender signed. The library builds @target-uri from r.TLS, r.Host,
// URL.RawPath and URL.RawQuery, concatenated: RawPath is empty for most paths
// and the query loses its '?'. So the copy has the scheme of our public URL
// (a proxy may have ended TLS), and RawPath holds the escaped path with the
// query; @path still reads URL.Path. A signature also covering @query of a
// request with a query then fails: refused, never wrongly accepted.
func (v Verifier) forRFC9421(r *http.Request, body []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	// A Go server moves Host out of the header; senders sign it as a field.
	if c.Header.Get("Host") == "" && r.Host != "" {
		c.Header.Set("Host", r.Host)
	}
	c.TLS = nil
	if u, err := url.Parse(v.PublicURL); err == nil && u.Scheme == "https" {
		c.TLS = &tls.ConnectionState{}
	}
	c.URL.RawPath = r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		c.URL.RawPath += "?" + r.URL.RawQuery
		c.URL.RawQuery = ""
	}
	return c
}

// keyFetcher hands the library the key already resolved.
type keyFetcher struct{ spec rfc9421.KeySpec }

func (k keyFetcher) FetchByKeyID(_ context.Context, _ http.Header, keyID string) (rfc9421.KeySpecer, error) {
	if keyID != k.spec.KeyID {
		return nil, fmt.Errorf("unexpected keyid %q", keyID)
	}
	return k.spec, nil
}

func (k keyFetcher) Fetch(context.Context, http.Header, rfc9421.MetadataProvider) (rfc9421.KeySpecer, error) {
	return nil, errors.New("a keyid is required")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
