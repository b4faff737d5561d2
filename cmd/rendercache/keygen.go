package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/node"
)

// KeygenCommand prints a new cluster key, like `consul keygen`.
type KeygenCommand struct {
	Stdout io.Writer
}

// command is `rendercache keygen`.
func (c *KeygenCommand) command() *cobra.Command {
	return &cobra.Command{
		Use:   "keygen",
		Short: "print a fresh base64 cluster key",
		Long: `Print a new cluster key: 32 bytes from the CSPRNG, base64-encoded, for
--cluster-key (RENDERCACHE_CLUSTER_KEY).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.Run() },
	}
}

// Run prints one base64-encoded 32-byte key from the CSPRNG.
func (c *KeygenCommand) Run() error {
	fmt.Fprintln(c.Stdout, newClusterKey())
	return nil
}

func newClusterKey() string {
	k := make([]byte, node.ClusterKeySize)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}
