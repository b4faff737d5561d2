package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/rendercache/rendercache/testcluster"
)

// TestLinearizableAccountsUnderFaults is a Jepsen/etcd-robustness style
// check: concurrent clients create, read and delete accounts through random
// nodes while a nemesis partitions the leader away and kills and restarts a
// follower; the recorded history must be linearizable against a sequential
// model of the account table (email -> account ID).
//
// Writes whose outcome is unknown (503, broken connection, timeout) are kept
// in the history with an open-ended return time, so the checker may apply
// them at any point after their call, which is the same as "maybe never".
// Failed reads are dropped: they observed nothing.
func TestLinearizableAccountsUnderFaults(t *testing.T) {
	const (
		clients       = 6
		maxOpsPerCli  = 400             // safety cap; the nemesis schedule ends the run
		faultBudget   = 8 * time.Second // no new nemesis round starts after this
		checkTimeout  = 30 * time.Second
		progressBatch = 15 // definite writes between nemesis steps
	)
	c := testcluster.New(t, 3, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	h := newLinHistory()
	start := time.Now()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(cl)))
			for k := 0; k < maxOpsPerCli; k++ {
				select {
				case <-stop:
					return
				default:
				}
				linRunOp(t, ctx, c, h, cl, rng)
			}
		})
	}

	nem := &linNemesis{c: c, h: h, batch: progressBatch, stopped: stop}
	nemErr := nem.run(ctx, start, faultBudget)
	close(stop)
	wg.Wait()
	workload := time.Since(start)
	if nemErr != nil {
		t.Fatalf("nemesis: %v (events: %s)", nemErr, strings.Join(nem.events, "; "))
	}
	if nem.partitions < 1 || nem.kills < 1 {
		t.Fatalf("nemesis ran %d leader partitions and %d follower kills, want at least one each", nem.partitions, nem.kills)
	}
	t.Logf("workload %v: %s", workload.Round(time.Millisecond), h.summary())
	t.Logf("nemesis: %s", strings.Join(nem.events, "; "))

	// Let the cluster settle and converge before the final reads.
	c.Heal()
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}

	// Final reads of every ID from every node become part of the history
	// (as extra clients), so the checker also judges the final state.
	acked, emailOf := h.ackedCreates()
	maybeDeleted := h.maybeDeleted()
	for i := range c.Size() {
		for _, id := range append(slices.Clone(acked), linMissingID) {
			call := h.now()
			resp, err := c.Do(ctx, i, http.MethodGet, "/admin/accounts/"+id, nil)
			ret := h.now()
			if err != nil || (resp.Status != http.StatusOK && resp.Status != http.StatusNotFound) {
				t.Fatalf("final read of %s on %s: %v %v", id, c.Name(i), resp, err)
			}
			out := linOutput{Status: resp.Status}
			if resp.Status == http.StatusOK {
				out.Email, _ = resp.JSON()["email"].(string)
			}
			h.add(clients+i, linInput{Kind: linGet, Email: emailOf[id], ID: id}, out, call, ret)
			// Every acknowledged create that no delete may have removed is
			// readable, with its email, on every node.
			if id != linMissingID && !maybeDeleted[id] && (resp.Status != http.StatusOK || out.Email != emailOf[id]) {
				t.Errorf("%s: acknowledged account %s (%s), never deleted, reads %s", c.Name(i), id, emailOf[id], resp)
			}
		}
		linCheckList(t, ctx, c, i, h)
	}

	checkStart := time.Now()
	ops := h.operations()
	res := porcupine.CheckOperationsTimeout(linModel, ops, checkTimeout)
	t.Logf("porcupine: %v on %d operations in %v", linResultName(res), len(ops), time.Since(checkStart).Round(time.Millisecond))
	switch res {
	case porcupine.Illegal:
		_, info := porcupine.CheckOperationsVerbose(linModel, ops, checkTimeout)
		path := filepath.Join(os.TempDir(), fmt.Sprintf("rendercache-linearizability-%d.html", time.Now().UnixNano()))
		if err := porcupine.VisualizePath(linModel, info, path); err != nil {
			t.Logf("visualization: %v", err)
		} else {
			t.Logf("visualization written to %s", path)
		}
		t.Fatalf("history of %d operations is not linearizable (seed %d)", len(ops), seed)
	case porcupine.Unknown:
		// A check that cannot conclude proves nothing. It takes
		// milliseconds on these histories; timing out means the
		// history grew pathological, which is itself worth a look.
		t.Fatalf("linearizability check of %d operations timed out after %v (seed %d)", len(ops), checkTimeout, seed)
	}
}

// linMissingID is a well-formed account ID that is never created.
const linMissingID = "acct_000000000000000000000000"

// linEmails is deliberately small so that creates conflict and deletes make
// room for new creates.
var linEmails = []string{"lin-a@example.com", "lin-b@example.com", "lin-c@example.com", "lin-d@example.com"}

type linKind uint8

const (
	linCreate linKind = iota + 1
	linGet
	linDelete
)

func (k linKind) String() string {
	return [...]string{"?", "create", "get", "delete"}[k]
}

// linInput is one operation's request. Email is the partition key: for gets
// and deletes it is the email the ID was created with ("" for the missing
// ID), since an ID can only ever belong to that email.
type linInput struct {
	Kind  linKind
	Email string
	ID    string
}

// linOutput is its response. Status 0 means the outcome is unknown.
type linOutput struct {
	Status int
	ID     string // create: the new account's ID
	Email  string // get: the email read
}

const linUnknownAccount = "?unacknowledged"

// linModel's per-partition state is the ID of the account that holds the
// partition's email, "" when none does, or linUnknownAccount when a create
// with an unknown outcome took it (its ID was never returned).
var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		for _, op := range history {
			e := op.Input.(linInput).Email
			by[e] = append(by[e], op)
		}
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(linInput), output.(linOutput)
		switch in.Kind {
		case linCreate:
			switch out.Status {
			case http.StatusCreated:
				return s == "", out.ID
			case http.StatusConflict:
				return s != "", s
			case 0:
				if s == "" {
					return true, linUnknownAccount
				}
				return true, s // would have failed with a conflict
			}
		case linGet:
			switch out.Status {
			case http.StatusOK:
				return s == in.ID && out.Email == in.Email, s
			case http.StatusNotFound:
				return s != in.ID, s
			}
		case linDelete:
			switch out.Status {
			case http.StatusNoContent:
				return s == in.ID, ""
			case http.StatusNotFound:
				return s != in.ID, s
			case 0:
				if s == in.ID {
					return true, ""
				}
				return true, s
			}
		}
		return false, s
	},
	Equal: func(a, b any) bool { return a.(string) == b.(string) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		res := fmt.Sprint(out.Status)
		switch {
		case out.Status == 0:
			res = "unknown"
		case out.ID != "":
			res += " " + out.ID
		case out.Email != "":
			res += " " + out.Email
		}
		if in.Kind == linCreate {
			return fmt.Sprintf("create(%s) -> %s", in.Email, res)
		}
		return fmt.Sprintf("%s(%s) -> %s", in.Kind, in.ID, res)
	},
	DescribeState: func(state any) string {
		if state.(string) == "" {
			return "<free>"
		}
		return state.(string)
	},
}

func linResultName(r porcupine.CheckResult) string {
	switch r {
	case porcupine.Ok:
		return "ok"
	case porcupine.Illegal:
		return "illegal"
	}
	return "unknown"
}

// linHistory collects operations and the IDs that creates returned.
type linHistory struct {
	t0     time.Time
	writes atomic.Int64 // writes with a definite outcome, each a raft entry

	mu      sync.Mutex
	ops     []porcupine.Operation
	ids     []string          // acknowledged creates, in order
	emailOf map[string]string // acknowledged ID -> email
	counts  map[string]int    // "kind status" -> ops
}

func newLinHistory() *linHistory {
	return &linHistory{t0: time.Now(), emailOf: map[string]string{}, counts: map[string]int{}}
}

// now is a monotonic timestamp for porcupine.
func (h *linHistory) now() int64 { return int64(time.Since(h.t0)) }

func (h *linHistory) add(client int, in linInput, out linOutput, call, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, linOp(client, in, out, call, ret))
	if in.Kind == linCreate && out.Status == http.StatusCreated {
		h.ids = append(h.ids, out.ID)
		h.emailOf[out.ID] = in.Email
	}
	h.counts[fmt.Sprintf("%s %d", in.Kind, out.Status)]++
	if in.Kind != linGet && out.Status != 0 {
		h.writes.Add(1)
	}
}

func (h *linHistory) note(what string) {
	h.mu.Lock()
	h.counts[what]++
	h.mu.Unlock()
}

// pickID returns an acknowledged ID with its email, or the missing ID. It
// prefers recent IDs, which are more likely to still exist.
func (h *linHistory) pickID(rng *rand.Rand, allowMissing bool) (id, email string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ids) == 0 || (allowMissing && rng.IntN(8) == 0) {
		return linMissingID, "", allowMissing
	}
	from := 0
	if recent := 2 * len(linEmails); len(h.ids) > recent && rng.IntN(4) != 0 {
		from = len(h.ids) - recent
	}
	id = h.ids[from+rng.IntN(len(h.ids)-from)]
	return id, h.emailOf[id], true
}

func (h *linHistory) ackedCreates() ([]string, map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	emails := make(map[string]string, len(h.emailOf))
	for id, e := range h.emailOf {
		emails[id] = e
	}
	return slices.Clone(h.ids), emails
}

// maybeDeleted returns the IDs that an acknowledged or unknown-outcome
// delete may have removed.
func (h *linHistory) maybeDeleted() map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string]bool{}
	for _, op := range h.ops {
		in, out := op.Input.(linInput), op.Output.(linOutput)
		if in.Kind == linDelete && (out.Status == http.StatusNoContent || out.Status == 0) {
			m[in.ID] = true
		}
	}
	return m
}

// unknownCreates counts, per email, the creates with an unknown outcome.
func (h *linHistory) unknownCreates() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string]int{}
	for _, op := range h.ops {
		if in := op.Input.(linInput); in.Kind == linCreate && op.Output.(linOutput).Status == 0 {
			m[in.Email]++
		}
	}
	return m
}

func (h *linHistory) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

func (h *linHistory) summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		label := k
		if strings.HasSuffix(k, " 0") {
			label = strings.TrimSuffix(k, " 0") + " unknown"
		}
		parts[i] = fmt.Sprintf("%s=%d", label, h.counts[k])
	}
	return fmt.Sprintf("%d ops recorded (%s)", len(h.ops), strings.Join(parts, ", "))
}

// linRunOp performs one random operation through a random running node and
// records it.
func linRunOp(t *testing.T, ctx context.Context, c *testcluster.Cluster, h *linHistory, client int, rng *rand.Rand) {
	var up []int
	for i := range c.Size() {
		if c.Node(i) != nil {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		return
	}
	node := up[rng.IntN(len(up))]

	var (
		in     linInput
		method string
		path   string
		body   any
	)
	switch r := rng.IntN(10); {
	case r < 4:
		in = linInput{Kind: linCreate, Email: linEmails[rng.IntN(len(linEmails))]}
		method, path, body = http.MethodPost, "/admin/accounts", map[string]string{"email": in.Email, "plan": "free"}
	case r < 8:
		id, email, _ := h.pickID(rng, true)
		in = linInput{Kind: linGet, Email: email, ID: id}
		method, path = http.MethodGet, "/admin/accounts/"+id
	default:
		id, email, ok := h.pickID(rng, false)
		if !ok {
			return
		}
		in = linInput{Kind: linDelete, Email: email, ID: id}
		method, path = http.MethodDelete, "/admin/accounts/"+id
	}

	opCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	call := h.now()
	resp, err := c.Do(opCtx, node, method, path, body)
	ret := h.now()

	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			// Refused before any byte was sent (a killed node): the
			// operation did not happen.
			h.note(in.Kind.String() + " refused")
			return
		}
		if in.Kind == linGet {
			h.note("get failed")
			return
		}
		h.add(client, in, linOutput{}, call, ret)
		return
	}

	var expected []int
	switch in.Kind {
	case linCreate:
		expected = []int{http.StatusCreated, http.StatusConflict}
	case linGet:
		expected = []int{http.StatusOK, http.StatusNotFound}
	case linDelete:
		expected = []int{http.StatusNoContent, http.StatusNotFound}
	}
	switch {
	case slices.Contains(expected, resp.Status):
		out := linOutput{Status: resp.Status}
		switch {
		case in.Kind == linCreate && resp.Status == http.StatusCreated:
			out.ID, _ = resp.JSON()["id"].(string)
			if out.ID == "" {
				t.Errorf("create returned no id: %s", resp)
				return
			}
		case in.Kind == linGet && resp.Status == http.StatusOK:
			out.Email, _ = resp.JSON()["email"].(string)
		}
		h.add(client, in, out, call, ret)
	case resp.Status >= 500:
		if resp.Status != http.StatusServiceUnavailable {
			t.Logf("%s %s on %s: %s (treated as unknown outcome)", method, path, c.Name(node), resp)
		}
		if in.Kind == linGet {
			h.note("get failed")
			return
		}
		h.add(client, in, linOutput{}, call, ret)
	default:
		t.Errorf("%s %s on %s: unexpected %s", method, path, c.Name(node), resp)
	}
}

// linCheckList checks node i's account list: at most one account per email,
// and each one either acknowledged or explained by a create whose outcome
// is unknown.
func linCheckList(t *testing.T, ctx context.Context, c *testcluster.Cluster, i int, h *linHistory) {
	t.Helper()
	resp, err := c.Do(ctx, i, http.MethodGet, "/admin/accounts", nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("list on %s: %v %v", c.Name(i), resp, err)
	}
	var list struct {
		Accounts []struct{ ID, Email string } `json:"accounts"`
	}
	if err := resp.Decode(&list); err != nil {
		t.Fatalf("list on %s: %v", c.Name(i), err)
	}
	_, emailOf := h.ackedCreates()
	unknown := h.unknownCreates()
	seen := map[string]string{}
	for _, a := range list.Accounts {
		if !slices.Contains(linEmails, a.Email) {
			continue
		}
		if prev, dup := seen[a.Email]; dup {
			t.Errorf("%s: two accounts hold %s: %s and %s", c.Name(i), a.Email, prev, a.ID)
		}
		seen[a.Email] = a.ID
		if e, ok := emailOf[a.ID]; ok {
			if e != a.Email {
				t.Errorf("%s: account %s was created for %s but lists %s", c.Name(i), a.ID, e, a.Email)
			}
			continue
		}
		if unknown[a.Email] == 0 {
			t.Errorf("%s: account %s (%s) was never acknowledged and no create of that email had an unknown outcome", c.Name(i), a.ID, a.Email)
		}
	}
}

// linNemesis injects the faults while the clients run.
type linNemesis struct {
	c       *testcluster.Cluster
	h       *linHistory
	batch   int
	stopped <-chan struct{}

	events            []string
	partitions, kills int
	t0                time.Time
}

func (n *linNemesis) logf(format string, args ...any) {
	n.events = append(n.events, fmt.Sprintf("%v ", time.Since(n.t0).Round(10*time.Millisecond))+fmt.Sprintf(format, args...))
}

// run partitions the leader away and kills a follower at least once each,
// then alternates until budget has passed, and ends with the cluster healed
// and every node running.
func (n *linNemesis) run(ctx context.Context, start time.Time, budget time.Duration) error {
	n.t0 = start
	n.progress(ctx, 1)
	steps := []func(context.Context) error{n.partitionLeader, n.killFollower}
	for round := 0; round < len(steps) || time.Since(start) < budget; round++ {
		if err := steps[round%len(steps)](ctx); err != nil {
			return err
		}
		n.progress(ctx, 1)
	}
	return nil
}

// progress waits until the clients got another batch of writes through
// raft (acknowledged or refused with a definite answer), so that every fault
// overlaps committed traffic; it gives up after a few seconds so that
// stalled clients cannot stall the nemesis.
func (n *linNemesis) progress(ctx context.Context, batches int) {
	target := n.h.writes.Load() + int64(batches*n.batch)
	deadline := time.NewTimer(3 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n.h.writes.Load() < target {
		select {
		case <-ctx.Done():
			return
		case <-n.stopped:
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

func (n *linNemesis) waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 20*time.Second)
}

func (n *linNemesis) partitionLeader(ctx context.Context) error {
	wctx, cancel := n.waitCtx(ctx)
	defer cancel()
	l, err := n.c.WaitLeader(wctx)
	if err != nil {
		return err
	}
	var rest []int
	for i := range n.c.Size() {
		if i != l {
			rest = append(rest, i)
		}
	}
	n.c.Partition(rest) // the leader is in no group: isolated
	n.partitions++
	n.logf("partition: leader %s isolated", n.c.Name(l))
	// The majority elects a new leader while traffic continues.
	if err := linPoll(wctx, func() bool {
		for _, i := range rest {
			if nd := n.c.Node(i); nd != nil && nd.Raft().IsLeader() {
				return true
			}
		}
		return false
	}); err != nil {
		return fmt.Errorf("majority elected no leader while %s was isolated: %w", n.c.Name(l), err)
	}
	n.logf("majority elected %s", n.c.Name(n.majorityLeader(rest)))
	n.progress(ctx, 1)
	n.c.Heal()
	n.logf("heal")
	if _, err := n.c.WaitLeader(wctx); err != nil {
		return fmt.Errorf("after heal: %w", err)
	}
	return nil
}

func (n *linNemesis) majorityLeader(rest []int) int {
	for _, i := range rest {
		if nd := n.c.Node(i); nd != nil && nd.Raft().IsLeader() {
			return i
		}
	}
	return rest[0]
}

func (n *linNemesis) killFollower(ctx context.Context) error {
	wctx, cancel := n.waitCtx(ctx)
	defer cancel()
	l, err := n.c.WaitLeader(wctx)
	if err != nil {
		return err
	}
	f := (l + 1) % n.c.Size()
	n.c.Kill(f)
	n.kills++
	n.logf("kill follower %s", n.c.Name(f))
	// Enough writes that the restarted node has entries to catch up on.
	n.progress(ctx, 3)
	if err := n.c.Restart(wctx, f); err != nil {
		return err
	}
	n.logf("restart %s", n.c.Name(f))
	if _, err := n.c.WaitLeader(wctx); err != nil {
		return fmt.Errorf("after restart of %s: %w", n.c.Name(f), err)
	}
	return nil
}

// linPoll retries cond until it holds or ctx ends.
func linPoll(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// TestLinearizabilityModelRejectsAnomalies makes sure the model used above
// is not vacuous: it accepts legal histories, including ones explained only
// by writes with unknown outcomes, and rejects the anomalies the cluster
// test looks for.
func TestLinearizabilityModelRejectsAnomalies(t *testing.T) {
	const e, id1, id2 = "lin-a@example.com", "acct_1", "acct_2"
	create := func(call, ret int64, status int, id string) porcupine.Operation {
		return linOp(0, linInput{Kind: linCreate, Email: e}, linOutput{Status: status, ID: id}, call, ret)
	}
	get := func(call, ret int64, id string, status int) porcupine.Operation {
		out := linOutput{Status: status}
		if status == http.StatusOK {
			out.Email = e
		}
		return linOp(1, linInput{Kind: linGet, Email: e, ID: id}, out, call, ret)
	}
	del := func(call, ret int64, id string, status int) porcupine.Operation {
		return linOp(2, linInput{Kind: linDelete, Email: e, ID: id}, linOutput{Status: status}, call, ret)
	}
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"create, read, delete, read", []porcupine.Operation{
			create(0, 1, 201, id1), get(2, 3, id1, 200), del(4, 5, id1, 204), get(6, 7, id1, 404),
		}, porcupine.Ok},
		{"read concurrent with create sees either", []porcupine.Operation{
			create(0, 10, 201, id1), get(1, 2, id1, 404), get(3, 4, id1, 200),
		}, porcupine.Ok},
		{"stale read after acknowledged delete", []porcupine.Operation{
			create(0, 1, 201, id1), del(2, 3, id1, 204), get(4, 5, id1, 200),
		}, porcupine.Illegal},
		{"lost acknowledged create", []porcupine.Operation{
			create(0, 1, 201, id1), get(2, 3, id1, 404),
		}, porcupine.Illegal},
		{"two creates of one email both succeed", []porcupine.Operation{
			create(0, 5, 201, id1), create(1, 6, 201, id2),
		}, porcupine.Illegal},
		{"conflict with nothing to conflict with", []porcupine.Operation{
			create(0, 1, 409, ""),
		}, porcupine.Illegal},
		{"conflict explained by a create with unknown outcome", []porcupine.Operation{
			create(0, 1, 0, ""), create(2, 3, 409, ""),
		}, porcupine.Ok},
		{"create after an unknown create that never applied", []porcupine.Operation{
			create(0, 1, 0, ""), create(2, 3, 201, id1), get(4, 5, id1, 200),
		}, porcupine.Ok},
		{"read explained by a delete with unknown outcome", []porcupine.Operation{
			create(0, 1, 201, id1), del(2, 3, id1, 0), get(4, 5, id1, 200), get(6, 7, id1, 404),
		}, porcupine.Ok},
		{"unknown delete cannot undo itself", []porcupine.Operation{
			create(0, 1, 201, id1), del(2, 3, id1, 0), get(4, 5, id1, 404), get(6, 7, id1, 200),
		}, porcupine.Illegal},
		{"read returns the wrong email", []porcupine.Operation{
			create(0, 1, 201, id1),
			linOp(1, linInput{Kind: linGet, Email: e, ID: id1}, linOutput{Status: 200, Email: "other@example.com"}, 2, 3),
		}, porcupine.Illegal},
		{"the missing ID is never found", []porcupine.Operation{
			linOp(1, linInput{Kind: linGet, ID: linMissingID}, linOutput{Status: 200}, 0, 1),
		}, porcupine.Illegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := porcupine.CheckOperationsTimeout(linModel, tt.history, 10*time.Second); got != tt.want {
				t.Fatalf("check = %s, want %s", linResultName(got), linResultName(tt.want))
			}
		})
	}
}

// linOp builds a history entry. An unknown outcome (Status 0) gets an
// open-ended return: the write may take effect at any time after its call.
func linOp(client int, in linInput, out linOutput, call, ret int64) porcupine.Operation {
	if out.Status == 0 {
		ret = math.MaxInt64
	}
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}
