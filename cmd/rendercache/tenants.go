package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rendercache/rendercache/client"
)

// tenantFlags are create's and set's optional fields.
type tenantFlags struct {
	provider                                string
	fields                                  map[string]string
	cacheTTL                                int
	websiteDomain, websiteOrigin, apiOrigin string
	prerender                               bool
}

func (f *tenantFlags) define(fs *pflag.FlagSet) {
	fs.StringVar(&f.provider, "provider", "", "CMS `provider`: contentful, prismic, storyblok, sanity, strapi, hygraph, directus, webflow or generic")
	fs.StringToStringVar(&f.fields, "field", nil, "provider settings as `key=value` (repeat; an empty value removes a key on set), never tokens")
	fs.IntVar(&f.cacheTTL, "cache-ttl", 0, "cache TTL in `seconds`")
	fs.StringVar(&f.websiteDomain, "website-domain", "", "the website's `host`")
	fs.StringVar(&f.websiteOrigin, "website-origin", "", "the website's origin `URL`")
	fs.StringVar(&f.apiOrigin, "api-origin", "", "the CMS API's origin `URL`")
	fs.BoolVar(&f.prerender, "prerender", false, "serve crawlers pre-rendered pages of the website (--prerender=false to stop)")
}

// patch returns the fields whose flags were given.
func (f *tenantFlags) patch(fs *pflag.FlagSet) client.TenantFields {
	var p client.TenantFields
	if fs.Changed("provider") || fs.Changed("field") {
		p.CMS = &client.TenantCMS{Provider: f.provider, Fields: f.fields}
	}
	if fs.Changed("cache-ttl") {
		p.CacheTTL = &f.cacheTTL
	}
	if fs.Changed("website-domain") {
		p.WebsiteDomain = &f.websiteDomain
	}
	if fs.Changed("website-origin") {
		p.WebsiteOrigin = &f.websiteOrigin
	}
	if fs.Changed("api-origin") {
		p.APIOrigin = &f.apiOrigin
	}
	if fs.Changed("prerender") {
		p.Prerender = &f.prerender
	}
	return p
}

// tenantsCommand is `rendercache tenants ...`: the tenants API of seed
// 004, as an account (--api-key) or as the operator (--admin-token).
func (a *apiSettings) tenantsCommand() *cobra.Command {
	cmd := func(use, short string, args cobra.PositionalArgs, do func(cmd *cobra.Command, c *client.Client, args []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args, RunE: a.run(do)}
	}
	fail := func(cmd *cobra.Command, err error) error { return fmt.Errorf("%s: %w", commandName(cmd), err) }
	show := func(t client.Tenant) error { return a.print(t, func(w io.Writer) { tenantTable(w, t) }) }

	list := cmd("list", "list the tenants you are a member of (the operator: every tenant)", noArgs, func(cmd *cobra.Command, c *client.Client, _ []string) error {
		ts, err := c.ListTenants(cmd.Context())
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(ts, func(w io.Writer) {
			row(w, "SLUG", "PROVIDER", "CACHE TTL", "API", "ASSETS", "HTML", "CREATED")
			for _, t := range ts {
				row(w, t.Slug, t.CMS.Provider, t.CacheTTL, t.Versions.APICacheVersion, t.Versions.AssetCacheVersion, t.Versions.HTMLCacheVersion, t.CreatedAt)
			}
		})
	})
	var cf tenantFlags
	create := cmd("create <slug>", "create a tenant you own", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		if cf.provider == "" {
			return &usageError{cmd: "tenants create", err: fmt.Errorf("--provider is required")}
		}
		p := cf.patch(cmd.Flags())
		r, err := c.CreateTenant(cmd.Context(), args[0], client.TenantCMS{Provider: cf.provider, Fields: cf.fields}, p)
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(r, func(w io.Writer) { row(w, "key", r.Key); row(w, "proxyBase", r.ProxyBase) })
	})
	create.Example = `  rendercache tenants create acme --provider contentful --field spaceId=abc123 --cache-ttl 300`
	cf.define(create.Flags())
	var sf tenantFlags
	set := cmd("set <slug>", "change the fields named and nothing else (editor)", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		t, err := c.UpdateTenant(cmd.Context(), args[0], sf.patch(cmd.Flags()))
		if err != nil {
			return fail(cmd, err)
		}
		return show(t)
	})
	sf.define(set.Flags())
	get := cmd("get <slug>", "show a tenant", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		t, err := c.GetTenant(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return show(t)
	})
	rm := cmd("rm <slug>", "delete a tenant with its members, invites, secrets and webhooks (owner)", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		if err := c.DeleteTenant(cmd.Context(), args[0]); err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", args[0]) })
	})
	available := cmd("available <slug>", "whether a slug is free", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		slug, ok, err := c.SlugAvailable(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]any{"slug": slug, "available": ok}, func(w io.Writer) { row(w, slug, ok) })
	})
	var refreshType string
	refresh := cmd("refresh <slug>", "bump cache versions: --type api, assets, html or all (editor)", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		v, err := c.RefreshTenantCache(cmd.Context(), args[0], refreshType)
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(v, func(w io.Writer) { versionsTable(w, v) })
	})
	refresh.Flags().StringVar(&refreshType, "type", "all", "which `versions`: api, assets, html or all")
	var limit int
	var before uint64
	audit := cmd("audit <slug>", "audit events, newest first", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		evs, more, err := c.TenantAudit(cmd.Context(), args[0], limit, before)
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]any{"events": evs, "hasMore": more}, func(w io.Writer) {
			row(w, "ID", "ACTION", "ACTOR", "TARGET", "AT")
			for _, e := range evs {
				row(w, e.ID, e.Action, e.ActorID, e.Target, e.CreatedAt)
			}
			if more {
				fmt.Fprintf(w, "more: --before %d\n", evs[len(evs)-1].ID)
			}
		})
	})
	audit.Flags().IntVar(&limit, "limit", 50, "events per page, 1 to 200")
	audit.Flags().Uint64Var(&before, "before", 0, "only events with ids below this `id` (the next page)")
	edge := cmd("edge-sync <slug>", "rebuild the answering node's runtime snapshot of the tenant (editor)", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		po, err := c.SyncTenantEdgeConfig(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]string{"publicOrigin": po}, func(w io.Writer) { row(w, "publicOrigin", po) })
	})
	var rotate bool
	secretCmd := cmd("webhook-secret <slug>", "show the tenant webhook's secret, generating one (editor); --rotate replaces it (admin)", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		s, err := c.TenantWebhookSecret(cmd.Context(), args[0], rotate)
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]string{"secret": s}, func(w io.Writer) { fmt.Fprintln(w, s) })
	})
	secretCmd.Flags().BoolVar(&rotate, "rotate", false, "replace the secret; the old one fails at once")
	token := cmd("api-token <slug>", "store the CMS API token read from stdin (write-only; editor)", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 8192)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fail(cmd, err)
		}
		if err := c.SetTenantAPIToken(cmd.Context(), args[0], strings.TrimSpace(line)); err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]bool{"ok": true}, func(w io.Writer) { fmt.Fprintln(w, "token stored") })
	})
	accept := cmd("accept <token>", "accept an invite sent to your account's email", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		slug, role, err := c.AcceptTenantInvite(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]string{"slug": slug, "role": role}, func(w io.Writer) { fmt.Fprintf(w, "member of %s as %s\n", slug, role) })
	})
	return group("tenants", "tenants of seed 004: config, members, audit, cache versions, webhooks (--api-key, or --admin-token as operator)",
		list, create, get, set, rm, available, refresh, audit, edge, secretCmd, token, accept, a.tenantMembersCommand(), a.tenantWebhooksCommand(), a.tenantCheckCommand(), a.tenantSiteCheckCommand(), a.tenantDomainsCommand(),
		a.tenantUsageCommand(), a.tenantAnalyticsCommand(), a.tenantBandwidthCommand(), a.tenantLogsCommand())
}

func (a *apiSettings) tenantMembersCommand() *cobra.Command {
	cmd := func(use, short string, n int, do func(cmd *cobra.Command, c *client.Client, args []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: exactArgs(n), RunE: a.run(do)}
	}
	fail := func(cmd *cobra.Command, err error) error { return fmt.Errorf("%s: %w", commandName(cmd), err) }
	done := func(what string) error {
		return a.print(map[string]bool{"ok": true}, func(w io.Writer) { fmt.Fprintln(w, what) })
	}
	list := cmd("list <slug>", "members, and pending invites for admins and owners", 1, func(cmd *cobra.Command, c *client.Client, args []string) error {
		ms, invs, err := c.TenantMembers(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]any{"members": ms, "invites": invs}, func(w io.Writer) {
			row(w, "USER", "ROLE", "SINCE")
			for _, m := range ms {
				row(w, m.UserID, m.Role, m.CreatedAt)
			}
			for _, i := range invs {
				row(w, fmt.Sprintf("invite %d: %s", i.ID, i.Email), i.Role, "expires "+i.ExpiresAt.String())
			}
		})
	})
	invite := cmd("invite <slug> <email> <role>", "invite (or re-invite) an email as viewer, editor, admin or owner (admin)", 3, func(cmd *cobra.Command, c *client.Client, args []string) error {
		inv, err := c.InviteTenantMember(cmd.Context(), args[0], args[1], args[2])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(inv, func(w io.Writer) {
			row(w, "id", inv.ID)
			row(w, "token", inv.Token)
			row(w, "emailSent", inv.EmailSent)
			row(w, "expires", inv.ExpiresAt)
		})
	})
	rm := cmd("rm <slug> <user-id>", "remove a member (admin)", 2, func(cmd *cobra.Command, c *client.Client, args []string) error {
		if err := c.RemoveTenantMember(cmd.Context(), args[0], args[1]); err != nil {
			return fail(cmd, err)
		}
		return done("removed " + args[1])
	})
	revoke := cmd("revoke <slug> <invite-id>", "revoke a pending invite (admin)", 2, func(cmd *cobra.Command, c *client.Client, args []string) error {
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return &usageError{cmd: commandName(cmd), err: fmt.Errorf("invite id %q is not a number", args[1])}
		}
		if err := c.RevokeTenantInvite(cmd.Context(), args[0], id); err != nil {
			return fail(cmd, err)
		}
		return done("revoked " + args[1])
	})
	role := cmd("role <slug> <user-id> <role>", "change a member's role (admin)", 3, func(cmd *cobra.Command, c *client.Client, args []string) error {
		m, err := c.UpdateTenantMemberRole(cmd.Context(), args[0], args[1], args[2])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(m, func(w io.Writer) { row(w, m.UserID, m.Role) })
	})
	return group("members", "a tenant's members and invites", list, invite, rm, revoke, role)
}

func (a *apiSettings) tenantWebhooksCommand() *cobra.Command {
	cmd := func(use, short string, n int, do func(cmd *cobra.Command, c *client.Client, args []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: exactArgs(n), RunE: a.run(do)}
	}
	fail := func(cmd *cobra.Command, err error) error { return fmt.Errorf("%s: %w", commandName(cmd), err) }
	created := func(h client.TenantHookCreated) error {
		return a.print(h, func(w io.Writer) {
			row(w, "id", h.Webhook.ID)
			row(w, "url", h.URL)
			fmt.Fprintln(w, "the URL holds the secret and is shown only now: paste it into your CMS")
		})
	}
	list := cmd("list <slug>", "a tenant's cache-refresh webhooks (editor)", 1, func(cmd *cobra.Command, c *client.Client, args []string) error {
		hs, err := c.TenantHooks(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(hs, func(w io.Writer) {
			row(w, "ID", "PROVIDER", "API", "ASSETS", "ENABLED", "LAST STATUS")
			for _, h := range hs {
				last := ""
				if h.LastStatus != nil {
					last = *h.LastStatus
				}
				row(w, h.ID, h.Provider, h.RefreshAPI, h.RefreshAssets, h.Enabled, last)
			}
		})
	})
	var assets bool
	create := cmd("create <slug> <provider>", "create a webhook for contentful, prismic, storyblok or generic (admin)", 2, func(cmd *cobra.Command, c *client.Client, args []string) error {
		h, err := c.CreateTenantHook(cmd.Context(), args[0], args[1], assets)
		if err != nil {
			return fail(cmd, err)
		}
		return created(h)
	})
	create.Flags().BoolVar(&assets, "refresh-assets", false, "also bump the assets version (default: the API cache only)")
	regen := cmd("regenerate <slug> <id>", "replace a webhook's secret; the old URL fails at once (admin)", 2, func(cmd *cobra.Command, c *client.Client, args []string) error {
		h, err := c.RegenerateTenantHook(cmd.Context(), args[0], args[1])
		if err != nil {
			return fail(cmd, err)
		}
		return created(h)
	})
	rm := cmd("rm <slug> <id>", "delete a webhook; its events stay (admin)", 2, func(cmd *cobra.Command, c *client.Client, args []string) error {
		if err := c.DeleteTenantHook(cmd.Context(), args[0], args[1]); err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]string{"deleted": args[1]}, func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", args[1]) })
	})
	events := cmd("events <slug> <id>", "a webhook's last 50 calls (editor)", 2, func(cmd *cobra.Command, c *client.Client, args []string) error {
		evs, err := c.TenantHookEvents(cmd.Context(), args[0], args[1])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(evs, func(w io.Writer) {
			row(w, "ID", "STATUS", "EVENT", "API VERSION", "MS", "AT")
			for _, e := range evs {
				row(w, e.ID, e.Status, e.EventType, fmt.Sprintf("%d→%d", e.PreviousAPICacheVersion, e.NextAPICacheVersion), e.DurationMs, e.ReceivedAt)
			}
		})
	})
	return group("webhooks", "a tenant's cache-refresh webhooks", list, create, regen, rm, events)
}

func tenantTable(w io.Writer, t client.Tenant) {
	row(w, "slug", t.Slug)
	row(w, "provider", t.CMS.Provider)
	for k, v := range t.CMS.Fields {
		row(w, "field "+k, v)
	}
	row(w, "cacheTTL", t.CacheTTL)
	row(w, "websiteDomain", t.WebsiteDomain)
	row(w, "websiteOrigin", t.WebsiteOrigin)
	row(w, "prerender", t.Prerender)
	row(w, "apiOrigin", t.APIOrigin)
	row(w, "apiTokenSet", t.API.TokenSet)
	versionsTable(w, t.Versions)
	row(w, "created", t.CreatedAt)
}

func versionsTable(w io.Writer, v client.TenantVersions) {
	row(w, "apiCacheVersion", v.APICacheVersion)
	row(w, "assetCacheVersion", v.AssetCacheVersion)
	row(w, "htmlCacheVersion", v.HTMLCacheVersion)
}
