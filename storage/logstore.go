package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/hashicorp/raft"
)

var _ raft.LogStore = (*LogStore)(nil)

// LogStore is raft's log, kept under "l/" + 8-byte big-endian index so that
// key order is index order. Every write is synced before it returns, because
// raft acknowledges entries to the leader on the strength of it. Safe for
// concurrent use.
type LogStore struct{ db *DB }

// FirstIndex returns the lowest stored index, or 0 if the log is empty.
// Safe for concurrent use.
func (s *LogStore) FirstIndex() (uint64, error) {
	idx, err := s.edge(true)
	if err != nil {
		return 0, fmt.Errorf("storage: first index: %w", err)
	}
	return idx, nil
}

// LastIndex returns the highest stored index, or 0 if the log is empty.
// Safe for concurrent use.
func (s *LogStore) LastIndex() (uint64, error) {
	idx, err := s.edge(false)
	if err != nil {
		return 0, fmt.Errorf("storage: last index: %w", err)
	}
	return idx, nil
}

func (s *LogStore) edge(first bool) (idx uint64, err error) {
	pdb, err := s.db.acquire()
	if err != nil {
		return 0, err
	}
	defer s.db.release()
	it, err := pdb.NewIter(&pebble.IterOptions{LowerBound: prefixLog, UpperBound: prefixEnd(prefixLog)})
	if err != nil {
		return 0, err
	}
	var ok bool
	if first {
		ok = it.First()
	} else {
		ok = it.Last()
	}
	if ok {
		idx, err = parseLogKey(it.Key())
	}
	return idx, errors.Join(err, it.Close())
}

// GetLog fills log with the entry at index. A missing index yields exactly
// raft.ErrLogNotFound (unwrapped: raft compares with ==). Safe for
// concurrent use.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: get log %d: %w", index, err)
	}
	defer s.db.release()
	v, closer, err := pdb.Get(logKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return fmt.Errorf("storage: get log %d: %w", index, err)
	}
	// decodeLog copies, so v may be released right after.
	err = decodeLog(v, log)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err == nil && log.Index != index {
		err = fmt.Errorf("entry stored under wrong key (holds index %d)", log.Index)
	}
	if err != nil {
		return fmt.Errorf("storage: get log %d: %w", index, err)
	}
	return nil
}

// StoreLog stores one entry durably. Safe for concurrent use.
func (s *LogStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores entries in one synced batch: after a crash either all of
// them are present or none. Safe for concurrent use.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: store logs %d..: %w", logs[0].Index, err)
	}
	defer s.db.release()
	b := pdb.NewBatch()
	defer b.Close()
	var key [10]byte
	var val []byte
	for _, l := range logs {
		val = encodeLog(val[:0], l)
		if err := b.Set(putLogKey(key[:], l.Index), val, nil); err != nil { // Set copies
			return fmt.Errorf("storage: store log %d: %w", l.Index, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("storage: store logs %d..%d: %w", logs[0].Index, logs[len(logs)-1].Index, err)
	}
	return nil
}

// DeleteRange removes entries min through max, both inclusive (Pebble's end
// bound is exclusive, hence max+1). It uses a range tombstone, so its cost
// does not grow with the number of entries. Safe for concurrent use.
func (s *LogStore) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	pdb, err := s.db.acquire()
	if err != nil {
		return fmt.Errorf("storage: delete logs %d..%d: %w", min, max, err)
	}
	defer s.db.release()
	end := prefixEnd(prefixLog)
	if max < math.MaxUint64 {
		end = logKey(max + 1)
	}
	if err := pdb.DeleteRange(logKey(min), end, pebble.Sync); err != nil {
		return fmt.Errorf("storage: delete logs %d..%d: %w", min, max, err)
	}
	return nil
}

func logKey(index uint64) []byte { return putLogKey(make([]byte, 10), index) }

// putLogKey writes the key of index into dst, which must hold 10 bytes.
func putLogKey(dst []byte, index uint64) []byte {
	copy(dst, prefixLog)
	binary.BigEndian.PutUint64(dst[2:10], index)
	return dst[:10]
}

func parseLogKey(k []byte) (uint64, error) {
	if len(k) != 10 {
		return 0, fmt.Errorf("malformed log key %q", k)
	}
	return binary.BigEndian.Uint64(k[2:]), nil
}

// logCodecV1 is the first byte of every encoded entry. The layout after it:
//
//	uvarint index, uvarint term, byte type,
//	uvarint len(data), data, uvarint len(extensions), extensions,
//	byte 0 (AppendedAt zero) | byte 1, varint unix seconds, uvarint nanoseconds
//
// A new layout must take a new version byte; decodeLog rejects unknown ones.
const logCodecV1 = 1

// encodeLog appends the encoding of l to dst. It is hand-written rather than
// gob or msgpack because it is on raft's hot path and must stay stable.
func encodeLog(dst []byte, l *raft.Log) []byte {
	dst = append(dst, logCodecV1)
	dst = binary.AppendUvarint(dst, l.Index)
	dst = binary.AppendUvarint(dst, l.Term)
	dst = append(dst, byte(l.Type))
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	dst = append(dst, l.Extensions...)
	if l.AppendedAt.IsZero() {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = binary.AppendVarint(dst, l.AppendedAt.Unix())
	return binary.AppendUvarint(dst, uint64(l.AppendedAt.Nanosecond()))
}

// decodeLog overwrites l with the entry encoded in b. It copies Data and
// Extensions, so b may be reused afterwards, and never panics on malformed
// input.
func decodeLog(b []byte, l *raft.Log) error {
	d := decoder{b: b}
	if v := d.byte(); d.err == nil && v != logCodecV1 {
		return fmt.Errorf("decode log: unknown version %d", v)
	}
	index, term, typ := d.uvarint(), d.uvarint(), d.byte()
	data := d.bytes()
	ext := d.bytes()
	var at time.Time
	switch flag := d.byte(); {
	case d.err != nil, flag == 0:
	case flag == 1:
		sec, nsec := d.varint(), d.uvarint()
		if d.err == nil && nsec >= uint64(time.Second) {
			d.err = errors.New("nanoseconds out of range")
		}
		at = time.Unix(sec, int64(nsec))
	default:
		d.err = fmt.Errorf("bad time flag %d", flag)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decode log: %w", d.err)
	}
	*l = raft.Log{
		Index:      index,
		Term:       term,
		Type:       raft.LogType(typ),
		Data:       clone(data),
		Extensions: clone(ext),
		AppendedAt: at,
	}
	return nil
}

// clone copies b, mapping empty to nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// decoder reads from b, remembering the first error so that callers check
// once at the end; after an error every read returns zero.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errTruncated
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes reads a uvarint length and that many bytes, aliasing d.b.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errTruncated
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
