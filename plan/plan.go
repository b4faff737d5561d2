package plan

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
)

// Unlimited is the value of a count limit that has no bound.
const Unlimited = -1

var (
	// ErrUnknown means a plan name is not in the catalog.
	ErrUnknown = errors.New("unknown plan")
)

// Plan is the set of limits an account's subscription grants. Count limits
// use Unlimited (-1) for "no limit"; 0 means none allowed.
type Plan struct {
	Name           string `json:"name" yaml:"-"`
	Sites          int    `json:"sites" yaml:"sites"`
	MonthlyRenders int64  `json:"monthlyRenders" yaml:"monthlyRenders"`
	APIAccess      bool   `json:"apiAccess" yaml:"apiAccess"`
	WebhookTokens  bool   `json:"webhookTokens" yaml:"webhookTokens"`
	Tenants        int    `json:"tenants" yaml:"tenants"`
	Zones          int    `json:"zones" yaml:"zones"`
}

// Allows reports whether a count limit admits one more item when current
// items exist.
func Allows(limit, current int) bool {
	return limit == Unlimited || current < limit
}

// Catalog maps plan names to plans. It is read-only after construction and
// safe for concurrent use.
type Catalog map[string]Plan

// Defaults returns the built-in plans: free, pro, agency and enterprise.
func Defaults() Catalog {
	return Catalog{
		"free":       {Name: "free", Sites: 1, MonthlyRenders: 1_000, Tenants: 1, Zones: 1},
		"pro":        {Name: "pro", Sites: 5, MonthlyRenders: 25_000, Tenants: 3, Zones: 5},
		"agency":     {Name: "agency", Sites: 25, MonthlyRenders: 250_000, APIAccess: true, WebhookTokens: true, Tenants: 25, Zones: 25},
		"enterprise": {Name: "enterprise", Sites: Unlimited, MonthlyRenders: 2_500_000, APIAccess: true, WebhookTokens: true, Tenants: Unlimited, Zones: Unlimited},
	}
}

// Merge returns the defaults overlaid with plans: a plan of the same name
// replaces the default whole, other names are added.
func Merge(defaults, plans Catalog) Catalog {
	out := maps.Clone(defaults)
	for name, p := range plans {
		p.Name = name
		out[name] = p
	}
	return out
}

// Lookup returns the named plan.
func (c Catalog) Lookup(name string) (Plan, error) {
	p, ok := c[name]
	if !ok {
		return Plan{}, fmt.Errorf("plan %q: %w", name, ErrUnknown)
	}
	return p, nil
}

// Names returns the plan names, sorted.
func (c Catalog) Names() []string {
	return slices.Sorted(maps.Keys(c))
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate explains the first plan that cannot be used.
func (c Catalog) Validate() error {
	if len(c) == 0 {
		return errors.New("plan: catalog is empty")
	}
	for _, name := range c.Names() {
		p := c[name]
		if !nameRE.MatchString(name) {
			return fmt.Errorf("plan %q: name must be lowercase letters, digits, '-' or '_'", name)
		}
		for field, v := range map[string]int{"sites": p.Sites, "tenants": p.Tenants, "zones": p.Zones} {
			if v < Unlimited {
				return fmt.Errorf("plan %q: %s must be -1 (unlimited) or >= 0, got %d", name, field, v)
			}
		}
		if p.MonthlyRenders < Unlimited {
			return fmt.Errorf("plan %q: monthlyRenders must be -1 (unlimited) or >= 0, got %d", name, p.MonthlyRenders)
		}
	}
	return nil
}
