package httpapi

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/internal/errkind"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if ok, why := s.deps.Cluster.Ready(); !ok {
		return errkind.New(errkind.Unavailable, "not ready: "+why)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) clusterInfo(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	info, err := s.deps.Cluster.Info(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}
