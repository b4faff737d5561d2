// Command edgehttp measures the new hit path before it is wired into the
// serve path, for make bench-hit ("edge (unwired)"): every request looks
// its answer up in an edge.HotMap by a page key and writes it with
// edge.Serve, as a page hit will once httpapi goes through edge. It does
// none of the serve path's other work (host lookup, crawler detection,
// URL normalisation, versions), so it bounds what the wired path can
// reach. Usage: edgehttp ADDR FILE.
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/rendercache/rendercache/edge"
)

// keyPrefix is a page key's kind/owner/version/variant, as page.Key
// builds it; the request path completes it.
const keyPrefix = "render/bench.local/1/desktop"

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: edgehttp ADDR FILE")
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	a := edge.New(edge.Meta{
		Header:       http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:         body,
		LastModified: now,
		StoredAt:     now,
		TTL:          24 * time.Hour,
	}, edge.Options{})
	hot := edge.NewHotMap(64 << 20)
	hot.Put(keyPrefix+"/page.html", a)

	log.Fatal(http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf [256]byte
		key := append(append(buf[:0], keyPrefix...), r.URL.Path...)
		a, ok := hot.GetBytes(key)
		if !ok {
			http.NotFound(w, r)
			return
		}
		edge.Serve(w, r, a, edge.Hit, time.Now())
	})))
}
