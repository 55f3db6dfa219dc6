//go:build !bench_no_session_check

package httpapi

// sessionCheck says whether authenticate checks that a verified access
// token's session is still live (the session cache, and the database on a
// miss). It is always true in a normal build.
//
// The build tag bench_no_session_check turns it off (sessioncheck_off.go):
// such a binary trusts a verified JWT alone, so a revoked session, a signed
// out client or a deleted account keeps working until the token expires. It
// exists only so that bench/social -session-ab can measure what the check
// costs, same code against same code; it must never be deployed, and it
// logs a warning when the API is built (New).
const sessionCheck = true
