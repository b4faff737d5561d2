package invitemail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
)

// fakeRelay is a minimal SMTP server that accepts one message and hands
// its data over.
func fakeRelay(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		say := func(s string) { conn.Write([]byte(s + "\r\n")) }
		say("220 fake")
		var data strings.Builder
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if inData {
				if line == ".\r\n" {
					inData = false
					ch <- data.String()
					say("250 ok")
					continue
				}
				data.WriteString(line)
				continue
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 fake")
			case cmd == "DATA":
				inData = true
				say("354 go")
			case cmd == "QUIT":
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), ch
}

func TestSendInvite(t *testing.T) {
	addr, got := fakeRelay(t)
	m := New(Config{Addr: addr, TenantDomain: "tenants.test"})
	if err := m.SendInvite(context.Background(), "x@example.com", "acme", "editor", "inv_TOKEN"); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"To: x@example.com", "From: rendercache@tenants.test", "acme", "editor", "inv_TOKEN"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if err := m.SendInvite(context.Background(), "x@example.com\r\nBcc: y@example.com", "acme", "editor", "t"); err == nil {
		t.Fatal("header injection sent")
	}
}

func TestRelayDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if err := New(Config{Addr: addr}).SendInvite(context.Background(), "x@example.com", "acme", "viewer", "t"); err == nil {
		t.Fatal("sent to a closed port")
	}
}
