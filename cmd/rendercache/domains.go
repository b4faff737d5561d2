package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rendercache/rendercache/client"
)

// domainFlags are the settings flags of domains add and set.
type domainFlags struct {
	origin         string
	cacheTTL       int
	renderTimeout  int
	blockResources []string
	blockTrackers  bool
	monthlyLimit   int64
	reset          []string
}

// define defines the flags on fs.
func (d *domainFlags) define(fs *pflag.FlagSet, set bool) {
	fs.SortFlags = false
	fs.StringVar(&d.origin, "origin", "", "the origin `URL` pages are fetched from (http(s), no credentials, query or fragment)")
	fs.IntVar(&d.cacheTTL, "cache-ttl", 0, "`seconds` a render is fresh, 60 to 31536000 (default: 86400)")
	fs.IntVar(&d.renderTimeout, "render-timeout", 0, "render timeout in `ms`, 1000 to 60000; 0 uses the node's (default: 0)")
	fs.StringSliceVar(&d.blockResources, "block-resources", nil, "resource `types` Chromium does not load: image, media, font, stylesheet, other (default: font,image,media)")
	fs.BoolVar(&d.blockTrackers, "block-trackers", true, "block the built-in list of analytics and ad hosts")
	fs.Int64Var(&d.monthlyLimit, "monthly-render-limit", 0, "renders per month before misses go to the origin; overrides the plan's (default: the plan's)")
	if set {
		fs.StringSliceVar(&d.reset, "reset", nil, "return `fields` to their defaults: cache-ttl, render, render-timeout, block-resources, block-trackers, monthly-render-limit")
	}
}

// resetFields maps --reset names to the API's field paths.
var resetFields = map[string]string{
	"cache-ttl":            "cacheTtl",
	"render":               "render",
	"render-timeout":       "render.timeoutMs",
	"block-resources":      "render.blockResources",
	"block-trackers":       "render.blockTrackers",
	"monthly-render-limit": "monthlyRenderLimit",
}

// settings returns the fields the command line named.
func (d *domainFlags) settings(cmd *cobra.Command) (client.DomainSettings, error) {
	var s client.DomainSettings
	fs := cmd.Flags()
	if fs.Changed("origin") {
		s.Origin = &d.origin
	}
	if fs.Changed("cache-ttl") {
		s.CacheTTL = &d.cacheTTL
	}
	if fs.Changed("render-timeout") {
		s.TimeoutMs = &d.renderTimeout
	}
	if fs.Changed("block-resources") {
		s.BlockResources = d.blockResources
		if s.BlockResources == nil {
			s.BlockResources = []string{}
		}
	}
	if fs.Changed("block-trackers") {
		s.BlockTrackers = &d.blockTrackers
	}
	if fs.Changed("monthly-render-limit") {
		s.MonthlyRenderLimit = &d.monthlyLimit
	}
	for _, r := range d.reset {
		f, ok := resetFields[r]
		if !ok {
			return s, &usageError{cmd: commandName(cmd), err: fmt.Errorf("--reset %q: not a field with a default", r)}
		}
		s.Reset = append(s.Reset, f)
	}
	return s, nil
}

// domainsCommand is `rendercache domains list|add|get|set|rm|usage`.
func (a *apiSettings) domainsCommand() *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "list the account's domains",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			list, err := c.ListDomains(cmd.Context())
			if err != nil {
				return fmt.Errorf("domains list: %w", err)
			}
			return a.print(list, func(w io.Writer) {
				row(w, "DOMAIN", "ORIGIN", "CACHE TTL", "RENDER TIMEOUT", "BLOCKED", "MONTHLY LIMIT")
				for _, d := range list {
					row(w, d.Domain, d.Origin, d.CacheTTL, d.Render.TimeoutMs, blocked(d), d.MonthlyRenderLimit)
				}
			})
		}),
	}
	var add domainFlags
	addCmd := &cobra.Command{
		Use:     "add <domain>",
		Short:   "register a domain and its origin (--origin)",
		Example: `  rendercache domains add shop.test --origin http://127.0.0.1:9000`,
		Args:    exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			set, err := add.settings(cmd)
			if err != nil {
				return err
			}
			d, err := c.CreateDomain(cmd.Context(), args[0], set)
			if err != nil {
				return fmt.Errorf("domains add: %w", err)
			}
			return a.print(d, func(w io.Writer) { domainTable(w, d) })
		}),
	}
	add.define(addCmd.Flags(), false)
	get := &cobra.Command{
		Use:   "get <domain>",
		Short: "show a domain's settings",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			d, err := c.GetDomain(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("domains get: %w", err)
			}
			return a.print(d, func(w io.Writer) { domainTable(w, d) })
		}),
	}
	var set domainFlags
	setCmd := &cobra.Command{
		Use:   "set <domain>",
		Short: "change the settings named and nothing else (--reset returns fields to their defaults)",
		Example: `  rendercache domains set shop.test --cache-ttl 3600 --render-timeout 5000
  rendercache domains set shop.test --reset cache-ttl,monthly-render-limit`,
		Args: exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			s, err := set.settings(cmd)
			if err != nil {
				return err
			}
			d, err := c.UpdateDomain(cmd.Context(), args[0], s)
			if err != nil {
				return fmt.Errorf("domains set: %w", err)
			}
			return a.print(d, func(w io.Writer) { domainTable(w, d) })
		}),
	}
	set.define(setCmd.Flags(), true)
	rm := &cobra.Command{
		Use:   "rm <domain>",
		Short: "delete a domain",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.DeleteDomain(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("domains rm: %w", err)
			}
			return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", args[0]) })
		}),
	}
	usage := &cobra.Command{
		Use:   "usage <domain>",
		Short: "the domain's renders this month and where misses start going to the origin",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			u, err := c.DomainUsage(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("domains usage: %w", err)
			}
			return a.print(u, func(w io.Writer) {
				row(w, "DOMAIN", "MONTH", "RENDERS", "LIMIT", "BYPASS AT", "BYPASSED")
				row(w, u.Domain, u.Month, u.Renders, u.Limit, u.BypassAt, u.Bypassed)
			})
		}),
	}
	return group("domains", "register domains and change their settings (--api-key)", list, addCmd, get, setCmd, rm, usage)
}

func blocked(d client.Domain) string {
	b := append([]string(nil), d.Render.BlockResources...)
	if d.Render.BlockTrackers {
		b = append(b, "trackers")
	}
	return cell(b)
}

func domainTable(w io.Writer, d client.Domain) {
	row(w, "domain", d.Domain)
	row(w, "origin", d.Origin)
	row(w, "cache ttl", fmt.Sprintf("%ds", d.CacheTTL))
	row(w, "render timeout", fmt.Sprintf("%dms", d.Render.TimeoutMs))
	row(w, "blocked", blocked(d))
	row(w, "monthly render limit", d.MonthlyRenderLimit)
	row(w, "cache version", d.CacheVersion)
	row(w, "created", d.CreatedAt)
	row(w, "updated", strings.TrimSpace(cell(d.UpdatedAt)))
}
