package auth_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/thoughts-project/thoughts/adapters/auth"
)

// cheapArgon2 keeps tests fast; production strength is covered by
// TestArgon2DefaultParams.
var cheapArgon2 = auth.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newCheapHasher(t *testing.T) *auth.Argon2Hasher {
	t.Helper()
	h, err := auth.NewArgon2Hasher(cheapArgon2)
	if err != nil {
		t.Fatalf("NewArgon2Hasher(%+v): %v", cheapArgon2, err)
	}
	return h
}

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestArgon2HashIsPHCString(t *testing.T) {
	t.Parallel()
	h := newCheapHasher(t)
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	m := phcPattern.FindStringSubmatch(encoded)
	if m == nil {
		t.Fatalf("Hash = %q, want $argon2id$v=19$m=...,t=...,p=...$salt$hash", encoded)
	}
	if got := m[1] + "," + m[2] + "," + m[3]; got != "64,1,1" {
		t.Errorf("m,t,p = %s, want 64,1,1", got)
	}
	salt, err := base64.RawStdEncoding.DecodeString(m[4])
	if err != nil {
		t.Fatalf("salt is not unpadded standard base64: %v", err)
	}
	if len(salt) != cheapArgon2.SaltLen {
		t.Errorf("salt is %d bytes, want %d", len(salt), cheapArgon2.SaltLen)
	}
	key, err := base64.RawStdEncoding.DecodeString(m[5])
	if err != nil {
		t.Fatalf("key is not unpadded standard base64: %v", err)
	}
	if len(key) != int(cheapArgon2.KeyLen) {
		t.Errorf("key is %d bytes, want %d", len(key), cheapArgon2.KeyLen)
	}
	// The key must be Argon2id of the password with the stated salt and
	// parameters, so any other PHC implementation can verify it.
	want := argon2.IDKey([]byte("correct horse battery staple"), salt, 1, 64, 1, cheapArgon2.KeyLen)
	if string(key) != string(want) {
		t.Error("key is not argon2id(password, salt, t=1, m=64, p=1)")
	}
}

func TestArgon2HashesOfSamePasswordDiffer(t *testing.T) {
	t.Parallel()
	h := newCheapHasher(t)
	a, err := h.Hash("same password")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	b, err := h.Hash("same password")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if a == b {
		t.Fatalf("two hashes of the same password are equal (%q): salt is not random", a)
	}
	saltOf := func(s string) string { return strings.Split(s, "$")[4] }
	if saltOf(a) == saltOf(b) {
		t.Errorf("two hashes share the salt %q", saltOf(a))
	}
}

func TestArgon2Verify(t *testing.T) {
	t.Parallel()
	h := newCheapHasher(t)
	const password = "pässwörd with ünicode ✓"
	encoded, err := h.Hash(password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right password", password, true},
		{"wrong password", "password", false},
		{"empty password", "", false},
		{"prefix of the password", password[:len(password)-1], false},
		{"password with trailing space", password + " ", false},
		{"different case", strings.ToUpper(password), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := h.Verify(tt.password, encoded)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("Verify(%q) = %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

// Parameters are read from the stored string, so hashes made with older (or
// newer) costs keep verifying after the configured cost changes.
func TestArgon2VerifyReadsParamsFromHash(t *testing.T) {
	t.Parallel()
	current := newCheapHasher(t)

	other, err := auth.NewArgon2Hasher(auth.Argon2Params{MemoryKiB: 128, Iterations: 3, Parallelism: 2, SaltLen: 24, KeyLen: 16})
	if err != nil {
		t.Fatalf("NewArgon2Hasher: %v", err)
	}
	fromOther, err := other.Hash("hunter22")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !strings.Contains(fromOther, "$m=128,t=3,p=2$") {
		t.Fatalf("Hash = %q, want parameters m=128,t=3,p=2", fromOther)
	}

	// Built by hand, as another implementation would store it.
	salt := []byte("a salt of 16 b..")
	key := argon2.IDKey([]byte("hunter22"), salt, 2, 256, 4, 40)
	handMade := fmt.Sprintf("$argon2id$v=19$m=256,t=2,p=4$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))

	for name, encoded := range map[string]string{"other hasher": fromOther, "hand made": handMade} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ok, err := current.Verify("hunter22", encoded)
			if err != nil || !ok {
				t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
			}
			ok, err = current.Verify("hunter23", encoded)
			if err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestArgon2VerifyMalformed(t *testing.T) {
	t.Parallel()
	h := newCheapHasher(t)
	valid, err := h.Hash("password1")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	parts := strings.Split(valid, "$") // "", "argon2id", "v=19", "m=64,t=1,p=1", salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"only dollars", "$$$$$"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"algorithm argon2i", with(1, "argon2i")},
		{"algorithm argon2d", with(1, "argon2d")},
		{"algorithm upper case", with(1, "ARGON2ID")},
		{"no leading dollar", strings.TrimPrefix(valid, "$")},
		{"missing key", strings.Join(parts[:5], "$")},
		{"missing salt and key", strings.Join(parts[:4], "$")},
		{"missing version", "$" + strings.Join(append([]string{"argon2id"}, parts[3:]...), "$")},
		{"extra part", valid + "$extra"},
		{"version 16", with(2, "v=16")},
		{"version not a number", with(2, "v=x")},
		{"version missing", with(2, "")},
		{"params missing", with(3, "")},
		{"params incomplete", with(3, "m=64,t=1")},
		{"params out of order", with(3, "t=1,m=64,p=1")},
		{"memory zero", with(3, "m=0,t=1,p=1")},
		{"memory negative", with(3, "m=-1,t=1,p=1")},
		{"memory absurd", with(3, "m=99999999,t=1,p=1")},
		{"memory overflows uint32", with(3, "m=4294967296,t=1,p=1")},
		{"iterations zero", with(3, "m=64,t=0,p=1")},
		{"iterations absurd", with(3, "m=64,t=1000000,p=1")},
		{"parallelism zero", with(3, "m=64,t=1,p=0")},
		{"parallelism overflows uint8", with(3, "m=64,t=1,p=256")},
		{"salt bad base64", with(4, "!!!not-base64!!!")},
		{"salt padded base64", with(4, parts[4]+"==")},
		{"key bad base64", with(5, "*invalid*")},
		{"key url-safe base64", with(5, strings.NewReplacer("+", "-", "/", "_").Replace(parts[5])+"-_")},
		{"key empty", with(5, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Verify(%q) panicked: %v", tt.encoded, r)
				}
			}()
			ok, err := h.Verify("password1", tt.encoded)
			if !errors.Is(err, auth.ErrMalformedHash) {
				t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", tt.encoded, err)
			}
			if ok {
				t.Errorf("Verify(%q) = true for a malformed hash", tt.encoded)
			}
		})
	}
}

func TestNewArgon2HasherRejectsWeakParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*auth.Argon2Params)
	}{
		{"zero value", func(p *auth.Argon2Params) { *p = auth.Argon2Params{} }},
		{"no memory", func(p *auth.Argon2Params) { p.MemoryKiB = 0 }},
		{"memory below 8 KiB per lane", func(p *auth.Argon2Params) { p.MemoryKiB, p.Parallelism = 15, 2 }},
		{"no iterations", func(p *auth.Argon2Params) { p.Iterations = 0 }},
		{"no parallelism", func(p *auth.Argon2Params) { p.Parallelism = 0 }},
		{"short salt", func(p *auth.Argon2Params) { p.SaltLen = 8 }},
		{"no salt", func(p *auth.Argon2Params) { p.SaltLen = 0 }},
		{"short key", func(p *auth.Argon2Params) { p.KeyLen = 8 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := cheapArgon2
			tt.modify(&p)
			h, err := auth.NewArgon2Hasher(p)
			if err == nil {
				t.Errorf("NewArgon2Hasher(%+v) = %v, nil; want an error", p, h)
			}
			if h != nil {
				t.Errorf("NewArgon2Hasher(%+v) returned a hasher with its error", p)
			}
		})
	}

	t.Run("minimums accepted", func(t *testing.T) {
		t.Parallel()
		p := auth.Argon2Params{MemoryKiB: 8, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 16}
		if _, err := auth.NewArgon2Hasher(p); err != nil {
			t.Errorf("NewArgon2Hasher(%+v): %v", p, err)
		}
	})
}

func TestArgon2DefaultParams(t *testing.T) {
	t.Parallel()
	h, err := auth.NewArgon2Hasher(auth.DefaultArgon2Params)
	if err != nil {
		t.Fatalf("NewArgon2Hasher(DefaultArgon2Params): %v", err)
	}
	encoded, err := h.Hash("a real password")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want OWASP parameters m=19456,t=2,p=1", encoded)
	}
	if ok, err := h.Verify("a real password", encoded); err != nil || !ok {
		t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := h.Verify("a wrong password", encoded); err != nil || ok {
		t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
	}
}

// An unknown user's login must cost what a wrong password costs, or the time
// of the answer tells which accounts exist. So VerifyDummy runs exactly the
// Argon2id computation Verify runs for a wrong password against one of the
// hasher's own hashes: one call, same time, memory, lanes and key length.
// Counted through the hasher's KDF, not timed: timings on a shared machine
// are noise.
func TestArgon2VerifyDummy(t *testing.T) {
	t.Parallel()
	// Every parameter differs from the defaults and from each other.
	params := auth.Argon2Params{MemoryKiB: 96, Iterations: 3, Parallelism: 2, SaltLen: 16, KeyLen: 24}
	h, err := auth.NewArgon2Hasher(params)
	if err != nil {
		t.Fatalf("NewArgon2Hasher(%+v): %v", params, err)
	}
	stored, err := h.Hash("the right password")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	var calls []auth.KDFCall
	auth.RecordKDF(h, func(c auth.KDFCall) { calls = append(calls, c) })

	if ok, err := h.Verify("a wrong password", stored); err != nil || ok {
		t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
	}
	want := auth.KDFCall{Time: 3, MemoryKiB: 96, Threads: 2, KeyLen: 24}
	if len(calls) != 1 || calls[0] != want {
		t.Fatalf("a wrong password ran Argon2id %+v, want once with %+v", calls, want)
	}
	for _, pw := range []string{"", "a wrong password", strings.Repeat("x", 1024)} {
		calls = nil
		if err := h.VerifyDummy(pw); err != nil {
			t.Errorf("VerifyDummy(%d bytes) = %v", len(pw), err)
		}
		if len(calls) != 1 || calls[0] != want {
			t.Errorf("VerifyDummy(%d bytes) ran Argon2id %+v; a wrong password runs it once with %+v", len(pw), calls, want)
		}
	}
}
