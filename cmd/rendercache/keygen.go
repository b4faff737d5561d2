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

var keygenCmd = command{
	name:    "keygen",
	summary: "Print a new cluster key: 32 bytes from the CSPRNG, base64-encoded, for\n--cluster-key (RENDERCACHE_CLUSTER_KEY).",
}

// Run prints one base64-encoded 32-byte key from the CSPRNG.
func (c *KeygenCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	if help, err := keygenCmd.parseFlags(fs, args); help || err != nil {
		if help {
			keygenCmd.printHelp(c.Stdout, fs)
		}
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{cmd: keygenCmd.name, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	fmt.Fprintln(c.Stdout, newClusterKey())
	return nil
}

func newClusterKey() string {
	k := make([]byte, node.ClusterKeySize)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}
