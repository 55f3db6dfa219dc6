package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/domain"
)

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	id, user := uuid.New(), uuid.New()
	tests := []struct {
		name     string
		id, user uuid.UUID
		keyName  string
		scopes   []string
		field    string // "" means valid, unless plainErr
		plainErr bool
		wantName string
		want     []domain.APIKeyScope
	}{
		{"valid", id, user, "my bot", nil, "", false, "my bot", []domain.APIKeyScope{domain.ScopeRead, domain.ScopeWrite}},
		{"name trimmed", id, user, "  my bot \t", nil, "", false, "my bot", []domain.APIKeyScope{domain.ScopeRead, domain.ScopeWrite}},
		{"read only", id, user, "reader", []string{"read"}, "", false, "reader", []domain.APIKeyScope{domain.ScopeRead}},
		{"scopes sorted", id, user, "both", []string{"write", "read"}, "", false, "both", []domain.APIKeyScope{domain.ScopeRead, domain.ScopeWrite}},
		{"no scopes", id, user, "none", []string{}, "scopes", false, "", nil},
		{"unknown scope", id, user, "admin", []string{"admin"}, "scopes", false, "", nil},
		{"scope twice", id, user, "twice", []string{"read", "read"}, "scopes", false, "", nil},
		{"empty name", id, user, "  ", nil, "name", false, "", nil},
		{"control character", id, user, "my\nbot", nil, "name", false, "", nil},
		{"no ID", uuid.Nil, user, "my bot", nil, "", true, "", nil},
		{"no user", id, uuid.Nil, "my bot", nil, "", true, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, token, err := domain.NewAPIKey(tt.id, tt.user, tt.keyName, tt.scopes, now)
			if tt.plainErr {
				if err == nil {
					t.Error("NewAPIKey succeeded, want an error")
				}
			} else {
				wantField(t, err, tt.field)
			}
			if err != nil {
				if key.ID != uuid.Nil || key.SecretHash != nil || token != "" {
					t.Errorf("NewAPIKey returned %+v, %q with its error", key, token)
				}
				return
			}
			if key.ID != id || key.UserID != user || key.Name != tt.wantName || !key.CreatedAt.Equal(now) ||
				key.LastUsedAt != nil || key.RevokedAt != nil || !slices.Equal(key.Scopes, tt.want) {
				t.Errorf("NewAPIKey = %+v", key)
			}
			// The token names the key and proves the secret whose hash is kept.
			gotID, hash, ok := domain.ParseAPIKeyToken(token)
			if !ok || gotID != id || !key.Matches(hash) {
				t.Errorf("token %q: parsed %s, ok %v, matches %v", token, gotID, ok, key.Matches(hash))
			}
		})
	}
}
