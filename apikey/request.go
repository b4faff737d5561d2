package apikey

import "time"

// Request is the JSON body that asks for a new key, on the operator's
// route and the account's own alike.
type Request struct {
	Name      string     `json:"name"`
	Roles     []string   `json:"roles"`
	ExpiresAt *time.Time `json:"expiresAt"`
	// Mode is "live" (default) or "test" (rk_test_ keys for the asset
	// CDN's test mode).
	Mode string `json:"mode"`
}

// Input returns the request as Service.Create takes it, or ErrBadMode.
func (r Request) Input() (NewKeyInput, error) {
	in := NewKeyInput{Name: r.Name, Roles: r.Roles, ExpiresAt: r.ExpiresAt}
	switch r.Mode {
	case "", "live":
	case "test":
		in.Test = true
	default:
		return in, ErrBadMode
	}
	return in, nil
}
