// Package faults holds the fault tests (`make test-faults`): real `thoughts`
// processes (the binary, built once), real nats-server processes (built from
// the nats-server/v2 module in go.mod) and a throwaway PostgreSQL cluster of
// their own (initdb + pg_ctl on a free port in a temporary directory, never
// the development cluster), with nodes killed and restarted under load.
//
// They sit behind the `faults` build tag: `go test ./...` does not build
// them. FAULTS_LIKES sets the size of the like bursts (default 10,000).
package faults
