package domain

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
)

// Cache versions. A purge does not touch cached pages: it bumps a version
// that is part of every cache key, so old entries are never asked for
// again and age out. A domain purge bumps the domain's CacheVersion; a
// path purge bumps a per-path version, kept under
// domain-pathver/<host>/<path>. Either costs one raft write, whatever the
// cache holds.
const (
	prefixPathVersion = "domain-pathver/"
	cmdPurge          = "domain.purge"
)

type purgeRequest struct {
	AccountID string   `json:"accountId"`
	Domain    string   `json:"domain"`
	Paths     []string `json:"paths"`
}

func applyPurge(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req purgeRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	d, err := OwnedNormal(tx, req.AccountID, req.Domain)
	if err != nil {
		return nil, err
	}
	if len(req.Paths) == 0 {
		d.CacheVersion++
		if err := record.Put(tx, prefixDomain+d.Domain, d); err != nil {
			return nil, err
		}
		return nil, record.DeletePrefix(tx, prefixPathVersion+d.Domain+"/")
	}
	for _, p := range req.Paths {
		v, err := PathVersion(tx, d.Domain, p)
		if err != nil {
			return nil, err
		}
		if err := record.Put(tx, prefixPathVersion+d.Domain+"/"+p, v+1); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// PathVersion returns the purge count of one path of host (0 if never).
func PathVersion(r record.Reader, host, path string) (uint64, error) {
	v, err := record.Get[uint64](r, prefixPathVersion+host+"/"+path, errNoVersion)
	if err == errNoVersion {
		return 0, nil
	}
	return v, err
}

var errNoVersion = fmt.Errorf("no path version")

// Version returns the cache version of a page of d whose URL path is path.
// It starts with the domain's creation time, so a domain deleted and
// registered again (perhaps by another account) never sees the pages
// cached for its predecessor.
func Version(r record.Reader, d Domain, path string) string {
	v := strconv.FormatInt(d.CreatedAt.UnixMilli(), 36) + "." + strconv.FormatUint(d.CacheVersion, 10)
	if pv, err := PathVersion(r, d.Domain, path); err == nil && pv > 0 {
		v += "." + strconv.FormatUint(pv, 10)
	}
	return v
}

// Purge bumps the cache version of d (the caller's, as read with Get), or
// of the given paths only. It returns once the purge is committed and
// applied here. Apply checks the ownership again.
func (s *Service) Purge(ctx context.Context, d Domain, paths []string) error {
	if _, err := consensus.Propose(ctx, s.raft, "purge", cmdPurge, 1, purgeRequest{AccountID: d.AccountID, Domain: d.Domain, Paths: paths}); err != nil {
		return err
	}
	return s.raft.Fresh(ctx)
}
