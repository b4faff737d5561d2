// Command render is make bench-render's helper (bench/render.sh). It has
// two modes:
//
//	render serve ADDR             serves the SPA fixture in site/ (embedded)
//	render load -c N -n M URL...  renders M pages, N at a time, and prints
//	                              renders/s, p50, and the fixture's own
//	                              ready time
//
// In load mode each request goes to URL with "{i}" replaced by a number
// unique to the run, so that every request is a miss; -H adds a header
// (repeatable). The answer must be a 200 that holds the fixture's
// <meta name="fixture-ready-ms">, the page's own time from navigation
// start to setting window.prerenderReady, which proves the render waited
// for it and lets the script compare a render's latency with it.
package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed site
var site embed.FS

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		if len(os.Args) != 3 {
			usage()
		}
		serve(os.Args[2])
	case "load":
		if err := load(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "render load:", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: render serve ADDR | render load [-c N] [-n M] [-H 'Name: value']... URL")
	os.Exit(2)
}

// serve is the fixture's origin: the files of site/, with the SPA's shell
// for every path that is not a file (as a single-page app's server does).
func serve(addr string) {
	root, err := fs.Sub(site, "site")
	if err != nil {
		log.Fatal(err)
	}
	index, err := fs.ReadFile(root, "index.html")
	if err != nil {
		log.Fatal(err)
	}
	files := http.FileServerFS(root)
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") || strings.HasPrefix(r.URL.Path, "/api/") {
			files.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(index)
	})))
}

// headers collects -H flags.
type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

var readyMeta = regexp.MustCompile(`<meta name="fixture-ready-ms" content="(\d+)">`)

// load runs the requests and prints one line:
// "renders/s R p50-ms P ready-p50-ms F".
func load(args []string) error {
	fl := flag.NewFlagSet("load", flag.ContinueOnError)
	conc := fl.Int("c", 1, "requests at once")
	n := fl.Int("n", 12, "requests in all")
	first := fl.Int("first", 0, "the first request's number, for {i}")
	var hs headers
	fl.Var(&hs, "H", "a request header, 'Name: value' (repeatable)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 || !strings.Contains(fl.Arg(0), "{i}") {
		return errors.New("want one URL holding {i}")
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	var next atomic.Int64
	var mu sync.Mutex
	var lat, ready []time.Duration
	var failed error
	var wg sync.WaitGroup
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				d, r, err := get(client, strings.ReplaceAll(fl.Arg(0), "{i}", strconv.Itoa(*first+i)), hs)
				mu.Lock()
				if err != nil && failed == nil {
					failed = err
				}
				lat = append(lat, d)
				ready = append(ready, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed != nil {
		return failed
	}
	fmt.Printf("renders/s %.2f p50-ms %.0f ready-p50-ms %.0f\n", float64(*n)/elapsed.Seconds(), ms(p50(lat)), ms(p50(ready)))
	return nil
}

// get fetches one render and returns its latency and the fixture's own
// ready time.
func get(client *http.Client, url string, hs headers) (time.Duration, time.Duration, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	for _, h := range hs {
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(k), "Host") {
			req.Host = strings.TrimSpace(v)
			continue
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: status %d: %.200s", url, resp.StatusCode, body)
	}
	if cs := resp.Header.Get("Cache-Status"); strings.Contains(cs, "hit") {
		return 0, 0, fmt.Errorf("%s: a cache hit (%s); every request must be a miss", url, cs)
	}
	m := readyMeta.FindSubmatch(body)
	if m == nil {
		return 0, 0, fmt.Errorf("%s: the answer lacks the fixture's ready mark, so the page was taken before it was ready: %.300s", url, body)
	}
	r, _ := strconv.Atoi(string(m[1]))
	return d, time.Duration(r) * time.Millisecond, nil
}

func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
