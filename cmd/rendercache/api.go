package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rendercache/rendercache/client"
)

// apiSettings are the connection and output settings of the commands
// that use the cluster's API, from flags or RENDERCACHE_* variables.
type apiSettings struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	endpoints  listFlag
	apiKey     string
	adminToken string
	output     string
	timeout    time.Duration
}

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// connectionFlags are the flags defineFlags defines, which also read
// RENDERCACHE_* variables.
var connectionFlags = []string{"endpoint", "api-key", "admin-token", "output", "timeout"}

// defaultEndpoint is where `make run` serves.
const defaultEndpoint = "http://127.0.0.1:8080"

// commands returns the API's command groups.
func (a *apiSettings) commands() []*cobra.Command {
	groups := []*cobra.Command{
		a.clusterCommand(),
		a.accountsCommand(),
		a.keysCommand(),
		a.domainsCommand(),
		a.webhookTokensCommand(),
		a.cacheCommand(),
		a.jobsCommand(),
		a.zonesCommand(),
		a.tenantsCommand(),
	}
	for _, g := range groups {
		a.defineFlags(g.PersistentFlags())
	}
	return groups
}

// defineFlags defines the connection and output flags.
func (a *apiSettings) defineFlags(fs *pflag.FlagSet) {
	fs.SortFlags = false
	fs.Var(&a.endpoints, "endpoint", "node `URLs`, comma-separated, tried in turn (default: "+defaultEndpoint+")")
	fs.StringVar(&a.apiKey, "api-key", "", "the account's API key (rk_live_...) for keys, domains, webhook-tokens, cache and jobs")
	fs.StringVar(&a.adminToken, "admin-token", "", "the operator's token (rk_admin_...) for cluster and accounts, and for keys create --account")
	fs.StringVarP(&a.output, "output", "o", outputTable, "output `format`: table or json")
	fs.DurationVar(&a.timeout, "timeout", 10*time.Minute, "bound on the whole command, a --wait included")
}

// client applies the environment to the flags not given and returns a
// client for them.
func (a *apiSettings) client(cmd *cobra.Command) (*client.Client, error) {
	// Only the connection and output flags read the environment; a
	// command's own flags (--origin, --plan, ...) never do.
	conn := pflag.NewFlagSet("connection", pflag.ContinueOnError)
	for _, name := range connectionFlags {
		if f := cmd.Flags().Lookup(name); f != nil {
			conn.AddFlag(f)
		}
	}
	if err := applyEnv(conn, a.getenv); err != nil {
		return nil, &usageError{cmd: commandName(cmd), err: err}
	}
	if a.output != outputTable && a.output != outputJSON {
		return nil, &usageError{cmd: commandName(cmd), err: fmt.Errorf("--output must be table or json, not %q", a.output)}
	}
	endpoints := []string(a.endpoints)
	if len(endpoints) == 0 {
		endpoints = []string{defaultEndpoint}
	}
	c, err := client.New(client.Options{
		Endpoints:  endpoints,
		APIKey:     a.apiKey,
		AdminToken: a.adminToken,
		UserAgent:  "rendercache-cli",
	})
	if err != nil {
		return nil, &usageError{cmd: commandName(cmd), err: err}
	}
	return c, nil
}

// run wraps an API command: it builds the client, bounds the call and
// leaves output to do.
func (a *apiSettings) run(do func(cmd *cobra.Command, c *client.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := a.client(cmd)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
		defer cancel()
		cmd.SetContext(ctx)
		return do(cmd, c, args)
	}
}

// print writes v as JSON with -o json, else calls table with a tab
// writer whose columns it aligns.
func (a *apiSettings) print(v any, table func(w io.Writer)) error {
	if a.output == outputJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes one tab-separated line.
func row(w io.Writer, cols ...any) {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = cell(c)
	}
	fmt.Fprintln(w, strings.Join(s, "\t"))
}

// cell formats one table cell.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		return x
	case time.Time:
		if x.IsZero() {
			return "-"
		}
		return x.UTC().Format(time.RFC3339)
	case *time.Time:
		if x == nil {
			return "-"
		}
		return cell(*x)
	case *int64:
		if x == nil {
			return "-"
		}
		return fmt.Sprint(*x)
	case []string:
		if len(x) == 0 {
			return "-"
		}
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}
