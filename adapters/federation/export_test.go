package federation

import (
	"fmt"
	"net/netip"
	"syscall"
)

// NewClientRefusingPort is a client that refuses, like a private address,
// any dial to port: tests use it to show a redirect's hop is checked again.
func NewClientRefusingPort(cfg ClientConfig, port uint16) *Client {
	return newClient(cfg, func(_, address string, _ syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil && ap.Port() == port {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		return nil
	})
}
