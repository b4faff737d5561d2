package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble"
)

// Snapshot stream format, version 1:
//
//	"RCSNAP" | byte 1 | uvarint applied index
//	then per state key, in ascending order:
//	    byte 1 | uvarint len(key) | key | uvarint len(value) | value
//	then byte 0 (end marker)
//	then CRC-32C (Castagnoli) of every preceding byte, 4 bytes big-endian.
//
// Keys are without the internal "f/" prefix. Nothing may follow the CRC.
const (
	snapMagic    = "RCSNAP"
	snapVersion  = 1
	recEntry     = 1
	recEnd       = 0
	snapChunk    = 1 << 20 // bytes encoded per visit to Pebble in WriteTo
	restoreBatch = 4 << 20 // bytes per committed batch in Restore

	restoreTempPattern = "restore-*.tmp"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Snapshot is a point-in-time view of the state and its applied index, for
// raft to persist while Apply carries on. Close it when done; DB.Close
// closes any still open. Safe for concurrent use.
type Snapshot struct {
	db    *DB
	index uint64

	mu sync.Mutex
	ps *pebble.Snapshot // nil once closed
}

// Snapshot pins the current state and applied index. Pebble snapshots are
// cheap, but they hold back compaction of overwritten data until closed.
// Safe for concurrent use.
func (s *State) Snapshot() (*Snapshot, error) {
	pdb, err := s.db.acquire()
	if err != nil {
		return nil, fmt.Errorf("storage: snapshot: %w", err)
	}
	defer s.db.release()
	ps := pdb.NewSnapshot()
	idx, err := readApplied(ps)
	if err != nil {
		ps.Close()
		return nil, fmt.Errorf("storage: snapshot: %w", err)
	}
	sn := &Snapshot{db: s.db, index: idx, ps: ps}
	s.db.mu.Lock()
	s.db.snaps[sn] = struct{}{}
	s.db.mu.Unlock()
	return sn, nil
}

// Index returns the applied index the snapshot reflects. Safe for
// concurrent use.
func (sn *Snapshot) Index() uint64 { return sn.index }

// Close releases the snapshot. It is idempotent and returns nil after
// DB.Close, which has already released it. Safe for concurrent use.
func (sn *Snapshot) Close() error {
	if _, err := sn.db.acquire(); err != nil {
		return nil
	}
	defer sn.db.release()
	sn.db.mu.Lock()
	delete(sn.db.snaps, sn)
	sn.db.mu.Unlock()
	if err := sn.release(); err != nil {
		return fmt.Errorf("storage: close snapshot: %w", err)
	}
	return nil
}

// release closes the Pebble snapshot; the DB must still be open.
func (sn *Snapshot) release() error {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.ps == nil {
		return nil
	}
	err := sn.ps.Close()
	sn.ps = nil
	return err
}

// WriteTo streams the snapshot to w in the format Restore reads. It visits
// Pebble in chunks and writes to w between them, so a slow w never holds
// up DB.Close (WriteTo then fails with ErrClosed). Safe for concurrent use.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	crc := crc32.New(crcTable)
	out := io.MultiWriter(cw, crc)

	buf := append([]byte(snapMagic), snapVersion)
	buf = binary.AppendUvarint(buf, sn.index)
	start := prefixState
	for start != nil {
		var err error
		buf, start, err = sn.chunk(buf, start)
		if err != nil {
			return cw.n, fmt.Errorf("storage: write snapshot %d: %w", sn.index, err)
		}
		if start == nil {
			buf = append(buf, recEnd)
		}
		if _, err := out.Write(buf); err != nil {
			return cw.n, fmt.Errorf("storage: write snapshot %d: %w", sn.index, err)
		}
		buf = buf[:0]
	}
	if _, err := cw.Write(binary.BigEndian.AppendUint32(buf, crc.Sum32())); err != nil {
		return cw.n, fmt.Errorf("storage: write snapshot %d: %w", sn.index, err)
	}
	return cw.n, nil
}

// chunk appends to buf the records of keys from start on, stopping after
// about snapChunk bytes; next is the key to continue from, nil at the end.
func (sn *Snapshot) chunk(buf, start []byte) (_, next []byte, err error) {
	if _, err := sn.db.acquire(); err != nil {
		return buf, nil, err
	}
	defer sn.db.release()
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.ps == nil {
		return buf, nil, fmt.Errorf("snapshot closed: %w", ErrClosed)
	}
	it, err := sn.ps.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: prefixEnd(prefixState)})
	if err != nil {
		return buf, nil, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return buf, nil, err
		}
		k := it.Key()[len(prefixState):]
		buf = append(buf, recEntry)
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
		if len(buf) >= snapChunk {
			next = append(withPrefix(prefixState, k), 0) // smallest key after k
			break
		}
	}
	return buf, next, it.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore replaces the whole state and applied index with a stream written
// by Snapshot.WriteTo. The stream is first copied to a temporary file in the
// DB directory while it is fully validated (magic, version, lengths, CRC,
// nothing trailing), so a bad or truncated stream is rejected with the
// current state untouched; only then is the state rewritten, in batches of
// about 4 MiB so a huge stream never sits in memory. A crash during the
// rewrite leaves a marker that makes the next Open start from an empty
// state with applied index 0, never a half-restored one. The spool needs
// free disk for one copy of the stream. Readers running concurrently may
// see a mix of old and new state until Restore returns. Safe for
// concurrent use; serialised with Apply, and DB.Close waits for it.
func (s *State) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	defer s.db.release()

	f, err := os.CreateTemp(s.db.dir, restoreTempPattern)
	if err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	spool := bufio.NewWriterSize(f, 256<<10)
	if _, err := readSnapshot(io.TeeReader(r, spool), nil); err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	if err := spool.Flush(); err != nil {
		return fmt.Errorf("storage: restore: spool: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("storage: restore: spool: %w", err)
	}

	idx, err := s.rewrite(pdb, f)
	if err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	s.applied.Store(idx)
	return nil
}

// rewrite replaces the state with the validated stream in r and returns its
// applied index.
func (s *State) rewrite(pdb *pebble.DB, r io.Reader) (uint64, error) {
	b := pdb.NewBatch()
	defer func() { b.Close() }()
	// The first batch marks the restore as in progress and drops the old
	// state; keys set later in the same batch survive the range deletion
	// because they get higher sequence numbers.
	if err := b.Set(keyRestoring, nil, nil); err != nil {
		return 0, err
	}
	if err := resetState(b); err != nil {
		return 0, err
	}
	committed := false
	idx, err := readSnapshot(r, func(k, v []byte) error {
		if err := b.Set(withPrefix(prefixState, k), v, nil); err != nil {
			return err
		}
		if b.Len() < restoreBatch {
			return nil
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		committed = true
		b.Close()
		b = pdb.NewBatch()
		return nil
	})
	if err == nil {
		err = b.Set(keyApplied, binary.BigEndian.AppendUint64(nil, idx), nil)
	}
	if err == nil {
		err = b.Delete(keyRestoring, nil)
	}
	if err == nil {
		err = b.Commit(pebble.Sync)
	}
	if err != nil && committed {
		// The old state is gone; leave an empty one rather than a partial.
		s.applied.Store(0)
		return 0, errors.Join(err, s.discard(pdb))
	}
	return idx, err
}

// discard empties the state and clears the restore marker.
func (s *State) discard(pdb *pebble.DB) error {
	b := pdb.NewBatch()
	defer b.Close()
	if err := resetState(b); err != nil {
		return err
	}
	if err := b.Delete(keyRestoring, nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// readSnapshot parses and validates a snapshot stream, calling put (if not
// nil) for each entry with slices valid only during the call, and returns
// the applied index. put's effects stand even if validation fails later.
func readSnapshot(r io.Reader, put func(k, v []byte) error) (uint64, error) {
	cr := &crcReader{r: bufio.NewReaderSize(r, 64<<10)}
	head := make([]byte, len(snapMagic)+1)
	if _, err := io.ReadFull(cr, head); err != nil {
		return 0, truncated("header", err)
	}
	if !bytes.Equal(head[:len(snapMagic)], []byte(snapMagic)) {
		return 0, errors.New("not a snapshot: bad magic")
	}
	if v := head[len(snapMagic)]; v != snapVersion {
		return 0, fmt.Errorf("unsupported snapshot version %d", v)
	}
	idx, err := binary.ReadUvarint(cr)
	if err != nil {
		return 0, truncated("applied index", err)
	}
	var key, val []byte
	for n := 0; ; n++ {
		tag, err := cr.ReadByte()
		if err != nil {
			return 0, truncated("record", err)
		}
		if tag == recEnd {
			break
		}
		if tag != recEntry {
			return 0, fmt.Errorf("record %d: bad tag %d", n, tag)
		}
		if key, err = readBytes(cr, key, maxKeyLen); err != nil {
			return 0, fmt.Errorf("record %d: key: %w", n, err)
		}
		if val, err = readBytes(cr, val, maxValueLen); err != nil {
			return 0, fmt.Errorf("record %d: value: %w", n, err)
		}
		if put != nil {
			if err := put(key, val); err != nil {
				return 0, err
			}
		}
	}
	sum := cr.sum
	var trailer [4]byte
	if _, err := io.ReadFull(cr.r, trailer[:]); err != nil {
		return 0, truncated("checksum", err)
	}
	if got := binary.BigEndian.Uint32(trailer[:]); got != sum {
		return 0, fmt.Errorf("checksum mismatch: stream says %08x, content is %08x", got, sum)
	}
	if _, err := cr.r.ReadByte(); err != io.EOF {
		if err != nil {
			return 0, fmt.Errorf("after checksum: %w", err)
		}
		return 0, errors.New("trailing data after checksum")
	}
	return idx, nil
}

// readBytes reads a uvarint length (at most max) and that many bytes into
// buf, growing it a chunk at a time so that a corrupt length in a short
// stream fails on EOF instead of allocating the claimed size up front.
func readBytes(r *crcReader, buf []byte, max uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return buf, truncated("length", err)
	}
	if n > max {
		return buf, fmt.Errorf("length %d over the limit %d", n, max)
	}
	buf = buf[:0]
	for rem := int(n); rem > 0; {
		c := min(rem, 1<<20)
		buf = slices.Grow(buf, c)
		if _, err := io.ReadFull(r, buf[len(buf):len(buf)+c]); err != nil {
			return buf, truncated("data", err)
		}
		buf = buf[:len(buf)+c]
		rem -= c
	}
	return buf, nil
}

func truncated(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%s: %w", what, errTruncated)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// crcReader checksums everything read through it.
type crcReader struct {
	r   *bufio.Reader
	sum uint32
	one [1]byte
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.sum = crc32.Update(c.sum, crcTable, p[:n])
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.one[0] = b
		c.sum = crc32.Update(c.sum, crcTable, c.one[:])
	}
	return b, err
}
