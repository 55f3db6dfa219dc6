package command_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
)

// fakeAPIKeys holds keys and counts the recorded uses.
type fakeAPIKeys struct {
	keys     map[uuid.UUID]domain.APIKey
	touched  map[uuid.UUID]int
	touchErr error
}

func (f *fakeAPIKeys) ByID(_ context.Context, id uuid.UUID) (domain.APIKey, error) {
	k, ok := f.keys[id]
	if !ok {
		return domain.APIKey{}, domain.Errorf(domain.ErrNotFound, "API key not found")
	}
	return k, nil
}

func (f *fakeAPIKeys) Touch(_ context.Context, id uuid.UUID) error {
	if f.touchErr != nil {
		return f.touchErr
	}
	f.touched[id]++
	return nil
}

func TestAuthenticateAPIKey(t *testing.T) {
	t.Parallel()
	owner := uuid.New()
	newKey := func(t *testing.T) (domain.APIKey, string) {
		t.Helper()
		token, id, hash, err := domain.NewAPIKeyToken(uuid.Must(uuid.NewV7()))
		if err != nil {
			t.Fatal(err)
		}
		return domain.APIKey{ID: id, UserID: owner, Name: "cli", SecretHash: hash, CreatedAt: fixedNow}, token
	}
	errDB := errors.New("connection reset")
	cases := []struct {
		name string
		// token returns the token presented, given a stored key and its token.
		token    func(k domain.APIKey, token string) string
		revoked  bool
		stored   bool
		touchErr error
		wantErr  error
	}{
		{"live key", func(_ domain.APIKey, tok string) string { return tok }, false, true, nil, nil},
		{"malformed", func(domain.APIKey, string) string { return "thk_nonsense" }, false, true, nil, domain.ErrUnauthenticated},
		{"unknown key", func(_ domain.APIKey, tok string) string { return tok }, false, false, nil, domain.ErrUnauthenticated},
		{"wrong secret", func(k domain.APIKey, _ string) string {
			other, _, _, _ := domain.NewAPIKeyToken(k.ID)
			return other
		}, false, true, nil, domain.ErrUnauthenticated},
		{"revoked", func(_ domain.APIKey, tok string) string { return tok }, true, true, nil, domain.ErrUnauthenticated},
		{"recording the use fails", func(_ domain.APIKey, tok string) string { return tok }, false, true, errDB, errDB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			k, token := newKey(t)
			if c.revoked {
				at := fixedNow
				k.RevokedAt = &at
			}
			keys := &fakeAPIKeys{keys: map[uuid.UUID]domain.APIKey{}, touched: map[uuid.UUID]int{}, touchErr: c.touchErr}
			if c.stored {
				keys.keys[k.ID] = k
			}
			got, err := command.AuthenticateAPIKeyHandler{Keys: keys}.Handle(context.Background(),
				command.AuthenticateAPIKey{Token: c.token(k, token)})
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || got.ID != uuid.Nil {
					t.Errorf("Handle = %+v, %v; want %v", got, err, c.wantErr)
				}
				if keys.touched[k.ID] != 0 {
					t.Errorf("a refused key's use was recorded")
				}
				return
			}
			if err != nil || got.UserID != owner || got.ID != k.ID {
				t.Fatalf("Handle = %+v, %v; want key %s of %s", got, err, k.ID, owner)
			}
			if keys.touched[k.ID] != 1 {
				t.Errorf("use recorded %d times, want once", keys.touched[k.ID])
			}
		})
	}
}
