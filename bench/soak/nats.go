package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// The NATS child process (this program with -nats-serve) reads its settings
// from these variables.
const (
	natsEnvAddr    = "BENCH_SOAK_NATS_ADDR"    // client listener, host:port
	natsEnvMonitor = "BENCH_SOAK_NATS_MONITOR" // monitoring listener (/healthz), host:port
	natsEnvStore   = "BENCH_SOAK_NATS_STORE"   // JetStream store directory
)

// serveNATS runs a standalone JetStream server on loopback until ctx ends:
// `thoughts api` and `thoughts router` in split mode need a server of their
// own to share, as they would in production.
func serveNATS(ctx context.Context) error {
	host, port, err := splitPort(os.Getenv(natsEnvAddr))
	if err != nil {
		return fmt.Errorf("%s: %w", natsEnvAddr, err)
	}
	mhost, mport, err := splitPort(os.Getenv(natsEnvMonitor))
	if err != nil {
		return fmt.Errorf("%s: %w", natsEnvMonitor, err)
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "soak", Host: host, Port: port, HTTPHost: mhost, HTTPPort: mport,
		JetStream: true, StoreDir: os.Getenv(natsEnvStore), NoSigs: true, DisableJetStreamBanner: true,
	})
	if err != nil {
		return fmt.Errorf("configure NATS: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30*time.Second) || !srv.JetStreamEnabled() {
		srv.Shutdown()
		return fmt.Errorf("NATS with JetStream did not start")
	}
	<-ctx.Done()
	srv.Shutdown()
	srv.WaitForShutdown()
	return nil
}

func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}
