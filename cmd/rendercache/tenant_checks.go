package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// tenantCheckCommand is `rendercache tenants check <slug>`: the
// cachely-check, which probes the tenant's website surface.
func (a *apiSettings) tenantCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check <slug>",
		Short: "probe the tenant's website surface twice and report whether it is served and cached through the proxy (read-only)",
		Long: "check probes the tenant's active custom domain (production), else its preview host <slug>.<tenant-domain>,\n" +
			"with two plain GETs, and weighs the x-cachely-* headers against the stored configuration. The state is\n" +
			"implemented, active_needs_attention, not_detected or not_enabled; the command exits 0 whatever it is.",
		Example: "  rendercache tenants check acme",
		Args:    exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.TenantCachelyCheck(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("%s: %w", commandName(cmd), err)
			}
			return a.print(r, func(w io.Writer) { cachelyTable(w, r) })
		}),
	}
}

// tenantSiteCheckCommand is `rendercache tenants site-check <slug>
// <url>`: the website-implementation-check of the public site at url.
func (a *apiSettings) tenantSiteCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "site-check <slug> <url>",
		Short: "fetch the public website and report whether its code routes through the proxy or calls the CMS directly (read-only)",
		Long: "site-check fetches the public site (not the proxy's URL) and classifies the references in its HTML. The verdict is\n" +
			"implemented, mixed, not_using or inconclusive. A site that cannot be checked prints ok false with the reason\n" +
			"and exits 0: it is an answer, not a failure of the command.",
		Example: "  rendercache tenants site-check acme https://www.acme.com",
		Args:    exactArgs(2),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.TenantWebsiteCheck(cmd.Context(), args[0], args[1])
			if err != nil {
				return fmt.Errorf("%s: %w", commandName(cmd), err)
			}
			return a.print(r, func(w io.Writer) { siteCheckTable(w, r) })
		}),
	}
}

func cachelyTable(w io.Writer, r client.TenantCachelyCheck) {
	row(w, "state", r.State)
	row(w, "headline", r.Headline)
	row(w, "surface", deref(r.SurfaceLabel))
	row(w, "probe url", deref(r.ProbeURL))
	fmt.Fprintln(w)
	row(w, "ITEM", "STATE", "DETAIL")
	for _, it := range r.Items {
		row(w, it.Label, it.State, it.Detail)
	}
	if len(r.Probes) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "PROBE", "STATUS", "X-CACHELY-CACHE", "VERSION", "NODE", "MS", "ERROR")
	for _, p := range r.Probes {
		row(w, p.Attempt, p.Status, p.Cache, p.Version, p.Node, p.DurationMS, p.Error)
	}
}

func siteCheckTable(w io.Writer, r client.TenantWebsiteCheck) {
	row(w, "ok", r.OK)
	row(w, "final url", deref(r.FinalURL))
	if !r.OK {
		row(w, "error", r.Error)
		row(w, "message", r.Message)
		return
	}
	a := r.Analysis
	row(w, "platform", r.Platform)
	row(w, "verdict", a.VerdictState)
	row(w, "", a.Verdict)
	row(w, "cachely usage", a.CachelyUsage)
	row(w, "direct "+a.CMSLabel+" usage", a.DirectCMSUsage)
	if len(a.CachelySignals)+len(a.DirectCMSSignals) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "SIGNAL", "KIND", "CONTEXT", "MATCH")
	for _, s := range a.CachelySignals {
		row(w, "cachely", s.Kind, s.Context, s.Match)
	}
	for _, s := range a.DirectCMSSignals {
		row(w, "direct cms", s.Kind, s.Context, s.Match)
	}
}

// deref is *s, or "" for nil (printed as "-").
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
