package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/plan"
	"github.com/rendercache/rendercache/storage"
)

// Defaults and bounds of a domain's settings.
const (
	DefaultCacheTTL = 24 * 60 * 60 // seconds
	MinCacheTTL     = 60
	MaxCacheTTL     = 365 * 24 * 60 * 60
	MinRenderTimeMs = 1000
	MaxRenderTimeMs = 60000
)

// BlockableResources are the resource types a domain may block while
// rendering.
var BlockableResources = []string{"image", "media", "font", "stylesheet", "other"}

// DefaultBlockResources are blocked unless a domain says otherwise.
var DefaultBlockResources = []string{"font", "image", "media"}

var (
	// ErrNotFound means the domain is not registered or is another
	// account's: the two are indistinguishable to callers.
	ErrNotFound = errkind.New(errkind.NotFound, "Domain not found")
	// ErrTaken means another account (or this one) registered it already.
	ErrTaken = errkind.New(errkind.Conflict, "Domain is already registered")
	// ErrSiteLimit is the seed's 403 when the plan's sites are used up.
	ErrSiteLimit = errkind.New(errkind.Forbidden, "Site limit reached for your subscription plan")
)

// RenderSettings tune how a domain's pages are rendered.
type RenderSettings struct {
	// TimeoutMs caps one render; 0 uses the node's --render-timeout.
	TimeoutMs int `json:"timeoutMs"`
	// BlockResources are resource types Chromium does not load.
	BlockResources []string `json:"blockResources"`
	// BlockTrackers blocks the built-in list of analytics and ad hosts.
	BlockTrackers bool `json:"blockTrackers"`
}

// Domain is a registered site.
type Domain struct {
	Domain    string `json:"domain"`
	AccountID string `json:"accountId"`
	Origin    string `json:"origin"`
	// CacheTTL is how long, in seconds, a render is fresh; past it the
	// stale page is served while it is re-rendered.
	CacheTTL int            `json:"cacheTtl"`
	Render   RenderSettings `json:"render"`
	// MonthlyRenderLimit overrides the plan's monthly renders when set.
	MonthlyRenderLimit *int64 `json:"monthlyRenderLimit"`
	// Quality tunes the quality guard of background re-renders.
	Quality QualitySettings `json:"quality"`
	// Recache tunes proactive recache of crawled pages.
	Recache RecacheSettings `json:"recache"`
	// CacheVersion is bumped by purges; it is part of every cache key.
	CacheVersion uint64    `json:"cacheVersion"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// State keys.
const (
	prefixDomain  = "domain/"      // domain/<host> → Domain
	prefixAccount = "domain-acct/" // domain-acct/<account>/<host> → ""
)

const (
	cmdCreate = "domain.create"
	// cmdUpdate replaced a whole domain; only logs written before cmdPatch
	// hold it.
	cmdUpdate = "domain.update"
	cmdPatch  = "domain.patch"
	cmdDelete = "domain.delete"
)

// Cascade removes what another package keeps for a domain when it is
// deleted (webhook tokens, for example), inside the same transaction.
type Cascade func(tx *storage.Tx, domain string) error

// Register installs the domain commands in fsm; cascades run on delete.
func Register(fsm *consensus.FSM, cascades ...Cascade) {
	fsm.Register(cmdCreate, applyCreate)
	fsm.Register(cmdUpdate, applyUpdate)
	fsm.Register(cmdPatch, applyPatch)
	fsm.Register(cmdPurge, applyPurge)
	fsm.Register(cmdDelete, func(tx *storage.Tx, cmd consensus.Command) (any, error) {
		var req struct{ AccountID, Domain string }
		if err := cmd.Decode(&req); err != nil {
			return nil, err
		}
		return nil, deleteDomain(tx, req.AccountID, req.Domain, cascades)
	})
}

// ForAccount returns the account.Cascade that deletes an account's domains
// with the given per-domain cascades.
func ForAccount(cascades ...Cascade) account.Cascade {
	return func(tx *storage.Tx, accountID string) error {
		hosts, err := record.Keys(tx, prefixAccount+accountID+"/")
		if err != nil {
			return err
		}
		for _, h := range hosts {
			if err := deleteDomain(tx, accountID, h, cascades); err != nil {
				return err
			}
		}
		return nil
	}
}

// Service manages domains. Safe for concurrent use.
type Service struct {
	raft   consensus.Proposer
	state  *storage.State
	policy origin.Policy
	now    func() time.Time
}

// NewService returns a domain service; policy decides which origins may be
// registered.
func NewService(raft consensus.Proposer, state *storage.State, policy origin.Policy) *Service {
	return &Service{raft: raft, state: state, policy: policy, now: time.Now}
}

// checkOrigin applies the origin policy to the origin set names, if any.
func (s *Service) checkOrigin(ctx context.Context, set Settings) error {
	if !set.Origin.Set || set.Origin.Null {
		return nil
	}
	o, err := origin.ParseOrigin(set.Origin.Value)
	if err != nil {
		return err
	}
	return s.policy.CheckOrigin(ctx, nil, o)
}

func bad(msg string) error { return errkind.New(errkind.Invalid, msg) }

// Create registers host for an account whose plan allows p.Sites sites.
func (s *Service) Create(ctx context.Context, acct account.Account, p plan.Plan, host string, set Settings) (Domain, error) {
	h, err := s.policy.RegistrableHost(host)
	if err != nil {
		return Domain{}, err
	}
	if !set.Origin.Set || set.Origin.Null || set.Origin.Value == "" {
		return Domain{}, bad(`field "origin" is required`)
	}
	set, err = set.normalize()
	if err != nil {
		return Domain{}, err
	}
	if err := s.checkOrigin(ctx, set); err != nil {
		return Domain{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	// A create is a partial update of the defaults.
	d := merge(Domain{Domain: h, AccountID: acct.ID, CacheTTL: DefaultCacheTTL, Render: DefaultRender(),
		Quality: DefaultQuality(), Recache: DefaultRecache(), CreatedAt: now, UpdatedAt: now}, set)
	if _, err := consensus.Propose(ctx, s.raft, "create domain", cmdCreate, 1, map[string]any{"domain": d, "allowed": p.Sites}); err != nil {
		return Domain{}, err
	}
	return d, nil
}

// Get returns the account's domain, seeing acknowledged writes.
func (s *Service) Get(ctx context.Context, accountID, host string) (Domain, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return Domain{}, err
	}
	return Owned(s.state, accountID, host)
}

// Owned returns host's domain if accountID owns it, from local state. Any
// other case, a malformed host included, is ErrNotFound.
func Owned(r record.Reader, accountID, host string) (Domain, error) {
	h, err := origin.NormalizeHost(host)
	if err != nil {
		return Domain{}, ErrNotFound
	}
	return OwnedNormal(r, accountID, h)
}

// OwnedNormal is Owned for a host already normalised. Raft commands carry
// hosts normalised before they were proposed, so Apply uses this: the
// state machine stays deterministic whatever IDNA tables a binary has.
func OwnedNormal(r record.Reader, accountID, host string) (Domain, error) {
	d, err := record.Get[Domain](r, prefixDomain+host, ErrNotFound)
	if err != nil {
		return Domain{}, err
	}
	if d.AccountID != accountID {
		return Domain{}, ErrNotFound
	}
	return d, nil
}

// Lookup returns a registered domain by host from local state, whoever
// owns it. The serve path uses it.
func Lookup(r record.Reader, host string) (Domain, error) {
	return record.Get[Domain](r, prefixDomain+host, ErrNotFound)
}

// List returns the account's domains in name order.
func (s *Service) List(ctx context.Context, accountID string) ([]Domain, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return nil, err
	}
	return record.Resolve[Domain](s.state, prefixAccount+accountID+"/", prefixDomain, ErrNotFound)
}

// Update changes the settings set names on an account's domain and leaves
// the others as they are (see Settings). The merge happens in Apply, on
// the domain as committed, so concurrent updates of different fields all
// take effect. An update that changes nothing writes nothing and returns
// the domain as it is.
func (s *Service) Update(ctx context.Context, accountID, host string, set Settings) (Domain, error) {
	h, err := origin.NormalizeHost(host)
	if err != nil {
		return Domain{}, ErrNotFound
	}
	set, err = set.normalize()
	if err != nil {
		return Domain{}, err
	}
	if err := s.checkOrigin(ctx, set); err != nil {
		return Domain{}, err
	}
	req := patchRequest{AccountID: accountID, Domain: h, Settings: set, At: s.now().UTC().Truncate(time.Millisecond)}
	raw, err := consensus.Propose(ctx, s.raft, "update domain", cmdPatch, 1, req)
	if err != nil {
		return Domain{}, err
	}
	var out Domain
	if err := json.Unmarshal(raw, &out); err != nil {
		return Domain{}, fmt.Errorf("update domain: %w", err)
	}
	return out, nil
}

// Delete removes an account's domain and what hangs off it.
func (s *Service) Delete(ctx context.Context, accountID, host string) error {
	h, err := origin.NormalizeHost(host)
	if err != nil {
		return ErrNotFound
	}
	if _, err := consensus.Propose(ctx, s.raft, "delete domain", cmdDelete, 1, map[string]string{"accountId": accountID, "domain": h}); err != nil {
		return err
	}
	return nil
}

func applyCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req struct {
		Domain  Domain `json:"domain"`
		Allowed int    `json:"allowed"`
	}
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	d := req.Domain
	if _, err := account.Lookup(tx, d.AccountID); err != nil {
		return nil, err
	}
	if taken, err := record.Exists(tx, prefixDomain+d.Domain); err != nil {
		return nil, err
	} else if taken {
		return nil, ErrTaken
	}
	current, err := record.Count(tx, prefixAccount+d.AccountID+"/")
	if err != nil {
		return nil, err
	}
	if !plan.Allows(req.Allowed, current) {
		return nil, ErrSiteLimit.With(map[string]any{"current": current, "allowed": req.Allowed})
	}
	if err := record.Put(tx, prefixDomain+d.Domain, d); err != nil {
		return nil, err
	}
	return d, tx.Set([]byte(prefixAccount+d.AccountID+"/"+d.Domain), nil)
}

// patchRequest is a partial update as it goes through raft: Settings
// already normalised, and the time of the change.
type patchRequest struct {
	AccountID string    `json:"accountId"`
	Domain    string    `json:"domain"`
	Settings  Settings  `json:"settings"`
	At        time.Time `json:"at"`
}

func applyPatch(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req patchRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	cur, err := OwnedNormal(tx, req.AccountID, req.Domain)
	if err != nil {
		return nil, err
	}
	d := merge(cur, req.Settings)
	if reflect.DeepEqual(d, cur) {
		return cur, nil
	}
	d.UpdatedAt = req.At
	return d, record.Put(tx, prefixDomain+d.Domain, d)
}

// applyUpdate applies cmdUpdate entries of older logs.
func applyUpdate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var d Domain
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	cur, err := OwnedNormal(tx, d.AccountID, d.Domain)
	if err != nil {
		return nil, err
	}
	// Identity and cache version are not the update's to change.
	d.CreatedAt, d.CacheVersion = cur.CreatedAt, cur.CacheVersion
	return d, record.Put(tx, prefixDomain+d.Domain, d)
}

func deleteDomain(tx *storage.Tx, accountID, host string, cascades []Cascade) error {
	d, err := OwnedNormal(tx, accountID, host)
	if err != nil {
		return err
	}
	for _, c := range cascades {
		if err := c(tx, d.Domain); err != nil {
			return err
		}
	}
	if err := record.DeletePrefix(tx, prefixPathVersion+d.Domain+"/"); err != nil {
		return err
	}
	if err := tx.Delete([]byte(prefixDomain + d.Domain)); err != nil {
		return err
	}
	return tx.Delete([]byte(prefixAccount + accountID + "/" + d.Domain))
}
