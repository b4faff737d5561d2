package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestServeFlagsAndEnv(t *testing.T) {
	dir := t.TempDir()
	key := newClusterKey()
	env := map[string]string{"RENDERCACHE_CLUSTER_KEY": key, "RENDERCACHE_VOTERS": "5", "RENDERCACHE_HTTP_ADDR": "127.0.0.1:9999"}
	c := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}
	cfg, _, err := c.parse([]string{"--name", "a", "--data-dir", dir, "--http-addr", "127.0.0.1:7000", "--join", "127.0.0.1:1,127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Voters != 5 {
		t.Errorf("voters from env = %d, want 5", cfg.Voters)
	}
	if cfg.HTTPAddr != "127.0.0.1:7000" {
		t.Errorf("flag must win over env, got %s", cfg.HTTPAddr)
	}
	if len(cfg.Join) != 2 || len(cfg.ClusterKey) != 32 {
		t.Errorf("join %v key %d bytes", cfg.Join, len(cfg.ClusterKey))
	}
}

func TestServeRejectsBadKeyAndJoinWithoutKey(t *testing.T) {
	dir := t.TempDir()
	c := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if _, _, err := c.parse([]string{"--data-dir", dir, "--cluster-key", "c2hvcnQ="}); err == nil {
		t.Error("short key accepted")
	}
	if _, _, err := c.parse([]string{"--data-dir", dir, "--join", "127.0.0.1:1"}); err == nil {
		t.Error("join without a key accepted")
	}
	// A founding node generates and keeps its key.
	cfg1, _, err := c.parse([]string{"--data-dir", dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg2, _, err := c.parse([]string{"--data-dir", dir})
	if err != nil || string(cfg1.ClusterKey) != string(cfg2.ClusterKey) {
		t.Fatalf("generated key not reused: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "cluster.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cluster.key: %v %v", fi, err)
	}
}

func TestLoadPlans(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "plans.yaml")
	os.WriteFile(yml, []byte("plans:\n  free:\n    sites: 2\n    monthlyRenders: 10\n  startup:\n    sites: 3\n    apiAccess: true\n"), 0o600)
	c, err := loadPlans(yml)
	if err != nil {
		t.Fatal(err)
	}
	if c["free"].Sites != 2 || !c["startup"].APIAccess || c["enterprise"].Sites != -1 {
		t.Fatalf("catalog = %+v", c)
	}
	js := filepath.Join(dir, "plans.json")
	os.WriteFile(js, []byte(`{"plans":{"gold":{"sites":9}}}`), 0o600)
	if c, err := loadPlans(js); err != nil || c["gold"].Sites != 9 {
		t.Fatalf("json config: %v %v", c, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("plans:\n  free:\n    seats: 2\n"), 0o600)
	if _, err := loadPlans(bad); err == nil {
		t.Fatal("unknown plan field accepted")
	}
}
