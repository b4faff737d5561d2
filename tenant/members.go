package tenant

import (
	"errors"
	"fmt"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
)

type inviteRequest struct {
	Actor     Actor     `json:"actor"`
	Slug      string    `json:"slug"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	TokenHash string    `json:"tokenHash"`
	ExpiresAt time.Time `json:"expiresAt"`
	At        time.Time `json:"at"`
}

// inviteRef is what a token hash points at.
type inviteRef struct {
	Slug string `json:"slug"`
	ID   int64  `json:"id"`
}

// applyInvite creates an invite, or refreshes the pending one for the same
// email: same id, new role, token and expiry (the old token dies).
func applyInvite(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req inviteRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, role, err := authorize(tx, req.Slug, req.Actor, ActInvite)
	if err != nil {
		return nil, err
	}
	if err := CanInvite(role, req.Role); err != nil {
		return nil, err
	}
	inv := storedInvite{Invite: Invite{Email: req.Email, Role: req.Role, InvitedBy: req.Actor.id(), ExpiresAt: req.ExpiresAt, CreatedAt: req.At}, TokenHash: req.TokenHash}
	id, err := record.Get[int64](tx, prefixInviteEmail+t.Slug+"/"+req.Email, ErrInviteNotFound)
	switch {
	case err == nil:
		old, err := record.Get[storedInvite](tx, inviteKey(t.Slug, id), ErrInviteNotFound)
		if err != nil {
			return nil, err
		}
		if err := tx.Delete([]byte(prefixInviteToken + old.TokenHash)); err != nil {
			return nil, err
		}
		inv.ID = id
	case errors.Is(err, ErrInviteNotFound):
		n, err := record.Count(tx, invitePrefix(t.Slug))
		if err != nil {
			return nil, err
		}
		if n >= MaxInvites {
			return nil, ErrTooMany
		}
		seq, err := nextSeq(tx, keyInviteSeq)
		if err != nil {
			return nil, err
		}
		inv.ID = int64(seq)
	default:
		return nil, err
	}
	if err := record.Put(tx, inviteKey(t.Slug, inv.ID), inv); err != nil {
		return nil, err
	}
	if err := record.Put(tx, prefixInviteEmail+t.Slug+"/"+inv.Email, inv.ID); err != nil {
		return nil, err
	}
	if err := record.Put(tx, prefixInviteToken+inv.TokenHash, inviteRef{Slug: t.Slug, ID: inv.ID}); err != nil {
		return nil, err
	}
	detail := map[string]string{"email": inv.Email, "role": inv.Role.String(), "inviteId": fmt.Sprint(inv.ID)}
	return inv.Invite, audit(tx, t.Slug, "member.invite", req.Actor, inv.Email, detail, req.At)
}

func dropInvite(tx *storage.Tx, slug string, inv storedInvite) error {
	if err := tx.Delete([]byte(prefixInviteToken + inv.TokenHash)); err != nil {
		return err
	}
	if err := tx.Delete([]byte(prefixInviteEmail + slug + "/" + inv.Email)); err != nil {
		return err
	}
	return tx.Delete([]byte(inviteKey(slug, inv.ID)))
}

type revokeRequest struct {
	Actor    Actor     `json:"actor"`
	Slug     string    `json:"slug"`
	InviteID int64     `json:"inviteId"`
	At       time.Time `json:"at"`
}

func applyRevokeInvite(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req revokeRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActInvite)
	if err != nil {
		return nil, err
	}
	inv, err := record.Get[storedInvite](tx, inviteKey(t.Slug, req.InviteID), ErrInviteNotFound)
	if err != nil {
		return nil, err
	}
	if err := dropInvite(tx, t.Slug, inv); err != nil {
		return nil, err
	}
	return nil, audit(tx, t.Slug, "member.revoke-invite", req.Actor, inv.Email, map[string]string{"inviteId": fmt.Sprint(inv.ID)}, req.At)
}

type acceptRequest struct {
	AccountID string    `json:"accountId"`
	TokenHash string    `json:"tokenHash"`
	At        time.Time `json:"at"`
}

// AcceptResult is what accepting an invite made of the account.
type AcceptResult struct {
	Slug   string `json:"slug"`
	Key    string `json:"key"`
	Member Member `json:"member"`
}

func applyAccept(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req acceptRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	ref, err := record.Get[inviteRef](tx, prefixInviteToken+req.TokenHash, ErrInviteNotFound)
	if err != nil {
		return nil, err
	}
	inv, err := record.Get[storedInvite](tx, inviteKey(ref.Slug, ref.ID), ErrInviteNotFound)
	if err != nil {
		return nil, err
	}
	if !req.At.Before(inv.ExpiresAt) {
		return nil, ErrInviteNotFound
	}
	a, err := account.Lookup(tx, req.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Email != inv.Email {
		return nil, ErrInviteEmail
	}
	if ok, err := record.Exists(tx, memberPrefix(ref.Slug)+a.ID); err != nil {
		return nil, err
	} else if ok {
		return nil, ErrAlreadyMember
	}
	if n, err := record.Count(tx, memberPrefix(ref.Slug)); err != nil {
		return nil, err
	} else if n >= MaxMembers {
		return nil, ErrTooMany
	}
	m := Member{UserID: a.ID, Role: inv.Role, CreatedAt: req.At, UpdatedAt: req.At}
	if err := putMember(tx, ref.Slug, m); err != nil {
		return nil, err
	}
	if err := dropInvite(tx, ref.Slug, inv); err != nil {
		return nil, err
	}
	actor := Actor{AccountID: a.ID}
	detail := map[string]string{"role": m.Role.String(), "inviteId": fmt.Sprint(inv.ID)}
	return AcceptResult{Slug: ref.Slug, Key: "tenant:" + ref.Slug, Member: m}, audit(tx, ref.Slug, "member.accept", actor, a.ID, detail, req.At)
}

type memberRequest struct {
	Actor  Actor     `json:"actor"`
	Slug   string    `json:"slug"`
	UserID string    `json:"userId"`
	Role   Role      `json:"role,omitempty"`
	At     time.Time `json:"at"`
}

// target returns the member req names and the tenant's owner count.
func target(tx *storage.Tx, slug, userID string) (Member, int, error) {
	m, err := record.Get[Member](tx, memberPrefix(slug)+userID, ErrMemberNotFound)
	if err != nil {
		return Member{}, 0, err
	}
	n, err := owners(tx, slug)
	return m, n, err
}

func applyRemove(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req memberRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, role, err := authorize(tx, req.Slug, req.Actor, ActRemove)
	if err != nil {
		return nil, err
	}
	m, n, err := target(tx, t.Slug, req.UserID)
	if err != nil {
		return nil, err
	}
	self := !req.Actor.Operator && req.Actor.AccountID == m.UserID
	if err := CanRemove(role, self, m.Role, n); err != nil {
		return nil, err
	}
	if err := deleteMember(tx, t.Slug, m.UserID); err != nil {
		return nil, err
	}
	return nil, audit(tx, t.Slug, "member.remove", req.Actor, m.UserID, map[string]string{"role": m.Role.String()}, req.At)
}

func applyUpdateRole(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req memberRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, role, err := authorize(tx, req.Slug, req.Actor, ActUpdateRole)
	if err != nil {
		return nil, err
	}
	m, n, err := target(tx, t.Slug, req.UserID)
	if err != nil {
		return nil, err
	}
	self := !req.Actor.Operator && req.Actor.AccountID == m.UserID
	if err := CanUpdateRole(role, self, m.Role, req.Role, n); err != nil {
		return nil, err
	}
	detail := map[string]string{"from": m.Role.String(), "to": req.Role.String()}
	m.Role, m.UpdatedAt = req.Role, req.At
	if err := putMember(tx, t.Slug, m); err != nil {
		return nil, err
	}
	return m, audit(tx, t.Slug, "member.update-role", req.Actor, m.UserID, detail, req.At)
}
