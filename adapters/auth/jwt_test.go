package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/adapters/auth"
)

const (
	testIssuer = "https://social.example"
	testTTL    = time.Hour
)

var testSecret = []byte("0123456789abcdef0123456789abcdef") // exactly MinSecretLen

func newTestJWT(t *testing.T) *auth.JWT {
	t.Helper()
	j, err := auth.NewJWT(testSecret, testTTL, testIssuer)
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return j
}

// decodeSegment decodes one base64url JSON segment of a compact JWT.
func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment %q is not unpadded base64url: %v", seg, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("segment %s is not a JSON object: %v", raw, err)
	}
	return m
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestJWTIssueThenVerify(t *testing.T) {
	t.Parallel()
	j := newTestJWT(t)
	userID, sessionID := uuid.New(), uuid.New()
	token, _, err := j.Issue(userID, sessionID)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	got, sid, err := j.Verify(token)
	if err != nil {
		t.Fatalf("Verify(issued token): %v", err)
	}
	if got != userID || sid != sessionID {
		t.Errorf("Verify = %s, %s; want %s, %s", got, sid, userID, sessionID)
	}

	// A second signer with the same key and issuer (another process, a
	// restart) accepts it too.
	again := newTestJWT(t)
	if got, _, err := again.Verify(token); err != nil || got != userID {
		t.Errorf("Verify by a second signer = %s, %v; want %s, nil", got, err, userID)
	}
	if _, _, err := j.Issue(userID, uuid.Nil); err == nil {
		t.Error("Issue without a session succeeded")
	}
}

func TestJWTIssuedTokenShape(t *testing.T) {
	t.Parallel()
	j := newTestJWT(t)
	userID := uuid.New()
	sessionID := uuid.New()
	before := time.Now().Truncate(time.Second)
	token, exp, err := j.Issue(userID, sessionID)
	after := time.Now()
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3: %q", len(parts), token)
	}

	header := decodeSegment(t, parts[0])
	if header["alg"] != "HS256" {
		t.Errorf("header alg = %v, want HS256", header["alg"])
	}
	if header["typ"] != "JWT" {
		t.Errorf("header typ = %v, want JWT", header["typ"])
	}

	claims := decodeSegment(t, parts[1])
	if claims["sub"] != userID.String() {
		t.Errorf("sub = %v, want %s", claims["sub"], userID)
	}
	if claims["sid"] != sessionID.String() {
		t.Errorf("sid = %v, want %s", claims["sid"], sessionID)
	}
	if claims["iss"] != testIssuer {
		t.Errorf("iss = %v, want %s", claims["iss"], testIssuer)
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		t.Errorf("jti = %v, want a unique token ID", claims["jti"])
	}
	iatF, ok := claims["iat"].(float64)
	if !ok {
		t.Fatalf("iat = %v, want a NumericDate", claims["iat"])
	}
	expF, ok := claims["exp"].(float64)
	if !ok {
		t.Fatalf("exp = %v, want a NumericDate", claims["exp"])
	}
	iat, expClaim := time.Unix(int64(iatF), 0), time.Unix(int64(expF), 0)
	if iat.Before(before) || iat.After(after) {
		t.Errorf("iat = %v, want between %v and %v", iat, before, after)
	}
	if d := expClaim.Sub(iat); d != testTTL {
		t.Errorf("exp - iat = %v, want the TTL %v", d, testTTL)
	}
	if !exp.Truncate(time.Second).Equal(expClaim) {
		t.Errorf("Issue returned expiry %v, token says %v", exp, expClaim)
	}
	if exp.Location() != time.UTC {
		t.Errorf("Issue returned expiry in %v, want UTC", exp.Location())
	}

	other, _, err := j.Issue(userID, sessionID)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if decodeSegment(t, strings.Split(other, ".")[1])["jti"] == claims["jti"] {
		t.Error("two tokens share a jti")
	}
}

// validClaims are claims Verify accepts; each rejection case breaks one thing.
func validClaims(sub uuid.UUID) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"sub": sub.String(),
		"iss": testIssuer,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"jti": uuid.NewString(),
		"sid": uuid.NewString(),
	}
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign with %s: %v", method.Alg(), err)
	}
	return s
}

func TestJWTVerifyAcceptsForgedValidToken(t *testing.T) {
	t.Parallel()
	// Guards the rejection table below: the same helper and claims with only
	// the intended change must otherwise pass.
	j := newTestJWT(t)
	sub := uuid.New()
	if got, _, err := j.Verify(sign(t, jwt.SigningMethodHS256, validClaims(sub), testSecret)); err != nil || got != sub {
		t.Fatalf("Verify(valid hand-signed token) = %s, %v; want %s, nil", got, err, sub)
	}

	// Clocks drift: 30 s of leeway on exp and iat.
	c := validClaims(sub)
	c["exp"] = time.Now().Add(-5 * time.Second).Unix()
	c["iat"] = time.Now().Add(-time.Hour).Unix()
	if _, _, err := j.Verify(sign(t, jwt.SigningMethodHS256, c, testSecret)); err != nil {
		t.Errorf("Verify(token expired 5s ago) = %v, want accepted within leeway", err)
	}
	c = validClaims(sub)
	c["iat"] = time.Now().Add(5 * time.Second).Unix()
	if _, _, err := j.Verify(sign(t, jwt.SigningMethodHS256, c, testSecret)); err != nil {
		t.Errorf("Verify(token issued 5s in the future) = %v, want accepted within leeway", err)
	}
}

func TestJWTVerifyRejects(t *testing.T) {
	t.Parallel()
	j := newTestJWT(t)
	sub := uuid.New()

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	valid, _, err := j.Issue(sub, uuid.New())
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	validParts := strings.Split(valid, ".")

	without := func(claim string) jwt.MapClaims {
		c := validClaims(sub)
		delete(c, claim)
		return c
	}
	withClaim := func(claim string, v any) jwt.MapClaims {
		c := validClaims(sub)
		c[claim] = v
		return c
	}
	hs256 := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, c, testSecret) }
	noneHeader := func(alg string) string {
		return encodeSegment(t, map[string]string{"alg": alg, "typ": "JWT"})
	}
	claimsSeg := encodeSegment(t, validClaims(sub))
	hmacSig := strings.Split(hs256(validClaims(sub)), ".")[2]

	tests := []struct {
		name  string
		token string
	}{
		{"alg none, empty signature", noneHeader("none") + "." + claimsSeg + "."},
		{"alg None, empty signature", noneHeader("None") + "." + claimsSeg + "."},
		{"alg NONE, empty signature", noneHeader("NONE") + "." + claimsSeg + "."},
		{"alg none, no signature segment", noneHeader("none") + "." + claimsSeg},
		{"alg none signed by the library", sign(t, jwt.SigningMethodNone, validClaims(sub), jwt.UnsafeAllowNoneSignatureType)},
		{"alg none with an HMAC signature of other claims", noneHeader("none") + "." + claimsSeg + "." + hmacSig},
		{"header without alg", encodeSegment(t, map[string]string{"typ": "JWT"}) + "." + claimsSeg + "." + hmacSig},
		{"HS256 header, empty signature", validParts[0] + "." + validParts[1] + "."},
		{"HS512 with the same secret", sign(t, jwt.SigningMethodHS512, validClaims(sub), testSecret)},
		{"HS384 with the same secret", sign(t, jwt.SigningMethodHS384, validClaims(sub), testSecret)},
		{"HS256 with a different secret", sign(t, jwt.SigningMethodHS256, validClaims(sub), []byte("another secret that is 32 bytes!"))},
		{"RS256", sign(t, jwt.SigningMethodRS256, validClaims(sub), rsaKey)},
		{"PS256", sign(t, jwt.SigningMethodPS256, validClaims(sub), rsaKey)},
		{"expired an hour ago", hs256(withClaim("exp", time.Now().Add(-time.Hour).Unix()))},
		{"expired beyond leeway", hs256(withClaim("exp", time.Now().Add(-2*time.Minute).Unix()))},
		{"without exp", hs256(without("exp"))},
		{"exp not a number", hs256(withClaim("exp", "tomorrow"))},
		{"without iat", hs256(without("iat"))},
		{"iat in the future beyond leeway", hs256(withClaim("iat", time.Now().Add(time.Hour).Unix()))},
		{"nbf in the future", hs256(withClaim("nbf", time.Now().Add(time.Hour).Unix()))},
		{"without sub", hs256(without("sub"))},
		{"empty sub", hs256(withClaim("sub", ""))},
		{"non-UUID sub", hs256(withClaim("sub", "bob"))},
		{"numeric sub", hs256(withClaim("sub", 42))},
		{"without iss", hs256(without("iss"))},
		// Tokens issued before sessions existed carry no sid: refused.
		{"without sid", hs256(without("sid"))},
		{"empty sid", hs256(withClaim("sid", ""))},
		{"non-UUID sid", hs256(withClaim("sid", "s1"))},
		{"nil sid", hs256(withClaim("sid", uuid.Nil.String()))},
		{"wrong issuer", hs256(withClaim("iss", "https://evil.example"))},
		{"issuer with trailing slash", hs256(withClaim("iss", testIssuer+"/"))},
		{"tampered payload", validParts[0] + "." + encodeSegment(t, validClaims(uuid.New())) + "." + validParts[2]},
		{"truncated signature", valid[:len(valid)-1]},
		{"signature of another token", validParts[0] + "." + validParts[1] + "." + hmacSig},
		{"extra segment", valid + ".x"},
		{"padded base64", validParts[0] + "=." + validParts[1] + "." + validParts[2]},
		{"empty string", ""},
		{"garbage", "garbage"},
		{"three dots", "..."},
		{"two empty segments", ".."},
		{"not base64", "!!.??.**"},
		{"bearer prefix", "Bearer " + valid},
		{"API key", "thk_0123456789abcdef0123456789abcdef_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, sid, err := j.Verify(tt.token)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Verify(%q) error = %v, want ErrInvalidToken", tt.token, err)
			}
			if got != uuid.Nil || sid != uuid.Nil {
				t.Errorf("Verify(%q) = %s with its error, want uuid.Nil", tt.token, got)
			}
		})
	}
}

func TestJWTOtherIssuerRejects(t *testing.T) {
	t.Parallel()
	// Two instances sharing a secret by mistake still refuse each other's tokens.
	a := newTestJWT(t)
	b, err := auth.NewJWT(testSecret, testTTL, "https://other.example")
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	token, _, err := a.Issue(uuid.New(), uuid.New())
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if _, _, err := b.Verify(token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Verify by another issuer = %v, want ErrInvalidToken", err)
	}
}

func TestNewJWT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		ttl     time.Duration
		wantErr bool
	}{
		{"minimum secret", []byte(strings.Repeat("k", auth.MinSecretLen)), time.Hour, false},
		{"long secret", []byte(strings.Repeat("k", 128)), time.Nanosecond, false},
		{"secret one byte short", []byte(strings.Repeat("k", auth.MinSecretLen-1)), time.Hour, true},
		{"empty secret", []byte{}, time.Hour, true},
		{"nil secret", nil, time.Hour, true},
		{"zero TTL", testSecret, 0, true},
		{"negative TTL", testSecret, -time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j, err := auth.NewJWT(tt.secret, tt.ttl, testIssuer)
			if tt.wantErr {
				if err == nil {
					t.Errorf("NewJWT(%d-byte secret, %v) = %v, nil; want an error", len(tt.secret), tt.ttl, j)
				}
				return
			}
			if err != nil || j == nil {
				t.Errorf("NewJWT(%d-byte secret, %v) = %v, %v; want a signer", len(tt.secret), tt.ttl, j, err)
			}
		})
	}
}
