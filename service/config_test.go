package service

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// configEnv is a fake environment: LoadConfig reads only through lookup.
type configEnv map[string]string

func (e configEnv) lookup(name string) (string, bool) { v, ok := e[name]; return v, ok }

// with returns a copy of e with the given NAME, value pairs set.
func (e configEnv) with(kv ...string) configEnv {
	out := configEnv{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

const configTestSecret = "0123456789abcdef0123456789abcdef" // 32 bytes

// configProdEnv is a complete, valid production-like environment, so a test
// that breaks one variable sees only that variable's error.
var configProdEnv = configEnv{
	"PUBLIC_URL": "https://social.example",
	"JWT_SECRET": configTestSecret,
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(configEnv{}.lookup)
	if err != nil {
		t.Fatalf("LoadConfig(empty environment): %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"DatabaseURL", c.DatabaseURL, DefaultDatabaseURL},
		{"HTTPAddr", c.HTTPAddr, "127.0.0.1:8080"},
		{"PublicURL", c.PublicURL, "http://localhost:8080"},
		{"EventsBackend", c.EventsBackend, "nats"},
		{"NATSURL", c.NATSURL, ""},
		{"DataDir", c.DataDir, "./data"},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "text"},
		{"JWTTTL", c.JWTTTL, 720 * time.Hour},
		{"ShutdownTimeout", c.ShutdownTimeout, 20 * time.Second},
		{"RequestTimeout", c.RequestTimeout, 30 * time.Second},
		{"FederationAllowPrivate", c.FederationAllowPrivate, false},
		{"JWTSecret is nil", c.JWTSecret == nil, true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadConfigReadsValues(t *testing.T) {
	t.Parallel()
	env := configEnv{
		"DATABASE_URL":             " postgresql://u:p@db.internal:5432/thoughts ",
		"HTTP_ADDR":                ":9000",
		"PUBLIC_URL":               "https://social.example/",
		"JWT_SECRET":               configTestSecret,
		"JWT_TTL":                  "15m",
		"EVENTS_BACKEND":           "Postgres",
		"NATS_URL":                 "nats://nats:4222",
		"DATA_DIR":                 "/var/lib/thoughts",
		"FEDERATION_ALLOW_PRIVATE": "true",
		"LOG_LEVEL":                "debug",
		"LOG_FORMAT":               "json",
		"SHUTDOWN_TIMEOUT":         "5s",
		"REQUEST_TIMEOUT":          "90s",
	}
	c, err := LoadConfig(env.lookup)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"DatabaseURL (trimmed)", c.DatabaseURL, "postgresql://u:p@db.internal:5432/thoughts"},
		{"HTTPAddr", c.HTTPAddr, ":9000"},
		{"PublicURL (no trailing slash)", c.PublicURL, "https://social.example"},
		{"JWTSecret", string(c.JWTSecret), configTestSecret},
		{"JWTTTL", c.JWTTTL, 15 * time.Minute},
		{"EventsBackend (lower case)", c.EventsBackend, "postgres"},
		{"NATSURL", c.NATSURL, "nats://nats:4222"},
		{"DataDir", c.DataDir, "/var/lib/thoughts"},
		{"FederationAllowPrivate", c.FederationAllowPrivate, true},
		{"LogLevel", c.LogLevel, "debug"},
		{"LogFormat", c.LogFormat, "json"},
		{"ShutdownTimeout", c.ShutdownTimeout, 5 * time.Second},
		{"RequestTimeout", c.RequestTimeout, 90 * time.Second},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadConfigAcceptsGoodValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  configEnv
	}{
		{"production environment", configProdEnv},
		{"events backend postgres", configProdEnv.with("EVENTS_BACKEND", "postgres")},
		{"events backend upper case", configProdEnv.with("EVENTS_BACKEND", "NATS")},
		{"http addr any interface", configProdEnv.with("HTTP_ADDR", ":8080")},
		{"http addr IPv6", configProdEnv.with("HTTP_ADDR", "[::1]:8080")},
		{"public url with path", configProdEnv.with("PUBLIC_URL", "https://example.org/thoughts")},
		{"federation allow private 1", configProdEnv.with("FEDERATION_ALLOW_PRIVATE", "1")},
		{"long JWT secret", configProdEnv.with("JWT_SECRET", strings.Repeat("s", 64))},
		{"no JWT secret on localhost", configEnv{"PUBLIC_URL": "http://localhost:8080"}},
		{"no JWT secret on 127.0.0.1", configEnv{"PUBLIC_URL": "http://127.0.0.1:8080"}},
		{"no JWT secret on ::1", configEnv{"PUBLIC_URL": "http://[::1]:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := LoadConfig(tt.env.lookup); err != nil {
				t.Errorf("LoadConfig(%v): %v", tt.env, err)
			}
		})
	}
}

// TestLoadConfigRateLimitsAndMetrics: the limits and the metrics listener
// as an operator sets them.
func TestLoadConfigRateLimitsAndMetrics(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(configProdEnv.lookup)
	if err != nil || c.RateLimits.Disabled || c.MetricsAddr != DefaultMetricsAddr {
		t.Fatalf("defaults: limits %+v, metrics %q, err %v", c.RateLimits, c.MetricsAddr, err)
	}
	c, err = LoadConfig(configProdEnv.with("RATE_LIMITS", "off", "RATE_LIMIT_LOGIN_PER_IP", "5/1m",
		"TRUSTED_PROXIES", "10.1.2.3/8 ::1/128", "METRICS_ADDR", "").lookup)
	if err != nil {
		t.Fatal(err)
	}
	if !c.RateLimits.Disabled || c.RateLimits.LoginPerIP.Burst != 5 || c.RateLimits.LoginPerIP.Every != time.Minute ||
		len(c.RateLimits.TrustedProxies) != 2 || c.RateLimits.TrustedProxies[0].String() != "10.0.0.0/8" {
		t.Errorf("limits = %+v", c.RateLimits)
	}
	if c.MetricsAddr != "" {
		t.Errorf("METRICS_ADDR set empty gave %q, want the listener off", c.MetricsAddr)
	}
}

func TestLoadConfigNamesBadVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  configEnv
		// want is the variable every error line must start with.
		want string
	}{
		{"events backend kafka", configProdEnv.with("EVENTS_BACKEND", "kafka"), "EVENTS_BACKEND"},
		{"http addr without port", configProdEnv.with("HTTP_ADDR", "nonsense"), "HTTP_ADDR"},
		{"http addr too many colons", configProdEnv.with("HTTP_ADDR", "a:b:c"), "HTTP_ADDR"},
		{"public url ftp", configProdEnv.with("PUBLIC_URL", "ftp://x"), "PUBLIC_URL"},
		{"public url without scheme", configProdEnv.with("PUBLIC_URL", "social.example"), "PUBLIC_URL"},
		{"public url without host", configProdEnv.with("PUBLIC_URL", "https://"), "PUBLIC_URL"},
		{"public url with query", configProdEnv.with("PUBLIC_URL", "https://social.example/?a=b"), "PUBLIC_URL"},
		{"JWT secret too short", configProdEnv.with("JWT_SECRET", "short"), "JWT_SECRET"},
		{"JWT secret one byte short", configProdEnv.with("JWT_SECRET", configTestSecret[1:]), "JWT_SECRET"},
		{"JWT secret too short on localhost", configEnv{"JWT_SECRET": "short"}, "JWT_SECRET"},
		{"JWT secret missing in production", configEnv{"PUBLIC_URL": "https://social.example"}, "JWT_SECRET"},
		{"JWT secret missing on a LAN address", configEnv{"PUBLIC_URL": "http://192.168.1.10:8080"}, "JWT_SECRET"},
		{"JWT secret missing on a localhost lookalike", configEnv{"PUBLIC_URL": "http://localhost.evil.example"}, "JWT_SECRET"},
		{"JWT TTL negative", configProdEnv.with("JWT_TTL", "-1h"), "JWT_TTL"},
		{"JWT TTL zero", configProdEnv.with("JWT_TTL", "0s"), "JWT_TTL"},
		{"JWT TTL without unit", configProdEnv.with("JWT_TTL", "3600"), "JWT_TTL"},
		{"shutdown timeout negative", configProdEnv.with("SHUTDOWN_TIMEOUT", "-5s"), "SHUTDOWN_TIMEOUT"},
		{"shutdown timeout garbage", configProdEnv.with("SHUTDOWN_TIMEOUT", "soon"), "SHUTDOWN_TIMEOUT"},
		{"request timeout below a second", configProdEnv.with("REQUEST_TIMEOUT", "500ms"), "REQUEST_TIMEOUT"},
		{"request timeout over ten minutes", configProdEnv.with("REQUEST_TIMEOUT", "11m"), "REQUEST_TIMEOUT"},
		{"request timeout garbage", configProdEnv.with("REQUEST_TIMEOUT", "30"), "REQUEST_TIMEOUT"},
		{"federation allow private maybe", configProdEnv.with("FEDERATION_ALLOW_PRIVATE", "maybe"), "FEDERATION_ALLOW_PRIVATE"},
		{"database url mysql", configProdEnv.with("DATABASE_URL", "mysql://x"), "DATABASE_URL"},
		{"database url not a url", configProdEnv.with("DATABASE_URL", "host=db user=thoughts"), "DATABASE_URL"},
		{"metrics addr without port", configProdEnv.with("METRICS_ADDR", "localhost"), "METRICS_ADDR"},
		{"rate limits maybe", configProdEnv.with("RATE_LIMITS", "maybe"), "RATE_LIMITS"},
		{"password hash concurrency zero", configProdEnv.with("PASSWORD_HASH_CONCURRENCY", "0"), "PASSWORD_HASH_CONCURRENCY"},
		{"login rate without period", configProdEnv.with("RATE_LIMIT_LOGIN_PER_IP", "20"), "RATE_LIMIT_LOGIN_PER_IP"},
		{"write rate zero burst", configProdEnv.with("RATE_LIMIT_WRITE_PER_ACCOUNT", "0/1s"), "RATE_LIMIT_WRITE_PER_ACCOUNT"},
		{"trusted proxy not a prefix", configProdEnv.with("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"), "TRUSTED_PROXIES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(tt.env.lookup)
			if err == nil {
				t.Fatalf("LoadConfig(%v) = nil error, want one naming %s", tt.env, tt.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, tt.want+":") {
					t.Errorf("error line %q does not name %s (whole error: %v)", line, tt.want, err)
				}
			}
		})
	}
}

func TestLoadConfigReportsEveryBadVariable(t *testing.T) {
	t.Parallel()
	env := configProdEnv.with(
		"EVENTS_BACKEND", "kafka",
		"HTTP_ADDR", "nonsense",
		"JWT_TTL", "-1h",
		"FEDERATION_ALLOW_PRIVATE", "maybe",
		"DATABASE_URL", "mysql://x",
	)
	_, err := LoadConfig(env.lookup)
	if err == nil {
		t.Fatal("LoadConfig with five bad variables = nil error")
	}
	for _, name := range []string{"EVENTS_BACKEND", "HTTP_ADDR", "JWT_TTL", "FEDERATION_ALLOW_PRIVATE", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestConfigJWTSecretConfigured(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := Config{JWTSecret: []byte(configTestSecret), DataDir: dir}
	got, err := c.jwtSecret()
	if err != nil {
		t.Fatalf("jwtSecret: %v", err)
	}
	if string(got) != configTestSecret {
		t.Errorf("jwtSecret = %q, want the configured %q", got, configTestSecret)
	}
	if _, err := os.Stat(filepath.Join(dir, "jwt_secret")); !os.IsNotExist(err) {
		t.Errorf("a configured secret wrote %s/jwt_secret (stat error %v)", dir, err)
	}
}

func TestConfigJWTSecretGenerated(t *testing.T) {
	t.Parallel()
	// A DATA_DIR that does not exist yet: jwtSecret creates it.
	dir := filepath.Join(t.TempDir(), "data")
	c, err := LoadConfig(configEnv{"DATA_DIR": dir}.lookup)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	first, err := c.jwtSecret()
	if err != nil {
		t.Fatalf("jwtSecret: %v", err)
	}
	if len(first) < 32 {
		t.Errorf("generated secret is %d bytes, want at least 32", len(first))
	}

	path := filepath.Join(dir, "jwt_secret")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat generated secret: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o, want 600", path, mode)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read generated secret: %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(onDisk), first) {
		t.Errorf("file holds %q, jwtSecret returned %q", onDisk, first)
	}

	second, err := c.jwtSecret()
	if err != nil {
		t.Fatalf("second jwtSecret: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("second call returned %q, want the first secret %q (tokens must survive restarts)", second, first)
	}

	// Another data directory gets its own secret.
	other, err := Config{DataDir: t.TempDir()}.jwtSecret()
	if err != nil {
		t.Fatalf("jwtSecret in another dir: %v", err)
	}
	if bytes.Equal(first, other) {
		t.Error("two data directories got the same generated secret")
	}
}

func TestJWTSecretRefusesCorruptFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jwt_secret"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Config{DataDir: dir}.jwtSecret()
	if err == nil || !strings.Contains(err.Error(), "DATA_DIR") {
		t.Fatalf("corrupt secret file: err = %v, want an error naming DATA_DIR", err)
	}
}

func TestEventProcessingSettings(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(configEnv{}.lookup)
	if err != nil || c.eventSubscribers() != 8 || c.eventHandlerConns() != 16 {
		t.Fatalf("defaults: subscribers %d, conns %d, err %v", c.eventSubscribers(), c.eventHandlerConns(), err)
	}
	c, err = LoadConfig(configEnv{"EVENT_SUBSCRIBERS": "2", "EVENT_HANDLER_CONNS": "4"}.lookup)
	if err != nil || c.eventSubscribers() != 2 || c.eventHandlerConns() != 4 {
		t.Fatalf("set: subscribers %d, conns %d, err %v", c.eventSubscribers(), c.eventHandlerConns(), err)
	}
	for name, value := range map[string]string{"EVENT_SUBSCRIBERS": "0", "EVENT_HANDLER_CONNS": "many"} {
		if _, err := LoadConfig(configEnv{name: value}.lookup); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v, want one naming the variable", name, value, err)
		}
	}
	if (Config{}).eventSubscribers() != 8 || (Config{}).eventHandlerConns() != 16 {
		t.Error("a Config built by hand does not get the defaults")
	}
}

// TestRetentionAndStreamSettings: the pruner's and the streams' settings,
// their defaults (also for a Config built by hand), "0" turning a limit off,
// and each bad value named.
func TestRetentionAndStreamSettings(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(configEnv{}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	if c.Retention.interval() != time.Minute || c.Retention.batchSize() != 1000 ||
		c.Retention.notifications().Read != 30*day || c.Retention.notifications().All != 365*day {
		t.Errorf("retention defaults: %+v", c.Retention)
	}
	if c.NATSStreams.replicas() != 1 || c.NATSStreams.maxAge() != 7*day || c.NATSStreams.maxBytes() != 256<<20 {
		t.Errorf("stream defaults: replicas %d, age %v, bytes %d", c.NATSStreams.replicas(), c.NATSStreams.maxAge(), c.NATSStreams.maxBytes())
	}
	c, err = LoadConfig(configEnv{
		"RETENTION_INTERVAL": "30s", "RETENTION_BATCH_SIZE": "250", "NOTIFICATIONS_READ_RETENTION": "7d",
		"NOTIFICATIONS_RETENTION": "0", "NATS_STREAM_REPLICAS": "3", "NATS_STREAM_MAX_AGE": "48h", "NATS_STREAM_MAX_BYTES": "512MiB",
	}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.interval() != 30*time.Second || c.Retention.batchSize() != 250 ||
		c.Retention.notifications().Read != 7*day || c.Retention.notifications().All > 0 {
		t.Errorf("retention read as %+v", c.Retention)
	}
	if c.NATSStreams.replicas() != 3 || c.NATSStreams.maxAge() != 48*time.Hour || c.NATSStreams.maxBytes() != 512<<20 {
		t.Errorf("streams read as %+v", c.NATSStreams)
	}
	c, err = LoadConfig(configEnv{"RETENTION_INTERVAL": "0", "NATS_STREAM_MAX_AGE": "0", "NATS_STREAM_MAX_BYTES": "0"}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.interval() > 0 || c.NATSStreams.maxAge() != 0 || c.NATSStreams.maxBytes() != -1 {
		t.Errorf("0 does not turn off: interval %v, age %v, bytes %d", c.Retention.interval(), c.NATSStreams.maxAge(), c.NATSStreams.maxBytes())
	}
	for name, value := range map[string]string{
		"RETENTION_INTERVAL": "often", "RETENTION_BATCH_SIZE": "0", "NOTIFICATIONS_READ_RETENTION": "-1d",
		"NOTIFICATIONS_RETENTION": "1y", "NATS_STREAM_REPLICAS": "7", "NATS_STREAM_MAX_AGE": "1m", "NATS_STREAM_MAX_BYTES": "1 gigabyte",
	} {
		if _, err := LoadConfig(configEnv{name: value}.lookup); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming it", name, value, err)
		}
	}
}
