package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunRejectsBadInvocations: the binary's argument parsing refuses what it
// cannot run before touching any configuration or service.
func TestRunRejectsBadInvocations(t *testing.T) {
	t.Parallel()
	env := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		args []string
		env  func(string) (string, bool)
		want string
	}{
		{nil, env, "no command given"},
		{[]string{"frobnicate"}, env, `unknown command "frobnicate"`},
		{[]string{"serve", "now"}, env, "serve takes no arguments"},
		{[]string{"serve"}, func(k string) (string, bool) {
			if k == "EVENTS_BACKEND" {
				return "kafka", true
			}
			return "", false
		}, "EVENTS_BACKEND"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(tc.args, tc.env, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run([]string{"help"}, env, &stdout, &stderr); err != nil || !strings.Contains(stderr.String(), "usage: thoughts") {
		t.Errorf("help: %v, %q", err, stderr.String())
	}
}
