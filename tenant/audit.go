package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
)

// Audit pages: GET audit-events takes limit 1..MaxAuditPage, default
// DefaultAuditPage.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 200
)

// Event is one audit record. ID is monotonic across the cluster (a
// counter in replicated state, so every node assigns the same one), which
// is what keyset pagination walks. Detail never holds a secret's value.
type Event struct {
	ID        uint64            `json:"id"`
	Action    string            `json:"action"`
	ActorID   string            `json:"actorId"`
	Target    string            `json:"target,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
}

const (
	prefixAudit = "tenant-audit/" // tenant-audit/<slug>/<^id as %016x> → Event
	keyAuditSeq = "tenant-seq/audit"
)

func auditPrefix(slug string) string { return prefixAudit + slug + "/" }

// auditKey inverts the ID so that an ascending scan is newest first.
func auditKey(slug string, id uint64) string {
	return fmt.Sprintf("%s%016x", auditPrefix(slug), ^id)
}

// nextSeq bumps and returns the counter at key.
func nextSeq(tx *storage.Tx, key string) (uint64, error) {
	n, err := record.Get[uint64](tx, key, errNoSeq)
	if err != nil && err != errNoSeq {
		return 0, err
	}
	n++
	return n, record.Put(tx, key, n)
}

// audit appends an event to slug's log and drops what is past
// MaxAuditEvents. It runs inside the Apply of the change it records.
func audit(tx *storage.Tx, slug, action string, actor Actor, target string, detail map[string]string, at time.Time) error {
	id, err := nextSeq(tx, keyAuditSeq)
	if err != nil {
		return err
	}
	e := Event{ID: id, Action: action, ActorID: actor.id(), Target: target, Detail: detail, CreatedAt: at}
	if err := record.Put(tx, auditKey(slug, id), e); err != nil {
		return err
	}
	keys, err := record.Keys(tx, auditPrefix(slug))
	if err != nil {
		return err
	}
	for _, k := range keys[min(len(keys), MaxAuditEvents):] {
		if err := tx.Delete([]byte(auditPrefix(slug) + k)); err != nil {
			return err
		}
	}
	return nil
}

// auditPage returns up to limit events of slug with ID < beforeID (every
// event when beforeID is 0), newest first, and whether older ones remain.
// One scan reads keys and values together, so events dropped by a
// concurrent write are never half-seen.
func auditPage(r record.Reader, slug string, limit int, beforeID uint64) ([]Event, bool, error) {
	out := []Event{}
	more := false
	prefix := auditPrefix(slug)
	var start string
	if beforeID > 0 {
		start = auditKey(slug, beforeID-1)[len(prefix):]
	}
	err := r.Scan([]byte(prefix), func(k, v []byte) error {
		if string(k[len(prefix):]) < start {
			return nil
		}
		if len(out) == limit {
			more = true
			return errStop
		}
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("audit event %s: %w", k, err)
		}
		out = append(out, e)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, false, err
	}
	return out, more, nil
}
