package node

import (
	"time"

	"github.com/rendercache/rendercache/apikey"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/httpapi/zones"
	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/zone"
)

// registerZoneAPI creates the zone service, its usage meter and the
// asset surface (served by edge, its "asset" group by the peer handler),
// and adds the /v1 routes to api. Purges are confirmed by every live node
// through cachectl's fan-out; usage rides on the node's usage counter.
func (n *Node) registerZoneAPI(api *httpapi.Router, keys *apikey.Service, policy origin.Policy) {
	state := n.db.State()
	n.zones = zone.NewService(n.settlingRaft(), state, policy)
	n.meter = zone.NewMeter(n.usage)
	n.assets = zone.NewSurface(zone.SurfaceConfig{
		State:     state,
		Applied:   state.AppliedIndex,
		Fresh:     n.raft.Fresh,
		CDNDomain: n.cfg.CDNDomain,
		Ring:      n.ring,
		Client:    n.peerClient(3 * time.Minute),
		Bytes:     n.cfg.CacheBytes,
		MaxObject: n.cfg.AssetMaxBytes,
		Policy:    policy,
		Meter:     n.meter,
		Logger:    n.log,
	})
	zones.Register(api, zones.Deps{
		Keys:      keys,
		Zones:     n.zones,
		Confirm:   n.ctl,
		Usage:     n.meter,
		Limiter:   n.limiter,
		Plans:     n.cfg.Plans,
		CDNDomain: n.cfg.CDNDomain,
	})
}
