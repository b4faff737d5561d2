package tenant

// Role is a member's standing in one tenant. Roles are ordered:
// viewer < editor < admin < owner; the zero value is no role at all.
type Role int

// The roles, in order. Their names are what the API and state carry.
const (
	NoRole Role = iota
	Viewer
	Editor
	Admin
	Owner
)

var roleNames = [...]string{"", "viewer", "editor", "admin", "owner"}

// String returns the role's API name ("" for NoRole).
func (r Role) String() string {
	if r < NoRole || r > Owner {
		return ""
	}
	return roleNames[r]
}

// ParseRole returns the role named s, or ErrBadRole.
func ParseRole(s string) (Role, error) {
	for r := Viewer; r <= Owner; r++ {
		if roleNames[r] == s {
			return r, nil
		}
	}
	return NoRole, ErrBadRole
}

// MarshalText stores roles by name, so state and the API read the same.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role by name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Action is something a caller does to a tenant. The role an action needs
// is issue 14's table; Need holds it.
type Action string

// The actions. Member actions also go through the target rules below.
const (
	ActRead          Action = "read"           // config, members, audit
	ActConfigure     Action = "configure"      // PUT tenant, api-config, api-token
	ActRefreshCache  Action = "refresh-cache"  // refresh-cache, edge-config
	ActWebhookSecret Action = "webhook-secret" // POST webhook-secret (idempotent)
	ActRotateSecret  Action = "rotate-secret"  // PUT webhook-secret
	ActWebhooksRead  Action = "webhooks-read"  // list cache-refresh webhooks, their events
	ActWebhooks      Action = "webhooks"       // create, regenerate, delete them
	ActInvite        Action = "invite"         // members/invite, revoke-invite
	ActRemove        Action = "remove"         // members/remove
	ActUpdateRole    Action = "update-role"    // members/update-role
	ActDelete        Action = "delete"         // DELETE tenant
)

// need is the lowest role allowed to take each action.
var need = map[Action]Role{
	ActRead:          Viewer,
	ActConfigure:     Editor,
	ActRefreshCache:  Editor,
	ActWebhookSecret: Editor,
	ActRotateSecret:  Admin,
	ActWebhooksRead:  Editor,
	ActWebhooks:      Admin,
	ActInvite:        Admin,
	ActRemove:        Admin,
	ActUpdateRole:    Admin,
	ActDelete:        Owner,
}

// Need returns the lowest role that may take a; an unknown action needs
// more than any role has.
func Need(a Action) Role {
	if r, ok := need[a]; ok {
		return r
	}
	return Owner + 1
}

// Allow reports whether a caller of role caller may take action a at all:
// nil, or ErrForbidden.
func Allow(caller Role, a Action) error {
	if caller < Need(a) {
		return ErrForbidden
	}
	return nil
}

// Operator is the caller role of the operator's admin token: the seed's
// master admin, above every member role. The operator is never a member,
// so never "self", and is never stored.
const Operator = Owner + 1

// CanInvite applies the invite rules: admins and owners invite, and only
// an owner may invite an owner.
func CanInvite(caller, role Role) error {
	if err := Allow(caller, ActInvite); err != nil {
		return err
	}
	if role == Owner && caller < Owner {
		return ErrEscalation
	}
	return nil
}

// CanRemove applies the removal rules: admins and owners remove, never
// themselves, never the last owner, and never a member whose role is equal
// to or higher than theirs unless they are an owner. owners counts the
// tenant's owners.
func CanRemove(caller Role, self bool, target Role, owners int) error {
	if err := Allow(caller, ActRemove); err != nil {
		return err
	}
	switch {
	case self:
		return ErrSelf
	case target == Owner && owners <= 1:
		return ErrLastOwner
	case target >= caller && caller < Owner:
		return ErrEscalation
	}
	return nil
}

// CanUpdateRole applies the role-change rules: admins and owners change
// roles, never their own, only an owner assigns owner, and nobody acts on
// a member whose role is equal to or higher than theirs (so an owner's
// role is changed only by the operator). The last owner is never demoted.
// owners counts the tenant's owners.
func CanUpdateRole(caller Role, self bool, target, role Role, owners int) error {
	if err := Allow(caller, ActUpdateRole); err != nil {
		return err
	}
	switch {
	case self:
		return ErrSelf
	case role == Owner && caller < Owner:
		return ErrEscalation
	case target >= caller:
		return ErrEscalation
	case target == Owner && role != Owner && owners <= 1:
		return ErrLastOwner
	}
	return nil
}
