package tenant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/internal/secret"
	"github.com/rendercache/rendercache/storage"
)

// Cache-refresh webhooks: one URL per CMS integration, whose secret is
// stored only as its SHA-256 and shown once.
const (
	HookIDPrefix     = "whk_"
	HookSecretPrefix = "whsec_"
	// MaxHooks bounds a tenant's cache-refresh webhooks.
	MaxHooks = 20
	// MaxHookEvents is how many fire events a webhook keeps, newest first.
	MaxHookEvents = 50
	// MaxReceiverBody is the receiver's body bound: more is a 413.
	MaxReceiverBody = 64 << 10
	// MaxEventType bounds a provider event type kept in an event.
	MaxEventType = 128
)

// HookProviders are the providers a cache-refresh webhook may name.
var HookProviders = []string{"contentful", "prismic", "storyblok", "generic"}

var (
	// ErrHookNotFound is the receiver's one answer to every auth failure
	// (unknown id, wrong secret, disabled), and the management routes' 404.
	ErrHookNotFound = errkind.New(errkind.NotFound, "webhook not found")
	// ErrBadProvider refuses an unknown webhook provider.
	ErrBadProvider = errkind.New(errkind.Invalid, `provider must be "contentful", "prismic", "storyblok" or "generic"`)
	// ErrTooManyHooks refuses a webhook past MaxHooks.
	ErrTooManyHooks = errkind.New(errkind.Forbidden, "this tenant has the maximum of 20 cache-refresh webhooks")
)

// Hook is a cache-refresh webhook's metadata: never its secret or hash.
type Hook struct {
	ID              string     `json:"id"`
	Provider        string     `json:"provider"`
	RefreshAPI      bool       `json:"refreshApi"`
	RefreshAssets   bool       `json:"refreshAssets"`
	Enabled         bool       `json:"enabled"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	LastTriggeredAt *time.Time `json:"lastTriggeredAt"`
	LastStatus      *string    `json:"lastStatus"`
}

type storedHook struct {
	Hook
	SecretHash string `json:"secretHash"`
}

// HookEvent is one receiver call that passed auth. Durations run from
// receipt to the committed version bump, measured on the receiving node.
type HookEvent struct {
	ID                      uint64    `json:"id"`
	Status                  string    `json:"status"`
	ReceivedAt              time.Time `json:"receivedAt"`
	StartedAt               time.Time `json:"startedAt"`
	FinishedAt              time.Time `json:"finishedAt"`
	PreviousAPICacheVersion uint64    `json:"previousApiCacheVersion"`
	NextAPICacheVersion     uint64    `json:"nextApiCacheVersion"`
	RefreshType             string    `json:"refreshType"`
	DurationMs              int64     `json:"durationMs"`
	KVSyncedAt              time.Time `json:"kvSyncedAt"`
	Message                 string    `json:"message"`
	EventType               string    `json:"eventType"`
}

const (
	prefixHook      = "tenant-hook/"       // tenant-hook/<slug>/<id> → storedHook
	prefixHookID    = "tenant-hook-id/"    // tenant-hook-id/<id> → slug
	prefixHookEvent = "tenant-hook-event/" // tenant-hook-event/<slug>/<id>/<^seq> → HookEvent
	keyHookSeq      = "tenant-seq/hook-event"
)

func hookKey(slug, id string) string { return prefixHook + slug + "/" + id }
func hookEventPrefix(slug, id string) string {
	return prefixHookEvent + slug + "/" + id + "/"
}

func init() {
	onDelete = append(onDelete, func(tx *storage.Tx, slug string) error {
		hooks, err := record.List[storedHook](tx, prefixHook+slug+"/")
		if err != nil {
			return err
		}
		for _, h := range hooks {
			if err := tx.Delete([]byte(prefixHookID + h.ID)); err != nil {
				return err
			}
		}
		if err := record.DeletePrefix(tx, prefixHook+slug+"/"); err != nil {
			return err
		}
		return record.DeletePrefix(tx, prefixHookEvent+slug+"/")
	})
}

// ValidHookID reports whether id has the shape of a webhook ID, so a
// malformed one never reaches a state key.
func ValidHookID(id string) bool {
	rest, ok := strings.CutPrefix(id, HookIDPrefix)
	if !ok || len(rest) != 24 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil && strings.ToLower(rest) == rest
}

func newHookID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webhook id: %w", err)
	}
	return HookIDPrefix + hex.EncodeToString(b[:]), nil
}

type hookRequest struct {
	Actor Actor      `json:"actor"`
	Slug  string     `json:"slug"`
	Hook  storedHook `json:"hook"`
	At    time.Time  `json:"at"`
}

func applyHookCreate(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req hookRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActWebhooks)
	if err != nil {
		return nil, err
	}
	if n, err := record.Count(tx, prefixHook+t.Slug+"/"); err != nil {
		return nil, err
	} else if n >= MaxHooks {
		return nil, ErrTooManyHooks
	}
	h := req.Hook
	if err := record.Put(tx, hookKey(t.Slug, h.ID), h); err != nil {
		return nil, err
	}
	if err := record.Put(tx, prefixHookID+h.ID, t.Slug); err != nil {
		return nil, err
	}
	return h.Hook, audit(tx, t.Slug, "webhook.create", req.Actor, h.ID, map[string]string{"provider": h.Provider}, req.At)
}

// ownHook returns the hook id of slug, after authorizing actor for a.
func ownHook(r record.Reader, actor Actor, slug, id string, a Action) (Tenant, storedHook, error) {
	t, _, err := authorize(r, slug, actor, a)
	if err != nil {
		return Tenant{}, storedHook{}, err
	}
	if !ValidHookID(id) {
		return Tenant{}, storedHook{}, ErrHookNotFound
	}
	h, err := record.Get[storedHook](r, hookKey(slug, id), ErrHookNotFound)
	return t, h, err
}

func applyHookRegen(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req hookRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, h, err := ownHook(tx, req.Actor, req.Slug, req.Hook.ID, ActWebhooks)
	if err != nil {
		return nil, err
	}
	h.SecretHash, h.UpdatedAt = req.Hook.SecretHash, req.At
	if err := record.Put(tx, hookKey(t.Slug, h.ID), h); err != nil {
		return nil, err
	}
	return h.Hook, audit(tx, t.Slug, "webhook.regenerate", req.Actor, h.ID, nil, req.At)
}

func applyHookDelete(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req hookRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, h, err := ownHook(tx, req.Actor, req.Slug, req.Hook.ID, ActWebhooks)
	if err != nil {
		return nil, err
	}
	// The hash goes with the record; the events stay (seed 004).
	if err := tx.Delete([]byte(prefixHookID + h.ID)); err != nil {
		return nil, err
	}
	if err := tx.Delete([]byte(hookKey(t.Slug, h.ID))); err != nil {
		return nil, err
	}
	return nil, audit(tx, t.Slug, "webhook.delete", req.Actor, h.ID, nil, req.At)
}

// Created is a webhook with its one-time secret and receiver URL path.
type Created struct {
	Hook   Hook   `json:"webhook"`
	Secret string `json:"secret"`
	// Path is /api/webhooks/cache-refresh/<id>/<secret>; the HTTP layer
	// prefixes --public-url.
	Path string `json:"-"`
}

func receiverPath(id, raw string) string { return "/api/webhooks/cache-refresh/" + id + "/" + raw }

// CreateHook adds a cache-refresh webhook (admin and above). It refreshes
// the API cache unless refreshAPI is false, and the assets too with
// refreshAssets. The raw secret is in the answer only.
func (s *Service) CreateHook(ctx context.Context, actor Actor, slug, provider string, refreshAPI, refreshAssets bool) (Created, error) {
	known := false
	for _, p := range HookProviders {
		known = known || p == provider
	}
	if !known {
		return Created{}, ErrBadProvider
	}
	if !validLabel(slug) {
		return Created{}, ErrNotFound
	}
	id, err := newHookID()
	if err != nil {
		return Created{}, err
	}
	raw, now := secret.New(HookSecretPrefix), s.at()
	h := storedHook{Hook: Hook{ID: id, Provider: provider, RefreshAPI: refreshAPI, RefreshAssets: refreshAssets, Enabled: true, CreatedAt: now, UpdatedAt: now}, SecretHash: secret.Hash(raw)}
	out, err := consensus.Propose(ctx, s.raft, "create webhook", cmdHookCreate, 1, hookRequest{Actor: actor, Slug: slug, Hook: h, At: now})
	if err != nil {
		return Created{}, err
	}
	got, err := decode[Hook](out, "create webhook")
	return Created{Hook: got, Secret: raw, Path: receiverPath(id, raw)}, err
}

// RegenerateHook replaces a webhook's secret (admin and above); the old
// URL fails from the moment this returns, on every node.
func (s *Service) RegenerateHook(ctx context.Context, actor Actor, slug, id string) (Created, error) {
	if !validLabel(slug) {
		return Created{}, ErrNotFound
	}
	if !ValidHookID(id) {
		return Created{}, ErrHookNotFound
	}
	raw, now := secret.New(HookSecretPrefix), s.at()
	h := storedHook{Hook: Hook{ID: id}, SecretHash: secret.Hash(raw)}
	out, err := consensus.Propose(ctx, s.raft, "regenerate webhook", cmdHookRegen, 1, hookRequest{Actor: actor, Slug: slug, Hook: h, At: now})
	if err != nil {
		return Created{}, err
	}
	got, err := decode[Hook](out, "regenerate webhook")
	return Created{Hook: got, Secret: raw, Path: receiverPath(id, raw)}, err
}

// DeleteHook removes a webhook and its hash; its events stay.
func (s *Service) DeleteHook(ctx context.Context, actor Actor, slug, id string) error {
	if !validLabel(slug) {
		return ErrNotFound
	}
	if !ValidHookID(id) {
		return ErrHookNotFound
	}
	_, err := consensus.Propose(ctx, s.raft, "delete webhook", cmdHookDelete, 1, hookRequest{Actor: actor, Slug: slug, Hook: storedHook{Hook: Hook{ID: id}}, At: s.at()})
	return err
}

// Hooks lists the tenant's webhooks, metadata only (editor and above).
func (s *Service) Hooks(ctx context.Context, actor Actor, slug string) ([]Hook, error) {
	if _, _, err := s.Authorize(ctx, actor, slug, ActWebhooksRead); err != nil {
		return nil, err
	}
	stored, err := record.List[storedHook](s.state, prefixHook+slug+"/")
	if err != nil {
		return nil, err
	}
	out := make([]Hook, 0, len(stored))
	for _, h := range stored {
		out = append(out, h.Hook)
	}
	return out, nil
}

// HookEvents returns a webhook's last MaxHookEvents events, newest first
// (editor and above). A deleted webhook's events are still readable.
func (s *Service) HookEvents(ctx context.Context, actor Actor, slug, id string) ([]HookEvent, error) {
	if _, _, err := s.Authorize(ctx, actor, slug, ActWebhooksRead); err != nil {
		return nil, err
	}
	if !ValidHookID(id) {
		return nil, ErrHookNotFound
	}
	evs, err := record.List[HookEvent](s.state, hookEventPrefix(slug, id))
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		ok, err := record.Exists(s.state, hookKey(slug, id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrHookNotFound
		}
	}
	return evs, nil
}

type hookFireRequest struct {
	ID         string    `json:"id"`
	Hash       string    `json:"hash"`
	EventType  string    `json:"eventType"`
	ReceivedAt time.Time `json:"receivedAt"`
	At         time.Time `json:"at"`
}

// Fired is the receiver's answer.
type Fired struct {
	Refreshed bool     `json:"refreshed"`
	Versions  Versions `json:"versions"`
}

// checkHook finds the enabled webhook id whose hash is hash; every failure
// is the same ErrHookNotFound.
func checkHook(r record.Reader, id, hash string) (string, storedHook, error) {
	if !ValidHookID(id) {
		return "", storedHook{}, ErrHookNotFound
	}
	slug, err := record.Get[string](r, prefixHookID+id, ErrHookNotFound)
	if err != nil {
		return "", storedHook{}, err
	}
	h, err := record.Get[storedHook](r, hookKey(slug, id), ErrHookNotFound)
	if err != nil {
		return "", storedHook{}, err
	}
	if !secret.Equal(h.SecretHash, hash) || !h.Enabled {
		return "", storedHook{}, ErrHookNotFound
	}
	return slug, h, nil
}

func applyHookFire(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req hookFireRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	slug, h, err := checkHook(tx, req.ID, req.Hash)
	if err != nil {
		return nil, err
	}
	t, err := record.Get[Tenant](tx, prefixTenant+slug, ErrHookNotFound)
	if err != nil {
		return nil, err
	}
	prev := t.Versions
	ev := HookEvent{Status: "noop", ReceivedAt: req.ReceivedAt, StartedAt: req.ReceivedAt, FinishedAt: req.At, RefreshType: "none", EventType: req.EventType,
		PreviousAPICacheVersion: prev.APICacheVersion, NextAPICacheVersion: prev.APICacheVersion, DurationMs: req.At.Sub(req.ReceivedAt).Milliseconds()}
	out := Fired{}
	if h.RefreshAPI || h.RefreshAssets {
		if h.RefreshAPI {
			t.Versions.APICacheVersion++
		}
		if h.RefreshAssets {
			t.Versions.AssetCacheVersion++
		}
		if err := record.Put(tx, prefixTenant+slug, t); err != nil {
			return nil, err
		}
		ev.Status, ev.KVSyncedAt, ev.NextAPICacheVersion = "synced", req.At, t.Versions.APICacheVersion
		ev.RefreshType = map[[2]bool]string{{true, false}: "api", {false, true}: "assets", {true, true}: "api+assets"}[[2]bool{h.RefreshAPI, h.RefreshAssets}]
		ev.Message = fmt.Sprintf("apiCacheVersion %d → %d", prev.APICacheVersion, t.Versions.APICacheVersion)
		out = Fired{Refreshed: true, Versions: t.Versions}
		detail := map[string]string{"webhookId": h.ID, "eventType": req.EventType, "type": ev.RefreshType}
		if err := audit(tx, slug, "webhook.fire", Actor{AccountID: webhookActor}, h.ID, detail, req.At); err != nil {
			return nil, err
		}
	}
	seq, err := nextSeq(tx, keyHookSeq)
	if err != nil {
		return nil, err
	}
	ev.ID = seq
	if err := record.Put(tx, fmt.Sprintf("%s%016x", hookEventPrefix(slug, h.ID), ^seq), ev); err != nil {
		return nil, err
	}
	keys, err := record.Keys(tx, hookEventPrefix(slug, h.ID))
	if err != nil {
		return nil, err
	}
	for _, k := range keys[min(len(keys), MaxHookEvents):] {
		if err := tx.Delete([]byte(hookEventPrefix(slug, h.ID) + k)); err != nil {
			return nil, err
		}
	}
	at, status := req.At, ev.Status
	h.LastTriggeredAt, h.LastStatus = &at, &status
	return out, record.Put(tx, hookKey(slug, h.ID), h)
}

// Receive is the receiver: with the webhook's current secret it bumps the
// versions the webhook refreshes and records an event. Every auth failure
// is ErrHookNotFound, checked on fresh local state before anything
// reaches raft and again in Apply. eventType comes from EventType.
func (s *Service) Receive(ctx context.Context, id, raw, eventType string, receivedAt time.Time) (Fired, error) {
	if !ValidHookID(id) || !secret.HasShape(raw, HookSecretPrefix) {
		return Fired{}, ErrHookNotFound
	}
	if err := s.raft.Fresh(ctx); err != nil {
		return Fired{}, err
	}
	h := secret.Hash(raw)
	if _, _, err := checkHook(s.state, id, h); err != nil {
		return Fired{}, err
	}
	req := hookFireRequest{ID: id, Hash: h, EventType: boundEventType(eventType), ReceivedAt: receivedAt.UTC(), At: s.at()}
	out, err := consensus.Propose(ctx, s.raft, "cache-refresh webhook", cmdHookFire, 1, req)
	if err != nil {
		return Fired{}, err
	}
	return decode[Fired](out, "cache-refresh webhook")
}

// EventType extracts the provider's event type: Contentful's
// X-Contentful-Topic header, Prismic's body.type, Storyblok's body.action
// or body.event; generic webhooks have none. body is at most
// MaxReceiverBody bytes and need not be JSON. The result is bounded and
// printable.
func EventType(provider, contentfulTopic string, body []byte) string {
	switch provider {
	case "contentful":
		return boundEventType(contentfulTopic)
	case "prismic":
		return boundEventType(jsonString(body, "type"))
	case "storyblok":
		if a := jsonString(body, "action"); a != "" {
			return boundEventType(a)
		}
		return boundEventType(jsonString(body, "event"))
	}
	return ""
}

// HookProvider returns the provider of webhook id, for the receiver to
// pick EventType's source; "" when there is no such webhook.
func (s *Service) HookProvider(id string) string {
	if !ValidHookID(id) {
		return ""
	}
	slug, err := record.Get[string](s.state, prefixHookID+id, ErrHookNotFound)
	if err != nil {
		return ""
	}
	h, err := record.Get[storedHook](s.state, hookKey(slug, id), ErrHookNotFound)
	if err != nil {
		return ""
	}
	return h.Provider
}

// jsonString returns body's top-level string field name, "" if body is
// not a JSON object or the field is not a string.
func jsonString(body []byte, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var v string
	if json.Unmarshal(m[name], &v) != nil {
		return ""
	}
	return v
}

func boundEventType(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxEventType {
		s = s[:MaxEventType]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, s)
}
