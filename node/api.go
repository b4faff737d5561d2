package node

import (
	"context"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/httpapi/accountapi"
	"github.com/rendercache/rendercache/httpapi/admin"
	"github.com/rendercache/rendercache/httpapi/cacheapi"
	"github.com/rendercache/rendercache/operator"
	"github.com/rendercache/rendercache/webhook"
)

// newAPI returns the public listener's API router with the operator's,
// the account's and the render cache's surfaces registered, each given
// only the services it uses; the zone API registers itself
// (registerZoneAPI).
func (n *Node) newAPI(keys *apikey.Service, domains *domain.Service, webhooks *webhook.Service) *httpapi.Router {
	api := httpapi.NewRouter(httpapi.Config{Logger: n.log, Registry: n.registry})
	admin.Register(api, admin.Deps{
		Cluster:  clusterView{n},
		Accounts: n.accounts,
		Auth:     operator.NewAuth(n.db.State(), n.cfg.AdminToken),
		Keys:     keys,
	})
	accountapi.Register(api, accountapi.Deps{
		Keys:     keys,
		Domains:  domains,
		Webhooks: webhooks,
		Plans:    n.cfg.Plans,
		Settled: func(ctx context.Context) error {
			_, err := n.ctl.Settle(ctx)
			return err
		},
	})
	cacheapi.Register(api, cacheapi.Deps{
		Keys:        keys,
		Plans:       n.cfg.Plans,
		Cache:       n.ctl,
		Limiter:     n.limiter,
		WebhookAuth: webhooks,
	})
	return api
}
