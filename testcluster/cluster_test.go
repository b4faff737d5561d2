package testcluster_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// createAccount creates an account through node i (with the typed client
// the CLI uses) and returns its ID.
func createAccount(t *testing.T, ctx context.Context, c *testcluster.Cluster, i int, email string) string {
	t.Helper()
	acc, err := c.Client(i).CreateAccount(ctx, email, "pro")
	if err != nil {
		t.Fatalf("create %s via %s: %v", email, c.Name(i), err)
	}
	if acc.ID == "" {
		t.Fatalf("create returned no id: %+v", acc)
	}
	return acc.ID
}

func follower(c *testcluster.Cluster) int {
	l := c.Leader()
	for i := range c.Size() {
		if i != l && c.Node(i) != nil {
			return i
		}
	}
	return -1
}

func TestWriteThroughFollowerIsReadableEverywhere(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx := ctxFor(t, time.Minute)
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	f := follower(c)
	id := createAccount(t, ctx, c, f, "follower@example.com")
	// Right after the 2xx, with no waiting, every node answers the read.
	for i := range c.Size() {
		resp, err := c.Do(ctx, i, http.MethodGet, "/admin/accounts/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusOK || resp.JSON()["email"] != "follower@example.com" {
			t.Fatalf("%s: GET account = %s", c.Name(i), resp)
		}
	}
	// The duplicate is refused on any node.
	resp, err := c.Do(ctx, 0, http.MethodPost, "/admin/accounts", map[string]string{"email": "Follower@Example.com", "plan": "free"})
	if err != nil || resp.Status != http.StatusConflict {
		t.Fatalf("duplicate email: %v %v", resp, err)
	}
}

func TestClusterInfoShowsLeaderAndVoters(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx := ctxFor(t, time.Minute)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Leader string `json:"leader"`
		Nodes  []struct {
			Name, State, Suffrage, HTTPAddr string
		} `json:"nodes"`
		AppliedIndex uint64 `json:"appliedIndex"`
	}
	resp, err := c.Do(ctx, follower(c), http.MethodGet, "/admin/cluster", nil)
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET /admin/cluster: %v %v", resp, err)
	}
	if err := resp.Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Leader != c.Name(l) || len(info.Nodes) != 3 || info.AppliedIndex == 0 {
		t.Fatalf("cluster info = %+v, leader %s", info, c.Name(l))
	}
	for _, n := range info.Nodes {
		if n.Suffrage != "voter" || n.HTTPAddr == "" {
			t.Fatalf("node %+v: want a voter with an address", n)
		}
	}
}

// writer keeps creating accounts through the given nodes and records which
// writes were acknowledged.
type writer struct {
	mu    sync.Mutex
	acked map[string]string // id -> email
}

func (w *writer) write(ctx context.Context, c *testcluster.Cluster, i int, email string) bool {
	resp, err := c.Do(ctx, i, http.MethodPost, "/admin/accounts", map[string]string{"email": email, "plan": "free"})
	if err != nil || resp.Status != http.StatusCreated {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked[resp.JSON()["id"].(string)] = email
	return true
}

func TestLeaderKillNoAcknowledgedWriteLost(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx := ctxFor(t, 2*time.Minute)
	old, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{acked: map[string]string{}}
	for i := range 5 {
		if !w.write(ctx, c, i%3, fmt.Sprintf("before%d@example.com", i)) {
			t.Fatal("write before the kill failed")
		}
	}

	// Writers hammer every node while the leader dies.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if g != old {
					w.write(ctx, c, g, fmt.Sprintf("during-%d-%d@example.com", g, k))
				} else {
					// Keep the dead node's slot busy on survivors.
					w.write(ctx, c, (g+1)%3, fmt.Sprintf("during-%d-%d@example.com", g, k))
				}
			}
		}()
	}
	c.Kill(old)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	nl, err := c.WaitLeader(waitCtx)
	cancel()
	if err != nil {
		t.Fatalf("no new leader within 10s: %v", err)
	}
	if nl == old {
		t.Fatal("killed node still leads")
	}
	survivor := (old + 1) % 3
	if !w.write(ctx, c, survivor, "after@example.com") {
		t.Fatal("write through a survivor failed after the new leader was elected")
	}
	close(stop)
	wg.Wait()

	if err := c.Restart(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	// Every acknowledged write is on every node, including the restarted one.
	for i := range c.Size() {
		resp, err := c.Do(ctx, i, http.MethodGet, "/admin/accounts", nil)
		if err != nil || resp.Status != 200 {
			t.Fatalf("list on %s: %v %v", c.Name(i), resp, err)
		}
		var list struct {
			Accounts []struct{ ID, Email string } `json:"accounts"`
		}
		resp.Decode(&list)
		have := map[string]bool{}
		for _, a := range list.Accounts {
			have[a.ID] = true
		}
		for id, email := range w.acked {
			if !have[id] {
				t.Errorf("%s lost acknowledged write %s (%s)", c.Name(i), id, email)
			}
		}
	}
	t.Logf("%d acknowledged writes survived the leader kill", len(w.acked))
}

func TestMinorityPartitionRefusesWrites(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx := ctxFor(t, 2*time.Minute)
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	createAccount(t, ctx, c, 0, "before@example.com")
	c.Partition([]int{0}, []int{1, 2})

	// The isolated node answers writes with 503 and a JSON error.
	resp, err := c.Do(ctx, 0, http.MethodPost, "/admin/accounts", map[string]string{"email": "minority@example.com", "plan": "free"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusServiceUnavailable || resp.JSON()["error"] == nil || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("minority write = %s (Retry-After %q), want 503 JSON", resp, resp.Header.Get("Retry-After"))
	}
	// The majority elects a leader (if it lost it) and keeps accepting
	// writes; retry until the election settles.
	var id string
	err = poll(ctx, func() bool {
		resp, err := c.Do(ctx, 1, http.MethodPost, "/admin/accounts", map[string]string{"email": "majority@example.com", "plan": "free"})
		if err == nil && resp.Status == http.StatusCreated {
			id = resp.JSON()["id"].(string)
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("majority never accepted a write: %v", err)
	}
	createAccount(t, ctx, c, 2, "majority2@example.com")

	c.Heal()
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err = c.Do(ctx, 0, http.MethodGet, "/admin/accounts/"+id, nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("healed node does not see the majority's write: %v %v", resp, err)
	}
}

// poll retries cond until it holds or ctx ends.
func poll(ctx context.Context, cond func() bool) error {
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitSuffrages(t *testing.T, ctx context.Context, c *testcluster.Cluster, voters, nonvoters int) {
	t.Helper()
	err := poll(ctx, func() bool {
		v, nv, err := c.Suffrages()
		return err == nil && v == voters && nv == nonvoters
	})
	if err != nil {
		v, nv, _ := c.Suffrages()
		t.Fatalf("want %d voters + %d non-voters, have %d + %d: %v", voters, nonvoters, v, nv, err)
	}
}

func TestFiveNodesKeepThreeVotersAndPromoteOnDeath(t *testing.T) {
	c := testcluster.New(t, 5, testcluster.Options{DeadNodeTimeout: 2 * time.Second})
	ctx := ctxFor(t, 2*time.Minute)
	waitSuffrages(t, ctx, c, 3, 2)

	// Kill a voter that is not the leader.
	l := c.Leader()
	victim := -1
	for _, s := range c.Node(l).Raft().Status().Servers {
		if i := c.Index(s.ID); s.Suffrage == "voter" && i != l {
			victim = i
			break
		}
	}
	c.Kill(victim)
	// After the dead-node timeout the dead voter is gone and a non-voter
	// was promoted: 3 voters, 1 non-voter.
	waitSuffrages(t, ctx, c, 3, 1)
	createAccount(t, ctx, c, c.Leader(), "after-promotion@example.com")
}

func TestGracefulLeaveShrinksConfigurationAtOnce(t *testing.T) {
	// A dead-node timeout far beyond the test's deadline proves the removal
	// comes from the leave, not from failure detection.
	c := testcluster.New(t, 5, testcluster.Options{DeadNodeTimeout: 10 * time.Minute})
	ctx := ctxFor(t, 2*time.Minute)
	waitSuffrages(t, ctx, c, 3, 2)

	leaveCtx := ctxFor(t, 20*time.Second)
	// A non-voter leaves.
	var nonvoter, voter int = -1, -1
	l := c.Leader()
	for _, s := range c.Node(l).Raft().Status().Servers {
		i := c.Index(s.ID)
		if s.Suffrage == "nonvoter" && nonvoter < 0 {
			nonvoter = i
		}
		if s.Suffrage == "voter" && i != l && voter < 0 {
			voter = i
		}
	}
	if err := c.Stop(leaveCtx, nonvoter); err != nil {
		t.Fatal(err)
	}
	waitSuffrages(t, leaveCtx, c, 3, 1)
	// A voter leaves: removed at once, and the remaining non-voter is
	// promoted to keep three voters.
	if err := c.Stop(leaveCtx, voter); err != nil {
		t.Fatal(err)
	}
	waitSuffrages(t, leaveCtx, c, 3, 0)
	// The leader itself leaves: leadership moves, and it is removed.
	if err := c.Stop(leaveCtx, c.Leader()); err != nil {
		t.Fatal(err)
	}
	waitSuffrages(t, leaveCtx, c, 2, 0)
	createAccount(t, ctx, c, c.Leader(), "after-leaves@example.com")
}

// Stopping every node at the same moment (a whole cluster shut down by
// its service manager) is a clean stop on each: a leave that no member is
// left to confirm is not an error.
func TestStoppingEveryNodeAtOnceIsClean(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx := ctxFor(t, 2*time.Minute)
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	createAccount(t, ctx, c, c.Leader(), "stop-all@example.com")
	stopCtx := ctxFor(t, 30*time.Second)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() { errs <- c.Stop(stopCtx, i) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

func TestFullRestartKeepsState(t *testing.T) {
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx := ctxFor(t, 3*time.Minute)
	var ids []string
	for i := range 6 {
		ids = append(ids, createAccount(t, ctx, c, i%3, fmt.Sprintf("u%d@example.com", i)))
	}

	check := func(phase string) {
		t.Helper()
		if _, err := c.WaitLeader(ctx); err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		for i := range c.Size() {
			for _, id := range ids {
				resp, err := c.Do(ctx, i, http.MethodGet, "/admin/accounts/"+id, nil)
				if err != nil || resp.Status != http.StatusOK {
					t.Fatalf("%s: %s lost %s: %v %v", phase, c.Name(i), id, resp, err)
				}
			}
		}
	}

	// Graceful stop of every node, then start them all again.
	for i := range c.Size() {
		if err := c.Stop(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range c.Size() {
		if err := c.Restart(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitServers(ctx, 3); err != nil {
		t.Fatal(err)
	}
	check("after graceful restart")
	ids = append(ids, createAccount(t, ctx, c, 1, "between@example.com"))

	// Crash every node, then start them all again.
	for i := range c.Size() {
		c.Kill(i)
	}
	for i := range c.Size() {
		if err := c.Restart(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	check("after crash restart")
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLaggingNodeCatchesUpFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	c := testcluster.New(t, 3, testcluster.Options{TrailingLogs: 5, Dir: dir})
	ctx := ctxFor(t, 2*time.Minute)
	l, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lag := (l + 1) % 3
	c.Kill(lag)
	var ids []string
	for i := range 40 {
		ids = append(ids, createAccount(t, ctx, c, l, fmt.Sprintf("snap%d@example.com", i)))
	}
	// Compact the log so the lagging node cannot catch up from entries.
	if err := c.Node(l).Raft().Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(ctx, lag); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		resp, err := c.Do(ctx, lag, http.MethodGet, "/admin/accounts/"+id, nil)
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("restarted node lacks %s: %v %v", id, resp, err)
		}
	}
	// 40 entries are far below the snapshot threshold, so a snapshot on
	// the lagging node is one the leader sent it.
	metas, _ := filepath.Glob(filepath.Join(dir, c.Name(lag), "snapshots", "snapshots", "*", "meta.json"))
	if len(metas) == 0 {
		t.Fatal("the lagging node caught up without installing a snapshot: the test proves nothing")
	}
}
