package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// A subscriber that never reads must not stall memberlist, and one that
// falls behind gets coalesced updates with the latest state.
func TestSubscriberNeverBlocks(t *testing.T) {
	checkGoroutines(t)
	a := start(t, baseConfig("a"))
	_, cancelStuck := a.Subscribe() // never read
	defer cancelStuck()
	lagging, cancelLagging := a.Subscribe() // read only later
	defer cancelLagging()

	ev := events{a}
	node := &memberlist.Node{Name: "x", Addr: []byte{127, 0, 0, 9}, Port: 9}
	ev.NotifyJoin(node)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 * subscriberBuffer {
			node.Meta = []byte(`{"http":"h` + strings.Repeat("i", i%50) + `"}`)
			ev.NotifyUpdate(node)
		}
		node.Meta = []byte(`{"http":"final"}`)
		ev.NotifyUpdate(node)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("delegate blocked on full subscribers")
	}

	// Real membership still flows.
	cb := baseConfig("b")
	cb.Join = []string{a.cfg.BindAddr}
	b := start(t, cb)
	eventually(t, 10*time.Second, sees(a, StateAlive, "b"))

	// The lagging reader eventually sees x's final meta and b's arrival.
	var sawFinal, sawB bool
	timeout := time.After(10 * time.Second)
	for !sawFinal || !sawB {
		select {
		case e := <-lagging:
			if e.Member.Name == "x" && e.Member.Meta.HTTPAddr == "final" {
				sawFinal = true
			}
			if e.Member.Name == "b" && e.Member.State == StateAlive {
				sawB = true
			}
		case <-timeout:
			t.Fatalf("lagging subscriber: final x meta seen %v, b seen %v", sawFinal, sawB)
		}
	}
	_ = b

	// cancel closes the channel and is idempotent.
	cancelLagging()
	cancelLagging()
	for range lagging {
	}
}

func TestLeaveIntentClassification(t *testing.T) {
	a := start(t, baseConfig("a"))
	d := delegate{a}
	ev := events{a}
	intent := func(name string, boot int64) []byte {
		return encodeIntent(leaveIntent{Node: name, Boot: boot})
	}
	tests := []struct {
		name string
		run  func(n *memberlist.Node)
		want State
	}{
		{"leave without intent is a failure", func(n *memberlist.Node) {
			ev.NotifyJoin(n)
			ev.NotifyLeave(n)
		}, StateDead},
		{"intent before leave", func(n *memberlist.Node) {
			ev.NotifyJoin(n)
			d.NotifyMsg(intent(n.Name, 1))
			ev.NotifyLeave(n)
		}, StateLeft},
		{"intent after failure", func(n *memberlist.Node) {
			ev.NotifyJoin(n)
			ev.NotifyLeave(n)
			d.NotifyMsg(intent(n.Name, 1))
		}, StateLeft},
		{"intent forgotten on rejoin", func(n *memberlist.Node) {
			ev.NotifyJoin(n)
			d.NotifyMsg(intent(n.Name, 1))
			ev.NotifyLeave(n)
			ev.NotifyJoin(n)
			d.NotifyMsg(intent(n.Name, 1)) // replayed: ignored
			ev.NotifyLeave(n)
		}, StateDead},
		{"memberlist state left", func(n *memberlist.Node) {
			ev.NotifyJoin(n)
			n.State = memberlist.StateLeft
			ev.NotifyLeave(n)
		}, StateLeft},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &memberlist.Node{Name: "peer" + string(rune('0'+i)), Addr: []byte{127, 0, 0, 1}, Port: uint16(1000 + i)}
			tt.run(n)
			if m, _ := a.Member(n.Name); m.State != tt.want {
				t.Errorf("state = %v, want %v", m.State, tt.want)
			}
		})
	}
}

func TestForgetsOldDeadMembers(t *testing.T) {
	a := start(t, baseConfig("a"))
	n := &memberlist.Node{Name: "gone", Addr: []byte{127, 0, 0, 1}, Port: 1}
	events{a}.NotifyJoin(n)
	events{a}.NotifyLeave(n)
	if _, ok := a.Member("gone"); !ok {
		t.Fatal("dead member not kept")
	}
	a.mu.Lock()
	a.forgetAfter = time.Millisecond
	a.mu.Unlock()
	eventually(t, 5*time.Second, func() string {
		if _, ok := a.Member("gone"); ok || len(a.Members()) != 1 {
			return "still remembers: " + summary(a)
		}
		return ""
	})
}

func TestStringers(t *testing.T) {
	tests := []struct{ got, want string }{
		{StateAlive.String(), "alive"}, {StateDead.String(), "dead"}, {StateLeft.String(), "left"}, {State(9).String(), "State(9)"},
		{EventJoin.String(), "join"}, {EventUpdate.String(), "update"}, {EventLeave.String(), "leave"}, {EventFail.String(), "fail"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
