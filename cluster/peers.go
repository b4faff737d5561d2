package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// peersFile is the PeersFile format.
type peersFile struct {
	Peers []string `json:"peers"` // gossip host:port, sorted
}

// readPeers loads the peers file; a missing file means no peers.
func readPeers(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: read peers: %w", err)
	}
	var f peersFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("cluster: read peers %s: %w", path, err)
	}
	return f.Peers, nil
}

// writePeers replaces the peers file atomically (write, sync, rename).
func writePeers(path string, peers []string) error {
	b, err := json.MarshalIndent(peersFile{Peers: peers}, "", "  ")
	if err != nil {
		return fmt.Errorf("cluster: write peers: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cluster: write peers: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err = tmp.Write(append(b, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cluster: write peers: %w", err)
	}
	return nil
}

// kickPersist asks the persister to rewrite the peers file. It never blocks.
func (c *Cluster) kickPersist() {
	if c.cfg.PeersFile == "" {
		return
	}
	select {
	case c.persistKick <- struct{}{}:
	default:
	}
}

// persistLoop rewrites the peers file after membership changes, off
// memberlist's goroutines, until Shutdown (writing once more if a change is
// pending then).
func (c *Cluster) persistLoop() {
	defer c.wg.Done()
	var last []string
	wrote := false
	write := func() {
		peers := c.peersToPersist()
		if wrote && slices.Equal(peers, last) {
			return
		}
		if err := writePeers(c.cfg.PeersFile, peers); err != nil {
			c.log.Warn("cannot persist peers", "path", c.cfg.PeersFile, "err", err)
			return
		}
		last, wrote = peers, true
	}
	for {
		select {
		case <-c.persistKick:
			write()
		case <-c.stop:
			select {
			case <-c.persistKick:
				write()
			default:
			}
			return
		}
	}
}

// peersToPersist is every other member's gossip address plus, until this
// node has seen another member, the peers it started with, so that a
// restart that reaches nobody does not erase what it knew.
func (c *Cluster) peersToPersist() []string {
	c.mu.Lock()
	peers := c.peerAddrsLocked(StateAlive, StateDead, StateLeft)
	if !c.metPeer {
		peers = append(peers, c.filePeers...)
	}
	c.mu.Unlock()
	slices.Sort(peers)
	return slices.Compact(peers)
}
