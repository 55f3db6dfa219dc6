package federation_test

import (
	"context"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/thoughts-project/thoughts/adapters/federation"
)

// TestRSAKeyGenerator: a generated pair is RSA-2048, PEM-encoded as PKCS#8 and
// SubjectPublicKeyInfo, and both halves parse back and belong together.
func TestRSAKeyGenerator(t *testing.T) {
	t.Parallel()
	k, err := federation.NewRSAKeyGenerator().Generate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.PrivateKeyPEM, "-----BEGIN PRIVATE KEY-----") || !strings.HasPrefix(k.PublicKeyPEM, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("PEM types: %.40q / %.40q", k.PrivateKeyPEM, k.PublicKeyPEM)
	}
	priv, err := federation.ParsePrivateKey(k.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := federation.ParsePublicKey(k.PublicKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok || rsaPub.N.BitLen() != federation.RSAKeyBits {
		t.Fatalf("public key %T of %d bits", pub, rsaPub.N.BitLen())
	}
	if !rsaPub.Equal(priv.Public()) {
		t.Error("the public key is not the private key's")
	}
}

func TestParsePublicKeyRefusesOtherPEM(t *testing.T) {
	t.Parallel()
	for name, pemText := range map[string]string{
		"empty":       "",
		"not PEM":     "hello",
		"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		if _, err := federation.ParsePublicKey(pemText); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
