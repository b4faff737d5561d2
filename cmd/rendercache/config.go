package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/rendercache/rendercache/plan"
)

// fileConfig is the --config file: YAML (JSON is valid YAML).
type fileConfig struct {
	// Plans redefine the default plans or add plans of any name.
	Plans plan.Catalog `yaml:"plans"`
}

// loadPlans reads the plan catalog from path; "" gives the defaults.
func loadPlans(path string) (plan.Catalog, error) {
	if path == "" {
		return plan.Defaults(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c := plan.Merge(plan.Defaults(), fc.Plans)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// envPrefix prefixes the environment variable of every flag:
// --cluster-key is RENDERCACHE_CLUSTER_KEY.
const envPrefix = "RENDERCACHE_"

// applyEnv sets every flag not given on the command line from its
// environment variable, so that flags win over the environment.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

// listFlag is a comma-separated, repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Type names the flag's value in help.
func (l *listFlag) Type() string { return "list" }

func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
