package zones

import (
	"net/http"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/zone"
)

// View is a zone as the API shows it, in the seed's fields.
type View struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Subdomain string    `json:"subdomain"`
	Origin    string    `json:"origin"`
	Created   time.Time `json:"created"`
	Active    bool      `json:"active"`
}

func (a *API) view(z zone.Zone) View {
	return View{ID: z.ID, Name: z.Name, Subdomain: z.Name + "." + a.deps.CDNDomain, Origin: z.Origin, Created: z.Created, Active: z.Active}
}

type listBody struct {
	Zones []View `json:"zones"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	zs, err := a.deps.Zones.List(r.Context(), c.Account.ID, c.Mode)
	if err != nil {
		return err
	}
	out := listBody{Zones: make([]View, 0, len(zs))}
	for _, z := range zs {
		out.Zones = append(out.Zones, a.view(z))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

type createBody struct {
	Name   string `json:"name"`
	Origin string `json:"origin"`
}

func (a *API) create(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	var in createBody
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	z, err := a.deps.Zones.Create(r.Context(), c.Account, c.Plan, c.Mode, in.Name, in.Origin)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, a.view(z))
	return nil
}

func (a *API) get(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	z, err := a.deps.Zones.Get(r.Context(), c.Account.ID, c.Mode, ps.ByName("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.view(z))
	return nil
}

func (a *API) patch(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	var p zone.Patch
	if err := httpapi.DecodeJSON(w, r, &p); err != nil {
		return err
	}
	z, err := a.deps.Zones.Update(r.Context(), c.Account.ID, c.Mode, ps.ByName("id"), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.view(z))
	return nil
}

func (a *API) delete(w http.ResponseWriter, r *http.Request, ps httprouter.Params, c caller) error {
	if err := a.deps.Zones.Delete(r.Context(), c.Account.ID, c.Mode, ps.ByName("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// purgeBody is POST /v1/purge's optional JSON body; the query's
// parameters apply where it leaves a field out.
type purgeBody struct {
	Zone string `json:"zone"`
	Path string `json:"path"`
	Tag  string `json:"tag"`
	Soft *bool  `json:"soft"`
}

// Purged is the seed's purge answer: nodes is how many live nodes
// confirmed that they applied the purge.
type Purged struct {
	Purged bool `json:"purged"`
	Nodes  int  `json:"nodes"`
}

func (a *API) purge(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	q := r.URL.Query()
	in := purgeBody{Zone: q.Get("zone"), Path: q.Get("path"), Tag: q.Get("tag")}
	if s := q.Get("soft"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return ErrBadSoft
		}
		in.Soft = &b
	}
	if r.Method == http.MethodPost {
		var body purgeBody
		if err := httpapi.DecodeOptionalJSON(w, r, &body); err != nil {
			return err
		}
		in = merge(in, body)
	}
	if in.Zone == "" {
		return ErrZoneRequired
	}
	t, err := zone.ParseTarget(in.Path, in.Tag, in.Soft != nil && *in.Soft)
	if err != nil {
		return err
	}
	if _, err := a.deps.Zones.Purge(r.Context(), c.Account.ID, c.Mode, in.Zone, t); err != nil {
		return err
	}
	n, err := a.deps.Confirm.Settle(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, Purged{Purged: true, Nodes: n})
	return nil
}

// merge takes body's fields over q's.
func merge(q, body purgeBody) purgeBody {
	if body.Zone != "" {
		q.Zone = body.Zone
	}
	if body.Path != "" {
		q.Path = body.Path
	}
	if body.Tag != "" {
		q.Tag = body.Tag
	}
	if body.Soft != nil {
		q.Soft = body.Soft
	}
	return q
}

func (a *API) usage(w http.ResponseWriter, r *http.Request, _ httprouter.Params, c caller) error {
	u, err := a.deps.Usage.Usage(c.Account.ID, c.Mode)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}
