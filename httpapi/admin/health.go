package admin

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
)

func (a *api) healthz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *api) readyz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if ok, why := a.deps.Cluster.Ready(); !ok {
		return errkind.New(errkind.Unavailable, "not ready: "+why)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (a *api) clusterInfo(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	info, err := a.deps.Cluster.Info(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, info)
	return nil
}
