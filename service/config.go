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
	// EventNoBatch makes the router handle every event alone even where a
	// handler can apply a batch with one commit. Not read from the
	// environment: benchmarks set it to compare.
	EventNoBatch bool
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
	if s := getenv("JWT_SECRET"); s != "" {
		c.JWTSecret = []byte(s)
	}
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
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
