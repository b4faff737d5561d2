package tenant

import (
	"context"
	"errors"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

// Secret prefixes. A tenant webhook secret is whsec_ and is sealed (the
// seed's POST webhook-secret shows it again); a CMS API token is whatever
// the provider issued, at most MaxTokenLen bytes, and is sealed.
const (
	WebhookSecretPrefix = "whsec_"
	MaxTokenLen         = 4096
	// webhookActor is the audit actor of a tenant webhook call.
	webhookActor = "webhook"
)

var (
	// ErrWebhookSecret is the 401 of a tenant webhook call without the
	// current secret.
	ErrWebhookSecret = errkind.New(errkind.Unauthorized, "missing or invalid webhook secret")
	// ErrWebhookNotConfigured is the 403 of a tenant webhook call before any
	// secret was generated.
	ErrWebhookNotConfigured = errkind.New(errkind.Forbidden, "webhook not configured: generate a secret first")
	// ErrTokenMissing refuses an empty API token or one over MaxTokenLen.
	ErrTokenMissing = errkind.New(errkind.Invalid, "token is required (at most 4096 printable bytes)")
	// ErrNoSealBox means the service was built without a data key.
	ErrNoSealBox = errors.New("tenant: no encryption key configured")
)

// storedSecret is a sealed secret; Hash is its SHA-256 where callers must
// be checked against it without decrypting.
type storedSecret struct {
	Sealed    string    `json:"sealed"`
	Hash      string    `json:"hash,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

const prefixSecret = "tenant-secret/" // tenant-secret/<slug>/<name> → storedSecret

func secretKey(slug, name string) string { return prefixSecret + slug + "/" + name }

// purpose binds a sealed value to its record (see seal.Box.Seal).
func purpose(slug, name string) string { return "tenant/" + slug + "/" + name }

func init() {
	onDelete = append(onDelete, func(tx *storage.Tx, slug string) error {
		return record.DeletePrefix(tx, prefixSecret+slug+"/")
	})
}

type webhookSecretRequest struct {
	Actor  Actor        `json:"actor"`
	Slug   string       `json:"slug"`
	Secret storedSecret `json:"secret"`
	Rotate bool         `json:"rotate"`
	At     time.Time    `json:"at"`
}

func applyWebhookSecret(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req webhookSecretRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	act := ActWebhookSecret
	if req.Rotate {
		act = ActRotateSecret
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, act)
	if err != nil {
		return nil, err
	}
	old, err := record.Get[storedSecret](tx, secretKey(t.Slug, "webhook"), ErrWebhookNotConfigured)
	if err == nil && !req.Rotate {
		return old, nil // idempotent: the first secret wins a race
	}
	if err != nil && !errors.Is(err, ErrWebhookNotConfigured) {
		return nil, err
	}
	if err := record.Put(tx, secretKey(t.Slug, "webhook"), req.Secret); err != nil {
		return nil, err
	}
	action := "webhook-secret.create"
	if req.Rotate {
		action = "webhook-secret.rotate"
	}
	return req.Secret, audit(tx, t.Slug, action, req.Actor, t.Key(), nil, req.At)
}

// WebhookSecret returns the tenant's webhook secret, generating one if it
// has none (editor and above; POST webhook-secret). With rotate it always
// replaces it (admin and above; PUT webhook-secret), and the old one fails
// from the moment this returns, on every node.
func (s *Service) WebhookSecret(ctx context.Context, actor Actor, slug string, rotate bool) (string, error) {
	if s.box == nil {
		return "", ErrNoSealBox
	}
	act := ActWebhookSecret
	if rotate {
		act = ActRotateSecret
	}
	if _, _, err := s.Authorize(ctx, actor, slug, act); err != nil {
		return "", err
	}
	if !rotate {
		if old, err := record.Get[storedSecret](s.state, secretKey(slug, "webhook"), ErrWebhookNotConfigured); err == nil {
			return s.box.Open(old.Sealed, purpose(slug, "webhook"))
		}
	}
	raw := secret.New(WebhookSecretPrefix)
	sealed, err := s.box.Seal(raw, purpose(slug, "webhook"))
	if err != nil {
		return "", err
	}
	req := webhookSecretRequest{Actor: actor, Slug: slug, Secret: storedSecret{Sealed: sealed, Hash: secret.Hash(raw), UpdatedAt: s.at()}, Rotate: rotate, At: s.at()}
	out, err := consensus.Propose(ctx, s.raft, "webhook secret", cmdWebhookSecret, 1, req)
	if err != nil {
		return "", err
	}
	got, err := decode[storedSecret](out, "webhook secret")
	if err != nil {
		return "", err
	}
	return s.box.Open(got.Sealed, purpose(slug, "webhook"))
}

type webhookFireRequest struct {
	Slug string    `json:"slug"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// checkWebhook is the tenant webhook's auth, in the seed's order: unknown
// tenant 404, no secret 403, wrong secret 401 (compared in constant time).
func checkWebhook(r record.Reader, slug, hash string) (Tenant, error) {
	if !validLabel(slug) {
		return Tenant{}, ErrNotFound
	}
	t, err := record.Get[Tenant](r, prefixTenant+slug, ErrNotFound)
	if err != nil {
		return Tenant{}, err
	}
	st, err := record.Get[storedSecret](r, secretKey(slug, "webhook"), ErrWebhookNotConfigured)
	if err != nil {
		return Tenant{}, err
	}
	if !secret.Equal(st.Hash, hash) {
		return Tenant{}, ErrWebhookSecret
	}
	return t, nil
}

func applyWebhookFire(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req webhookFireRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, err := checkWebhook(tx, req.Slug, req.Hash)
	if err != nil {
		return nil, err
	}
	return bumpVersions(tx, t, RefreshHTML, Actor{AccountID: webhookActor}, req.At, nil)
}

// FireWebhook is POST /api/tenants/{slug}/webhook?secret=: with the
// current secret it bumps the HTML cache version. A wrong secret is
// refused on fresh local state, before anything reaches raft, and again
// in Apply in case a rotation raced it.
func (s *Service) FireWebhook(ctx context.Context, slug, given string) (Versions, error) {
	if err := s.raft.Fresh(ctx); err != nil {
		return Versions{}, err
	}
	h := "" // matches no stored hash: a missing secret is a wrong one
	if given != "" && len(given) <= 256 {
		h = secret.Hash(given)
	}
	if _, err := checkWebhook(s.state, slug, h); err != nil {
		return Versions{}, err
	}
	out, err := consensus.Propose(ctx, s.raft, "tenant webhook", cmdWebhookFire, 1, webhookFireRequest{Slug: slug, Hash: h, At: s.at()})
	if err != nil {
		return Versions{}, err
	}
	return decode[Versions](out, "tenant webhook")
}

type apiTokenRequest struct {
	Actor  Actor        `json:"actor"`
	Slug   string       `json:"slug"`
	Secret storedSecret `json:"secret"`
	At     time.Time    `json:"at"`
}

func applyAPIToken(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req apiTokenRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActConfigure)
	if err != nil {
		return nil, err
	}
	if err := record.Put(tx, secretKey(t.Slug, "api-token"), req.Secret); err != nil {
		return nil, err
	}
	t.API.TokenSet, t.API.TokenUpdatedAt, t.UpdatedAt = true, &req.At, req.At
	if err := record.Put(tx, prefixTenant+t.Slug, t); err != nil {
		return nil, err
	}
	return t, audit(tx, t.Slug, "api-token.set", req.Actor, t.Key(), nil, req.At)
}

// SetAPIToken stores the CMS API token sealed (write-only: reads show
// only apiTokenSet); editor and above.
func (s *Service) SetAPIToken(ctx context.Context, actor Actor, slug, token string) (time.Time, error) {
	if s.box == nil {
		return time.Time{}, ErrNoSealBox
	}
	if token == "" || len(token) > MaxTokenLen || !printable(token) {
		return time.Time{}, ErrTokenMissing
	}
	if !validLabel(slug) {
		return time.Time{}, ErrNotFound
	}
	sealed, err := s.box.Seal(token, purpose(slug, "api-token"))
	if err != nil {
		return time.Time{}, err
	}
	now := s.at()
	out, err := consensus.Propose(ctx, s.raft, "set api token", cmdAPIToken, 1, apiTokenRequest{Actor: actor, Slug: slug, Secret: storedSecret{Sealed: sealed, UpdatedAt: now}, At: now})
	if err != nil {
		return time.Time{}, err
	}
	t, err := decode[Tenant](out, "set api token")
	return t.UpdatedAt, err
}

// APIToken returns the decrypted CMS API token, for the API proxy that
// sends it onwards; never for an API response. ok is false when none is
// set.
func (s *Service) APIToken(slug string) (token string, ok bool, err error) {
	if s.box == nil {
		return "", false, ErrNoSealBox
	}
	st, err := record.Get[storedSecret](s.state, secretKey(slug, "api-token"), ErrNotFound)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	tok, err := s.box.Open(st.Sealed, purpose(slug, "api-token"))
	return tok, err == nil, err
}
