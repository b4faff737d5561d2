package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// cacheCommand is `rendercache cache list|stats|purge|purge-all|refresh|
// refresh-all|warm` (plans with API access).
func (a *apiSettings) cacheCommand() *cobra.Command {
	var (
		limit  int
		cursor string
		all    bool
	)
	list := &cobra.Command{
		Use:   "list <domain>",
		Short: "list a domain's cached pages, cluster-wide",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			l, err := c.ListCache(cmd.Context(), args[0], cursor, limit)
			for err == nil && all && l.NextCursor != "" {
				var next client.CacheListing
				next, err = c.ListCache(cmd.Context(), args[0], l.NextCursor, limit)
				l.Pages = append(l.Pages, next.Pages...)
				l.CachedPages, l.NextCursor = len(l.Pages), next.NextCursor
			}
			if err != nil {
				return fmt.Errorf("cache list: %w", err)
			}
			return a.print(l, func(w io.Writer) {
				row(w, "PATH", "CACHE KEY")
				for _, p := range l.Pages {
					row(w, p.Path, p.CacheKey)
				}
				if l.NextCursor != "" {
					fmt.Fprintf(a.stderr, "more pages follow: --cursor %s (or --all)\n", l.NextCursor)
				}
			})
		}),
	}
	list.Flags().IntVar(&limit, "limit", 0, "pages per request, 1 to 10000 (default: 1000)")
	list.Flags().StringVar(&cursor, "cursor", "", "continue after a previous listing's next cursor")
	list.Flags().BoolVar(&all, "all", false, "follow the cursors to the end")

	stats := &cobra.Command{
		Use:   "stats",
		Short: "cached pages across the account's domains",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			s, err := c.Stats(cmd.Context())
			if err != nil {
				return fmt.Errorf("cache stats: %w", err)
			}
			return a.print(s, func(w io.Writer) {
				row(w, "total keys", s.TotalKeys)
				row(w, "domains", s.DomainCount)
			})
		}),
	}
	purge := &cobra.Command{
		Use:   "purge <domain> [path]",
		Short: "purge one page, or the whole domain without a path; no node serves it after this returns",
		Args:  rangeArgs(1, 2),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			path := ""
			if len(args) == 2 {
				path = args[1]
			}
			r, err := c.Purge(cmd.Context(), args[0], path)
			if err != nil {
				return fmt.Errorf("cache purge: %w", err)
			}
			return a.print(r, func(w io.Writer) { fmt.Fprintf(w, "%s: %d keys deleted\n", r.Message, r.KeysDeleted) })
		}),
	}
	purgeAll := &cobra.Command{
		Use:   "purge-all",
		Short: "purge every domain of the account",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			r, err := c.PurgeAll(cmd.Context())
			if err != nil {
				return fmt.Errorf("cache purge-all: %w", err)
			}
			return a.print(r, func(w io.Writer) { fmt.Fprintf(w, "%s: %d keys deleted\n", r.Message, r.KeysDeleted) })
		}),
	}
	var (
		wait      waitFlags
		keep      bool
		keepAll   bool
		keepUsage = "keep each cached page until its re-render passes the quality guard, instead of deleting it first"
	)
	refresh := &cobra.Command{
		Use:   "refresh <domain> [path...]",
		Short: "re-render pages of a domain (default / /about /contact /shop); --wait follows the jobs",
		Args:  rangeArgs(1, -1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			var paths []string
			if len(args) > 1 {
				paths = args[1:]
			}
			r, err := c.Refresh(cmd.Context(), args[0], paths, client.RefreshOptions{KeepUntilReplaced: keep})
			if err != nil {
				return fmt.Errorf("cache refresh: %w", err)
			}
			return a.jobs(cmd, c, r, wait)
		}),
	}
	wait.define(refresh)
	refresh.Flags().BoolVar(&keep, "keep-until-replaced", false, keepUsage)
	var waitAll waitFlags
	refreshAll := &cobra.Command{
		Use:   "refresh-all [path...]",
		Short: "re-render pages (default /) of every domain of the account; --wait follows the jobs",
		Args:  rangeArgs(0, -1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			var paths []string
			if len(args) > 0 {
				paths = args
			}
			r, err := c.RefreshAll(cmd.Context(), paths, client.RefreshOptions{KeepUntilReplaced: keepAll})
			if err != nil {
				return fmt.Errorf("cache refresh-all: %w", err)
			}
			return a.jobs(cmd, c, r, waitAll)
		}),
	}
	waitAll.define(refreshAll)
	refreshAll.Flags().BoolVar(&keepAll, "keep-until-replaced", false, keepUsage)
	var (
		waitWarm waitFlags
		sitemap  string
	)
	warm := &cobra.Command{
		Use:   "warm <domain>",
		Short: "render every page of the domain's sitemap; --wait follows the jobs with a progress bar",
		Example: `  rendercache cache warm shop.test --wait
  rendercache cache warm shop.test --sitemap https://shop.test/sitemap-products.xml --wait -o json`,
		Args: exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.Warm(cmd.Context(), args[0], sitemap)
			if err != nil {
				return fmt.Errorf("cache warm: %w", err)
			}
			return a.jobs(cmd, c, r, waitWarm)
		}),
	}
	warm.Flags().StringVar(&sitemap, "sitemap", "", "the sitemap `URL`, on the domain or its origin (default: <origin>/sitemap.xml)")
	waitWarm.define(warm)
	return group("cache", "list, purge, refresh and warm the render cache (--api-key; plans with API access)", list, stats, purge, purgeAll, refresh, refreshAll, warm)
}

// jobsCommand is `rendercache jobs get`.
func (a *apiSettings) jobsCommand() *cobra.Command {
	get := &cobra.Command{
		Use:   "get <job-id>...",
		Short: "show refresh and warm-up jobs, wherever in the cluster they run",
		Args:  rangeArgs(1, -1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			var list []client.Job
			for _, id := range args {
				j, err := c.Job(cmd.Context(), id)
				if err != nil {
					return fmt.Errorf("jobs get %s: %w", id, err)
				}
				list = append(list, j)
			}
			var v any = list
			if len(list) == 1 {
				v = list[0]
			}
			return a.print(v, func(w io.Writer) { jobTable(w, list) })
		}),
	}
	return group("jobs", "follow refresh and warm-up jobs (--api-key)", get)
}

func jobTable(w io.Writer, list []client.Job) {
	row(w, "JOB", "DOMAIN", "PATH", "STATUS", "NODE", "ERROR")
	for _, j := range list {
		row(w, j.JobID, j.Domain, j.Path, j.Status, j.Node, j.Error)
	}
}
