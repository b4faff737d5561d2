package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// tenantDomainsCommand is `rendercache tenants domains ...`: a tenant's
// custom domains and their DNS verification.
func (a *apiSettings) tenantDomainsCommand() *cobra.Command {
	cmd := func(use, short string, args cobra.PositionalArgs, do func(cmd *cobra.Command, c *client.Client, args []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args, RunE: a.run(do)}
	}
	fail := func(cmd *cobra.Command, err error) error { return fmt.Errorf("%s: %w", commandName(cmd), err) }
	show := func(d client.TenantDomain) error { return a.print(d, func(w io.Writer) { tenantDomainTable(w, d) }) }

	list := cmd("list <slug>", "a tenant's custom domains and their statuses", exactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		ds, err := c.TenantDomains(cmd.Context(), args[0])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(ds, func(w io.Writer) {
			row(w, "HOSTNAME", "STATUS", "TXT NAME", "TXT VALUE", "REASON")
			for _, d := range ds {
				row(w, d.Hostname, d.Status, d.Verification.Name, d.Verification.Value, d.Reason)
			}
		})
	})
	add := cmd("add <slug> <hostname>", "add a custom domain, pending until its TXT record is verified (editor)", exactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
		d, err := c.AddTenantDomain(cmd.Context(), args[0], args[1])
		if err != nil {
			return fail(cmd, err)
		}
		return a.print(d, func(w io.Writer) {
			tenantDomainTable(w, d)
			fmt.Fprintf(w, "publish this TXT record, then run: rendercache tenants domains verify %s %s\n", args[0], d.Hostname)
		})
	})
	add.Example = `  rendercache tenants domains add acme cdn.acme.com`
	rm := cmd("rm <slug> <hostname>", "remove a custom domain; no node serves it once this returns (editor)", exactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
		if err := c.RemoveTenantDomain(cmd.Context(), args[0], args[1]); err != nil {
			return fail(cmd, err)
		}
		return a.print(map[string]bool{"ok": true}, func(w io.Writer) { fmt.Fprintf(w, "removed %s\n", args[1]) })
	})
	verify := cmd("verify <slug> [hostname]", "look the TXT record up and activate the domain if it matches (editor); the hostname may be left out when the tenant has one domain", rangeArgs(1, 2), func(cmd *cobra.Command, c *client.Client, args []string) error {
		host := ""
		if len(args) == 2 {
			host = args[1]
		}
		d, err := c.VerifyTenantDomain(cmd.Context(), args[0], host)
		if err != nil {
			return fail(cmd, err)
		}
		return show(d)
	})
	return group("domains", "a tenant's custom domains, verified by a DNS TXT record", list, add, rm, verify)
}

func tenantDomainTable(w io.Writer, d client.TenantDomain) {
	row(w, "hostname", d.Hostname)
	row(w, "status", d.Status)
	row(w, "txt name", d.Verification.Name)
	row(w, "txt value", d.Verification.Value)
	if d.Reason != "" {
		row(w, "reason", d.Reason)
	}
	if d.VerifiedAt != nil {
		row(w, "verified", *d.VerifiedAt)
	}
}
