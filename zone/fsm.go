package zone

import (
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// State keys.
const (
	prefixZone    = "zone/"      // zone/<id> → Zone
	prefixName    = "zone-name/" // zone-name/<name> → id
	prefixAccount = "zone-acct/" // zone-acct/<account>/<mode>/<id> → ""
	prefixVersion = "zone-ver/"  // zone-ver/<id>/<h|s>/<kind>/<value> → uint64
)

// Commands. Each carries everything Apply needs, chosen before the
// proposal (IDs, times), so that Apply is deterministic.
const (
	cmdCreate = "zone.create"
	cmdPatch  = "zone.patch"
	cmdDelete = "zone.delete"
	cmdPurge  = "zone.purge"
)

// Register installs the zone commands in fsm.
func Register(fsm *consensus.FSM) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdPatch, applyPatch)
	fsm.Register(cmdDelete, applyDelete)
	fsm.Register(cmdPurge, applyPurge)
}

// ForAccount is the account.Cascade that deletes an account's zones of
// both modes with the account.
func ForAccount(tx *storage.Tx, accountID string) error {
	for _, m := range []Mode{Live, Test} {
		ids, err := record.Keys(tx, accountPrefix(accountID, m))
		if err != nil {
			return err
		}
		for _, id := range ids {
			z, err := record.Get[Zone](tx, prefixZone+id, ErrNotFound)
			if err != nil {
				return err
			}
			if err := deleteZone(tx, z); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ account.Cascade = ForAccount

func accountPrefix(accountID string, m Mode) string {
	return prefixAccount + accountID + "/" + string(m) + "/"
}

// Lookup returns a zone by ID from local state, whoever owns it.
func Lookup(r record.Reader, id string) (Zone, error) {
	if !ValidID(id) {
		return Zone{}, ErrNotFound
	}
	return record.Get[Zone](r, prefixZone+id, ErrNotFound)
}

// ByName returns the zone named name from local state, whoever owns it:
// the serve path maps <name>.<cdn-domain> with it.
func ByName(r record.Reader, name string) (Zone, error) {
	id, err := record.Get[string](r, prefixName+name, ErrNotFound)
	if err != nil {
		return Zone{}, err
	}
	return record.Get[Zone](r, prefixZone+id, ErrNotFound)
}

// Owned returns zone id if accountID owns it in mode m: another account's
// zone (or none) is ErrNotFound, the account's own zone of the other mode
// ErrOtherMode.
func Owned(r record.Reader, accountID string, m Mode, id string) (Zone, error) {
	z, err := Lookup(r, id)
	if err != nil {
		return Zone{}, err
	}
	if z.AccountID != accountID {
		return Zone{}, ErrNotFound
	}
	if z.Mode != m {
		return Zone{}, ErrOtherMode
	}
	return z, nil
}

// listLocal returns the account's zones of mode m in ID order.
func listLocal(r record.Reader, accountID string, m Mode) ([]Zone, error) {
	return record.Resolve[Zone](r, accountPrefix(accountID, m), prefixZone, ErrNotFound)
}

type createRequest struct {
	Zone    Zone `json:"zone"`
	Allowed int  `json:"allowed"`
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req createRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	z := req.Zone
	if _, err := account.Lookup(tx, z.AccountID); err != nil {
		return nil, err
	}
	if taken, err := record.Exists(tx, prefixName+z.Name); err != nil {
		return nil, err
	} else if taken {
		return nil, ErrTaken
	}
	if taken, err := record.Exists(tx, prefixZone+z.ID); err != nil {
		return nil, err
	} else if taken {
		return nil, ErrTaken
	}
	// Test zones are free: only live ones count against the plan.
	if z.Mode == Live {
		current, err := record.Count(tx, accountPrefix(z.AccountID, Live))
		if err != nil {
			return nil, err
		}
		if !plan.Allows(req.Allowed, current) {
			return nil, ErrZoneLimit.With(map[string]any{"current": current, "allowed": req.Allowed})
		}
	}
	if err := record.Put(tx, prefixZone+z.ID, z); err != nil {
		return nil, err
	}
	if err := record.Put(tx, prefixName+z.Name, z.ID); err != nil {
		return nil, err
	}
	return z, tx.Set([]byte(accountPrefix(z.AccountID, z.Mode)+z.ID), nil)
}

// Patch is a partial update: nil fields stay as they are.
type Patch struct {
	Name   *string `json:"name,omitempty"`
	Origin *string `json:"origin,omitempty"`
	Active *bool   `json:"active,omitempty"`
}

type patchRequest struct {
	AccountID string    `json:"accountId"`
	Mode      Mode      `json:"mode"`
	ID        string    `json:"id"`
	Patch     Patch     `json:"patch"`
	At        time.Time `json:"at"`
}

func applyPatch(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req patchRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	z, err := Owned(tx, req.AccountID, req.Mode, req.ID)
	if err != nil {
		return nil, err
	}
	before := z
	if p := req.Patch.Name; p != nil && *p != z.Name {
		if taken, err := record.Exists(tx, prefixName+*p); err != nil {
			return nil, err
		} else if taken {
			return nil, ErrTaken
		}
		if err := tx.Delete([]byte(prefixName + z.Name)); err != nil {
			return nil, err
		}
		if err := record.Put(tx, prefixName+*p, z.ID); err != nil {
			return nil, err
		}
		z.Name = *p
	}
	if p := req.Patch.Origin; p != nil {
		z.Origin = *p
	}
	if p := req.Patch.Active; p != nil {
		z.Active = *p
	}
	if z == before {
		return z, nil
	}
	z.Updated = req.At
	return z, record.Put(tx, prefixZone+z.ID, z)
}

type deleteRequest struct {
	AccountID string `json:"accountId"`
	Mode      Mode   `json:"mode"`
	ID        string `json:"id"`
}

func applyDelete(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req deleteRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	z, err := Owned(tx, req.AccountID, req.Mode, req.ID)
	if err != nil {
		return nil, err
	}
	return nil, deleteZone(tx, z)
}

func deleteZone(tx *storage.Tx, z Zone) error {
	if err := record.DeletePrefix(tx, prefixVersion+z.ID+"/"); err != nil {
		return err
	}
	if err := tx.Delete([]byte(prefixName + z.Name)); err != nil {
		return err
	}
	if err := tx.Delete([]byte(accountPrefix(z.AccountID, z.Mode) + z.ID)); err != nil {
		return err
	}
	return tx.Delete([]byte(prefixZone + z.ID))
}
