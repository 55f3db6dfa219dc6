package activitypub

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON encodes doc whole before writing, so an encoding failure is a
// clean 500 rather than half a document, and Content-Length is exact.
func writeJSON(w http.ResponseWriter, status int, contentType string, doc any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // content is HTML already escaped; keep it readable
	if err := enc.Encode(doc); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
