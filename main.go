// Command thoughts runs the Thoughts federated microblogging backend.
//
//	thoughts serve     everything in one process
//	thoughts api       HTTP API only
//	thoughts router    outbox forwarder and event router
//	thoughts migrate   apply migrations and exit
//	thoughts poison    inspect and replay the poison queue
//	thoughts federation hosts [clear HOST]
//	                   delivery's view of remote hosts
//
// It parses its arguments and calls the composition root, package service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/thoughts-project/thoughts/adapters/logs"
	"github.com/thoughts-project/thoughts/service"
)

const usage = `usage: thoughts <command>

commands:
  serve     migrations, HTTP API and event processing in one process
            (with EVENTS_BACKEND=nats and no NATS_URL: an embedded NATS server)
  api       HTTP API only
  router    outbox forwarder and event router; /metrics and /healthz on HTTP_ADDR
  migrate   apply database migrations and exit
  poison    list | show ID | requeue ID | requeue --all | purge
            inspect and replay events their handlers gave up on
  federation hosts | hosts clear HOST
            remote hosts as delivery sees them (state, last success, last
            error, pending deliveries); clear makes an unavailable host
            available again

configuration is read from the environment; see README.md.
`

func main() {
	if err := run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "thoughts:", err)
		os.Exit(1)
	}
}

var commands = map[string]func(ctx context.Context, cfg service.Config, logger *slog.Logger) error{
	"serve":   service.Serve,
	"api":     service.API,
	"router":  service.Router,
	"migrate": service.Migrate,
}

func run(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	command, ok := commands[args[0]]
	if args[0] != "poison" && args[0] != "federation" && (!ok || len(args) > 1) {
		fmt.Fprint(stderr, usage)
		if !ok {
			return fmt.Errorf("unknown command %q", args[0])
		}
		return fmt.Errorf("%s takes no arguments", args[0])
	}
	cfg, err := service.LoadConfig(lookupEnv)
	if err != nil {
		return err
	}
	logger, err := logs.New(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if args[0] == "poison" {
		return service.Poison(ctx, cfg, logger, args[1:], stdout)
	}
	if args[0] == "federation" {
		return service.Federation(ctx, cfg, logger, args[1:], stdout)
	}
	return command(ctx, cfg, logger)
}
