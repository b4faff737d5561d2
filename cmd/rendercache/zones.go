package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// zonesCommand is `rendercache zones list|create|get|set|rm|purge|usage`:
// the asset CDN's zones (seed 003), in the mode of the key (rk_live_ or
// rk_test_).
func (a *apiSettings) zonesCommand() *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "list the zones of the key's mode",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			list, err := c.ListZones(cmd.Context())
			if err != nil {
				return fmt.Errorf("zones list: %w", err)
			}
			return a.print(list, func(w io.Writer) {
				row(w, "ID", "NAME", "SUBDOMAIN", "ORIGIN", "ACTIVE", "CREATED")
				for _, z := range list {
					row(w, z.ID, z.Name, z.Subdomain, z.Origin, z.Active, z.Created)
				}
			})
		}),
	}
	var origin string
	create := &cobra.Command{
		Use:     "create <name>",
		Short:   "create a zone served at <name>.<cdn-domain> from --origin",
		Example: `  rendercache zones create my-assets --origin http://127.0.0.1:9000`,
		Args:    exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			if origin == "" {
				return &usageError{cmd: "zones create", err: fmt.Errorf("--origin is required")}
			}
			z, err := c.CreateZone(cmd.Context(), args[0], origin)
			if err != nil {
				return fmt.Errorf("zones create: %w", err)
			}
			return a.print(z, func(w io.Writer) { zoneTable(w, z) })
		}),
	}
	create.Flags().StringVar(&origin, "origin", "", "the origin `URL` assets are fetched from")
	get := &cobra.Command{
		Use:   "get <zone-id>",
		Short: "show a zone",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			z, err := c.GetZone(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("zones get: %w", err)
			}
			return a.print(z, func(w io.Writer) { zoneTable(w, z) })
		}),
	}
	var setName, setOrigin string
	var setActive bool
	set := &cobra.Command{
		Use:     "set <zone-id>",
		Short:   "change the fields named and nothing else",
		Example: `  rendercache zones set zone_0123456789abcdef --active=false`,
		Args:    exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			var p client.ZonePatch
			if cmd.Flags().Changed("name") {
				p.Name = &setName
			}
			if cmd.Flags().Changed("origin") {
				p.Origin = &setOrigin
			}
			if cmd.Flags().Changed("active") {
				p.Active = &setActive
			}
			z, err := c.UpdateZone(cmd.Context(), args[0], p)
			if err != nil {
				return fmt.Errorf("zones set: %w", err)
			}
			return a.print(z, func(w io.Writer) { zoneTable(w, z) })
		}),
	}
	set.Flags().StringVar(&setName, "name", "", "a new `name` (a DNS label)")
	set.Flags().StringVar(&setOrigin, "origin", "", "a new origin `URL`")
	set.Flags().BoolVar(&setActive, "active", true, "serve the zone (false: its host answers 404)")
	rm := &cobra.Command{
		Use:   "rm <zone-id>",
		Short: "delete a zone",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.DeleteZone(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("zones rm: %w", err)
			}
			return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", args[0]) })
		}),
	}
	var pg client.ZonePurge
	purge := &cobra.Command{
		Use:   "purge <zone-id>",
		Short: "purge a path, a prefix (--path /assets/*), a tag or the whole zone on every node",
		Example: `  rendercache zones purge zone_0123456789abcdef --path /assets/v2/reset.css
  rendercache zones purge zone_0123456789abcdef --path '/assets/*' --soft
  rendercache zones purge zone_0123456789abcdef --tag product-42`,
		Args: exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.PurgeZone(cmd.Context(), args[0], pg)
			if err != nil {
				return fmt.Errorf("zones purge: %w", err)
			}
			return a.print(r, func(w io.Writer) { fmt.Fprintf(w, "purged on %d nodes\n", r.Nodes) })
		}),
	}
	purge.Flags().StringVar(&pg.Path, "path", "", "a `path`, or a prefix ending in /* (default: the whole zone)")
	purge.Flags().StringVar(&pg.Tag, "tag", "", "every object whose origin sent this Cache-Tag or Surrogate-Key `tag`")
	purge.Flags().BoolVar(&pg.Soft, "soft", false, "mark stale instead: stale copies are served while one refetch revalidates")
	usage := &cobra.Command{
		Use:   "usage",
		Short: "requests and bytes served this month by the zones of the key's mode",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			u, err := c.ZoneUsage(cmd.Context())
			if err != nil {
				return fmt.Errorf("zones usage: %w", err)
			}
			return a.print(u, func(w io.Writer) {
				row(w, "PERIOD", "REQUESTS", "BANDWIDTH BYTES", "CACHE HIT RATE")
				row(w, u.PeriodStart+" to "+u.PeriodEnd, u.Requests, u.BandwidthBytes, fmt.Sprintf("%.2f", u.CacheHitRate))
			})
		}),
	}
	return group("zones", "asset CDN zones: create, purge, usage (--api-key, rk_live_ or rk_test_)", list, create, get, set, rm, purge, usage)
}

func zoneTable(w io.Writer, z client.Zone) {
	row(w, "id", z.ID)
	row(w, "name", z.Name)
	row(w, "subdomain", z.Subdomain)
	row(w, "origin", z.Origin)
	row(w, "active", z.Active)
	row(w, "created", z.Created)
}
