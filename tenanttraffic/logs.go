package tenanttraffic

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendercache/rendercache/internal/periodic"
	"github.com/rendercache/rendercache/storage"
	"github.com/rendercache/rendercache/tenantproxy"
)

// Log bounds, per node.
const (
	// LogRetention is how long a node keeps a request log entry.
	LogRetention = 7 * 24 * time.Hour
	// LogsPerTenant is how many entries a node keeps per tenant; past it
	// (by an eighth) the oldest are deleted.
	LogsPerTenant = 10_000
	// bufferSize bounds the entries awaiting a flush, so a node logs at
	// most bufferSize requests per FlushInterval (8192 a second): past it
	// entries are dropped (LogStats.Dropped) rather than slowing the serve
	// path or stalling the Pebble database that raft shares. Counters
	// never drop.
	bufferSize = 8192
	// FlushInterval is how often buffered entries are written.
	FlushInterval = time.Second
	// PruneInterval is how often entries past LogRetention are deleted.
	PruneInterval = 10 * time.Minute
)

// Local keyspace layout:
//
//	tenantlog/<slug>/<8-byte big-endian unix ns><8-byte big-endian seq> → stored (JSON)
const logPrefix = "tenantlog/"

// stored is an entry as a node keeps it; its time and sequence are in
// the key and its node is the one that keeps it.
type stored struct {
	Surface string `json:"s"`
	Method  string `json:"m"`
	Path    string `json:"p"`
	Status  int    `json:"c"`
	Bytes   int64  `json:"b"`
	Cache   string `json:"h"`
	Micros  int64  `json:"d"`
}

type pending struct {
	o   tenantproxy.Observation
	seq uint64
}

// LogOptions bound a LogStore; zero values take the defaults.
type LogOptions struct {
	PerTenant int           // default LogsPerTenant
	Retention time.Duration // default LogRetention
	Now       func() time.Time
	Logger    *slog.Logger
}

// LogStore keeps this node's request log entries in Pebble, per tenant,
// newest last. Entries are buffered in memory and written in batches.
// Safe for concurrent use.
type LogStore struct {
	local *storage.Local
	opts  LogOptions

	mu    sync.Mutex // buf, spare, seq
	buf   []pending
	spare []pending
	seq   uint64

	wmu    sync.Mutex     // serialises writes and pruning
	counts map[string]int // entries held per tenant (an upper bound)

	dropped, written, pruned atomic.Int64
}

// OpenLogs returns the store over local, counting what a previous run
// left.
func OpenLogs(local *storage.Local, opts LogOptions) (*LogStore, error) {
	if opts.PerTenant <= 0 {
		opts.PerTenant = LogsPerTenant
	}
	if opts.Retention <= 0 {
		opts.Retention = LogRetention
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := &LogStore{local: local, opts: opts, buf: make([]pending, 0, 256), counts: map[string]int{}}
	err := local.Scan([]byte(logPrefix), func(k, _ []byte) error {
		if slug, ok := slugOfKey(k); ok {
			l.counts[slug]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tenanttraffic: open logs: %w", err)
	}
	return l, nil
}

// slugOfKey returns the tenant of a log key.
func slugOfKey(k []byte) (string, bool) {
	rest := k[len(logPrefix):]
	if len(rest) < 17 || rest[len(rest)-17] != '/' {
		return "", false
	}
	return string(rest[:len(rest)-17]), true
}

func tenantPrefix(slug string) []byte { return []byte(logPrefix + slug + "/") }

// prefixEnd is the first key after every key starting with p (which
// ends in '/').
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	end[len(end)-1]++
	return end
}

// logKey is slug's key of an entry at ns with sequence seq.
func logKey(slug string, ns int64, seq uint64) []byte {
	k := tenantPrefix(slug)
	k = binary.BigEndian.AppendUint64(k, uint64(ns))
	return binary.BigEndian.AppendUint64(k, seq)
}

// Observe buffers one entry. It never blocks on storage.
func (l *LogStore) Observe(o tenantproxy.Observation) {
	l.mu.Lock()
	if len(l.buf) >= bufferSize {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	l.seq++
	l.buf = append(l.buf, pending{o: o, seq: l.seq})
	l.mu.Unlock()
}

// Run flushes every FlushInterval until ctx ends.
func (l *LogStore) Run(ctx context.Context) {
	periodic.Run(ctx, FlushInterval, func(context.Context) {
		if err := l.Flush(); err != nil {
			l.opts.Logger.Warn("tenant log flush failed", "err", err)
		}
	})
}

// Flush writes the buffered entries in one batch and trims the tenants
// past their bound.
func (l *LogStore) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	batch := l.buf
	l.buf = l.spare[:0]
	l.spare = nil
	l.mu.Unlock()
	defer func() {
		clear(batch) // drop the requests' strings
		l.mu.Lock()
		l.spare = batch[:0]
		l.mu.Unlock()
	}()
	if len(batch) == 0 {
		return nil
	}
	kvs := make([]storage.KV, 0, len(batch))
	for _, p := range batch {
		o := p.o
		v, err := json.Marshal(stored{Surface: o.Surface, Method: clipMethod(o.Method), Path: clip(o.Path), Status: o.Status, Bytes: o.Bytes, Cache: o.Cache, Micros: o.Duration.Microseconds()})
		if err != nil {
			return fmt.Errorf("tenanttraffic: flush logs: %w", err)
		}
		kvs = append(kvs, storage.KV{Key: logKey(o.Slug, o.Start.UnixNano(), p.seq), Value: v})
		l.counts[o.Slug]++
	}
	if err := l.local.Write(kvs); err != nil {
		return fmt.Errorf("tenanttraffic: flush logs: %w", err)
	}
	l.written.Add(int64(len(kvs)))
	for slug, n := range l.counts {
		if n > l.opts.PerTenant+l.opts.PerTenant/8 {
			if err := l.trimLocked(slug); err != nil {
				return err
			}
		}
	}
	return nil
}

// clipMethod bounds a method name (net/http accepts any token).
func clipMethod(m string) string { return m[:min(len(m), 16)] }

var errStop = errors.New("stop")

// trimLocked deletes slug's oldest entries past PerTenant.
func (l *LogStore) trimLocked(slug string) error {
	p := tenantPrefix(slug)
	n := 0
	var keep []byte // the oldest entry kept
	err := l.local.ScanRange(p, prefixEnd(p), true, func(k, _ []byte) error {
		n++
		if n == l.opts.PerTenant {
			keep = append([]byte(nil), k...)
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("tenanttraffic: trim logs: %w", err)
	}
	if keep != nil {
		if err := l.local.DeleteRange(p, keep); err != nil {
			return fmt.Errorf("tenanttraffic: trim logs: %w", err)
		}
		l.pruned.Add(int64(max(0, l.counts[slug]-n)))
	}
	l.counts[slug] = n
	return nil
}

// Prune deletes every entry older than the retention.
func (l *LogStore) Prune() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	cutoff := l.opts.Now().Add(-l.opts.Retention).UnixNano()
	for slug := range l.counts {
		p := tenantPrefix(slug)
		end := binary.BigEndian.AppendUint64(tenantPrefix(slug), uint64(max(cutoff, 0)))
		old := false
		err := l.local.ScanRange(p, end, false, func(_, _ []byte) error { old = true; return errStop })
		if err != nil && !errors.Is(err, errStop) {
			return fmt.Errorf("tenanttraffic: prune logs: %w", err)
		}
		if !old {
			continue
		}
		if err := l.local.DeleteRange(p, end); err != nil {
			return fmt.Errorf("tenanttraffic: prune logs: %w", err)
		}
		n := 0
		if err := l.local.ScanRange(p, prefixEnd(p), false, func(_, _ []byte) error { n++; return nil }); err != nil {
			return fmt.Errorf("tenanttraffic: prune logs: %w", err)
		}
		l.pruned.Add(int64(max(0, l.counts[slug]-n)))
		if n == 0 {
			delete(l.counts, slug)
		} else {
			l.counts[slug] = n
		}
	}
	return nil
}

// LogStats are the store's counters, for metrics.
type LogStats struct {
	Written, Dropped, Pruned int64
}

// Stats returns the store's counters.
func (l *LogStore) Stats() LogStats {
	return LogStats{Written: l.written.Load(), Dropped: l.dropped.Load(), Pruned: l.pruned.Load()}
}

// localEntry is an entry with its place in the cluster-wide order.
type localEntry struct {
	NS  int64  `json:"ns"`
	Seq uint64 `json:"seq"`
	stored
}

// query returns slug's newest entries after since and strictly before
// before (in the cluster order, this node being node) that match f, at
// most limit, and whether more match. Buffered entries are written
// first, so a read sees every request this node answered.
func (l *LogStore) query(node, slug string, since int64, before *position, f filter, limit int) ([]localEntry, bool, error) {
	if err := l.Flush(); err != nil {
		return nil, false, err
	}
	p := tenantPrefix(slug)
	since = max(since, l.opts.Now().Add(-l.opts.Retention).UnixNano(), 0)
	lower := binary.BigEndian.AppendUint64(tenantPrefix(slug), uint64(since))
	upper := prefixEnd(p)
	if before != nil {
		upper = binary.BigEndian.AppendUint64(tenantPrefix(slug), uint64(before.NS)+1)
	}
	var (
		out  []localEntry
		more bool
	)
	err := l.local.ScanRange(lower, upper, true, func(k, v []byte) error {
		if len(k) < 16 {
			return nil
		}
		e := localEntry{NS: int64(binary.BigEndian.Uint64(k[len(k)-16:])), Seq: binary.BigEndian.Uint64(k[len(k)-8:])}
		if before != nil && !before.after(position{NS: e.NS, Node: node, Seq: e.Seq}) {
			return nil
		}
		if err := json.Unmarshal(v, &e.stored); err != nil || !f.match(e.stored) {
			return nil
		}
		if len(out) == limit {
			more = true
			return errStop
		}
		out = append(out, e)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, false, fmt.Errorf("tenanttraffic: read logs: %w", err)
	}
	return out, more, nil
}
