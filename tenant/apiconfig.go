package tenant

import (
	"context"
	"time"

	"github.com/rendercache/rendercache/consensus"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/storage"
)

// APIConfigInput is PUT api-config's body: the API origin and the proxy's
// options. TokenSet and TokenUpdatedAt are never taken from it.
type APIConfigInput struct {
	APIOrigin   string `json:"apiOrigin"`
	AuthMode    string `json:"apiAuthMode"`
	AuthParam   string `json:"apiAuthParam"`
	CacheTTL    int    `json:"apiCacheTTL"`
	Preview     bool   `json:"apiPreview"`
	CacheAuthed bool   `json:"apiCacheAuthorized"`
}

// SavedAPIConfig is the saved config as PUT api-config answers it.
type SavedAPIConfig struct {
	APIOrigin string `json:"apiOrigin"`
	APIConfig
}

func validAPIConfig(in APIConfigInput) error {
	switch in.AuthMode {
	case AuthBearer, AuthNone:
		if in.AuthParam != "" {
			return ErrBadAPIConfig
		}
	case AuthHeader, AuthQuery:
		if in.AuthParam == "" || len(in.AuthParam) > 64 || !fieldName(in.AuthParam) {
			return ErrBadAPIConfig
		}
	default:
		return ErrBadAPIConfig
	}
	if in.CacheTTL < 0 || in.CacheTTL > MaxCacheTTL {
		return ErrBadAPIConfig
	}
	return nil
}

type apiConfigRequest struct {
	Actor  Actor          `json:"actor"`
	Slug   string         `json:"slug"`
	Config APIConfigInput `json:"config"`
	At     time.Time      `json:"at"`
}

func applyAPIConfig(tx *storage.Tx, cmd consensus.Command) (any, error) {
	var req apiConfigRequest
	if err := cmd.Decode(&req); err != nil {
		return nil, err
	}
	t, _, err := authorize(tx, req.Slug, req.Actor, ActConfigure)
	if err != nil {
		return nil, err
	}
	c := req.Config
	t.APIOrigin = c.APIOrigin
	t.API.AuthMode, t.API.AuthParam, t.API.CacheTTL, t.API.Preview, t.API.CacheAuthed = c.AuthMode, c.AuthParam, c.CacheTTL, c.Preview, c.CacheAuthed
	t.UpdatedAt = req.At
	if err := record.Put(tx, prefixTenant+t.Slug, t); err != nil {
		return nil, err
	}
	detail := map[string]string{"apiOrigin": c.APIOrigin, "apiAuthMode": c.AuthMode}
	return SavedAPIConfig{APIOrigin: t.APIOrigin, APIConfig: t.API}, audit(tx, t.Slug, "api-config.update", req.Actor, t.Key(), detail, req.At)
}

// SetAPIConfig saves the API proxy configuration (editor and above); the
// origin passes the SSRF policy.
func (s *Service) SetAPIConfig(ctx context.Context, actor Actor, slug string, in APIConfigInput) (SavedAPIConfig, error) {
	if err := validAPIConfig(in); err != nil {
		return SavedAPIConfig{}, err
	}
	o, err := s.checkOrigin(ctx, in.APIOrigin)
	if err != nil {
		return SavedAPIConfig{}, err
	}
	in.APIOrigin = o
	if !validLabel(slug) {
		return SavedAPIConfig{}, ErrNotFound
	}
	out, err := consensus.Propose(ctx, s.raft, "save api config", cmdAPIConfig, 1, apiConfigRequest{Actor: actor, Slug: slug, Config: in, At: s.at()})
	if err != nil {
		return SavedAPIConfig{}, err
	}
	return decode[SavedAPIConfig](out, "save api config")
}
