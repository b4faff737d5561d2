package operator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

// fakeRaft applies commands to a real Pebble state through the operator's
// handler, one log index at a time, as every replica would. fail, when
// set, answers the next proposals instead of applying them.
type fakeRaft struct {
	state *storage.State

	mu    sync.Mutex
	index uint64
	fail  []error
	calls int
}

var _ consensus.Applier = (*fakeRaft)(nil)

func (f *fakeRaft) Apply(ctx context.Context, cmd consensus.Command) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return nil, err
	}
	if cmd.Type != cmdSetToken {
		return nil, consensus.ErrUnknownCommand
	}
	f.index++
	var appErr error
	err := f.state.Apply(f.index, func(tx *storage.Tx) error {
		_, appErr = applySetToken(tx, cmd)
		return appErr
	})
	if appErr != nil {
		return nil, appErr
	}
	return nil, err
}

func newState(t *testing.T) *storage.State {
	t.Helper()
	db, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.State()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// An admin token is accepted when it matches the replicated hash, or,
// while none is replicated, the node's configured token; nothing else is.
func TestCheck(t *testing.T) {
	configured := NewToken()
	replicated := NewToken()
	tests := []struct {
		name       string
		configured string // the node's --admin-token
		stored     string // the replicated token, "" for none
		token      string
		want       bool
	}{
		{name: "replicated token", stored: replicated, token: replicated, want: true},
		{name: "configured token", configured: configured, token: configured, want: true},
		{name: "configured token beside another replicated one", configured: configured, stored: replicated, token: configured, want: false},
		{name: "replicated token beside a configured one", configured: configured, stored: replicated, token: replicated, want: true},
		{name: "wrong token", configured: configured, stored: replicated, token: NewToken(), want: false},
		{name: "empty token", configured: configured, stored: replicated, token: "", want: false},
		{name: "empty token with nothing configured or stored", token: "", want: false},
		{name: "nothing configured or stored", token: replicated, want: false},
		{name: "last character changed", stored: replicated, token: replicated[:len(replicated)-1] + flip(replicated[len(replicated)-1]), want: false},
		{name: "prefix of the token", stored: replicated, token: replicated[:len(replicated)-1], want: false},
		{name: "token with a suffix", stored: replicated, token: replicated + "x", want: false},
		{name: "case changed", stored: replicated, token: strings.ToUpper(replicated), want: false},
		{name: "token padded with whitespace", stored: replicated, token: " " + replicated, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := newState(t)
			if tc.stored != "" {
				if err := StoreToken(context.Background(), &fakeRaft{state: state}, tc.stored); err != nil {
					t.Fatal(err)
				}
			}
			if got := NewAuth(state, tc.configured).Check(tc.token); got != tc.want {
				t.Fatalf("Check(%q) = %v, want %v", tc.token, got, tc.want)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

// Check compares fixed-length SHA-256 digests with secret.Equal
// (crypto/subtle), never the raw token, so the comparison's time depends
// neither on the token's length nor on where it first differs. What can be
// asserted without timing: only the digest authenticates, whatever the
// input's length, and secret.Equal is constant-time equality of digests.
func TestCheckComparesDigestsInConstantTime(t *testing.T) {
	state := newState(t)
	token := NewToken()
	if err := StoreToken(context.Background(), &fakeRaft{state: state}, token); err != nil {
		t.Fatal(err)
	}
	stored, err := state.Get([]byte(keyToken))
	if err != nil {
		t.Fatal(err)
	}
	if string(stored) != secret.Hash(token) || strings.Contains(string(stored), token) {
		t.Fatalf("the state holds %q; want only the token's SHA-256 digest", stored)
	}
	auth := NewAuth(state, "")
	if auth.Check(string(stored)) {
		t.Fatal("the digest itself authenticated; Check must hash what it receives")
	}
	for _, n := range []int{1, 63, 64, 65, 4096, 1 << 20} {
		if auth.Check(strings.Repeat("a", n)) {
			t.Fatalf("a %d-byte token authenticated", n)
		}
	}

	digest := secret.Hash(token)
	equal := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "same digest", a: digest, b: secret.Hash(token), want: true},
		{name: "first character differs", a: digest, b: flip(digest[0]) + digest[1:], want: false},
		{name: "last character differs", a: digest, b: digest[:63] + flip(digest[63]), want: false},
		{name: "shorter", a: digest, b: digest[:32], want: false},
		{name: "empty against a digest", a: digest, b: "", want: false},
		{name: "both empty", a: "", b: "", want: true},
	}
	for _, tc := range equal {
		t.Run(tc.name, func(t *testing.T) {
			if got := secret.Equal(tc.a, tc.b); got != tc.want {
				t.Fatalf("Equal = %v, want %v", got, tc.want)
			}
		})
	}
}

// The set-token command stores a well-formed digest and refuses anything
// else, leaving the previous hash in place; every replica applying the
// same commands ends with the same state.
func TestApplySetToken(t *testing.T) {
	good := secret.Hash("first")
	tests := []struct {
		name    string
		body    string
		wantErr error // nil: stored
	}{
		{name: "digest", body: `{"hash":"` + secret.Hash("second") + `"}`},
		{name: "upper-case hex", body: `{"hash":"` + strings.ToUpper(secret.Hash("second")) + `"}`, wantErr: ErrBadHash},
		{name: "too short", body: `{"hash":"` + secret.Hash("second")[:63] + `"}`, wantErr: ErrBadHash},
		{name: "too long", body: `{"hash":"` + secret.Hash("second") + `0"}`, wantErr: ErrBadHash},
		{name: "not hex", body: `{"hash":"` + strings.Repeat("z", 64) + `"}`, wantErr: ErrBadHash},
		{name: "empty hash", body: `{"hash":""}`, wantErr: ErrBadHash},
		{name: "no hash", body: `{}`, wantErr: ErrBadHash},
		{name: "raw token instead of a digest", body: `{"hash":"` + NewToken() + `"}`, wantErr: ErrBadHash},
		{name: "wrong type", body: `{"hash":42}`, wantErr: consensus.ErrBadCommand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Two replicas apply the same log.
			var sums [2][32]byte
			for r := range sums {
				state := newState(t)
				f := &fakeRaft{state: state}
				if err := storeHash(context.Background(), f, good); err != nil {
					t.Fatal(err)
				}
				_, err := f.Apply(context.Background(), consensus.Command{Type: cmdSetToken, Version: 1, Body: json.RawMessage(tc.body)})
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("apply %s: %v, want %v", tc.body, err, tc.wantErr)
				}
				if tc.wantErr != nil && errkind.Of(err) == nil && !errors.Is(err, consensus.ErrBadCommand) {
					t.Fatalf("refusal %v has no error kind", err)
				}
				v, err := state.Get([]byte(keyToken))
				if err != nil {
					t.Fatal(err)
				}
				want := good
				if tc.wantErr == nil {
					want = secret.Hash("second")
				}
				if string(v) != want {
					t.Fatalf("stored hash %s, want %s", v, want)
				}
				if sums[r], _, err = state.Hash(); err != nil {
					t.Fatal(err)
				}
			}
			if sums[0] != sums[1] {
				t.Fatal("two replicas applying the same commands differ")
			}
		})
	}
}

// StoreToken replaces the replicated token: the new one works, the old one
// no longer does.
func TestStoreTokenReplacesTheToken(t *testing.T) {
	state := newState(t)
	f := &fakeRaft{state: state}
	auth := NewAuth(state, "")
	old, next := NewToken(), NewToken()
	for _, step := range []struct {
		store      string
		old, valid bool
	}{
		{store: old, old: true, valid: false},
		{store: next, old: false, valid: true},
		{store: next, old: false, valid: true}, // idempotent
	} {
		if err := StoreToken(context.Background(), f, step.store); err != nil {
			t.Fatal(err)
		}
		if got := auth.Check(old); got != step.old {
			t.Fatalf("old token after storing %s: %v, want %v", step.store, got, step.old)
		}
		if got := auth.Check(next); got != step.valid {
			t.Fatalf("new token after storing %s: %v, want %v", step.store, got, step.valid)
		}
	}
}

// newDataDir returns a directory that looks like a node's data dir.
func newDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteReset records the new token's hash (never the token) privately in a
// node's data dir, and refuses a directory that is not one.
func TestWriteReset(t *testing.T) {
	t.Run("not a data dir", func(t *testing.T) {
		for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
			if _, err := WriteReset(dir); err == nil {
				t.Fatalf("reset in %s accepted", dir)
			}
			if _, err := os.Stat(filepath.Join(dir, ResetFile)); err == nil {
				t.Fatalf("reset file written in %s", dir)
			}
		}
	})
	t.Run("data dir", func(t *testing.T) {
		dir := newDataDir(t)
		token, err := WriteReset(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !secret.HasShape(token, TokenPrefix) {
			t.Fatalf("token %q is not an admin token", token)
		}
		path := filepath.Join(dir, ResetFile)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) != secret.Hash(token) || strings.Contains(string(b), token) {
			t.Fatalf("reset file holds %q; want only the token's hash", b)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("reset file mode %v, want 0600", fi.Mode().Perm())
		}
		// A second reset replaces the first; no temp files stay.
		token2, err := WriteReset(dir)
		if err != nil {
			t.Fatal(err)
		}
		if hash, err := PendingReset(dir); err != nil || hash != secret.Hash(token2) {
			t.Fatalf("pending reset %s, %v; want the second token's hash", hash, err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Fatalf("data dir holds %d entries, want state/ and %s", len(entries), ResetFile)
		}
	})
}

// A pending reset is replicated once, retried while there is no leader,
// and removed only after it committed.
func TestApplyPendingReset(t *testing.T) {
	noLeader := errkind.New(errkind.Unavailable, "no leader")
	tests := []struct {
		name      string
		file      string // reset file content; "-" for none, "TOKEN" for a fresh reset
		fail      []error
		timeout   time.Duration
		wantOK    bool
		wantErr   bool
		wantCalls int
		fileStays bool
	}{
		{name: "no pending reset", file: "-", wantCalls: 0},
		{name: "pending reset", file: "TOKEN", wantOK: true, wantCalls: 1},
		{name: "no leader at first", file: "TOKEN", fail: []error{noLeader}, wantOK: true, wantCalls: 2},
		{name: "no leader until shutdown", file: "TOKEN", fail: []error{noLeader, noLeader, noLeader, noLeader}, timeout: 1500 * time.Millisecond, wantErr: true, fileStays: true},
		{name: "malformed file", file: "not a hash\n", wantErr: true, wantCalls: 0, fileStays: true},
		{name: "raw token in the file", file: NewToken() + "\n", wantErr: true, wantCalls: 0, fileStays: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := newDataDir(t)
			state := newState(t)
			f := &fakeRaft{state: state}
			old := NewToken()
			if err := StoreToken(context.Background(), f, old); err != nil {
				t.Fatal(err)
			}
			f.calls, f.fail = 0, tc.fail
			var token string
			switch tc.file {
			case "-":
			case "TOKEN":
				var err error
				if token, err = WriteReset(dir); err != nil {
					t.Fatal(err)
				}
			default:
				os.WriteFile(filepath.Join(dir, ResetFile), []byte(tc.file), 0o600)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			ok, err := ApplyPendingReset(ctx, f, dir, quiet())
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("ApplyPendingReset = %v, %v; want %v, error %v", ok, err, tc.wantOK, tc.wantErr)
			}
			if tc.wantCalls > 0 && f.calls != tc.wantCalls {
				t.Fatalf("%d proposals, want %d", f.calls, tc.wantCalls)
			}
			_, statErr := os.Stat(filepath.Join(dir, ResetFile))
			if stays := statErr == nil; stays != tc.fileStays {
				t.Fatalf("reset file left: %v, want %v", stays, tc.fileStays)
			}
			auth := NewAuth(state, "")
			if tc.wantOK {
				if auth.Check(old) || !auth.Check(token) {
					t.Fatal("after the reset the old token must fail and the new one work")
				}
			} else if !auth.Check(old) {
				t.Fatal("the old token stopped working without a reset")
			}
		})
	}
}

// A token is superseded only when the cluster holds another one.
func TestSuperseded(t *testing.T) {
	state := newState(t)
	mine, other := NewToken(), NewToken()
	if Superseded(state, mine) {
		t.Fatal("superseded with no token replicated")
	}
	if err := StoreToken(context.Background(), &fakeRaft{state: state}, mine); err != nil {
		t.Fatal(err)
	}
	if Superseded(state, mine) || Superseded(state, "") {
		t.Fatal("the cluster's own token (or none given) reported superseded")
	}
	if !Superseded(state, other) {
		t.Fatal("another token not reported superseded")
	}
}
