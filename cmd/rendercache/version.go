package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version overrides the module version when set at build time with
// -ldflags "-X main.version=v1.2.3".
var version string

// VersionCommand prints what this binary was built from.
type VersionCommand struct {
	Stdout io.Writer
	// BuildInfo defaults to debug.ReadBuildInfo; tests replace it.
	BuildInfo func() (*debug.BuildInfo, bool)
}

// command is `rendercache version`.
func (c *VersionCommand) command() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the module version and VCS revision",
		Long: `Print the module version, the Go version and, when built from a checkout, the
VCS revision, its commit time and whether the tree had local changes.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.Run() },
	}
}

// Run prints the module path and version, then one line per VCS setting
// that `go build` recorded.
func (c *VersionCommand) Run() error {
	read := c.BuildInfo
	if read == nil {
		read = debug.ReadBuildInfo
	}
	module, ver := "github.com/rendercache/rendercache", "(unknown)"
	info, ok := read()
	if ok && info.Main.Path != "" {
		module = info.Main.Path
	}
	if ok && info.Main.Version != "" {
		ver = info.Main.Version
	}
	if version != "" {
		ver = version
	}
	fmt.Fprintf(c.Stdout, "rendercache %s\n", ver)
	fmt.Fprintf(c.Stdout, "module     %s\n", module)
	goVersion := runtime.Version()
	if ok && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(c.Stdout, "go         %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	vcs := map[string]string{}
	if ok {
		for _, s := range info.Settings {
			vcs[s.Key] = s.Value
		}
	}
	for _, s := range []struct{ key, label string }{
		{"vcs.revision", "revision"},
		{"vcs.time", "time"},
		{"vcs.modified", "modified"},
	} {
		v := vcs[s.key]
		if v == "" {
			v = "unknown (not built from a VCS checkout)"
		}
		fmt.Fprintf(c.Stdout, "%-10s %s\n", s.label, v)
	}
	return nil
}
