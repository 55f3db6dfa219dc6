package federation

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// FuzzVerify feeds the verifier signature headers, digests, dates, bodies
// and targets derived from one genuinely signed inbox POST. Properties: it
// never panics; a refusal is ErrUnsigned or an ErrInvalidSignature; and it
// accepts a request only if everything the signature covers is the signed
// request's own (method, target, body): nobody without the key forges one.
func FuzzVerify(f *testing.F) {
	raw, err := os.ReadFile("testdata/test-key-rsa.key")
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		f.Fatal("testdata/test-key-rsa.key: no PEM")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"type":"Follow","actor":"https://remote.example/users/bob","object":"https://social.example/users/alice"}`)
	out, err := http.NewRequest(http.MethodPost, "https://social.example/users/alice/inbox", bytes.NewReader(body))
	if err != nil {
		f.Fatal(err)
	}
	if err := SignRequest(out, body, keyID, key, signedAt); err != nil {
		f.Fatal(err)
	}
	sig, digest, date := out.Header.Get("Signature"), out.Header.Get("Digest"), out.Header.Get("Date")
	f.Add(http.MethodPost, "/users/alice/inbox", sig, digest, date, "", body)
	f.Add(http.MethodPost, "/users/alice/inbox", sig, digest, date, `sig1=("@method" "@target-uri");created=1764504000;keyid="x"`, body)
	f.Add(http.MethodGet, "/users/alice/inbox?x=1", sig, "", date, "", []byte(nil))
	f.Add(http.MethodPost, "/inbox", `keyId="`+keyID+`",algorithm="hs2019",headers="(request-target) host date digest",signature="AAAA"`, digest, date, "", body)
	f.Add(http.MethodPost, "/users/alice/inbox", `keyId="",headers="",signature=""`, "SHA-256=", "", "", []byte("{}"))

	v := Verifier{Keys: oneKey(keyID, &key.PublicKey), Clock: frozen(signedAt.Add(time.Minute)), PublicURL: "https://social.example"}
	// The seed itself verifies: the property below is about a reachable
	// acceptance, not a verifier that refuses everything.
	seed := httptest.NewRequest(http.MethodPost, "/users/alice/inbox", bytes.NewReader(body))
	seed.Host = "social.example"
	for _, h := range []string{"Signature", "Digest", "Date"} {
		seed.Header.Set(h, out.Header.Get(h))
	}
	if _, err := v.Verify(seed, body); err != nil {
		f.Fatalf("the signed seed does not verify: %v", err)
	}
	f.Fuzz(func(t *testing.T, method, target, signature, digestHeader, dateHeader, signatureInput string, b []byte) {
		if !validMethod(method) || len(target) == 0 || target[0] != '/' {
			return
		}
		var in *http.Request
		func() {
			defer func() {
				if recover() != nil { // httptest.NewRequest panics on a target it cannot parse
					in = nil
				}
			}()
			in = httptest.NewRequest(method, target, bytes.NewReader(b))
		}()
		if in == nil {
			return
		}
		in.Host = "social.example"
		for name, value := range map[string]string{"Signature": signature, "Digest": digestHeader, "Date": dateHeader, "Signature-Input": signatureInput} {
			if value != "" {
				in.Header.Set(name, value)
			}
		}
		got, err := v.Verify(in, b)
		if err != nil {
			if !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("refusal %v is neither ErrUnsigned nor ErrInvalidSignature", err)
			}
			return
		}
		if got.KeyID != keyID || method != http.MethodPost || in.URL.RequestURI() != "/users/alice/inbox" || !bytes.Equal(b, body) {
			t.Fatalf("accepted a request the key never signed: %s %s %q (%+v)", method, target, b, got)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodHead:
		return true
	}
	return false
}
