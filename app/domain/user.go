package domain

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on user-supplied profile fields.
const (
	MaxUsernameLen    = 30
	MinPasswordLen    = 8
	MaxPasswordLen    = 1024 // bounds hashing work per request
	MaxDisplayNameLen = 100
	MaxBioLen         = 500
	MaxEmailLen       = 254
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9_]{1,30}$`)

// User is an account: a local one, or a remote actor's (Host and ActorIRI
// set; no email, password or key pair of ours).
type User struct {
	ID       uuid.UUID
	Username string
	// Host is "" for a local account, else the remote server's host (lower
	// case, with the port if any); ActorIRI is then the actor's id.
	Host         string
	ActorIRI     string
	Email        string
	PasswordHash string
	DisplayName  string
	Bio          string
	Locked       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewUser validates registration input and returns a user ready to be stored.
// passwordHash is what the caller's hasher made of a password that passed
// ValidatePassword; a user without one could never sign in, so an empty hash
// is a caller's bug (a plain error, not a validation error).
func NewUser(id uuid.UUID, username, email, passwordHash string, now time.Time) (User, error) {
	if err := ValidateUsername(username); err != nil {
		return User{}, err
	}
	if err := validateNewUsername(username); err != nil {
		return User{}, err
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if passwordHash == "" {
		return User{}, errors.New("new user: the password hash is required")
	}
	return User{
		ID:           id,
		Username:     username,
		Email:        email,
		PasswordHash: passwordHash,
		CreatedAt:    now,
		UpdatedAt:    now,
	}, nil
}

// Remote reports whether u is a remote actor's account.
func (u User) Remote() bool { return u.Host != "" }

// Acct is how the account is named to people: username for a local account,
// username@host for a remote one.
func (u User) Acct() string {
	if u.Remote() {
		return u.Username + "@" + u.Host
	}
	return u.Username
}

// ValidateUsername enforces 1–30 characters of [a-z0-9_]. Uniqueness is
// case-insensitive, enforced by storage.
func ValidateUsername(username string) error {
	if username == "" {
		return Invalid("username", "is required")
	}
	if !usernamePattern.MatchString(username) {
		return Invalid("username", "must be 1 to %d characters of lowercase letters, digits and underscore", MaxUsernameLen)
	}
	return nil
}

// validateNewUsername holds the rules for a name being registered, on top of
// ValidateUsername (which also checks names being looked up, so a name
// registered before a rule existed stays reachable): a name must contain a
// letter — "0", "_" or "123" read as IDs or as nothing — and must not be
// reserved.
func validateNewUsername(username string) error {
	if !strings.ContainsFunc(username, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
		return Invalid("username", "must contain at least one letter")
	}
	if ReservedUsername(username) {
		return Invalid("username", "is reserved")
	}
	return nil
}

// ReservedUsername reports whether username may not be registered: names that
// read as the server, its staff or its routes (an "admin" or "support" account
// invites impersonation; "me" or "api" collide with paths clients build).
func ReservedUsername(username string) bool {
	switch username {
	case "admin", "administrator", "root", "system", "sysadmin", "superuser",
		"moderator", "mod", "staff", "support", "help", "security", "abuse", "official",
		"postmaster", "hostmaster", "webmaster", "noreply", "no_reply",
		"me", "self", "you", "all", "everyone", "here", "null", "nil", "undefined", "anonymous",
		"api", "auth", "www", "mail", "inbox", "outbox", "users", "tags", "thoughts", "instance", "well_known":
		return true
	}
	return false
}

// NormalizeEmail validates a bare address (no display name) and lowercases its domain.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", Invalid("email", "is required")
	}
	if len(email) > MaxEmailLen {
		return "", Invalid("email", "must be at most %d characters", MaxEmailLen)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", Invalid("email", "is not a valid address")
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !strings.Contains(email[at+1:], ".") {
		return "", Invalid("email", "is not a valid address")
	}
	return email[:at] + "@" + strings.ToLower(email[at+1:]), nil
}

// ValidatePassword checks the rules for a new password: MinPasswordLen
// characters or more besides control characters (eight NULs are no secret,
// and many tools cut a string at its first NUL, so none is allowed at all),
// at most MaxPasswordLen bytes.
func ValidatePassword(password string) error {
	if len(password) > MaxPasswordLen {
		return Invalid("password", "must be at most %d bytes", MaxPasswordLen)
	}
	if strings.ContainsRune(password, 0) {
		return Invalid("password", "must not contain NUL characters")
	}
	n := 0
	for _, r := range password {
		if !unicode.IsControl(r) {
			n++
		}
	}
	if n < MinPasswordLen {
		return Invalid("password", "must be at least %d characters, not counting control characters", MinPasswordLen)
	}
	return nil
}

// ProfileChange lists the profile fields a user may edit; nil means unchanged.
type ProfileChange struct {
	DisplayName *string
	Bio         *string
	Locked      *bool
}

// Apply validates the whole change, then applies it to u: a refused change
// leaves u as it was.
func (c ProfileChange) Apply(u *User, now time.Time) error {
	name := u.DisplayName
	if c.DisplayName != nil {
		name = strings.TrimSpace(*c.DisplayName)
		if utf8.RuneCountInString(name) > MaxDisplayNameLen {
			return Invalid("display_name", "must be at most %d characters", MaxDisplayNameLen)
		}
		if !utf8.ValidString(name) || hasControl(name) {
			return Invalid("display_name", "must be valid UTF-8 without control characters")
		}
	}
	bio := u.Bio
	if c.Bio != nil {
		bio = *c.Bio
		if utf8.RuneCountInString(bio) > MaxBioLen {
			return Invalid("bio", "must be at most %d characters", MaxBioLen)
		}
		if !utf8.ValidString(bio) || strings.ContainsRune(bio, 0) {
			return Invalid("bio", "must be valid UTF-8 without NUL characters")
		}
	}
	u.DisplayName, u.Bio = name, bio
	if c.Locked != nil {
		u.Locked = *c.Locked
	}
	u.UpdatedAt = now
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
