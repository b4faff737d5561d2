package tenants

import (
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/tenant"
)

// ErrHostnameMismatch refuses a DELETE or verify whose body and query
// name different hostnames.
var ErrHostnameMismatch = errkind.New(errkind.Invalid, `the body's "hostname" and the query's ?hostname= differ`)

// domainList is GET domains' answer.
type domainList struct {
	Domains []tenant.Domain `json:"domains"`
}

// hostnameBody is the body of the domain routes.
type hostnameBody struct {
	Hostname string `json:"hostname"`
}

func (a *API) listDomains(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	ds, err := a.deps.Tenants.Domains(r.Context(), c.actor, ps.ByName("slug"))
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []tenant.Domain{}
	}
	httpapi.WriteJSON(w, http.StatusOK, domainList{Domains: ds})
	return nil
}

func (a *API) addDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var in hostnameBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := a.deps.Tenants.AddDomain(r.Context(), c.actor, ps.ByName("slug"), in.Hostname)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

// hostnameOf reads the hostname from the optional body or ?hostname=;
// both may be given if they agree. "" means neither named one.
func hostnameOf(w http.ResponseWriter, r *http.Request) (string, error) {
	var in hostnameBody
	if err := httpapi.DecodeOptionalJSON(w, r, &in); err != nil {
		return "", err
	}
	q := r.URL.Query().Get("hostname")
	switch {
	case in.Hostname == "":
		return q, nil
	case q != "" && q != in.Hostname:
		return "", ErrHostnameMismatch
	}
	return in.Hostname, nil
}

func (a *API) removeDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	h, err := hostnameOf(w, r)
	if err != nil {
		return err
	}
	if h == "" {
		return tenant.ErrHostnameRequired
	}
	if err := a.deps.Tenants.RemoveDomain(r.Context(), c.actor, ps.ByName("slug"), h); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, okBody{OK: true})
	return nil
}

func (a *API) verifyDomain(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	h, err := hostnameOf(w, r)
	if err != nil {
		return err
	}
	d, err := a.deps.Tenants.VerifyDomain(r.Context(), c.actor, ps.ByName("slug"), h)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}
