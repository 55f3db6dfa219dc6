package activitypub

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/vocab"
)

// MaxInboxBytes bounds a delivery's body (1 MiB: Mastodon's limit too).
const MaxInboxBytes = 1 << 20

// RequestVerifier checks a request's HTTP signature (draft-cavage or RFC
// 9421, its digest and date) and names the key that made it. Any error
// means the request is not trusted.
type RequestVerifier interface {
	Verify(r *http.Request, body []byte) (keyID string, err error)
}

// inbox takes a delivery, to a user's inbox or the shared one. Only signed
// requests are accepted: the signature must verify (with the sender's key,
// fetched again once if it does not, for a rotated key), digest the body,
// be dated within an hour, and be made by the activity's actor. A valid one
// is stored with its event and answered 202; it is applied by the inbox
// handler.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	if name, ok := mux.Vars(r)["username"]; ok {
		if _, err := s.app.Queries.UserProfile.Handle(r.Context(), nil, name); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/activity+json" && mt != "application/ld+json") {
		problem(w, http.StatusUnsupportedMediaType, "the body must be application/activity+json or application/ld+json")
		return
	}
	if r.ContentLength > MaxInboxBytes {
		problem(w, http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInboxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			problem(w, http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB")
			return
		}
		badRequest(w, "the body could not be read")
		return
	}
	if s.verifier == nil {
		problem(w, http.StatusUnauthorized, "signed requests cannot be verified here")
		return
	}
	keyID, err := s.verifier.Verify(r, body)
	if err != nil {
		s.log.InfoContext(r.Context(), "inbox: signature refused", "err", err, "remote_addr", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Signature realm="`+s.public.Host+`",headers="(request-target) host date digest"`)
		// The reason is logged, not told: it may name our own failures.
		problem(w, http.StatusUnauthorized, "the request must carry a valid HTTP signature (draft-cavage or RFC 9421) "+
			"covering the request target, host, date and digest, dated within an hour, by a key its owner publishes")
		return
	}
	// The host signed a valid request (a key is published on its owner's
	// host): it is alive, whatever it sent.
	if host := vocab.Host(keyID); host != "" && s.health != nil {
		if herr := s.health.MarkAlive(r.Context(), host); herr != nil {
			s.log.WarnContext(r.Context(), "inbox: could not mark host alive", "host", host, "err", herr)
		}
	}
	got, err := s.fed.ReceiveActivity.Handle(r.Context(), command.ReceiveActivity{KeyID: keyID, Body: body})
	if errors.Is(err, domain.ErrUnauthenticated) {
		problem(w, http.StatusUnauthorized, err.Error())
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.DebugContext(r.Context(), "inbox: activity received", "inbox_id", got.ID, "duplicate", got.Duplicate, "signer", got.Signer.IRI)
	w.WriteHeader(http.StatusAccepted)
}

// problem answers status with an RFC 9457 body.
func problem(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, "application/problem+json", map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}

// signerHost is the host of the server that signed r, "" if r is not
// signed or its signature does not verify: such a fetch is anonymous.
func (s *Server) signerHost(r *http.Request) string {
	if s.verifier == nil || (r.Header.Get("Signature") == "" && r.Header.Get("Signature-Input") == "") {
		return ""
	}
	keyID, err := s.verifier.Verify(r, nil)
	if err != nil {
		s.log.DebugContext(r.Context(), "signed fetch refused; served as anonymous", "err", err)
		return ""
	}
	a, err := s.fed.RemoteSigner.Handle(r.Context(), keyID, false)
	if err != nil {
		return ""
	}
	return a.Host
}
