// Package auth implements password hashing (Argon2id) and access tokens (JWT,
// HS256 pinned).
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the Argon2id cost parameters.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     int
	KeyLen      uint32
}

// DefaultArgon2Params follow OWASP's recommendation for Argon2id (19 MiB, 2
// iterations, 1 lane).
var DefaultArgon2Params = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Argon2Hasher hashes passwords with Argon2id into PHC strings:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. Verification reads the
// parameters from the stored string, so raising the cost later keeps old hashes
// valid.
//
// Every hash and verification passes through a WorkGate, so only a bounded
// number run at once; past it they fail with ErrBusy.
type Argon2Hasher struct {
	params Argon2Params
	dummy  string
	// idKey is argon2.IDKey; tests observe the computations through it.
	idKey func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	gate  *WorkGate
}

// NewArgon2Hasher returns a hasher with the given parameters, gated by
// DefaultWorkLimits(p, DefaultArgon2MemoryBudget).
func NewArgon2Hasher(p Argon2Params) (*Argon2Hasher, error) {
	return NewGatedArgon2Hasher(p, NewWorkGate(DefaultWorkLimits(p, DefaultArgon2MemoryBudget)))
}

// NewGatedArgon2Hasher returns a hasher with the given parameters whose work
// passes through gate.
func NewGatedArgon2Hasher(p Argon2Params, gate *WorkGate) (*Argon2Hasher, error) {
	if p.MemoryKiB < 8*uint32(p.Parallelism) || p.Iterations < 1 || p.Parallelism < 1 || p.SaltLen < 16 || p.KeyLen < 16 ||
		p.MemoryKiB > maxMemoryKiB || p.Iterations > maxIterations {
		return nil, fmt.Errorf("argon2 parameters too weak: %+v", p)
	}
	h := &Argon2Hasher{params: p, idKey: argon2.IDKey}
	dummy, err := h.hash("dummy password for timing equalisation")
	if err != nil {
		return nil, err
	}
	h.dummy, h.gate = dummy, gate
	return h, nil
}

// Hash returns the PHC string of password with a fresh random salt, or
// ErrBusy.
func (h *Argon2Hasher) Hash(password string) (string, error) {
	release, err := h.gate.Enter()
	if err != nil {
		return "", err
	}
	defer release()
	return h.hash(password)
}

func (h *Argon2Hasher) hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := h.idKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, h.params.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMalformedHash: the stored string is not an Argon2id PHC string we accept.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// Upper bounds on parameters, for stored hashes (a tampered row must not
// exhaust memory or CPU) and for configuration alike.
const (
	maxMemoryKiB  = 1 << 20
	maxIterations = 64
)

// Verify reports whether password matches encoded, comparing in constant
// time, or fails with ErrBusy.
func (h *Argon2Hasher) Verify(password, encoded string) (bool, error) {
	release, err := h.gate.Enter()
	if err != nil {
		return false, err
	}
	defer release()
	return h.verify(password, encoded)
}

func (h *Argon2Hasher) verify(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	var m, t uint32
	var p uint8
	_, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p)
	if err != nil || parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) || m == 0 || m > maxMemoryKiB || t == 0 || t > maxIterations || p == 0 {
		return false, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	got := h.idKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the work of one verification and discards the result;
// it is gated like Verify (and fails alike with ErrBusy), so an unknown login
// is refused under load exactly as a known one is.
func (h *Argon2Hasher) VerifyDummy(password string) error {
	_, err := h.Verify(password, h.dummy)
	if errors.Is(err, ErrBusy) {
		return err
	}
	return nil
}
