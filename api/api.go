package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

// spec is api/openapi.yaml, the contract: the seeds' routes, the operator
// API, health and the serve-path endpoints.
//
//go:embed openapi.yaml
var spec []byte

// YAML returns the OpenAPI document as written. Callers must not modify the
// slice; it is shared.
func YAML() []byte { return spec }

// JSON returns the OpenAPI document converted to JSON. It is converted on
// the first call and the result shared after; safe for concurrent use.
func JSON() ([]byte, error) { return jsonSpec() }

var jsonSpec = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("openapi yaml: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi json: %w", err)
	}
	return b, nil
})
