package consensustest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/consensus/consensustest"
	"github.com/rendercache/rendercache/storage"
)

// fatalRecorder keeps the first fatal message and stops the goroutine that
// reported it, so a test can watch the helper fail without failing itself.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatal(args ...any) { r.msg = fmt.Sprint(args...); runtime.Goexit() }

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRequireDeterministic(t *testing.T) {
	tests := []struct {
		name    string
		value   func(calls int) string // what the command writes on its calls-th Apply
		wantErr string                 // "" when the replay must pass
	}{
		{"pure", func(int) string { return "same" }, ""},
		{"depends on the process", func(calls int) string { return fmt.Sprint(calls) }, "replica 0 replaying log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			n := consensustest.Start(t, func(fsm *consensus.FSM) {
				fsm.Register("test.put", func(tx *storage.Tx, cmd consensus.Command) (any, error) {
					var key string
					if err := cmd.Decode(&key); err != nil {
						return nil, err
					}
					calls++
					return nil, tx.Set([]byte(key), []byte(tt.value(calls)))
				})
			})
			if !n.Raft.IsLeader() {
				t.Fatal("Start returned before the node was leader")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, key := range []string{"a", "b"} {
				if _, err := consensus.Propose(ctx, n.Raft, "put", "test.put", 1, key); err != nil {
					t.Fatal(err)
				}
			}
			rec := &fatalRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				n.RequireDeterministic(rec)
			}()
			<-done
			if tt.wantErr == "" && rec.msg != "" {
				t.Fatalf("replay failed: %s", rec.msg)
			}
			if !strings.Contains(rec.msg, tt.wantErr) {
				t.Fatalf("replay failure = %q, want one containing %q", rec.msg, tt.wantErr)
			}
		})
	}
}
