//go:build chaos

package chaos

import (
	"net"
	"testing"
)

// freeAddr returns a loopback address with a port nobody listens on now.
// Another process could take it before the stack does; on loopback, in a
// test, that is unlikely enough.
func freeAddr(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	return addr.String(), addr.Port
}
