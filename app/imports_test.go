package app_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Infrastructure libraries the application must not depend on: adapters and
// ports implement the interfaces app declares instead (imports point inward).
var bannedLibraries = []string{
	"github.com/jackc/pgx",
	"github.com/ThreeDotsLabs/watermill",
	"github.com/gorilla/mux",
	"github.com/golang-jwt",
	"github.com/nats-io",
}

// nonStdDeps lists the packages matched by patterns and everything they
// import, transitively, leaving out the standard library. Patterns are
// resolved relative to dir. Test files are not included: the rule is about
// what the application is built from.
func nonStdDeps(t *testing.T, dir string, patterns ...string) []string {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go %s (in %s) listed nothing, not even the packages themselves", strings.Join(args, " "), dir)
	}
	return deps
}

// bannedDeps returns the deps that are (or are inside) a banned library.
func bannedDeps(deps []string) []string {
	var bad []string
	for _, d := range deps {
		for _, lib := range bannedLibraries {
			if strings.HasPrefix(d, lib) {
				bad = append(bad, d)
				break
			}
		}
	}
	return bad
}

// depsOutside returns the deps not in allowed.
func depsOutside(deps, allowed []string) []string {
	var bad []string
	for _, d := range deps {
		if !slices.Contains(allowed, d) {
			bad = append(bad, d)
		}
	}
	return bad
}

// modulePath is the import path of the module holding the app directory.
func modulePath(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list .: %v", err)
	}
	app := strings.TrimSpace(string(out))
	mod, ok := strings.CutSuffix(app, "/app")
	if !ok {
		t.Fatalf("this test runs in package %q, want .../app", app)
	}
	return mod
}

func TestAppImportsNoInfrastructure(t *testing.T) {
	t.Parallel()
	deps := nonStdDeps(t, ".", "./...")
	if bad := bannedDeps(deps); len(bad) > 0 {
		t.Errorf("app/... depends on infrastructure libraries; declare an interface in app and implement it in adapters/ports:\n  %s",
			strings.Join(bad, "\n  "))
	}
}

func TestDomainAndEventsImportOnlyStdAndUUID(t *testing.T) {
	t.Parallel()
	mod := modulePath(t)
	allowed := []string{"github.com/google/uuid", mod + "/app/domain", mod + "/app/events"}
	for _, pkg := range []string{"./domain", "./events"} {
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			t.Parallel()
			deps := nonStdDeps(t, ".", pkg)
			if bad := depsOutside(deps, allowed); len(bad) > 0 {
				t.Errorf("app/%s may import only the standard library and github.com/google/uuid; it depends on:\n  %s",
					filepath.Base(pkg), strings.Join(bad, "\n  "))
			}
		})
	}
}

// The checks above must be able to fail: run them against adapters that
// certainly use the banned libraries.
func TestImportChecksCatchViolations(t *testing.T) {
	t.Parallel()
	mod := modulePath(t)

	t.Run("pgx in adapters/postgres", func(t *testing.T) {
		t.Parallel()
		bad := bannedDeps(nonStdDeps(t, "..", "./adapters/postgres"))
		if !slices.ContainsFunc(bad, func(d string) bool { return strings.HasPrefix(d, "github.com/jackc/pgx") }) {
			t.Errorf("bannedDeps(adapters/postgres) = %v, want pgx reported", bad)
		}
	})

	t.Run("jwt in adapters/auth", func(t *testing.T) {
		t.Parallel()
		deps := nonStdDeps(t, "..", "./adapters/auth")
		bad := bannedDeps(deps)
		if !slices.ContainsFunc(bad, func(d string) bool { return strings.HasPrefix(d, "github.com/golang-jwt") }) {
			t.Errorf("bannedDeps(adapters/auth) = %v, want golang-jwt reported", bad)
		}
		outside := depsOutside(deps, []string{"github.com/google/uuid", mod + "/app/domain", mod + "/app/events"})
		if !slices.Contains(outside, mod+"/adapters/auth") || !slices.ContainsFunc(outside, func(d string) bool { return strings.HasPrefix(d, "golang.org/x/crypto") }) {
			t.Errorf("depsOutside(adapters/auth) = %v, want the package itself and golang.org/x/crypto reported", outside)
		}
	})

	t.Run("standard library is not reported", func(t *testing.T) {
		t.Parallel()
		// Guards the std filter: log/slog and net/http are std and must not show up.
		for _, d := range nonStdDeps(t, ".", "./domain", "./events") {
			if !strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
				t.Errorf("standard library package %q listed as a non-std dependency", d)
			}
		}
	})
}
