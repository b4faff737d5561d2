package operator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/secret"
)

// ResetFile is the file, inside a node's data dir, that holds a pending
// admin-token reset: the new token's SHA-256 hash, never the token.
//
// The token hash is replicated state, so an offline edit of one node's
// Pebble files would make that node diverge from the others. A reset
// instead goes through raft: `rendercache admin-token reset` writes this
// file, and the node proposes the hash the next time it starts, once the
// cluster has a leader, then removes the file.
const ResetFile = "admin-token.reset"

// resetRetry is how long ApplyPendingReset waits between proposals while
// the cluster has no leader.
const resetRetry = time.Second

// WriteReset generates a new admin token, records its hash as a pending
// reset in the node data dir dataDir, and returns the token, which is
// stored nowhere else. dataDir must hold a node's state (a "state"
// directory), so that a mistyped path fails instead of resetting nothing.
// A second reset before the node starts replaces the first.
func WriteReset(dataDir string) (string, error) {
	if fi, err := os.Stat(filepath.Join(dataDir, "state")); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("admin-token reset: %s is not a node's data dir (no state/ inside)", dataDir)
	}
	token := NewToken()
	tmp, err := os.CreateTemp(dataDir, ResetFile+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("admin-token reset: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(secret.Hash(token) + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("admin-token reset: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("admin-token reset: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("admin-token reset: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, ResetFile)); err != nil {
		return "", fmt.Errorf("admin-token reset: %w", err)
	}
	return token, nil
}

// PendingReset returns the token hash of the pending reset in dataDir, or
// ErrNoPendingReset.
func PendingReset(dataDir string) (string, error) {
	path := filepath.Join(dataDir, ResetFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoPendingReset
	}
	if err != nil {
		return "", fmt.Errorf("admin-token reset: %w", err)
	}
	hash := strings.TrimSpace(string(b))
	if !validHash(hash) {
		return "", fmt.Errorf("admin-token reset: %s: %w", path, ErrBadHash)
	}
	return hash, nil
}

// ApplyPendingReset replicates the pending reset in dataDir, if there is
// one, and then removes it. While the cluster has no leader it proposes
// again every second until ctx ends. Proposing the same hash twice (a
// crash between the commit and the removal) is harmless. It reports
// whether a reset was applied.
func ApplyPendingReset(ctx context.Context, raft consensus.Applier, dataDir string, log *slog.Logger) (bool, error) {
	hash, err := PendingReset(dataDir)
	if errors.Is(err, ErrNoPendingReset) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for {
		err := storeHash(ctx, raft, hash)
		if err == nil {
			break
		}
		if errors.Is(err, ErrBadHash) || ctx.Err() != nil {
			return false, err
		}
		log.Warn("admin token reset not replicated yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("admin-token reset: %w", ctx.Err())
		case <-time.After(resetRetry):
		}
	}
	if err := os.Remove(filepath.Join(dataDir, ResetFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return true, fmt.Errorf("admin-token reset: applied, but: %w", err)
	}
	log.Warn("admin token reset: the new token now works on every node and the previous one no longer does")
	return true, nil
}
