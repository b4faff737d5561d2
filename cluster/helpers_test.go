package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testLogger discards logs unless CLUSTER_TEST_LOG is set to a slog level
// ("debug", "info", ...).
func testLogger() *slog.Logger {
	lv := os.Getenv("CLUSTER_TEST_LOG")
	if lv == "" {
		return slog.New(slog.DiscardHandler)
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(lv)); err != nil {
		l = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// freeAddr returns a 127.0.0.1 address whose port was just free for TCP and
// UDP.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			continue
		}
		pc.Close()
		return addr
	}
	t.Fatal("no free port")
	return ""
}

// baseConfig is a fast loopback config for node name.
func baseConfig(name string) Config {
	return Config{
		Name:    name,
		Profile: profileLocal,
		Logger:  testLogger().With("test_node", name),
		Meta: Meta{
			HTTPAddr:     "127.0.0.1:1" + name,
			InternalAddr: "127.0.0.1:2" + name,
			RaftAddr:     "127.0.0.1:3" + name,
		},
	}
}

// start runs New on a fresh port (retrying if the port was taken in the
// meantime), registers the node with cfg.Faults, and shuts it down at the
// end of the test.
func start(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	var lastErr error
	for range 10 {
		cfg.BindAddr = freeAddr(t)
		c, err := startAt(t, cfg)
		if err == nil {
			return c
		}
		lastErr = err
	}
	t.Fatalf("start %s: %v", cfg.Name, lastErr)
	return nil
}

// startAt runs New on cfg.BindAddr.
func startAt(t *testing.T, cfg Config) (*Cluster, error) {
	t.Helper()
	cfg.Faults.Register(cfg.Name, cfg.BindAddr)
	c, err := New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Shutdown() })
	return c, nil
}

// eventually polls cond every 20ms until it returns "" or timeout passes,
// then fails with cond's last complaint.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		<-tick.C
	}
}

// sees returns a condition: observer knows every name in want in the given
// state.
func sees(observer *Cluster, st State, names ...string) func() string {
	return func() string {
		for _, n := range names {
			m, ok := observer.Member(n)
			if !ok {
				return fmt.Sprintf("%s does not know %s; members %v", observer.LocalName(), n, summary(observer))
			}
			if m.State != st {
				return fmt.Sprintf("%s sees %s %v, want %v; members %v", observer.LocalName(), n, m.State, st, summary(observer))
			}
		}
		return ""
	}
}

// all combines conditions.
func all(conds ...func() string) func() string {
	return func() string {
		for _, c := range conds {
			if msg := c(); msg != "" {
				return msg
			}
		}
		return ""
	}
}

func summary(c *Cluster) string {
	var b strings.Builder
	for _, m := range c.Members() {
		fmt.Fprintf(&b, "%s=%v ", m.Name, m.State)
	}
	return strings.TrimSpace(b.String())
}

// checkGoroutines fails the test if, after every other cleanup, more
// goroutines are running than at the start. Register it first.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d at start, %d after cleanup\n%s", before, n, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(50 * time.Millisecond) // polling, not synchronising
		}
	})
}

// waitEvent reads ch until an event of type typ about name arrives.
func waitEvent(t *testing.T, ch <-chan Event, timeout time.Duration, typ EventType, name string) Event {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for %v %s", typ, name)
			}
			if ev.Type == typ && ev.Member.Name == name {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %v event for %s within %v", typ, name, timeout)
		}
	}
}
