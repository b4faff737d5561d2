package admin

import (
	"context"
	"net/http"

	"github.com/rendercache/rendercache/account"
	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
)

// ClusterInfo is the body of GET /admin/cluster.
type ClusterInfo struct {
	Leader       string        `json:"leader"`
	Nodes        []ClusterNode `json:"nodes"`
	AppliedIndex uint64        `json:"appliedIndex"`
}

// ClusterNode is one node of ClusterInfo.
type ClusterNode struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Suffrage string `json:"suffrage"`
	HTTPAddr string `json:"httpAddr"`
}

// Cluster is what the operator sees of the node's cluster.
type Cluster interface {
	// Info describes the cluster as this node sees it.
	Info(ctx context.Context) (ClusterInfo, error)
	// Ready reports whether the node has a leader and is caught up, and
	// why not.
	Ready() (bool, string)
}

// Accounts manages accounts; *account.Service satisfies it.
type Accounts interface {
	Create(ctx context.Context, email, plan string) (account.Account, error)
	Get(ctx context.Context, id string) (account.Account, error)
	List(ctx context.Context) ([]account.Account, error)
	Delete(ctx context.Context, id string) error
	SetPlan(ctx context.Context, id, plan string) (account.Account, error)
}

// Keys issues API keys for any account; *apikey.Service satisfies it.
type Keys interface {
	Create(ctx context.Context, accountID string, in apikey.NewKeyInput) (apikey.Created, error)
}

var (
	_ Accounts = (*account.Service)(nil)
	_ Keys     = (*apikey.Service)(nil)
)

// Deps are what the operator's API uses; all are required.
type Deps struct {
	Cluster  Cluster
	Accounts Accounts
	// Auth checks the admin token.
	Auth httpapi.AdminAuth
	Keys Keys
}

// api is the operator's API. Safe for concurrent use.
type api struct{ deps Deps }

// Register adds /healthz, /readyz and the /admin routes to r.
func Register(r httpapi.Registrar, deps Deps) {
	a := &api{deps: deps}
	r.Handle(http.MethodGet, "/healthz", a.healthz)
	r.Handle(http.MethodGet, "/readyz", a.readyz)

	admin := func(method, path string, h httpapi.Handler) { r.Handle(method, path, httpapi.Admin(deps.Auth, h)) }
	admin(http.MethodGet, "/admin/cluster", a.clusterInfo)
	admin(http.MethodPost, "/admin/accounts", a.createAccount)
	admin(http.MethodGet, "/admin/accounts", a.listAccounts)
	admin(http.MethodGet, "/admin/accounts/:id", a.getAccount)
	admin(http.MethodPatch, "/admin/accounts/:id", a.patchAccount)
	admin(http.MethodDelete, "/admin/accounts/:id", a.deleteAccount)
	admin(http.MethodPost, "/admin/accounts/:id/api-keys", a.createKey)
}
