package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/rendercache/rendercache/origin"
)

// Field is one field of a partial update. It tells apart the three things
// a JSON body can say about a field, which a pointer cannot: nothing (the
// zero Field: leave the setting as it is), null (Null: return it to its
// default), or a value (Value). Tag Field struct fields with omitzero so
// that a Field left out is also left out when encoded.
type Field[T any] struct {
	// Set reports whether the body named the field at all.
	Set bool
	// Null reports whether it named it null.
	Null bool
	// Value is the value given, when Set and not Null.
	Value T
}

// To returns a Field that sets v.
func To[T any](v T) Field[T] { return Field[T]{Set: true, Value: v} }

// Reset returns a Field that names null: back to the default.
func Reset[T any]() Field[T] { return Field[T]{Set: true, Null: true} }

// IsZero reports whether the field was left out, for omitzero.
func (f Field[T]) IsZero() bool { return !f.Set }

// UnmarshalJSON records that the field was named, and how. Objects inside
// refuse unknown fields, as the request body around them does.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	*f = Field[T]{Set: true}
	if string(b) == "null" {
		f.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&f.Value)
}

// MarshalJSON encodes the value, or null for Null (and for a field left
// out, which omitzero drops before it gets here).
func (f Field[T]) MarshalJSON() ([]byte, error) {
	if !f.Set || f.Null {
		return []byte("null"), nil
	}
	return json.Marshal(f.Value)
}

// or returns the field's value, or def when it names null.
func (f Field[T]) or(def T) T {
	if f.Null {
		return def
	}
	return f.Value
}

// Settings are a domain's changeable fields as a create or a PATCH names
// them. A field left out is unchanged (on create: its default). null
// returns a field to its default: cacheTtl to DefaultCacheTTL, render (or
// any field of it) to DefaultRender's, monthlyRenderLimit to none (the
// plan's monthly renders apply). origin has no default, so null is
// refused. Nested objects merge field by field: {"render":{"timeoutMs":
// 5000}} changes the timeout and nothing else.
type Settings struct {
	Origin             Field[string]      `json:"origin,omitzero"`
	CacheTTL           Field[int]         `json:"cacheTtl,omitzero"`
	Render             Field[RenderPatch] `json:"render,omitzero"`
	MonthlyRenderLimit Field[int64]       `json:"monthlyRenderLimit,omitzero"`
	// Quality and Recache tune the quality guard and proactive recache
	// (background.go).
	Quality Field[QualityPatch] `json:"quality,omitzero"`
	Recache Field[RecachePatch] `json:"recache,omitzero"`
}

// RenderPatch is the render object of Settings, with the same rules.
type RenderPatch struct {
	TimeoutMs      Field[int]      `json:"timeoutMs,omitzero"`
	BlockResources Field[[]string] `json:"blockResources,omitzero"`
	BlockTrackers  Field[bool]     `json:"blockTrackers,omitzero"`
}

// DefaultRender returns the render settings of a new domain.
func DefaultRender() RenderSettings {
	return RenderSettings{BlockResources: slices.Clone(DefaultBlockResources), BlockTrackers: true}
}

// normalize validates the values set names and returns set with them in
// canonical form: the origin as origin.ParseOrigin prints it, blocked
// resource types sorted and without duplicates. It is pure; the origin
// policy, which resolves names, is the Service's to check.
func (set Settings) normalize() (Settings, error) {
	if set.Origin.Set {
		if set.Origin.Null {
			return Settings{}, bad(`field "origin" cannot be null: a domain always has an origin`)
		}
		o, err := origin.ParseOrigin(set.Origin.Value)
		if err != nil {
			return Settings{}, err
		}
		set.Origin.Value = o.String()
	}
	if f := set.CacheTTL; f.Set && !f.Null && (f.Value < MinCacheTTL || f.Value > MaxCacheTTL) {
		return Settings{}, bad(fmt.Sprintf("cacheTtl must be between %d and %d seconds", MinCacheTTL, MaxCacheTTL))
	}
	if set.Render.Set && !set.Render.Null {
		r := set.Render.Value
		if f := r.TimeoutMs; f.Set && !f.Null && f.Value != 0 && (f.Value < MinRenderTimeMs || f.Value > MaxRenderTimeMs) {
			return Settings{}, bad(fmt.Sprintf("render.timeoutMs must be 0 (node default) or between %d and %d", MinRenderTimeMs, MaxRenderTimeMs))
		}
		if f := r.BlockResources; f.Set && !f.Null {
			types := make([]string, 0, len(BlockableResources))
			for _, b := range f.Value {
				if !slices.Contains(BlockableResources, b) {
					return Settings{}, bad(fmt.Sprintf("render.blockResources: unknown type %q; allowed: %v", b, BlockableResources))
				}
				if !slices.Contains(types, b) {
					types = append(types, b)
				}
			}
			slices.Sort(types)
			r.BlockResources.Value = types
		}
		set.Render.Value = r
	}
	if f := set.MonthlyRenderLimit; f.Set && !f.Null && f.Value < 0 {
		return Settings{}, bad("monthlyRenderLimit must be >= 0, or null for the plan's monthly renders")
	}
	return set.normalizeBackground()
}

// merge returns d with the fields set names changed and every other field
// as it was. set must come from normalize. merge is pure and cannot fail,
// so Apply runs it on the stored domain: two PATCHes of different fields
// both take effect, whichever commits first.
func merge(d Domain, set Settings) Domain {
	// d shares its slice and pointer with the caller's copy; the result
	// must not.
	d.Render.BlockResources = slices.Clone(d.Render.BlockResources)
	if d.MonthlyRenderLimit != nil {
		n := *d.MonthlyRenderLimit
		d.MonthlyRenderLimit = &n
	}
	if set.Origin.Set && !set.Origin.Null {
		d.Origin = set.Origin.Value
	}
	if set.CacheTTL.Set {
		d.CacheTTL = set.CacheTTL.or(DefaultCacheTTL)
	}
	if set.Render.Set {
		def := DefaultRender()
		if set.Render.Null {
			d.Render = def
		}
		r := set.Render.Value
		if r.TimeoutMs.Set {
			d.Render.TimeoutMs = r.TimeoutMs.or(def.TimeoutMs)
		}
		if r.BlockResources.Set {
			d.Render.BlockResources = slices.Clone(r.BlockResources.or(def.BlockResources))
		}
		if r.BlockTrackers.Set {
			d.Render.BlockTrackers = r.BlockTrackers.or(def.BlockTrackers)
		}
	}
	if set.MonthlyRenderLimit.Set {
		d.MonthlyRenderLimit = nil
		if !set.MonthlyRenderLimit.Null {
			n := set.MonthlyRenderLimit.Value
			d.MonthlyRenderLimit = &n
		}
	}
	return mergeBackground(d, set)
}
