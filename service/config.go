package service

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/thoughts-project/thoughts/adapters/auth"
	"github.com/thoughts-project/thoughts/adapters/postgres"
	"github.com/thoughts-project/thoughts/ports/httpapi"
)

// Config is every setting of the process, read once from the environment.
type Config struct {
	DatabaseURL string
	HTTPAddr    string
	// MetricsAddr is where /metrics is served, apart from the API (empty:
	// nowhere).
	MetricsAddr            string
	PublicURL              string
	JWTSecret              []byte
	JWTTTL                 time.Duration
	EventsBackend          string
	NATSURL                string
	DataDir                string
	FederationAllowPrivate bool
	LogLevel               string
	LogFormat              string
	ShutdownTimeout        time.Duration
	// RequestTimeout bounds the work of one HTTP request (REQUEST_TIMEOUT,
	// default 30s): past it the request's statements are cancelled and it
	// is answered 503.
	RequestTimeout time.Duration
	// EventSubscribers is how many messages of one topic each event handler
	// works on at once in this process (NATS; Postgres reads serially).
	EventSubscribers int
	// EventHandlerConns sizes the event handlers' own database pool.
	EventHandlerConns int
	// RateLimits are the HTTP API's request limits (RATE_LIMITS=off turns
	// them off; RATE_LIMIT_* set each as BURST/EVERY; TRUSTED_PROXIES).
	// Zero fields are httpapi.DefaultRateLimits.
	RateLimits httpapi.RateLimits
	// PasswordWork bounds concurrent password hashing (Argon2id); zero
	// fields are auth.DefaultWorkLimits for the default parameters.
	// PASSWORD_HASH_CONCURRENCY sets Concurrent.
	PasswordWork auth.WorkLimits
	// EventAckSync makes NATS subscribers wait for each ack's confirmation
	// (off: acks are sent asynchronously). Not read from the environment:
	// benchmarks set it to compare.
	EventAckSync bool
	// EventBatchSize is how many rows a Postgres handler subscriber reads
	// per transaction; 0 is the backend's default. Not read from the
	// environment: benchmarks set it to compare.
	EventBatchSize int
	// Retention is what the pruner of a processing process deletes, and how
	// often (service/retention.go).
	Retention Retention
	// NATSStreams are the limits and replicas of the JetStream streams
	// (NATS_STREAM_REPLICAS, NATS_STREAM_MAX_AGE, NATS_STREAM_MAX_BYTES).
	NATSStreams NATSStreams
	// Delivery tunes federation delivery (DELIVERY_*; see delivery.go).
	Delivery DeliveryConfig
	// EventNoBatch makes the router handle every event alone even where a
	// handler can apply a batch with one commit. Not read from the
	// environment: benchmarks set it to compare.
	EventNoBatch bool
}

// Retention configures the pruner. Zero fields take the defaults; a negative
// one turns that part off (the environment's "0").
type Retention struct {
	// Interval between pruning passes (RETENTION_INTERVAL, default 1m).
	Interval time.Duration
	// BatchSize is the most rows one DELETE removes (RETENTION_BATCH_SIZE,
	// default 1000): each statement is a short transaction of its own.
	BatchSize int
	// NotificationsRead: read notifications are deleted this long after
	// they were stored (NOTIFICATIONS_READ_RETENTION, default 30d).
	NotificationsRead time.Duration
	// Notifications: every notification, read or not, is deleted this long
	// after it was stored (NOTIFICATIONS_RETENTION, default 365d).
	Notifications time.Duration
}

// The retention defaults.
const (
	DefaultRetentionInterval      = time.Minute
	DefaultRetentionBatchSize     = 1000
	DefaultNotificationsRead      = 30 * 24 * time.Hour
	DefaultNotificationsRetention = 365 * 24 * time.Hour
)

func (r Retention) interval() time.Duration { return orDefault(r.Interval, DefaultRetentionInterval) }

func (r Retention) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return DefaultRetentionBatchSize
}

func (r Retention) notifications() postgres.NotificationRetention {
	return postgres.NotificationRetention{
		Read: orDefault(r.NotificationsRead, DefaultNotificationsRead),
		All:  orDefault(r.Notifications, DefaultNotificationsRetention),
	}
}

// NATSStreams are the JetStream stream settings. Zero fields take the
// defaults; a negative limit means none (the environment's "0").
type NATSStreams struct {
	// Replicas of every stream (NATS_STREAM_REPLICAS, default 1; 3 on a
	// three-node cluster survives the loss of one node).
	Replicas int
	// MaxAge: a message older than this is dropped, handled or not
	// (NATS_STREAM_MAX_AGE, default 7d).
	MaxAge time.Duration
	// MaxBytes per stream (NATS_STREAM_MAX_BYTES, default 256MiB; a JetStream server
	// reserves it for every stream it holds a replica of, out of its
	// max_file_store). A full
	// event stream refuses new messages: the forwarder stops relaying and
	// events wait in the outbox (thoughts_outbox_lag_seconds rises) rather
	// than older ones being dropped unhandled.
	MaxBytes int64
}

// The stream defaults.
const (
	DefaultNATSStreamMaxAge   = 7 * 24 * time.Hour
	DefaultNATSStreamMaxBytes = 256 << 20
)

func (n NATSStreams) replicas() int { return max(n.Replicas, 1) }

func (n NATSStreams) maxAge() time.Duration {
	return max(orDefault(n.MaxAge, DefaultNATSStreamMaxAge), 0)
}

func (n NATSStreams) maxBytes() int64 {
	switch {
	case n.MaxBytes == 0:
		return DefaultNATSStreamMaxBytes
	case n.MaxBytes < 0:
		return -1
	}
	return n.MaxBytes
}

// orDefault is d, def when d is zero, and -1 when d is negative (off).
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return -1
	}
	return d
}

// DefaultMetricsAddr is METRICS_ADDR's default: loopback only, as
// Prometheus exporters usually listen, so the API's clients cannot read it.
const DefaultMetricsAddr = "127.0.0.1:9464"

// DefaultDatabaseURL is the local development cluster that `make run` and
// `make test` provision.
const DefaultDatabaseURL = "postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable"

// LoadConfig reads the environment through lookup (os.LookupEnv). Each bad
// setting is an// error naming its variable.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	getenv := func(name string) string { v, _ := lookup(name); return v }
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:   get("DATABASE_URL", DefaultDatabaseURL),
		HTTPAddr:      get("HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:     strings.TrimRight(get("PUBLIC_URL", "http://localhost:8080"), "/"),
		EventsBackend: strings.ToLower(get("EVENTS_BACKEND", "nats")),
		NATSURL:       get("NATS_URL", ""),
		DataDir:       get("DATA_DIR", "./data"),
		LogLevel:      get("LOG_LEVEL", "info"),
		LogFormat:     get("LOG_FORMAT", "text"),
		MetricsAddr:   DefaultMetricsAddr,
	}
	// Set but empty turns the metrics listener off.
	if v, ok := lookup("METRICS_ADDR"); ok {
		c.MetricsAddr = strings.TrimSpace(v)
	}
	var errs []error
	var err error
	if c.JWTTTL, err = time.ParseDuration(get("JWT_TTL", "720h")); err != nil || c.JWTTTL <= 0 {
		errs = append(errs, fmt.Errorf("JWT_TTL: %q is not a positive duration such as 720h", getenv("JWT_TTL")))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("SHUTDOWN_TIMEOUT", "20s")); err != nil || c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT: %q is not a positive duration such as 20s", getenv("SHUTDOWN_TIMEOUT")))
	}
	if c.RequestTimeout, err = time.ParseDuration(get("REQUEST_TIMEOUT", "30s")); err != nil || c.RequestTimeout < time.Second || c.RequestTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("REQUEST_TIMEOUT: %q is not a duration from 1s to 10m such as 30s", getenv("REQUEST_TIMEOUT")))
	}
	if c.FederationAllowPrivate, err = strconv.ParseBool(get("FEDERATION_ALLOW_PRIVATE", "false")); err != nil {
		errs = append(errs, fmt.Errorf("FEDERATION_ALLOW_PRIVATE: %q is not true or false", getenv("FEDERATION_ALLOW_PRIVATE")))
	}
	if c.EventSubscribers, err = strconv.Atoi(get("EVENT_SUBSCRIBERS", strconv.Itoa(DefaultEventSubscribers))); err != nil || c.EventSubscribers < 1 || c.EventSubscribers > 64 {
		errs = append(errs, fmt.Errorf("EVENT_SUBSCRIBERS: %q is not a whole number from 1 to 64", getenv("EVENT_SUBSCRIBERS")))
	}
	if c.EventHandlerConns, err = strconv.Atoi(get("EVENT_HANDLER_CONNS", strconv.Itoa(DefaultEventHandlerConns))); err != nil || c.EventHandlerConns < 1 || c.EventHandlerConns > 256 {
		errs = append(errs, fmt.Errorf("EVENT_HANDLER_CONNS: %q is not a whole number from 1 to 256", getenv("EVENT_HANDLER_CONNS")))
	}
	if v := get("RATE_LIMITS", "on"); v != "on" && v != "off" {
		errs = append(errs, fmt.Errorf("RATE_LIMITS: %q is not on or off", v))
	} else {
		c.RateLimits.Disabled = v == "off"
	}
	for _, r := range []struct {
		name string
		into *httpapi.Rate
	}{
		{"RATE_LIMIT_LOGIN_PER_IP", &c.RateLimits.LoginPerIP},
		{"RATE_LIMIT_LOGIN_PER_ACCOUNT", &c.RateLimits.LoginPerAccount},
		{"RATE_LIMIT_REGISTER_PER_IP", &c.RateLimits.RegisterPerIP},
		{"RATE_LIMIT_WRITE_PER_IP", &c.RateLimits.WritePerIP},
		{"RATE_LIMIT_WRITE_PER_ACCOUNT", &c.RateLimits.WritePerAccount},
	} {
		if v := get(r.name, ""); v != "" {
			if *r.into, err = httpapi.ParseRate(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
			}
		}
	}
	for _, cidr := range strings.FieldsFunc(get("TRUSTED_PROXIES", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR prefix such as 10.0.0.0/8", cidr))
			continue
		}
		c.RateLimits.TrustedProxies = append(c.RateLimits.TrustedProxies, p.Masked())
	}
	if v := get("PASSWORD_HASH_CONCURRENCY", ""); v != "" {
		if c.PasswordWork.Concurrent, err = strconv.Atoi(v); err != nil || c.PasswordWork.Concurrent < 1 || c.PasswordWork.Concurrent > 256 {
			errs = append(errs, fmt.Errorf("PASSWORD_HASH_CONCURRENCY: %q is not a whole number from 1 to 256", v))
		}
	}
	for _, d := range []struct {
		name string
		into *time.Duration
	}{
		{"RETENTION_INTERVAL", &c.Retention.Interval},
		{"NOTIFICATIONS_READ_RETENTION", &c.Retention.NotificationsRead},
		{"NOTIFICATIONS_RETENTION", &c.Retention.Notifications},
		{"NATS_STREAM_MAX_AGE", &c.NATSStreams.MaxAge},
	} {
		if v := get(d.name, ""); v != "" {
			if *d.into, err = parseDays(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 30d, 12h or 90s (0 turns it off)", d.name, v))
			} else if *d.into == 0 {
				*d.into = -1
			}
		}
	}
	if d := c.NATSStreams.MaxAge; d > 0 && d < 2*time.Minute {
		// The stream's de-duplication window (2 minutes) must fit in it.
		errs = append(errs, fmt.Errorf("NATS_STREAM_MAX_AGE: %v is shorter than 2m, the de-duplication window", d))
	}
	if v := get("RETENTION_BATCH_SIZE", ""); v != "" {
		if c.Retention.BatchSize, err = strconv.Atoi(v); err != nil || c.Retention.BatchSize < 1 || c.Retention.BatchSize > 100000 {
			errs = append(errs, fmt.Errorf("RETENTION_BATCH_SIZE: %q is not a whole number from 1 to 100000", v))
		}
	}
	if v := get("NATS_STREAM_REPLICAS", ""); v != "" {
		if c.NATSStreams.Replicas, err = strconv.Atoi(v); err != nil || c.NATSStreams.Replicas < 1 || c.NATSStreams.Replicas > 5 {
			errs = append(errs, fmt.Errorf("NATS_STREAM_REPLICAS: %q is not a whole number from 1 to 5", v))
		}
	}
	if v := get("NATS_STREAM_MAX_BYTES", ""); v != "" {
		if c.NATSStreams.MaxBytes, err = parseBytes(v); err != nil {
			errs = append(errs, fmt.Errorf("NATS_STREAM_MAX_BYTES: %q is not a size such as 1GiB, 512MiB or 1000000 (0: no limit)", v))
		} else if c.NATSStreams.MaxBytes == 0 {
			c.NATSStreams.MaxBytes = -1
		}
	}
	if s := getenv("JWT_SECRET"); s != "" {
		c.JWTSecret = []byte(s)
	}
	c.Delivery, errs = loadDeliveryConfig(get, getenv, errs)
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// parseDays is time.ParseDuration that also takes whole days ("30d").
func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	return d, nil
}

// parseBytes reads a size: a number of bytes, or one with a unit (KB, MB,
// GB, TB: powers of 1000; KiB, MiB, GiB, TiB: powers of 1024).
func parseBytes(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", v)
	}
	return n * mult, nil
}

// Defaults of the event-processing settings; a Config built by hand (tests,
// benchmarks) with zero values gets them too.
const (
	// DefaultEventSubscribers is EVENT_SUBSCRIBERS' default.
	DefaultEventSubscribers = 8
	// DefaultEventHandlerConns is EVENT_HANDLER_CONNS' default.
	DefaultEventHandlerConns = 16
)

func (c Config) eventSubscribers() int {
	if c.EventSubscribers > 0 {
		return c.EventSubscribers
	}
	return DefaultEventSubscribers
}

func (c Config) eventHandlerConns() int32 {
	if c.EventHandlerConns > 0 {
		return int32(c.EventHandlerConns)
	}
	return DefaultEventHandlerConns
}

func (c Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, errors.New("DATABASE_URL: must be a postgres:// URL"))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR: %q is not host:port", c.HTTPAddr))
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); c.MetricsAddr != "" && err != nil {
		errs = append(errs, fmt.Errorf("METRICS_ADDR: %q is not host:port (empty turns /metrics off)", c.MetricsAddr))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("PUBLIC_URL: %q is not an http(s) base URL", c.PublicURL))
	}
	switch c.EventsBackend {
	case "nats", "postgres":
	default:
		errs = append(errs, fmt.Errorf("EVENTS_BACKEND: %q is not one of nats, postgres", c.EventsBackend))
	}
	if c.JWTSecret != nil && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("JWT_SECRET: must be at least 32 bytes (try: openssl rand -hex 32)"))
	}
	if c.JWTSecret == nil && !c.development() {
		errs = append(errs, errors.New("JWT_SECRET: required when PUBLIC_URL is not a loopback address"))
	}
	return errors.Join(errs...)
}

// development: the public URL points at this machine, so nothing outside can
// hold tokens and a generated secret is acceptable.
func (c Config) development() bool {
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// jwtSecret returns the configured secret, or in development one generated
// once and kept in DATA_DIR so tokens survive restarts. The file appears whole
// or not at all (written aside, then linked into place), so processes starting
// together agree on one secret.
func (c Config) jwtSecret() ([]byte, error) {
	if c.JWTSecret != nil {
		return c.JWTSecret, nil
	}
	path := filepath.Join(c.DataDir, "jwt_secret")
	read := func() ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		secret := strings.TrimSpace(string(b))
		if len(secret) < 32 {
			return nil, fmt.Errorf("DATA_DIR: %s holds no valid secret; delete it or set JWT_SECRET", path)
		}
		return []byte(secret), nil
	}
	if b, err := read(); err == nil || !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("DATA_DIR: create %s: %w", c.DataDir, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate JWT secret: %w", err)
	}
	tmp, err := os.CreateTemp(c.DataDir, ".jwt_secret-*")
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(raw) + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o600)
	}
	if werr != nil {
		return nil, fmt.Errorf("DATA_DIR: write JWT secret: %w", werr)
	}
	// Link fails if another process won the race; then its secret is used.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("DATA_DIR: write %s: %w", path, err)
	}
	return read()
}
