package federation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cavage "code.superseriousbusiness.org/httpsig"
)

// Test keys: see testdata/README.md.

func readPEM(t *testing.T, name string) *pem.Block {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", name)
	}
	return block
}

func rsaPrivate(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := x509.ParsePKCS1PrivateKey(readPEM(t, name).Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicKey(t *testing.T, name string) crypto.PublicKey {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keys is a PublicKeyResolver: for each key ID the cached key, and the key a
// refresh finds (the same unless a test rotates it).
type keys struct {
	mu        sync.Mutex
	cached    map[string]crypto.PublicKey
	fresh     map[string]crypto.PublicKey
	refreshes int
}

func (k *keys) PublicKey(_ context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := k.cached
	if refresh {
		k.refreshes++
		if k.fresh != nil {
			m = k.fresh
		}
	}
	if key, ok := m[keyID]; ok {
		return key, nil
	}
	return nil, errors.New("unknown key")
}

func oneKey(id string, key crypto.PublicKey) *keys {
	return &keys{cached: map[string]crypto.PublicKey{id: key}}
}

func frozen(t time.Time) func() time.Time { return func() time.Time { return t } }

// --- draft-cavage-12 appendix C ---

const (
	specBody = `{"hello": "world"}`
	specDate = "Sun, 05 Jan 2014 21:31:40 GMT"
)

// specRequest is the request of draft-cavage-12 appendix C as our server
// receives it.
func specRequest(t *testing.T, signature string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/foo?param=value&pet=dog", strings.NewReader(specBody))
	r.Host = "example.com"
	r.Header.Set("Date", specDate)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=")
	r.Header.Set("Content-Length", "18")
	r.Header.Set("Signature", signature)
	return r
}

// TestCavageAppendixC: the signatures of appendix C.1 (Default: date only),
// C.2 (Basic: (request-target) host date) and C.3 (All Headers) verify with
// the key "Test", and a changed header does not. C.3 is said to be
// inconsistent (its signing string in the draft shows no content-length
// line); its published signature does verify over the request as listed,
// Content-Length: 18 included.
func TestCavageAppendixC(t *testing.T) {
	t.Parallel()
	pub := publicKey(t, "cavage-test.pub")
	vectors := map[string]string{
		"C.1 Default":     `keyId="Test",algorithm="rsa-sha256",signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="`,
		"C.2 Basic":       `keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="`,
		"C.3 All Headers": `keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="`,
	}
	for name, sig := range vectors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := cavageCrypto(specRequest(t, sig), pub); err != nil {
				t.Errorf("vector does not verify: %v", err)
			}
			r := specRequest(t, sig)
			r.Header.Set("Date", "Sun, 05 Jan 2014 21:31:41 GMT")
			if err := cavageCrypto(r, pub); err == nil {
				t.Error("verified with a changed Date")
			}
			// Through the whole verifier: C.1 signs neither the target nor
			// the host, C.2 not the digest of its body, so our policy refuses
			// them; C.3 signs all it must, and its Digest matches the body.
			v := Verifier{Keys: oneKey("Test", pub), Clock: frozen(time.Date(2014, 1, 5, 21, 40, 0, 0, time.UTC))}
			_, err := v.Verify(specRequest(t, sig), []byte(specBody))
			if strings.HasPrefix(name, "C.3") {
				if err != nil {
					t.Errorf("C.3 through the verifier: %v", err)
				}
			} else if !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("policy accepted it: %v", err)
			}
		})
	}
}

// --- our cavage signer and verifier, round trip ---

var (
	signedAt = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	body     = []byte(`{"type":"Follow"}`)
)

const keyID = "https://remote.example/users/bob#main-key"

// signed is a request signed by SignRequest as a remote server would send
// it, turned into what our server receives.
func signed(t *testing.T, key *rsa.PrivateKey, method, target string, b []byte) *http.Request {
	t.Helper()
	out, err := http.NewRequest(method, "https://social.example"+target, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := SignRequest(out, b, keyID, key, signedAt); err != nil {
		t.Fatal(err)
	}
	in := httptest.NewRequest(method, target, bytes.NewReader(b))
	in.Host = "social.example"
	in.Header = out.Header.Clone()
	in.Header.Del("Host")
	return in
}

func TestSignRequestHeaders(t *testing.T) {
	t.Parallel()
	key := rsaPrivate(t, "test-key-rsa.key")
	post := signed(t, key, http.MethodPost, "/users/alice/inbox", []byte(specBody))
	sig, err := parseCavageParams(post.Header.Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	if sig["keyid"] != keyID || sig["algorithm"] != "rsa-sha256" || sig["headers"] != "(request-target) host date digest" {
		t.Errorf("POST signature %v", sig)
	}
	if d := post.Header.Get("Digest"); d != "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=" {
		t.Errorf("Digest %q", d)
	}
	if d := post.Header.Get("Date"); d != "Mon, 30 Nov 2026 12:00:00 GMT" {
		t.Errorf("Date %q", d)
	}
	get := signed(t, key, http.MethodGet, "/users/alice", nil)
	sig, _ = parseCavageParams(get.Header.Get("Signature"))
	if sig["headers"] != "(request-target) host date" || get.Header.Get("Digest") != "" {
		t.Errorf("GET signature %v, Digest %q", sig, get.Header.Get("Digest"))
	}
	if err := SignRequest(httptest.NewRequest(http.MethodGet, "/", nil), nil, keyID, ed25519.NewKeyFromSeed(make([]byte, 32)), signedAt); err == nil {
		t.Error("signed with an Ed25519 key")
	}
}

func TestVerifyCavage(t *testing.T) {
	t.Parallel()
	key := rsaPrivate(t, "test-key-rsa.key")
	other := rsaPrivate(t, "cavage-test.key")
	v := func(k *keys, now time.Time) Verifier { return Verifier{Keys: k, Clock: frozen(now)} }
	good := oneKey(keyID, &key.PublicKey)

	t.Run("signed POST and GET verify", func(t *testing.T) {
		t.Parallel()
		got, err := v(good, signedAt.Add(30*time.Minute)).Verify(signed(t, key, http.MethodPost, "/users/alice/inbox", body), body)
		if err != nil || got.KeyID != keyID || got.Scheme != SchemeCavage {
			t.Errorf("POST: %+v, %v", got, err)
		}
		if _, err := v(good, signedAt.Add(-30*time.Minute)).Verify(signed(t, key, http.MethodGet, "/users/alice?page=true", nil), nil); err != nil {
			t.Errorf("GET with a query: %v", err)
		}
	})

	t.Run("hs2019 and a target without the query verify", func(t *testing.T) {
		t.Parallel()
		// As some servers sign: algorithm hs2019, (request-target) without
		// the query string.
		out, _ := http.NewRequest(http.MethodGet, "https://social.example/users/alice/outbox?page=true", nil)
		out.Header.Set("Host", "social.example")
		out.Header.Set("Date", signedAt.Format(http.TimeFormat))
		s, _, err := cavage.NewSigner([]cavage.Algorithm{cavage.RSA_SHA256}, cavage.DigestSha256, []string{"(request-target)", "host", "date"}, cavage.Signature, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SignRequestWithOptions(key, keyID, out, nil, cavage.SignatureOption{ExcludeQueryStringFromPathPseudoHeader: true}); err != nil {
			t.Fatal(err)
		}
		in := httptest.NewRequest(http.MethodGet, "/users/alice/outbox?page=true", nil)
		in.Host = "social.example"
		in.Header = out.Header.Clone()
		in.Header.Set("Signature", strings.Replace(in.Header.Get("Signature"), `algorithm="rsa-sha256"`, `algorithm="hs2019"`, 1))
		if _, err := v(good, signedAt).Verify(in, nil); err != nil {
			t.Errorf("hs2019 without the query: %v", err)
		}
	})

	rejected := map[string]struct {
		req  func(t *testing.T) *http.Request
		body []byte
		keys *keys
		now  time.Time
	}{
		"tampered body": {
			req:  func(t *testing.T) *http.Request { return signed(t, key, http.MethodPost, "/users/alice/inbox", body) },
			body: []byte(`{"type":"Block"}`), keys: good, now: signedAt,
		},
		"Digest header changed to match a tampered body": {
			req: func(t *testing.T) *http.Request {
				r := signed(t, key, http.MethodPost, "/users/alice/inbox", body)
				sum := sha256.Sum256([]byte(`{"type":"Block"}`))
				r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
				return r
			},
			body: []byte(`{"type":"Block"}`), keys: good, now: signedAt,
		},
		"missing Digest": {
			req: func(t *testing.T) *http.Request {
				r := signed(t, key, http.MethodPost, "/users/alice/inbox", body)
				r.Header.Del("Digest")
				return r
			},
			body: body, keys: good, now: signedAt,
		},
		"POST without a signed digest": {
			req: func(t *testing.T) *http.Request {
				r := signed(t, key, http.MethodGet, "/users/alice/inbox", nil)
				r.Method = http.MethodPost
				return r
			},
			body: body, keys: good, now: signedAt,
		},
		"stale Date": {
			req:  func(t *testing.T) *http.Request { return signed(t, key, http.MethodPost, "/users/alice/inbox", body) },
			body: body, keys: good, now: signedAt.Add(61 * time.Minute),
		},
		"Date in the future": {
			req:  func(t *testing.T) *http.Request { return signed(t, key, http.MethodPost, "/users/alice/inbox", body) },
			body: body, keys: good, now: signedAt.Add(-61 * time.Minute),
		},
		"another path": {
			req: func(t *testing.T) *http.Request {
				r := signed(t, key, http.MethodPost, "/users/alice/inbox", body)
				r.URL.Path = "/inbox"
				return r
			},
			body: body, keys: good, now: signedAt,
		},
		"another host": {
			req: func(t *testing.T) *http.Request {
				r := signed(t, key, http.MethodPost, "/users/alice/inbox", body)
				r.Host = "other.example"
				return r
			},
			body: body, keys: good, now: signedAt,
		},
		"wrong key": {
			req:  func(t *testing.T) *http.Request { return signed(t, other, http.MethodPost, "/users/alice/inbox", body) },
			body: body, keys: good, now: signedAt,
		},
		"unknown key": {
			req:  func(t *testing.T) *http.Request { return signed(t, key, http.MethodPost, "/users/alice/inbox", body) },
			body: body, keys: &keys{}, now: signedAt,
		},
		"algorithm hmac-sha256": {
			req: func(t *testing.T) *http.Request {
				r := signed(t, key, http.MethodGet, "/users/alice", nil)
				r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "rsa-sha256", "hmac-sha256", 1))
				return r
			},
			keys: good, now: signedAt,
		},
		"host not signed": {
			req: func(t *testing.T) *http.Request {
				out, _ := http.NewRequest(http.MethodGet, "https://social.example/users/alice", nil)
				out.Header.Set("Date", signedAt.Format(http.TimeFormat))
				s, _, _ := cavage.NewSigner([]cavage.Algorithm{cavage.RSA_SHA256}, cavage.DigestSha256, []string{"(request-target)", "date"}, cavage.Signature, 0)
				if err := s.SignRequest(key, keyID, out, nil); err != nil {
					t.Fatal(err)
				}
				in := httptest.NewRequest(http.MethodGet, "/users/alice", nil)
				in.Host, in.Header = "social.example", out.Header
				return in
			},
			keys: good, now: signedAt,
		},
	}
	for name, c := range rejected {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, err := v(c.keys, c.now).Verify(c.req(t), c.body); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("accepted (%+v) or wrong error: %v", got, err)
			}
		})
	}

	t.Run("unsigned", func(t *testing.T) {
		t.Parallel()
		if _, err := v(good, signedAt).Verify(httptest.NewRequest(http.MethodGet, "/users/alice", nil), nil); !errors.Is(err, ErrUnsigned) {
			t.Errorf("err = %v, want ErrUnsigned", err)
		}
	})

	t.Run("a rotated key is fetched again once", func(t *testing.T) {
		t.Parallel()
		rotated := &keys{cached: map[string]crypto.PublicKey{keyID: &other.PublicKey}, fresh: map[string]crypto.PublicKey{keyID: &key.PublicKey}}
		if _, err := v(rotated, signedAt).Verify(signed(t, key, http.MethodPost, "/users/alice/inbox", body), body); err != nil {
			t.Errorf("after a refresh: %v", err)
		}
		if rotated.refreshes != 1 {
			t.Errorf("%d refreshes, want 1", rotated.refreshes)
		}
		stale := &keys{cached: map[string]crypto.PublicKey{keyID: &key.PublicKey}}
		if _, err := v(stale, signedAt.Add(2*time.Hour)).Verify(signed(t, key, http.MethodPost, "/users/alice/inbox", body), body); err == nil || stale.refreshes != 0 {
			t.Errorf("a stale date made a refresh (%d) or passed: %v", stale.refreshes, err)
		}
	})
}

func TestParseCavageParams(t *testing.T) {
	t.Parallel()
	p, err := parseCavageParams(`keyId="a,b", algorithm=hs2019 ,headers="(request-target) host",signature="x=="`)
	if err != nil || p["keyid"] != "a,b" || p["algorithm"] != "hs2019" || p["headers"] != "(request-target) host" || p["signature"] != "x==" {
		t.Errorf("%v, %v", p, err)
	}
	for _, bad := range []string{`keyId="a`, `keyId="a"x`, `=a`, `keyId="a",keyId="b"`} {
		if _, err := parseCavageParams(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
