package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveRaw starts an http.Server with h on a loopback listener, wrapped by
// WrapListener when wrap is set, and returns its address.
func serveRaw(t *testing.T, h http.Handler, wrap bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if wrap {
		ln = WrapListener(ln)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 4 << 10}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return addr
}

// rawExchange writes req to addr on a fresh connection and returns every
// byte the server sends until it closes the connection. The write runs
// beside the read, as the server may answer before it read everything.
func rawExchange(t *testing.T, addr, req string) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(c, req)
	b, err := io.ReadAll(c)
	if err != nil && len(b) == 0 {
		t.Fatalf("read: %v", err)
	}
	return b
}

// checkJSONError fails t unless raw is one whole response with status code
// and its standard reason phrase, a JSON {"error"} body whose message
// contains want, a matching Content-Length and Connection: close.
func checkJSONError(t *testing.T, raw []byte, code int, want string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("unparseable response %q: %v", raw, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("body of %q: %v", raw, err)
	}
	if resp.StatusCode != code || resp.Status != http.StatusText(code) && !strings.HasSuffix(resp.Status, " "+http.StatusText(code)) {
		t.Errorf("status %q, want %d %s", resp.Status, code, http.StatusText(code))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	if resp.ContentLength != int64(len(body)) || resp.ContentLength <= 0 {
		t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
	}
	if !resp.Close {
		t.Errorf("no Connection: close in %q", raw)
	}
	if resp.Header.Get("Date") == "" {
		t.Errorf("no Date in %q", raw)
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || len(e) != 1 {
		t.Fatalf("body %q is not {\"error\": ...}: %v", body, err)
	}
	if msg, _ := e["error"].(string); !strings.Contains(msg, want) {
		t.Errorf("error %q does not mention %q", msg, want)
	}
}

func TestPreHandlerErrorsBecomeJSON(t *testing.T) {
	addr := serveRaw(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("handler ran for %s %q", r.Method, r.RequestURI)
	}), true)
	huge := "X-Big: " + strings.Repeat("a", 8<<10) + "\r\n"
	for _, tc := range []struct {
		name, req string
		code      int
		want      string
	}{
		{"bad escape", "GET /api/domains/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request"},
		{"malformed Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "malformed Host header"},
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"two Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "malformed request"},
		{"garbage", "hello\r\n\r\n", 400, "malformed request"},
		{"malformed HTTP version", "GET / HTTP/x.y\r\nHost: x\r\n\r\n", 400, "malformed request"},
		{"unsupported HTTP version", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, "unsupported protocol version"},
		{"oversized header", "GET / HTTP/1.1\r\nHost: x\r\n" + huge + "\r\n", 431, "too large"},
		{"unknown transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Transfer-Encoding"},
		{"unknown Expect", "GET / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n", 417, "Expect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkJSONError(t, rawExchange(t, addr, tc.req), tc.code, tc.want)
		})
	}
	// A bad second request on a kept-alive connection is answered as
	// JSON too, after the first response went through unchanged.
	t.Run("second request", func(t *testing.T) {
		addr := serveRaw(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), true)
		raw := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /%zz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(bytes.NewReader(raw))
		first, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(first.Body); first.StatusCode != 200 || string(b) != "ok" {
			t.Fatalf("first response %d %q", first.StatusCode, b)
		}
		rest, _ := io.ReadAll(br)
		checkJSONError(t, rest, 400, "malformed request")
	})
}

// dateLine matches the Date header, the one part of a response that may
// differ between two servers answering the same request.
var dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r\n`)

// TestPreHandlerLeavesResponsesAlone sends the same requests to a wrapped
// and a plain server and wants the same bytes back, lookalikes of Go's
// error writes included.
func TestPreHandlerLeavesResponsesAlone(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "x"})
	})
	mux.HandleFunc("/text-error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
	})
	mux.HandleFunc("/lookalike", func(w http.ResponseWriter, r *http.Request) {
		// Everything Go's pre-handler 400 has, written by a handler.
		w.Header()["Date"] = nil
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "400 Bad Request")
	})
	mux.HandleFunc("/body-lookalike", func(w http.ResponseWriter, r *http.Request) {
		// A body that is a whole Go error write, flushed on its own.
		body := "HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request"
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		io.WriteString(w, body)
	})
	mux.HandleFunc("/expect-lookalike", func(w http.ResponseWriter, r *http.Request) {
		// What sendExpectationFailed writes, written by a handler.
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusExpectationFailed)
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("HTTP/1.1 ", 10000))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			io.WriteString(w, strings.Repeat("x", i))
			w.(http.Flusher).Flush()
		}
	})
	plain, wrapped := serveRaw(t, mux, false), serveRaw(t, mux, true)
	for _, req := range []string{
		"GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /text-error HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /lookalike HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /lookalike HTTP/1.0\r\n\r\n",
		"GET /body-lookalike HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /expect-lookalike HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /large HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"HEAD /large HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /json HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
	} {
		want := dateLine.ReplaceAll(rawExchange(t, plain, req), nil)
		got := dateLine.ReplaceAll(rawExchange(t, wrapped, req), nil)
		if !bytes.Equal(got, want) {
			t.Errorf("%q:\nwrapped %q\nplain   %q", req, got, want)
		}
	}
}

// recordConn is a net.Conn that keeps what is written to it.
type recordConn struct {
	net.Conn
	buf bytes.Buffer
}

func (c *recordConn) Write(p []byte) (int, error) { return c.buf.Write(p) }

func TestPreHandlerWritesPassThrough(t *testing.T) {
	goErr := "HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request"
	for _, tc := range []struct{ name, p string }{
		{"Go's error, not from net/http", goErr},
		{"Go's 417, not from net/http", "HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 0\r\n\r\n"},
		{"empty", ""},
		{"status line", "HTTP/1.1 200 OK\r\n"},
		{"normal header", "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 2\r\n\r\n{}"},
		{"body", `{"error":"x"}`},
		{"HTTP/1.0", "HTTP/1.0 400 Bad Request" + goErrorHeaders + "400 Bad Request"},
		{"different body", "HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request!"},
		{"body first", goErr[:len(goErr)-1]},
		{"more after", goErr + "HTTP/1.1 200 OK\r\n"},
		{"success code", "HTTP/1.1 200 OK" + goErrorHeaders + "200 OK"},
		{"wrong reason", "HTTP/1.1 400 Oops" + goErrorHeaders + "400 Oops"},
		{"empty detail", "HTTP/1.1 400 Bad Request: " + goErrorHeaders + "400 Bad Request: "},
		{"bad code", "HTTP/1.1 4x0 Bad Request" + goErrorHeaders + "4x0 Bad Request"},
		{"501 other body", "HTTP/1.1 501 Not Implemented" + goErrorHeaders + "nope"},
		{"over the bound", "HTTP/1.1 400 Bad Request: " + strings.Repeat("x", 600) + goErrorHeaders + "400 Bad Request: " + strings.Repeat("x", 600)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &jsonErrorConn{Conn: &recordConn{}}
			n, err := c.Write([]byte(tc.p))
			if err != nil || n != len(tc.p) {
				t.Fatalf("Write = %d, %v; want %d", n, err, len(tc.p))
			}
			if got := c.Conn.(*recordConn).buf.String(); got != tc.p {
				t.Fatalf("wrote %q, want %q unchanged", got, tc.p)
			}
		})
	}
}

func TestPreHandlerWriteDoesNotAllocate(t *testing.T) {
	c := &jsonErrorConn{Conn: &recordConn{}}
	rc := c.Conn.(*recordConn)
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 2\r\n\r\n{}")
	near := []byte("HTTP/1.1 400 Bad Request" + goErrorHeaders + "something else")
	body := []byte(`{"error":"x"}`)
	rc.buf.Grow(1 << 20)
	allocs := testing.AllocsPerRun(1000, func() {
		rc.buf.Reset()
		c.Write(head)
		c.Write(near)
		c.Write(body)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per pass-through write, want 0", allocs)
	}
}

// failConn fails every write.
type failConn struct{ net.Conn }

func (failConn) Write([]byte) (int, error) { return 0, net.ErrClosed }

func TestPreHandlerWriteError(t *testing.T) {
	c := &jsonErrorConn{Conn: failConn{}}
	if n, err := c.Write([]byte("HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request")); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write = %d, %v; want 0, ErrClosed", n, err)
	}
}

func BenchmarkPreHandlerWrite(b *testing.B) {
	c := &jsonErrorConn{Conn: &recordConn{}}
	rc := c.Conn.(*recordConn)
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 2\r\n\r\n{}")
	rc.buf.Grow(1 << 10)
	b.ReportAllocs()
	for b.Loop() {
		rc.buf.Reset()
		c.Write(head)
	}
}

func FuzzParseGoError(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request",
		"HTTP/1.1 400 Bad Request: malformed Host header" + goErrorHeaders + "400 Bad Request: malformed Host header",
		"HTTP/1.1 501 Not Implemented" + goErrorHeaders + goUnsupportedTE,
		"HTTP/1.1 200 OK\r\nDate: x\r\n\r\n",
		"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) < len(goErrorStart) || string(p[:len(goErrorStart)]) != goErrorStart {
			return
		}
		code, msg, via := parseGoError(p)
		if via == notPreHandler {
			return
		}
		if code < 400 || code > 599 || msg == "" {
			t.Fatalf("parseGoError(%q) = %d, %q", p, code, msg)
		}
		raw := jsonErrorResponse(code, msg, time.Now())
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			t.Fatalf("response for %q unparseable: %v", p, err)
		}
		var e struct{ Error string }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error != msg || resp.StatusCode != code {
			t.Fatalf("response for %q: %d %+v %v", p, resp.StatusCode, e, err)
		}
	})
}
