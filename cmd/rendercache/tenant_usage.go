package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// The tenant traffic commands: `rendercache tenants usage|analytics|
// bandwidth|logs`, over the routes of seed 004 that read what tenant
// hosts served, summed over the cluster.

func (a *apiSettings) tenantUsageCommand() *cobra.Command {
	var period string
	c := &cobra.Command{
		Use:   "usage [slug]",
		Short: "traffic this period and the one before; without a slug, every tenant you can see",
		Args:  rangeArgs(0, 1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			if len(args) == 0 {
				u, err := c.TenantsUsage(cmd.Context(), period)
				if err != nil {
					return fmt.Errorf("%s: %w", commandName(cmd), err)
				}
				return a.print(u, func(w io.Writer) {
					fmt.Fprintf(w, "%s %s to %s\n", u.Period, u.Start, u.End)
					figuresHeader(w, "TENANT")
					for _, t := range u.Tenants {
						figuresRow(w, t.Slug, t.TrafficFigures)
					}
					figuresRow(w, "total", u.Total)
				})
			}
			u, err := c.TenantUsage(cmd.Context(), args[0], period)
			if err != nil {
				return fmt.Errorf("%s: %w", commandName(cmd), err)
			}
			return a.print(u, func(w io.Writer) {
				figuresHeader(w, u.Period)
				for _, win := range []struct {
					name string
					w    client.TrafficWindow
				}{{"current", u.Current}, {"previous", u.Previous}} {
					figuresRow(w, win.name+" "+win.w.Start+".."+win.w.End, win.w.TrafficFigures)
					figuresRow(w, "  api", win.w.API)
					figuresRow(w, "  website", win.w.Website)
				}
			})
		}),
	}
	c.Flags().StringVar(&period, "period", "", "`day`, week or month (default month), UTC")
	return c
}

func (a *apiSettings) tenantAnalyticsCommand() *cobra.Command {
	var period string
	c := &cobra.Command{
		Use:   "analytics <slug>",
		Short: "requests, cache hits, bytes, status classes and top paths of the API proxy and the website",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			an, err := c.TenantAnalytics(cmd.Context(), args[0], period)
			if err != nil {
				return fmt.Errorf("%s: %w", commandName(cmd), err)
			}
			return a.print(an, func(w io.Writer) {
				fmt.Fprintf(w, "%s %s to %s\n", an.Period, an.Start, an.End)
				figuresHeader(w, "SURFACE")
				figuresRow(w, "total", an.Total)
				figuresRow(w, "api", an.API.TrafficFigures)
				figuresRow(w, "website", an.Website.TrafficFigures)
				row(w)
				row(w, "SURFACE", "PATH", "REQUESTS")
				for _, s := range []struct {
					name  string
					paths []client.TrafficPath
				}{{"api", an.API.TopPaths}, {"website", an.Website.TopPaths}} {
					for _, p := range s.paths {
						row(w, s.name, p.Path, p.Requests)
					}
				}
			})
		}),
	}
	c.Flags().StringVar(&period, "period", "", "`day`, week or month (default month), UTC")
	return c
}

func (a *apiSettings) tenantBandwidthCommand() *cobra.Command {
	var from, to string
	c := &cobra.Command{
		Use:   "bandwidth <slug>",
		Short: "bytes and requests per UTC day (at most 92 days; default the last 30)",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			b, err := c.TenantBandwidth(cmd.Context(), args[0], from, to)
			if err != nil {
				return fmt.Errorf("%s: %w", commandName(cmd), err)
			}
			return a.print(b, func(w io.Writer) {
				row(w, "DATE", "BYTES", "REQUESTS", "API BYTES", "WEBSITE BYTES")
				for _, p := range b.Points {
					row(w, p.Date, p.Bytes, p.Requests, p.APIBytes, p.WebsiteBytes)
				}
				row(w, "total", b.TotalBytes)
			})
		}),
	}
	c.Flags().StringVar(&from, "from", "", "first `day`, YYYY-MM-DD")
	c.Flags().StringVar(&to, "to", "", "last `day`, YYYY-MM-DD (default today)")
	return c
}

func (a *apiSettings) tenantLogsCommand() *cobra.Command {
	var q client.TenantLogQuery
	c := &cobra.Command{
		Use:   "logs <slug>",
		Short: "the request log, newest first, from every live node (paths without query strings)",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			p, err := c.TenantLogs(cmd.Context(), args[0], q)
			if err != nil {
				return fmt.Errorf("%s: %w", commandName(cmd), err)
			}
			return a.print(p, func(w io.Writer) {
				row(w, "TIME", "NODE", "SURFACE", "METHOD", "PATH", "STATUS", "BYTES", "CACHE", "MS")
				for _, e := range p.Entries {
					row(w, e.Time, e.Node, e.Surface, e.Method, e.Path, e.Status, e.Bytes, e.Cache, fmt.Sprintf("%.1f", e.DurationMs))
				}
				if len(p.Missing) > 0 {
					fmt.Fprintf(w, "not answered (their entries are missing): %v\n", p.Missing)
				}
				if p.NextCursor != nil {
					fmt.Fprintf(w, "more: --cursor %s\n", *p.NextCursor)
				}
			})
		}),
	}
	c.Flags().IntVar(&q.Limit, "limit", 50, "entries per page, 1 to 200")
	c.Flags().StringVar(&q.Cursor, "cursor", "", "continue after a previous page (its `cursor`)")
	c.Flags().StringVar(&q.Status, "status", "", "only this status `class or code`: 2xx, 404")
	c.Flags().StringVar(&q.Surface, "surface", "", "only `api` or website")
	return c
}

func figuresHeader(w io.Writer, first string) {
	row(w, first, "REQUESTS", "HITS", "MISSES", "BYPASS", "HIT RATE", "BYTES", "2XX", "3XX", "4XX", "5XX")
}

func figuresRow(w io.Writer, name string, f client.TrafficFigures) {
	row(w, name, f.Requests, f.Hits, f.Misses, f.Bypass, fmt.Sprintf("%.1f%%", 100*f.HitRate), f.Bytes, f.Status.S2xx, f.Status.S3xx, f.Status.S4xx, f.Status.S5xx)
}
