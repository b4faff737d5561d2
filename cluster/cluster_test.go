package cluster

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Config{Name: "n1", BindAddr: "127.0.0.1:7946"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // substring; "" means valid
	}{
		{"minimal", func(c *Config) {}, ""},
		{"full", func(c *Config) {
			c.AdvertiseAddr, c.Key, c.Join, c.Profile = "10.0.0.1:7946", make([]byte, 32), []string{"10.0.0.2:7946"}, profileLocal
		}, ""},
		{"lan profile", func(c *Config) { c.Profile = profileLAN }, ""},
		{"no name", func(c *Config) { c.Name = "" }, "Name is required"},
		{"no bind", func(c *Config) { c.BindAddr = "" }, "BindAddr"},
		{"bind port zero", func(c *Config) { c.BindAddr = "127.0.0.1:0" }, "0 is not allowed"},
		{"bind hostname", func(c *Config) { c.BindAddr = "localhost:7946" }, "IP literal"},
		{"bind no port", func(c *Config) { c.BindAddr = "127.0.0.1" }, "not host:port"},
		{"wildcard without advertise", func(c *Config) { c.BindAddr = "0.0.0.0:7946" }, "AdvertiseAddr is required"},
		{"wildcard with advertise", func(c *Config) { c.BindAddr, c.AdvertiseAddr = "0.0.0.0:7946", "10.0.0.1:7946" }, ""},
		{"advertise unspecified", func(c *Config) { c.AdvertiseAddr = "0.0.0.0:7946" }, "unspecified"},
		{"advertise bad port", func(c *Config) { c.AdvertiseAddr = "10.0.0.1:99999" }, "1-65535"},
		{"key 15 bytes", func(c *Config) { c.Key = make([]byte, 15) }, "Key is 15 bytes"},
		{"key 16 bytes", func(c *Config) { c.Key = make([]byte, 16) }, ""},
		{"key 24 bytes", func(c *Config) { c.Key = make([]byte, 24) }, ""},
		{"meta too large", func(c *Config) { c.Meta.HTTPAddr = strings.Repeat("x", 600) }, "512"},
		{"bad join", func(c *Config) { c.Join = []string{"nohost"} }, "Join address"},
		{"bad profile", func(c *Config) { c.Profile = "wan" }, "Profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate() = %v, want it to wrap ErrInvalidConfig", err)
			}
		})
	}
	t.Run("reports every problem", func(t *testing.T) {
		err := Config{BindAddr: "x", Key: []byte{1}}.Validate()
		for _, want := range []string{"Name", "BindAddr", "Key"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Validate() = %v, want mention of %s", err, want)
			}
		}
	})
}

func TestNewRejectsLargeMeta(t *testing.T) {
	cfg := baseConfig("big")
	cfg.BindAddr = freeAddr(t)
	cfg.Meta.RaftAddr = strings.Repeat("r", 500)
	c, err := New(context.Background(), cfg)
	if err == nil {
		c.Shutdown()
		t.Fatal("New succeeded with 500+ byte meta")
	}
	if !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("New error = %v, want ErrMetaTooLarge", err)
	}
}

func TestThreeNodesJoin(t *testing.T) {
	checkGoroutines(t)
	a, b, c := start(t, baseConfig("a")), start(t, baseConfig("b")), start(t, baseConfig("c"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range []*Cluster{b, c} {
		if got, err := n.Join(ctx, []string{a.cfg.BindAddr}); err != nil || got != 1 {
			t.Fatalf("%s.Join = %d, %v", n.LocalName(), got, err)
		}
	}
	nodes := []*Cluster{a, b, c}
	for _, obs := range nodes {
		eventually(t, 10*time.Second, sees(obs, StateAlive, "a", "b", "c"))
	}
	for _, obs := range nodes {
		ms := obs.Members()
		if names := []string{ms[0].Name, ms[1].Name, ms[2].Name}; len(ms) != 3 || !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Fatalf("%s.Members() = %+v, want a, b, c in order", obs.LocalName(), ms)
		}
		for i, m := range ms {
			want := nodes[i]
			if m.Meta != want.cfg.Meta || m.GossipAddr != want.cfg.BindAddr || m.Since.IsZero() {
				t.Errorf("%s sees %+v, want meta %+v at %s", obs.LocalName(), m, want.cfg.Meta, want.cfg.BindAddr)
			}
		}
	}
	if _, err := a.Join(ctx, nil); !errors.Is(err, ErrNoAddresses) {
		t.Errorf("Join(nil) = %v, want ErrNoAddresses", err)
	}

	// UpdateMeta reaches the others.
	newMeta := Meta{HTTPAddr: "127.0.0.1:9999", InternalAddr: "x", RaftAddr: "y"}
	if err := b.UpdateMeta(ctx, newMeta); err != nil {
		t.Fatalf("UpdateMeta: %v", err)
	}
	eventually(t, 10*time.Second, func() string {
		if m, _ := a.Member("b"); m.Meta != newMeta {
			return "a has not seen b's new meta: " + m.Meta.HTTPAddr
		}
		return ""
	})
}

func TestLeaveAndFail(t *testing.T) {
	checkGoroutines(t)
	a := start(t, baseConfig("a"))
	bc, cc := baseConfig("b"), baseConfig("c")
	bc.Join, cc.Join = []string{a.cfg.BindAddr}, []string{a.cfg.BindAddr}
	b, c := start(t, bc), start(t, cc)
	for _, obs := range []*Cluster{a, b, c} {
		eventually(t, 10*time.Second, sees(obs, StateAlive, "a", "b", "c"))
	}
	aEvents, cancelA := a.Subscribe()
	defer cancelA()
	cEvents, cancelC := c.Subscribe()
	defer cancelC()

	// Graceful leave.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Leave(ctx); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	ev := waitEvent(t, aEvents, 10*time.Second, EventLeave, "b")
	if ev.Member.State != StateLeft {
		t.Errorf("leave event state = %v, want left", ev.Member.State)
	}
	waitEvent(t, cEvents, 10*time.Second, EventLeave, "b")
	eventually(t, 5*time.Second, all(sees(a, StateLeft, "b"), sees(c, StateLeft, "b")))
	if m, _ := b.Member("b"); m.State != StateLeft {
		t.Errorf("b sees itself %v after Leave, want left", m.State)
	}
	if err := b.Leave(ctx); !errors.Is(err, ErrShutdown) {
		t.Errorf("second Leave = %v, want ErrShutdown", err)
	}
	if err := b.Shutdown(); err != nil {
		t.Errorf("Shutdown after Leave = %v", err)
	}

	// Abrupt failure.
	killed := time.Now()
	if err := c.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := c.Shutdown(); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	ev = waitEvent(t, aEvents, 10*time.Second, EventFail, "c")
	t.Logf("c declared dead %v after shutdown", time.Since(killed).Round(time.Millisecond))
	if ev.Member.State != StateDead {
		t.Errorf("fail event state = %v, want dead", ev.Member.State)
	}
	if m, _ := a.Member("c"); m.State != StateDead || m.Since.Before(killed) {
		t.Errorf("a sees c as %+v, want dead since after %v", m, killed)
	}
	if _, ok := <-cEvents; ok {
		// drain until closed: Shutdown must close subscriptions
		for range cEvents {
		}
	}
}

func TestRestartRejoinsFromPeersFile(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	cfgs := map[string]Config{}
	nodes := map[string]*Cluster{}
	for _, name := range []string{"a", "b", "c"} {
		cfg := baseConfig(name)
		cfg.PeersFile = filepath.Join(dir, name+".json")
		if name != "a" {
			cfg.Join = []string{nodes["a"].cfg.BindAddr}
		}
		nodes[name] = start(t, cfg)
		cfgs[name] = nodes[name].cfg
	}
	a, b, c := nodes["a"], nodes["b"], nodes["c"]
	for _, obs := range []*Cluster{a, b, c} {
		eventually(t, 10*time.Second, sees(obs, StateAlive, "a", "b", "c"))
	}
	eventually(t, 5*time.Second, func() string {
		peers, err := readPeers(cfgs["b"].PeersFile)
		want := []string{cfgs["a"].BindAddr, cfgs["c"].BindAddr}
		slices.Sort(want)
		if err != nil || !slices.Equal(peers, want) {
			return "b's peers file has " + strings.Join(peers, ",")
		}
		return ""
	})

	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, all(sees(a, StateDead, "b"), sees(c, StateDead, "b")))
	deadSince, _ := a.Member("b")

	// Same name and port, no Join: only the peers file.
	restart := cfgs["b"]
	restart.Join = nil
	var b2 *Cluster
	eventually(t, 10*time.Second, func() string {
		var err error
		if b2, err = startAt(t, restart); err != nil {
			return err.Error()
		}
		return ""
	})
	for _, obs := range []*Cluster{a, b2, c} {
		eventually(t, 15*time.Second, sees(obs, StateAlive, "a", "b", "c"))
	}
	if m, _ := a.Member("b"); !m.Since.After(deadSince.Since) {
		t.Errorf("b's Since %v not after its death at %v", m.Since, deadSince.Since)
	}
}

func TestDifferentKeysCannotJoin(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, 16)
	k2 := bytes.Repeat([]byte{2}, 16)
	tests := []struct {
		name   string
		ka, kb []byte
	}{
		{"different keys", k1, k2},
		{"key and none", k1, nil},
		{"none and key", nil, k2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			ca, cb := baseConfig("a"), baseConfig("b")
			ca.Key, cb.Key = tt.ka, tt.kb
			a := start(t, ca)
			b := start(t, cb)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if n, err := b.Join(ctx, []string{a.cfg.BindAddr}); err == nil {
				t.Fatalf("Join across keys succeeded (%d contacted)", n)
			}
			if _, err := a.Join(ctx, []string{b.cfg.BindAddr}); err == nil {
				t.Fatal("reverse Join across keys succeeded")
			}
			for _, n := range []*Cluster{a, b} {
				if ms := n.Members(); len(ms) != 1 {
					t.Errorf("%s sees %v, want only itself", n.LocalName(), summary(n))
				}
			}
		})
	}
	t.Run("same key joins", func(t *testing.T) {
		ca, cb := baseConfig("a"), baseConfig("b")
		ca.Key, cb.Key = k1, k1
		a := start(t, ca)
		cb.Join = []string{a.cfg.BindAddr}
		b := start(t, cb)
		eventually(t, 10*time.Second, all(sees(a, StateAlive, "b"), sees(b, StateAlive, "a")))
	})
}
