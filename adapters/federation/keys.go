// Package federation holds the ActivityPub adapters: actor key generation and
// parsing, HTTP signatures (draft-cavage-12 and RFC 9421), and the outbound
// HTTP client that refuses private addresses.
package federation

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"runtime"

	"github.com/thoughts-project/thoughts/app/domain"
)

// RSAKeyBits is the size of the keys actors get: what Mastodon and GoToSocial
// use, and what every server verifies.
const RSAKeyBits = 2048

// RSAKeyGenerator makes RSA-2048 key pairs. It runs at most a few generations
// at once (each is tens to hundreds of milliseconds of CPU), so a burst of
// first uses or a backfill cannot take every core from the API.
type RSAKeyGenerator struct {
	slots chan struct{}
	bits  int
}

// NewRSAKeyGenerator returns a generator running at most max(1, GOMAXPROCS/2)
// generations at once.
func NewRSAKeyGenerator() *RSAKeyGenerator {
	return &RSAKeyGenerator{slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)), bits: RSAKeyBits}
}

// Generate makes a key pair, waiting for a free slot or ctx.
func (g *RSAKeyGenerator) Generate(ctx context.Context) (domain.KeyPair, error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return domain.KeyPair{}, ctx.Err()
	}
	defer func() { <-g.slots }()
	key, err := rsa.GenerateKey(rand.Reader, g.bits)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("generate RSA key: %w", err)
	}
	return EncodeKeyPair(key)
}

// EncodeKeyPair encodes a private key and its public key as PEM: PKCS#8 and
// SubjectPublicKeyInfo.
func EncodeKeyPair(key crypto.Signer) (domain.KeyPair, error) {
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("encode private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return domain.KeyPair{}, fmt.Errorf("encode public key: %w", err)
	}
	return domain.KeyPair{
		PublicKeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})),
	}, nil
}

// ParsePrivateKey decodes a PEM private key: PKCS#8 ("PRIVATE KEY", what we
// store) or PKCS#1 ("RSA PRIVATE KEY").
func ParsePrivateKey(pemText string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("private key: no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("private key: %T cannot sign", k)
		}
		return s, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("private key: unexpected PEM type %q", block.Type)
}

// ParsePublicKey decodes a PEM public key as remote actors publish it:
// SubjectPublicKeyInfo ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY", which some
// older servers send). Only RSA and Ed25519 keys are accepted.
func ParsePublicKey(pemText string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("public key: no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("public key: unexpected PEM type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("public key: RSA key of %d bits is too weak", k.N.BitLen())
		}
		return k, nil
	case ed25519.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("public key: unsupported key type %T", key)
}
