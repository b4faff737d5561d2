package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rendercache/rendercache/client"
)

// clusterCommand is `rendercache cluster status|members` (operator).
func (a *apiSettings) clusterCommand() *cobra.Command {
	status := &cobra.Command{
		Use:   "status",
		Short: "the leader, applied index and members' states, as the answering node sees them",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			info, err := c.ClusterInfo(cmd.Context())
			if err != nil {
				return fmt.Errorf("cluster status: %w", err)
			}
			st := clusterStatus{Leader: info.Leader, AppliedIndex: info.AppliedIndex, States: map[string]int{}, Suffrages: map[string]int{}}
			for _, n := range info.Nodes {
				st.Members++
				st.States[n.State]++
				st.Suffrages[n.Suffrage]++
			}
			return a.print(st, func(w io.Writer) {
				row(w, "leader", st.Leader)
				row(w, "applied index", st.AppliedIndex)
				row(w, "members", fmt.Sprintf("%d (%s)", st.Members, counts(st.States)))
				row(w, "raft", counts(st.Suffrages))
			})
		}),
	}
	members := &cobra.Command{
		Use:   "members",
		Short: "every node: name, state, raft suffrage and public address",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			info, err := c.ClusterInfo(cmd.Context())
			if err != nil {
				return fmt.Errorf("cluster members: %w", err)
			}
			return a.print(info.Nodes, func(w io.Writer) {
				row(w, "NAME", "STATE", "SUFFRAGE", "HTTP ADDRESS")
				for _, n := range info.Nodes {
					row(w, n.Name, n.State, n.Suffrage, n.HTTPAddr)
				}
			})
		}),
	}
	return group("cluster", "the cluster's leader and members (operator: --admin-token)", status, members)
}

// clusterStatus is the body of `cluster status -o json`.
type clusterStatus struct {
	Leader       string         `json:"leader"`
	AppliedIndex uint64         `json:"appliedIndex"`
	Members      int            `json:"members"`
	States       map[string]int `json:"states"`
	Suffrages    map[string]int `json:"suffrages"`
}

// counts formats {"alive": 2, "leader": 1} as "1 leader, 2 alive".
func counts(m map[string]int) string {
	out := ""
	for _, k := range []string{"leader", "alive", "suspect", "dead", "left", "unknown", "voter", "nonvoter", "none"} {
		if m[k] == 0 {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", m[k], k)
	}
	return out
}

// accountsCommand is `rendercache accounts create|list` (operator).
func (a *apiSettings) accountsCommand() *cobra.Command {
	var plan string
	create := &cobra.Command{
		Use:     "create <email>",
		Short:   "create an account on a plan (--plan); then give it a key with keys create --account",
		Example: `  rendercache accounts create ops@example.com --plan agency`,
		Args:    exactArgs(1),
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, args []string) error {
			acc, err := c.CreateAccount(cmd.Context(), args[0], plan)
			if err != nil {
				return fmt.Errorf("accounts create: %w", err)
			}
			return a.print(acc, func(w io.Writer) { accountTable(w, acc) })
		}),
	}
	create.Flags().StringVar(&plan, "plan", "free", "the account's `plan`: free, pro, agency, enterprise or one of --config's")
	list := &cobra.Command{
		Use:   "list",
		Short: "list every account",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, c *client.Client, _ []string) error {
			list, err := c.ListAccounts(cmd.Context())
			if err != nil {
				return fmt.Errorf("accounts list: %w", err)
			}
			return a.print(list, func(w io.Writer) { accountTable(w, list...) })
		}),
	}
	return group("accounts", "create and list accounts (operator: --admin-token)", create, list)
}

func accountTable(w io.Writer, list ...client.Account) {
	row(w, "ID", "EMAIL", "PLAN", "CREATED")
	for _, acc := range list {
		row(w, acc.ID, acc.Email, acc.Plan, acc.CreatedAt)
	}
}
