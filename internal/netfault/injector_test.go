package netfault_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/netfault"
)

// Addresses used only for attribution: nothing listens on them in the
// Allowed tests.
const (
	addrA = "127.0.0.1:10001"
	addrB = "127.0.0.1:10002"
	addrC = "127.0.0.1:10003"
)

func newInjector() *netfault.Injector {
	in := netfault.New()
	in.Register("a", addrA)
	in.Register("b", addrB)
	in.Register("c", addrC)
	return in
}

func TestNilInjectorAllowsEverything(t *testing.T) {
	var in *netfault.Injector
	// Mutators are no-ops on nil, not panics.
	in.Register("a", addrA)
	in.Partition([]string{"a"}, []string{"b"})
	in.Isolate("a")
	in.Down("a")
	in.Up("a")
	in.Heal()
	if !in.Allowed("a", addrB) || !in.Allowed("x", "203.0.113.1:1") {
		t.Fatal("nil injector refused traffic")
	}

	srv := startEcho(t)
	c, err := in.DialContext(context.Background(), nil, "a", "tcp", srv.addr)
	if err != nil {
		t.Fatalf("dial through nil injector: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "hello")

	raw, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if got := in.WrapConn("a", srv.addr, raw); got != raw {
		t.Fatalf("nil injector wrapped the conn: got %T, want the conn itself", got)
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(in *netfault.Injector)
		from  string
		to    string
		want  bool
	}{
		{"no partition", func(*netfault.Injector) {}, "a", addrB, true},
		{"within a group", partitionABvsC, "a", addrB, true},
		{"within a group, reverse", partitionABvsC, "b", addrA, true},
		{"across groups", partitionABvsC, "a", addrC, false},
		{"across groups, reverse", partitionABvsC, "c", addrB, false},
		{"to itself across a partition", partitionABvsC, "c", addrC, true},
		{"unknown address", partitionABvsC, "c", "127.0.0.1:19999", true},
		{"node in no group is isolated, outbound", partitionAvsB, "c", addrA, false},
		{"node in no group is isolated, inbound", partitionAvsB, "a", addrC, false},
		{"named groups still separated", partitionAvsB, "a", addrB, false},
		{"isolate cuts the node off", isolate("b"), "b", addrA, false},
		{"isolate cuts the node off, inbound", isolate("b"), "c", addrB, false},
		{"isolate leaves the others together", isolate("b"), "a", addrC, true},
		{"isolate keeps an existing partition", func(in *netfault.Injector) {
			partitionABvsC(in)
			in.Isolate("b")
		}, "a", addrC, false},
		{"isolate within an existing partition", func(in *netfault.Injector) {
			partitionABvsC(in)
			in.Isolate("b")
		}, "a", addrB, false},
		{"heal after partition", func(in *netfault.Injector) {
			partitionABvsC(in)
			in.Heal()
		}, "a", addrC, true},
		{"heal after isolate", func(in *netfault.Injector) {
			in.Isolate("b")
			in.Heal()
		}, "b", addrA, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInjector()
			tt.setup(in)
			if got := in.Allowed(tt.from, tt.to); got != tt.want {
				t.Fatalf("Allowed(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func partitionABvsC(in *netfault.Injector) { in.Partition([]string{"a", "b"}, []string{"c"}) }
func partitionAvsB(in *netfault.Injector)  { in.Partition([]string{"a"}, []string{"b"}) }
func isolate(n string) func(*netfault.Injector) {
	return func(in *netfault.Injector) { in.Isolate(n) }
}

func TestDialRefusedAcrossPartition(t *testing.T) {
	srv := startEcho(t)
	in := netfault.New()
	in.Register("server", srv.addr)
	in.Partition([]string{"client"}, []string{"server"})

	_, err := in.DialContext(context.Background(), &net.Dialer{}, "client", "tcp", srv.addr)
	if !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("dial across partition: err = %v, want ErrPartitioned", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("dial across partition: err = %#v, want a *net.OpError with Op dial", err)
	}
	// A node on the same side still dials.
	c, err := in.DialContext(context.Background(), nil, "server", "tcp", srv.addr)
	if err != nil {
		t.Fatalf("dial within the server's group: %v", err)
	}
	c.Close()
}

func TestPartitionCutsLiveConnAndHealRestoresDials(t *testing.T) {
	srv := startEcho(t)
	in := netfault.New()
	in.Register("server", srv.addr)
	ctx := context.Background()

	c, err := in.DialContext(ctx, nil, "client", "tcp", srv.addr)
	if err != nil {
		t.Fatalf("dial before partition: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "before")
	serverSide := <-srv.accepted

	// Park a read that only the partition can end: the echo server sends
	// nothing unprompted.
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 16))
		readErr <- err
	}()

	in.Partition([]string{"client"}, []string{"server"})

	// The injector closed the underlying conn itself: the server sees EOF
	// although the client never called Close.
	select {
	case <-serverSide.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("server side of the conn still open after the partition")
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("blocked read returned no error after the partition")
		}
		if !errors.Is(err, netfault.ErrPartitioned) && !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked read: err = %v, want ErrPartitioned or a closed-conn error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked read did not return after the partition")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("write after partition: err = %v, want ErrPartitioned", err)
	}
	if _, err := in.DialContext(ctx, nil, "client", "tcp", srv.addr); !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("new dial during partition: err = %v, want ErrPartitioned", err)
	}

	in.Heal()
	c2, err := in.DialContext(ctx, nil, "client", "tcp", srv.addr)
	if err != nil {
		t.Fatalf("dial after heal: %v", err)
	}
	defer c2.Close()
	roundTrip(t, c2, "after")
}

func TestWrapConnCutByLaterPartition(t *testing.T) {
	srv := startEcho(t)
	in := netfault.New()
	in.Register("server", srv.addr)

	raw, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	c := in.WrapConn("client", srv.addr, raw)
	defer c.Close()
	roundTrip(t, c, "wrapped")

	in.Isolate("client")
	if _, err := c.Write([]byte("x")); !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("write after isolate: err = %v, want ErrPartitioned", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("read after isolate: err = %v, want ErrPartitioned", err)
	}
}

// Down cuts a node off whatever the partition, closes its connections, and
// Up restores exactly the partition that was there: a crashed node's
// restart must not heal a test's partition.
func TestDownKeepsPartitions(t *testing.T) {
	srv := startEcho(t)
	in := newInjector()
	in.Register("server", srv.addr)
	in.Partition([]string{"a", "b", "server"}, []string{"c"})

	raw, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	c := in.WrapConn("a", srv.addr, raw)
	defer c.Close()
	roundTrip(t, c, "before")

	in.Down("a")
	if in.Allowed("a", addrB) || in.Allowed("b", addrA) {
		t.Fatal("a down node still talks to its own group")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, netfault.ErrPartitioned) {
		t.Fatalf("write of a down node: err = %v, want ErrPartitioned", err)
	}
	in.Up("a")
	if !in.Allowed("a", addrB) {
		t.Fatal("Up did not let a talk to its group again")
	}
	if in.Allowed("a", addrC) || in.Allowed("b", addrC) {
		t.Fatal("Up healed the partition")
	}
}

// echoServer echoes every line on 127.0.0.1 and reports, per accepted conn,
// when the peer closed it.
type echoServer struct {
	addr     string
	accepted chan *serverConn
}

type serverConn struct{ closed chan struct{} }

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{addr: ln.Addr().String(), accepted: make(chan *serverConn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			sc := &serverConn{closed: make(chan struct{})}
			select {
			case s.accepted <- sc:
			default:
			}
			go func() {
				defer close(sc.closed)
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return s
}

func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if line != msg+"\n" {
		t.Fatalf("echo = %q, want %q", line, msg+"\n")
	}
}
