package tenant

import (
	"errors"
	"fmt"
	"testing"
)

// TestEscalationMatrix is issue 14's rules as one table: every caller
// role (and the operator) × every action × every target role, including
// self-actions and the last owner. Each want string has one character per
// target role, or per new role for update-role, in the order viewer,
// editor, admin, owner: '.' allowed, F too low a role, E escalation,
// S self, L last owner.
func TestEscalationMatrix(t *testing.T) {
	const (
		V, Ed, A, O, Op = Viewer, Editor, Admin, Owner, Operator
	)
	type row struct {
		caller Role
		action string // an Action, or "remove", "remove-self", "remove-last", "role:<target>", "role-self", "role-last"
		want   string
	}
	rows := []row{
		// Actions without a target: the same answer for every target.
		{V, "read", "...."}, {Ed, "read", "...."}, {A, "read", "...."}, {O, "read", "...."}, {Op, "read", "...."},
		{V, "configure", "FFFF"}, {Ed, "configure", "...."}, {A, "configure", "...."}, {O, "configure", "...."}, {Op, "configure", "...."},
		{V, "refresh-cache", "FFFF"}, {Ed, "refresh-cache", "...."}, {A, "refresh-cache", "...."}, {O, "refresh-cache", "...."}, {Op, "refresh-cache", "...."},
		{V, "webhook-secret", "FFFF"}, {Ed, "webhook-secret", "...."}, {A, "webhook-secret", "...."}, {O, "webhook-secret", "...."}, {Op, "webhook-secret", "...."},
		{V, "rotate-secret", "FFFF"}, {Ed, "rotate-secret", "FFFF"}, {A, "rotate-secret", "...."}, {O, "rotate-secret", "...."}, {Op, "rotate-secret", "...."},
		{V, "webhooks-read", "FFFF"}, {Ed, "webhooks-read", "...."}, {A, "webhooks-read", "...."}, {O, "webhooks-read", "...."}, {Op, "webhooks-read", "...."},
		{V, "webhooks", "FFFF"}, {Ed, "webhooks", "FFFF"}, {A, "webhooks", "...."}, {O, "webhooks", "...."}, {Op, "webhooks", "...."},
		{V, "delete", "FFFF"}, {Ed, "delete", "FFFF"}, {A, "delete", "FFFF"}, {O, "delete", "...."}, {Op, "delete", "...."},
		// Invite: the target is the role invited.
		{V, "invite", "FFFF"}, {Ed, "invite", "FFFF"}, {A, "invite", "...E"}, {O, "invite", "...."}, {Op, "invite", "...."},
		// Remove another member, two owners in the tenant.
		{V, "remove", "FFFF"}, {Ed, "remove", "FFFF"}, {A, "remove", "..EE"}, {O, "remove", "...."}, {Op, "remove", "...."},
		// Remove yourself (the target is your own role; owners = 2).
		{V, "remove-self", "FFFF"}, {Ed, "remove-self", "FFFF"}, {A, "remove-self", "SSSS"}, {O, "remove-self", "SSSS"},
		// Remove a member while the tenant has one owner (not yourself).
		{V, "remove-last", "FFFF"}, {Ed, "remove-last", "FFFF"}, {A, "remove-last", "..EL"}, {Op, "remove-last", "...L"},
		// Update another member's role, two owners in the tenant; the
		// want string runs over the new role.
		{V, "role:viewer", "FFFF"}, {V, "role:owner", "FFFF"},
		{Ed, "role:viewer", "FFFF"}, {Ed, "role:editor", "FFFF"},
		{A, "role:viewer", "...E"}, {A, "role:editor", "...E"}, {A, "role:admin", "EEEE"}, {A, "role:owner", "EEEE"},
		{O, "role:viewer", "...."}, {O, "role:editor", "...."}, {O, "role:admin", "...."}, {O, "role:owner", "EEEE"},
		{Op, "role:viewer", "...."}, {Op, "role:editor", "...."}, {Op, "role:admin", "...."}, {Op, "role:owner", "...."},
		// Change your own role (target is your role; want over new role).
		{V, "role-self", "FFFF"}, {Ed, "role-self", "FFFF"}, {A, "role-self", "SSSS"}, {O, "role-self", "SSSS"},
		// Change the only owner's role (not yourself).
		{A, "role-last", "EEEE"}, {Op, "role-last", "LLL."},
	}
	roles := []Role{Viewer, Editor, Admin, Owner}
	code := func(err error) byte {
		switch {
		case err == nil:
			return '.'
		case errors.Is(err, ErrSelf):
			return 'S'
		case errors.Is(err, ErrLastOwner):
			return 'L'
		case errors.Is(err, ErrEscalation):
			return 'E'
		case errors.Is(err, ErrForbidden):
			return 'F'
		}
		return '?'
	}
	for _, r := range rows {
		t.Run(fmt.Sprintf("%d/%s", r.caller, r.action), func(t *testing.T) {
			got := make([]byte, 4)
			for i, x := range roles {
				var err error
				switch r.action {
				case "invite":
					err = CanInvite(r.caller, x)
				case "remove":
					err = CanRemove(r.caller, false, x, 2)
				case "remove-self":
					err = CanRemove(r.caller, true, r.caller, 2)
				case "remove-last":
					err = CanRemove(r.caller, false, x, 1)
				case "role-self":
					err = CanUpdateRole(r.caller, true, r.caller, x, 2)
				case "role-last":
					err = CanUpdateRole(r.caller, false, Owner, x, 1)
				default:
					if target, ok := cutRole(r.action); ok {
						err = CanUpdateRole(r.caller, false, target, x, 2)
					} else {
						err = Allow(r.caller, Action(r.action))
					}
				}
				got[i] = code(err)
			}
			if string(got) != r.want {
				t.Errorf("caller %d, %s: got %s, want %s", r.caller, r.action, got, r.want)
			}
		})
	}
}

func cutRole(action string) (Role, bool) {
	if len(action) < 6 || action[:5] != "role:" {
		return NoRole, false
	}
	r, err := ParseRole(action[5:])
	return r, err == nil
}

func TestRoleText(t *testing.T) {
	for r := Viewer; r <= Owner; r++ {
		b, _ := r.MarshalText()
		var back Role
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Fatalf("%v: %s → %v, %v", r, b, back, err)
		}
	}
	for _, bad := range []string{"", "operator", "Owner", "root"} {
		if _, err := ParseRole(bad); !errors.Is(err, ErrBadRole) {
			t.Errorf("ParseRole(%q) = %v", bad, err)
		}
	}
}
