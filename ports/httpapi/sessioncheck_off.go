//go:build bench_no_session_check

package httpapi

// sessionCheck is off: this binary was built with the tag
// bench_no_session_check, for bench/social -session-ab only (see
// sessioncheck.go). Revoked sessions are NOT refused.
const sessionCheck = false
