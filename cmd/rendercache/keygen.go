package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"

	"github.com/rendercache/rendercache/node"
)

// KeygenCommand prints a new cluster key, like `consul keygen`.
type KeygenCommand struct {
	Stdout io.Writer
}

// Run prints one base64-encoded 32-byte key from the CSPRNG.
func (c *KeygenCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, newClusterKey())
	return nil
}

func newClusterKey() string {
	k := make([]byte, node.ClusterKeySize)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}
