package command

import "context"

// HostHealth is what the inbox tells delivery about remote hosts.
type HostHealth interface {
	// MarkAlive records that host sent us a valid signed request: a host
	// marked unavailable becomes available again.
	MarkAlive(ctx context.Context, host string) error
}
