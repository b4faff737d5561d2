package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// keysCommand is `rendercache keys list|create|revoke`.
func (a *apiSettings) keysCommand() *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "list the account's API keys (never the keys themselves)",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			keys, err := c.ListKeys(cmd.Context())
			if err != nil {
				return fmt.Errorf("keys list: %w", err)
			}
			return a.print(keys, func(w io.Writer) {
				row(w, "ID", "NAME", "HINT", "MODE", "ROLES", "CREATED", "EXPIRES", "LAST USED")
				for _, k := range keys {
					row(w, k.ID, k.Name, k.Hint, k.Mode, k.Roles, k.CreatedAt, k.ExpiresAt, k.LastUsedAt)
				}
			})
		}),
	}
	var (
		account string
		roles   []string
		expires string
		mode    string
		quiet   bool
	)
	create := &cobra.Command{
		Use:   "create <name>",
		Short: "create an API key; the key is printed once",
		Long: `Create an API key; the key is printed once, and only its hash is stored.

With --account (an account ID or email) the operator issues the key through
the operator API (--admin-token) and may grant roles; without it the account
creates one of its own keys with its API key.`,
		Example: `  rendercache keys create first --account ops@example.com --role script   # operator
  KEY=$(rendercache keys create deploy -q)                                  # the account itself`,
		Args: exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			in := client.NewKey{Name: args[0], Roles: roles, Mode: mode}
			if expires != "" {
				t, err := parseExpiry(expires)
				if err != nil {
					return &usageError{cmd: "keys create", err: err}
				}
				in.ExpiresAt = &t
			}
			var (
				k   client.CreatedKey
				err error
			)
			if account != "" {
				id, rerr := resolveAccount(cmd, c, account)
				if rerr != nil {
					return fmt.Errorf("keys create: %w", rerr)
				}
				k, err = c.AdminCreateKey(cmd.Context(), id, in)
			} else {
				if len(roles) > 0 {
					return &usageError{cmd: "keys create", err: fmt.Errorf("--role needs --account: only the operator grants roles")}
				}
				k, err = c.CreateKey(cmd.Context(), in)
			}
			if err != nil {
				return fmt.Errorf("keys create: %w", err)
			}
			if quiet && a.output == outputTable {
				fmt.Fprintln(a.stdout, k.Key)
				return nil
			}
			return a.print(k, func(w io.Writer) {
				row(w, "ID", "NAME", "KEY", "ROLES", "EXPIRES")
				row(w, k.ID, k.Name, k.Key, k.Roles, k.ExpiresAt)
				fmt.Fprintf(a.stderr, "The key is shown once; only its hash is stored.\n")
			})
		}),
	}
	fs := create.Flags()
	fs.StringVar(&account, "account", "", "issue the key to this account (`ID or email`) through the operator API")
	fs.StringSliceVar(&roles, "role", nil, "grant a `role` (script), with --account; repeat or comma-separate")
	fs.StringVar(&expires, "expires", "", "expiry: an RFC 3339 `time` or a duration from now (720h)")
	fs.StringVar(&mode, "mode", "", "live (rk_live_, default) or test (rk_test_)")
	fs.BoolVarP(&quiet, "quiet", "q", false, "print only the key")
	revoke := &cobra.Command{
		Use:   "revoke <key-id>",
		Short: "revoke an API key by its ID; every node refuses it from then on",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.RevokeKey(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("keys revoke: %w", err)
			}
			return a.print(map[string]string{"revoked": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "revoked %s\n", args[0]) })
		}),
	}
	return group("keys", "list, create and revoke API keys (--api-key; --admin-token with --account)", list, create, revoke)
}

// parseExpiry reads an RFC 3339 time or a duration from now.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--expires %q is neither an RFC 3339 time nor a positive duration", s)
	}
	return time.Now().Add(d).UTC().Truncate(time.Second), nil
}

// resolveAccount returns the ID of the account named by ID or email.
func resolveAccount(cmd *cobra.Command, c *client.Client, ref string) (string, error) {
	if !strings.Contains(ref, "@") {
		return ref, nil
	}
	list, err := c.ListAccounts(cmd.Context())
	if err != nil {
		return "", err
	}
	for _, acc := range list {
		if strings.EqualFold(acc.Email, ref) {
			return acc.ID, nil
		}
	}
	return "", fmt.Errorf("no account has the email %s", ref)
}

// webhookTokensCommand is `rendercache webhook-tokens list|create|rm`.
func (a *apiSettings) webhookTokensCommand() *cobra.Command {
	list := &cobra.Command{
		Use:   "list <domain>",
		Short: "list a domain's webhook tokens (never the tokens themselves)",
		Args:  exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			tokens, err := c.ListWebhookTokens(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("webhook-tokens list: %w", err)
			}
			return a.print(tokens, func(w io.Writer) {
				row(w, "ID", "NAME", "HINT", "CREATED")
				for _, t := range tokens {
					row(w, t.ID, t.Name, t.Hint, t.CreatedAt)
				}
			})
		}),
	}
	var quiet bool
	create := &cobra.Command{
		Use:   "create <domain> <name>",
		Short: "create a webhook token for POST /api/webhook/refresh; the token is printed once",
		Args:  exactArgs(2),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			t, err := c.CreateWebhookToken(cmd.Context(), args[0], args[1])
			if err != nil {
				return fmt.Errorf("webhook-tokens create: %w", err)
			}
			if quiet && a.output == outputTable {
				fmt.Fprintln(a.stdout, t.Token)
				return nil
			}
			return a.print(t, func(w io.Writer) {
				row(w, "ID", "NAME", "TOKEN")
				row(w, t.ID, t.Name, t.Token)
				fmt.Fprintf(a.stderr, "The token is shown once; only its hash is stored.\n")
			})
		}),
	}
	create.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the token")
	rm := &cobra.Command{
		Use:   "rm <domain> <token-id>",
		Short: "delete a webhook token by its ID",
		Args:  exactArgs(2),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.DeleteWebhookToken(cmd.Context(), args[0], args[1]); err != nil {
				return fmt.Errorf("webhook-tokens rm: %w", err)
			}
			return a.print(map[string]string{"deleted": args[1]}, func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", args[1]) })
		}),
	}
	return group("webhook-tokens", "list, create and delete a domain's webhook tokens (--api-key)", list, create, rm)
}
