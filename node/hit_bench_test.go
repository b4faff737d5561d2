package node_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/render"
	"github.com/rendercache/rendercache/testcluster"
)

// pageRenderer stands in for Chromium with a fixed page of n bytes, so
// that the benchmark measures the hit path and nothing else.
type pageRenderer struct{ body []byte }

func (p pageRenderer) Render(context.Context, render.Request) (render.Result, error) {
	return render.Result{Status: 200, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: p.body, Rendered: true}, nil
}

// benchPage returns n bytes of HTML.
func benchPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><title>bench</title></head><body>\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "<div class=\"c%d\"><a href=\"/p/%d\">page %d of the cache</a></div>\n", i%50, i*7919%100000, i)
	}
	return b.Bytes()[:n]
}

const benchBot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

// hitNode starts a one-node cluster whose domain www.bench.test renders
// size bytes, and warms /product/1 into its hot map.
func hitNode(b *testing.B, size int) *testcluster.Cluster {
	c := testcluster.New(b, 1, testcluster.Options{Renderer: pageRenderer{benchPage(size)}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	resp, err := c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "bench@example.com", "plan": "enterprise"})
	if err != nil || resp.Status != 201 {
		b.Fatalf("account: %v %v", resp, err)
	}
	id := resp.JSON()["id"].(string)
	resp, err = c.Do(ctx, 0, "POST", "/admin/accounts/"+id+"/api-keys", map[string]any{"name": "bench", "roles": []string{}})
	if err != nil || resp.Status != 201 {
		b.Fatalf("key: %v %v", resp, err)
	}
	key := resp.JSON()["key"].(string)
	resp, err = testcluster.Do(ctx, c.URL(0), "POST", "/api/domains", "Bearer "+key, map[string]string{"domain": "www.bench.test", "origin": "http://127.0.0.1:9"})
	if err != nil || resp.Status != 201 {
		b.Fatalf("domain: %v %v", resp, err)
	}
	h := c.Node(0).Handler()
	for i := range 2 {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, hitRequest())
		if w.code != 200 || i == 1 && !strings.Contains(w.h.Get("Cache-Status"), "hit") {
			b.Fatalf("warm request %d: %d %q", i, w.code, w.h.Get("Cache-Status"))
		}
	}
	return c
}

func hitRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://www.bench.test/product/1", nil)
	r.Header.Set("User-Agent", benchBot)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	return r
}

// BenchmarkHit measures one crawler hit through the node's public
// handler, without the network: what the hit path costs in CPU and
// allocations (make bench-hit measures it over HTTP). The writer gets a
// new header map per request, as net/http's does.
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{512, 28 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			h := hitNode(b, size).Node(0).Handler()
			r := hitRequest()
			w := &discard{}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.h = http.Header{}
				w.code = 0
				h.ServeHTTP(w, r)
			}
			b.StopTimer()
			if w.code != 200 || !strings.HasPrefix(w.h.Get("Cache-Status"), "rendercache; hit") {
				b.Fatalf("hit: %d %q", w.code, w.h.Get("Cache-Status"))
			}
		})
	}
}

// BenchmarkHitOverHTTP measures hits through the node's real listener
// (net/http, keep-alive, loopback) from clients that write raw requests
// and read the answers with as little work as possible, so that a CPU
// profile shows what net/http itself costs beside the handler. "bare" is
// the ceiling: a bare net/http server writing the same bytes from memory
// with two header fields (bench/barehttp), under the same clients.
func BenchmarkHitOverHTTP(b *testing.B) {
	for _, size := range []int{512, 28 << 10} {
		b.Run(fmt.Sprintf("rendercache/%dB", size), func(b *testing.B) {
			c := hitNode(b, size)
			loadHTTP(b, c.Node(0).HTTPAddr())
		})
		b.Run(fmt.Sprintf("bare/%dB", size), func(b *testing.B) {
			body, length := benchPage(size), strconv.Itoa(size)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", length)
				w.Write(body)
			})}
			go srv.Serve(ln)
			defer srv.Close()
			loadHTTP(b, ln.Addr().String())
		})
	}
}

// loadHTTP sends crawler requests for www.bench.test/product/1 to addr
// from 8 connections per CPU, b.N in all.
func loadHTTP(b *testing.B, addr string) {
	req := []byte("GET /product/1 HTTP/1.1\r\nHost: www.bench.test\r\nUser-Agent: " + benchBot + "\r\n\r\n")
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 64<<10)
		for pb.Next() {
			if _, err := conn.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := readAnswer(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// readAnswer reads one HTTP/1.1 response with a Content-Length and
// discards it.
func readAnswer(br *bufio.Reader) error {
	length := -1
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if first {
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
				return fmt.Errorf("status line %q", line)
			}
			continue
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return fmt.Errorf("no Content-Length")
	}
	_, err := br.Discard(length)
	return err
}

// discard is a ResponseWriter that keeps the status and headers and
// drops the body, as a connection's writer would after sending it.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discard) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	return len(p), nil
}
