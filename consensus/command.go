package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// MaxCommandBytes bounds an encoded command. Commands carry control-plane
// records, never page bodies, so anything larger is a bug or an attack.
const MaxCommandBytes = 1 << 20

// Command is one typed, versioned state change. Every command in the system
// uses this single encoding; Body is the type's JSON payload.
//
// Commands are built before proposal with every nondeterministic input
// (IDs, timestamps, random tokens' hashes) already chosen, so that Apply is
// a pure function of the log.
type Command struct {
	Type    string          `json:"t"`
	Version int             `json:"v"`
	Body    json.RawMessage `json:"b"`
}

// NewCommand encodes body as the payload of a command of the given type and
// version.
func NewCommand(typ string, version int, body any) (Command, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Command{}, fmt.Errorf("consensus: encode %s: %w", typ, err)
	}
	return Command{Type: typ, Version: version, Body: b}, nil
}

// Propose encodes body as a command, applies it through p and returns
// Apply's result, so that a service's write is one call. Errors are wrapped
// with what ("create key"), keeping their errkind for the API.
func Propose(ctx context.Context, p Applier, what, typ string, version int, body any) (json.RawMessage, error) {
	cmd, err := NewCommand(typ, version, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	raw, err := p.Apply(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return raw, nil
}

// Encode returns the wire form of c.
func (c Command) Encode() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("consensus: encode command: %w", err)
	}
	if len(b) > MaxCommandBytes {
		return nil, fmt.Errorf("consensus: encode command: %w", ErrCommandTooLarge)
	}
	return b, nil
}

// DecodeCommand parses the wire form produced by Encode. It never panics on
// arbitrary input.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if len(b) > MaxCommandBytes {
		return c, fmt.Errorf("consensus: decode command: %w", ErrCommandTooLarge)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Command{}, fmt.Errorf("consensus: decode command: %w: %v", ErrBadCommand, err)
	}
	if dec.More() {
		return Command{}, fmt.Errorf("consensus: decode command: %w: trailing data", ErrBadCommand)
	}
	if err := c.validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

func (c Command) validate() error {
	switch {
	case c.Type == "":
		return fmt.Errorf("consensus: command: %w: empty type", ErrBadCommand)
	case c.Version < 1:
		return fmt.Errorf("consensus: command %s: %w: version %d", c.Type, ErrBadCommand, c.Version)
	case len(c.Body) == 0:
		return fmt.Errorf("consensus: command %s: %w: empty body", c.Type, ErrBadCommand)
	}
	return nil
}

// Decode unmarshals the command's body into v.
func (c Command) Decode(v any) error {
	if err := json.Unmarshal(c.Body, v); err != nil {
		return fmt.Errorf("consensus: %s body: %w: %v", c.Type, ErrBadCommand, err)
	}
	return nil
}
