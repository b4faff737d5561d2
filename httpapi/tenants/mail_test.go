package tenants_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// relay is a local SMTP listener that hands over each message's data.
func relay(t *testing.T) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	msgs := make(chan string, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSMTP(conn, msgs)
		}
	}()
	return ln.Addr().String(), msgs
}

func serveSMTP(conn net.Conn, msgs chan<- string) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	say := func(s string) { conn.Write([]byte(s + "\r\n")) }
	say("220 test relay")
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
				msgs <- data.String()
				say("250 queued")
			} else {
				data.WriteString(line)
			}
			continue
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case cmd == "DATA":
			inData = true
			say("354 go ahead")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// An invite through a follower with --smtp-addr set is mailed to the
// invitee, with the token they accept it with, and says emailSent.
func TestInviteMail(t *testing.T) {
	addr, msgs := relay(t)
	c := testcluster.New(t, 3, testcluster.Options{SMTPAddr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, c: c, ctx: ctx, f: (l + 1) % 3, g: (l + 2) % 3}
	own := fx.account(t, "owner@mail.test", "pro")
	guest := fx.account(t, "guest@mail.test", "pro")
	want(t, fx.do(t, fx.f, own, "POST", "/api/tenants", map[string]any{"slug": "mailco", "cms": map[string]any{"provider": "generic"}}), 201, "create")
	inv := want(t, fx.do(t, fx.g, own, "POST", "/api/tenants/mailco/members/invite", map[string]string{"email": guest.email, "role": "viewer"}), 201, "invite")
	if inv["emailSent"] != true {
		t.Fatalf("invite: %v", inv)
	}
	var msg string
	select {
	case msg = <-msgs:
	case <-ctx.Done():
		t.Fatal("no mail reached the relay")
	}
	token := inv["token"].(string)
	if !strings.Contains(msg, "To: "+guest.email) || !strings.Contains(msg, token) {
		t.Fatalf("mail:\n%s", msg)
	}
	want(t, fx.do(t, fx.f, guest, "POST", "/api/invites/accept", map[string]string{"token": token}), 200, "accept the mailed token")
}
