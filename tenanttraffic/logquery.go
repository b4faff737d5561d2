package tenanttraffic

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// Log query bounds.
const (
	DefaultLogLimit = 50
	MaxLogLimit     = 200
)

var (
	// ErrBadLimit refuses a limit outside 1..MaxLogLimit.
	ErrBadLimit = errkind.New(errkind.Invalid, "limit must be an integer from 1 to 200")
	// ErrBadStatus refuses a status filter that is neither a class nor a
	// code.
	ErrBadStatus = errkind.New(errkind.Invalid, "status must be a class (1xx to 5xx) or a code (100 to 599)")
	// ErrBadSurface refuses a surface filter other than api or website.
	ErrBadSurface = errkind.New(errkind.Invalid, "surface must be api or website")
	// ErrBadCursor refuses a cursor this API did not hand out.
	ErrBadCursor = errkind.New(errkind.Invalid, "cursor is not one this API returned")
)

// position is an entry's place in the cluster-wide log order: newest
// first by time, then by node, then by sequence.
type position struct {
	NS   int64  `json:"ns"`
	Node string `json:"node"`
	Seq  uint64 `json:"seq"`
}

// after reports whether p sorts after q (q is older than p, or equal in
// time and smaller in node and sequence).
func (p position) after(q position) bool { return comparePos(p, q) > 0 }

func comparePos(p, q position) int {
	if c := cmp.Compare(p.NS, q.NS); c != 0 {
		return c
	}
	if c := strings.Compare(p.Node, q.Node); c != 0 {
		return c
	}
	return cmp.Compare(p.Seq, q.Seq)
}

// cursor is a position as the API hands it out: opaque, URL-safe.
func (p position) cursor() string {
	return base64.RawURLEncoding.EncodeToString([]byte("1." + strconv.FormatInt(p.NS, 10) + "." + strconv.FormatUint(p.Seq, 10) + "." + p.Node))
}

func parseCursor(s string) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 512 {
		return position{}, ErrBadCursor
	}
	parts := strings.SplitN(string(b), ".", 4)
	if len(parts) != 4 || parts[0] != "1" {
		return position{}, ErrBadCursor
	}
	ns, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil || ns < 0 || !validName(parts[3], maxNode) {
		return position{}, ErrBadCursor
	}
	return position{NS: ns, Node: parts[3], Seq: seq}, nil
}

// filter selects entries by status and surface; zero values select all.
type filter struct {
	Class   int    `json:"class,omitempty"`  // 1..5: the status class
	Status  int    `json:"status,omitempty"` // an exact code
	Surface string `json:"surface,omitempty"`
}

func (f filter) match(e stored) bool {
	switch {
	case f.Class != 0 && e.Status/100 != f.Class:
		return false
	case f.Status != 0 && e.Status != f.Status:
		return false
	case f.Surface != "" && e.Surface != f.Surface:
		return false
	}
	return true
}

// LogQuery is a parsed GET {slug}/logs query.
type LogQuery struct {
	Limit  int
	before *position
	filter filter
}

// ParseLogQuery reads limit (1..200, default 50), cursor (from a previous
// page), status (2xx or 404) and surface (api or website).
func ParseLogQuery(q url.Values) (LogQuery, error) {
	lq := LogQuery{Limit: DefaultLogLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLogLimit {
			return LogQuery{}, ErrBadLimit
		}
		lq.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		p, err := parseCursor(v)
		if err != nil {
			return LogQuery{}, err
		}
		lq.before = &p
	}
	if v := strings.ToLower(q.Get("status")); v != "" {
		if len(v) == 3 && strings.HasSuffix(v, "xx") && v[0] >= '1' && v[0] <= '5' {
			lq.filter.Class = int(v[0] - '0')
		} else if n, err := strconv.Atoi(v); err == nil && len(v) == 3 && n >= 100 && n <= 599 {
			lq.filter.Status = n
		} else {
			return LogQuery{}, ErrBadStatus
		}
	}
	switch v := q.Get("surface"); v {
	case "", SurfaceAPI, SurfaceWebsite:
		lq.filter.Surface = v
	default:
		return LogQuery{}, ErrBadSurface
	}
	return lq, nil
}

// Entry is one request log entry.
type Entry struct {
	// ID is unique in the cluster; it is also the cursor that continues
	// after this entry.
	ID string `json:"id"`
	// Time is when the request arrived (UTC).
	Time time.Time `json:"time"`
	// Node served the request.
	Node    string `json:"node"`
	Surface string `json:"surface"`
	Method  string `json:"method"`
	// Path is the request's path, without its query string.
	Path   string `json:"path"`
	Status int    `json:"status"`
	// Bytes is the body bytes sent.
	Bytes int64 `json:"bytes"`
	// Cache is HIT, MISS or BYPASS.
	Cache      string  `json:"cache"`
	DurationMs float64 `json:"durationMs"`
}

// LogPage is one page of a tenant's log, newest first.
type LogPage struct {
	Entries []Entry `json:"entries"`
	Limit   int     `json:"limit"`
	HasMore bool    `json:"hasMore"`
	// NextCursor continues after the last entry; nil at the end.
	NextCursor *string `json:"nextCursor"`
	// Nodes is how many live members answered; Missing names those that
	// did not (their entries are absent from this page).
	Nodes   int      `json:"nodes"`
	Missing []string `json:"missing"`
}
