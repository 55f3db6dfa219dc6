package nats

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// ErrStoreInUse means another process runs an embedded server on the same
// store directory. Two servers writing one JetStream store would corrupt it.
var ErrStoreInUse = errors.New("the embedded NATS store is in use by another process")

// Embedded is a NATS server with JetStream running inside this process. It
// accepts no network connections: clients reach it in-process.
type Embedded struct {
	srv  *server.Server
	lock *os.File
	opts ConnOptions
	log  *slog.Logger
}

// StartEmbedded starts a server keeping its JetStream data under dir. It holds
// an exclusive lock on dir until Shutdown.
func StartEmbedded(dir string, logger *slog.Logger) (*Embedded, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create NATS store %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(&server.Options{
		ServerName:             "thoughts-embedded",
		DontListen:             true,
		JetStream:              true,
		StoreDir:               dir,
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	srv.SetLoggerV2(serverLogger{logger.With("component", "nats-server")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30*time.Second) || !srv.JetStreamEnabled() {
		srv.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("embedded NATS with JetStream in %s did not start", dir)
	}
	logger.Info("embedded NATS started", "store", dir)
	return &Embedded{srv: srv, lock: lock, log: logger}, nil
}

// lockDir takes an exclusive, non-blocking lock on dir/LOCK; the kernel
// releases it if the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock NATS store: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrStoreInUse, dir)
		}
		return nil, fmt.Errorf("lock NATS store %s: %w", dir, err)
	}
	return f, nil
}

// Dial opens an in-process connection.
func (e *Embedded) Dial(name string) (*natsgo.Conn, error) {
	opts := append(e.opts.options(name, e.log), natsgo.InProcessServer(e.srv))
	nc, err := natsgo.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server (clients should be closed first) and releases
// the store.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.lock.Close()
	e.log.Info("embedded NATS stopped")
}

// serverLogger sends nats-server's log to slog. Notices (start-up chatter)
// go to debug.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
