package federation

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// RFC 9421 appendix B.2.6: ed25519 over the test request, deterministic.
func TestRFC9421AppendixB26(t *testing.T) {
	t.Parallel()
	pub := publicKey(t, "test-key-ed25519.pub")
	b := []byte(`{"hello": "world"}`)
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/foo?param=Value&Pet=dog", strings.NewReader(string(b)))
		r.Host = "example.com"
		r.Header.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
		r.Header.Set("Content-Length", "18")
		r.Header.Set("Signature-Input", `sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`)
		r.Header.Set("Signature", `sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
		return r
	}
	v := Verifier{Keys: oneKey("test-key-ed25519", pub), PublicURL: "https://example.com", Clock: frozen(time.Unix(1618884473, 0).Add(time.Minute))}
	components := []string{"date", "@method", "@path", "@authority", "content-type", "content-length"}
	label, params, err := chooseRFC9421Signature(req().Header.Values("Signature-Input"), components)
	if err != nil || label != "sig-b26" {
		t.Fatalf("choose: %q %v", label, err)
	}
	if _, err := v.verifyRFC9421Label(req(), b, label, params, components); err != nil {
		t.Errorf("B.2.6 does not verify: %v", err)
	}
	r := req()
	r.Header.Set("Content-Type", "text/plain")
	if _, err := v.verifyRFC9421Label(r, b, label, params, components); err == nil {
		t.Error("verified with a changed Content-Type")
	}
	// Our policy wants @target-uri and content-digest signed: B.2.6 signs
	// neither.
	if _, err := v.Verify(req(), b); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("policy accepted B.2.6: %v", err)
	}
}

// Golden rsa-v1_5-sha256 vectors, made with RFC 9421's test-key-rsa (PKCS#1
// v1.5 is deterministic): the signature bases below, written out by hand
// from RFC 9421 §2, signed once. TestRFC9421GoldenBases proves each
// signature is that of its base.
var rsaGolden = []struct {
	name, method, target, body string
	header                     map[string]string
	base, signature            string
}{
	{
		name: "POST to an inbox, as Fedify signs", method: http.MethodPost, target: "/users/alice/inbox", body: `{"hello": "world"}`,
		header: map[string]string{
			"Date":            "Tue, 20 Apr 2021 02:07:55 GMT",
			"Content-Type":    "application/activity+json",
			"Content-Digest":  "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
			"Signature-Input": `sig1=("@method" "@target-uri" "@authority" "host" "date" "content-digest");alg="rsa-v1_5-sha256";keyid="test-key-rsa";created=1618884473`,
		},
		base: `"@method": POST
"@target-uri": https://example.com/users/alice/inbox
"@authority": example.com
"host": example.com
"date": Tue, 20 Apr 2021 02:07:55 GMT
"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
"@signature-params": ("@method" "@target-uri" "@authority" "host" "date" "content-digest");alg="rsa-v1_5-sha256";keyid="test-key-rsa";created=1618884473`,
		signature: "U+fbnvz6BnEJinZUVMQO1oyULtqW/gzN0V4BiI6fwrlOt5TcNpfBrAv86Qxg+btNOpe6TMFIyZC9NKNnFlUgqNN2ndb33Nk43EIuHR5GSL5RqXJlKXy4Sti0phRZFUzZDZi0ohTi3ukgao4FuwmR0/e4Nd+tAorR4MIS+U8E9A0UwHidX0kjcnFcYNSCpTMsmHwARbQirH8L9sdOzHBIq0+D2Ofoez78pCeOg1TGPegKSMwIgVYR/jhlFxKDC/7+YbJ57XGlaivA3fGGdr5sdtY/Eu4p175z7yajlqg9xX+QZnUHzQYqjf9o/1t0feFcCdAUfsUN7welzpIS0dR88Q==",
	},
	{
		name: "GET with a query, no alg", method: http.MethodGet, target: "/users/alice/outbox?page=true",
		header: map[string]string{
			"Signature-Input": `sig1=("@method" "@target-uri");created=1618884473;keyid="test-key-rsa"`,
		},
		base: `"@method": GET
"@target-uri": https://example.com/users/alice/outbox?page=true
"@signature-params": ("@method" "@target-uri");created=1618884473;keyid="test-key-rsa"`,
		signature: "KWvqX96Z3xnoZhbUj3IY7vFLKGHuK9Zuhb3ZXlpdLvbcaDZ5sxtNCHCy6N5PV3Yj7Evj402y77GHWd5M4qDJ3GnBqhVgtX97Y1XL8XLtaJccjB+X72ZEUFrI1NzznJFecFuZxusbxoB0u7K51hNtlV5MpsAZxMeMZ6NV197W9hQgKO5ussoNRK8MXpyMnLCK8GvaBByoCvmjEqYZ7OSevvgi6TJQPSgHGok8ag14mtcB6J1gjPQY8zgfSce7gCgG4vilMlAxOCq6Rq2pXrXqHftbU3rxVETCzmyEWW20E9rOoec5x6kPndsB+0urm/WzXYvWSc573jQ/FN2+eeFhBQ==",
	},
}

func TestRFC9421GoldenBases(t *testing.T) {
	t.Parallel()
	key := rsaPrivate(t, "test-key-rsa.key")
	for _, g := range rsaGolden {
		sum := sha256.Sum256([]byte(g.base))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		if got := base64.StdEncoding.EncodeToString(sig); got != g.signature {
			t.Errorf("%s: the golden signature is not that of its base", g.name)
		}
	}
}

// goldenRequest is a golden vector as our server receives it: plain HTTP
// (TLS ended by a proxy), PUBLIC_URL https://example.com.
func goldenRequest(g struct {
	name, method, target, body string
	header                     map[string]string
	base, signature            string
}) *http.Request {
	r := httptest.NewRequest(g.method, g.target, strings.NewReader(g.body))
	r.Host = "example.com"
	for k, v := range g.header {
		r.Header.Set(k, v)
	}
	r.Header.Set("Signature", "sig1=:"+g.signature+":")
	return r
}

func TestRFC9421GoldenRSA(t *testing.T) {
	t.Parallel()
	pub := publicKey(t, "test-key-rsa.pub")
	created := time.Unix(1618884473, 0)
	verifier := func(now time.Time) Verifier {
		return Verifier{Keys: oneKey("test-key-rsa", pub), PublicURL: "https://example.com", Clock: frozen(now)}
	}
	for _, g := range rsaGolden {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			got, err := verifier(created.Add(10*time.Second)).Verify(goldenRequest(g), []byte(g.body))
			if err != nil || got.KeyID != "test-key-rsa" || got.Scheme != SchemeRFC9421 {
				t.Fatalf("golden vector: %+v, %v", got, err)
			}
			if _, err := verifier(created.Add(61*time.Minute)).Verify(goldenRequest(g), []byte(g.body)); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("stale created accepted: %v", err)
			}
			http := Verifier{Keys: oneKey("test-key-rsa", pub), PublicURL: "http://example.com", Clock: frozen(created)}
			if _, err := http.Verify(goldenRequest(g), []byte(g.body)); err == nil {
				t.Error("verified against another scheme in @target-uri")
			}
			r := goldenRequest(g)
			r.URL.Path += "x"
			if _, err := verifier(created).Verify(r, []byte(g.body)); err == nil {
				t.Error("verified for another target")
			}
		})
	}

	post := rsaGolden[0]
	rejected := map[string]func(r *http.Request) []byte{
		"tampered body": func(*http.Request) []byte { return []byte(`{"hello": "World"}`) },
		"missing Content-Digest": func(r *http.Request) []byte {
			r.Header.Del("Content-Digest")
			return []byte(post.body)
		},
		"content-digest not signed": func(r *http.Request) []byte {
			r.Header.Set("Signature-Input", strings.Replace(post.header["Signature-Input"], ` "content-digest"`, "", 1))
			return []byte(post.body)
		},
		"alg that does not fit the key": func(r *http.Request) []byte {
			r.Header.Set("Signature-Input", strings.Replace(post.header["Signature-Input"], "rsa-v1_5-sha256", "ed25519", 1))
			return []byte(post.body)
		},
		"no created": func(r *http.Request) []byte {
			r.Header.Set("Signature-Input", strings.Replace(post.header["Signature-Input"], ";created=1618884473", "", 1))
			return []byte(post.body)
		},
	}
	for name, mutate := range rejected {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := goldenRequest(post)
			b := mutate(r)
			if _, err := verifier(created).Verify(r, b); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("accepted or wrong error: %v", err)
			}
		})
	}
}
