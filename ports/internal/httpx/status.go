// Package httpx holds HTTP plumbing shared by the inbound ports. It sits
// under ports/internal so that the HTTP API and the metrics middleware can
// share it without importing each other: metrics must not pull in the whole
// API, and the API must not depend on how it is measured.
package httpx

import "net/http"

// StatusRecorder is a ResponseWriter that remembers the status code and
// counts the body bytes a handler writes, for access logs and metrics. Status
// is 0 until the handler writes anything; a Write without WriteHeader is 200,
// as net/http makes it.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
	Bytes  int
}

// WriteHeader records the first status code written (later calls are
// superfluous to net/http too) and passes it on.
func (w *StatusRecorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer, so flushing
// and deadlines still work through the recorder.
func (w *StatusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
