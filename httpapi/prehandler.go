package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Go's HTTP/1 server answers some requests itself, before any handler runs
// (conn.serve in net/http/server.go): a request line, URL or header it
// cannot parse (a bad escape such as /api/domains/%zz among them), a
// malformed or missing Host, headers over MaxHeaderBytes (431), an
// unsupported HTTP version (505) and an unknown Transfer-Encoding (501). It
// writes each with one fmt.Fprintf of the form
//
//	HTTP/1.1 <code> <text>[: <detail>]\r\n
//	Content-Type: text/plain; charset=utf-8\r\n
//	Connection: close\r\n
//	\r\n
//	<code> <text>[: <detail>]      (or "Unsupported transfer encoding" for 501)
//
// directly to the connection, and then closes it. An Expect header other
// than 100-continue gets a 417 with an empty body, which
// response.sendExpectationFailed writes as a whole header block.
//
// Responses that pass through a handler carry Date, Content-Length or
// handler headers right after the status line, so the header block tells
// these writes apart cheaply. A body could still match byte for byte, and a
// proxied origin may answer 417; rewriting those would corrupt a response
// or desynchronise the connection, so a match is rewritten only when the
// function that writes that error is on the stack (see preHandlerWriter).
const (
	goErrorStart    = "HTTP/1.1 "
	goErrorHeaders  = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	goUnsupportedTE = "Unsupported transfer encoding"
	goExpectFailed  = "HTTP/1.1 417 Expectation Failed\r\n"
	// minGoErrorLen and maxGoErrorLen bound the writes worth parsing: Go's
	// detail texts are short literals.
	minGoErrorLen = len(goErrorStart) + 4 + len(goErrorHeaders)
	maxGoErrorLen = 512
)

// Who writes a pre-handler error, as found on the stack of a Write.
const (
	notPreHandler    = iota
	fromConnServe    // fmt.Fprintf in conn.serve: the text/plain errors
	fromExpectFailed // response.sendExpectationFailed: the 417
)

// WrapListener returns ln with connections that answer net/http's own
// pre-handler errors as the API answers every other error: the status Go
// chose with its standard reason phrase, Content-Type application/json and
// a {"error": "..."} body with its Content-Length. Every other write passes
// through unchanged, after a prefix test that does not allocate. Wrap the
// raw listener that an http.Server serves plain HTTP/1 on; sendfile and
// half-close keep working through the wrapper. The listener is safe for
// concurrent use as ln is.
func WrapListener(ln net.Listener) net.Listener { return jsonErrorListener{ln} }

type jsonErrorListener struct{ net.Listener }

// Accept wraps the next connection.
func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

// jsonErrorConn rewrites a pre-handler error write; see WrapListener.
type jsonErrorConn struct{ net.Conn }

// Write writes p, or its JSON equivalent when p is one of net/http's
// pre-handler errors. It reports len(p) written on success either way.
func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if len(p) < minGoErrorLen || len(p) > maxGoErrorLen || string(p[:len(goErrorStart)]) != goErrorStart {
		return c.Conn.Write(p)
	}
	code, msg, via := parseGoError(p)
	if via == notPreHandler || preHandlerWriter() != via {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(jsonErrorResponse(code, msg, time.Now())); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadFrom keeps the sendfile and splice paths of the underlying
// connection; net/http uses it only for response bodies.
func (c *jsonErrorConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// CloseWrite half-closes the underlying connection when it can, which
// net/http does after a 431 so that the client reads the answer before the
// close.
func (c *jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// parseGoError returns the status and client-facing message of p, a whole
// write, and which function writes it, when p has exactly the form of a
// net/http pre-handler error; otherwise via is notPreHandler. It allocates
// nothing until the form matched.
func parseGoError(p []byte) (code int, msg string, via int) {
	if len(p) >= len(goExpectFailed) && string(p[:len(goExpectFailed)]) == goExpectFailed {
		if !bytes.HasSuffix(p, []byte("\r\n\r\n")) || !bytes.Contains(p, []byte("\r\nContent-Length: 0\r\n")) {
			return 0, "", notPreHandler
		}
		return http.StatusExpectationFailed, `unsupported Expect header; only "100-continue" is supported`, fromExpectFailed
	}
	rest := p[len(goErrorStart):]
	eol := bytes.IndexByte(rest, '\r')
	if eol < 0 || len(rest)-eol < len(goErrorHeaders) || string(rest[eol:eol+len(goErrorHeaders)]) != goErrorHeaders {
		return 0, "", notPreHandler
	}
	status, body := rest[:eol], rest[eol+len(goErrorHeaders):]
	if len(status) < 5 || status[3] != ' ' {
		return 0, "", notPreHandler
	}
	code, err := strconv.Atoi(string(status[:3]))
	if err != nil || code < 400 || code > 599 {
		return 0, "", notPreHandler
	}
	text := http.StatusText(code)
	switch {
	case code == http.StatusNotImplemented && string(status[4:]) == text && string(body) == goUnsupportedTE:
		return code, "unsupported Transfer-Encoding", fromConnServe
	case !bytes.Equal(body, status):
		return 0, "", notPreHandler
	case string(status[4:]) == text:
		return code, genericGoError(code), fromConnServe
	}
	detail, ok := strings.CutPrefix(string(status[4:]), text+": ")
	if !ok || detail == "" {
		return 0, "", notPreHandler
	}
	return code, detail, fromConnServe
}

// genericGoError is the message of a pre-handler error that net/http
// writes without a detail.
func genericGoError(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "malformed request: the request line, the URL (such as a bad %-escape) or a header could not be parsed"
	case http.StatusRequestHeaderFieldsTooLarge:
		return "request header fields too large"
	}
	return "the request could not be read"
}

// preHandlerWriter reports which of net/http's pre-handler error writers
// called the Write in progress: fmt.Fprintf right under conn.serve, or
// response.sendExpectationFailed. Everything a handler writes reaches the
// connection through other frames. It runs only for writes that
// parseGoError matched. Should a Go release rename these functions, it
// reports notPreHandler and the errors stay as Go writes them, which
// TestPreHandlerErrorsBecomeJSON catches.
func preHandlerWriter() int {
	var pcs [16]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs[:])])
	prev := ""
	for {
		f, more := frames.Next()
		switch f.Function {
		case "net/http.(*response).sendExpectationFailed":
			return fromExpectFailed
		case "net/http.(*conn).serve":
			if prev == "fmt.Fprintf" {
				return fromConnServe
			}
			return notPreHandler
		}
		if !more {
			return notPreHandler
		}
		prev = f.Function
	}
}

// jsonErrorResponse is a whole HTTP/1.1 response with status code and the
// body {"error": msg}, as writeError writes it, that closes the connection
// as net/http does after a pre-handler error.
func jsonErrorResponse(code int, msg string, now time.Time) []byte {
	js, _ := json.Marshal(map[string]string{"error": msg})
	js = append(js, '\n') // as WriteJSON's encoder ends bodies
	var b bytes.Buffer
	b.Grow(256 + len(js))
	b.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	b.WriteString("Content-Type: application/json; charset=utf-8\r\n")
	b.WriteString("X-Content-Type-Options: nosniff\r\n")
	b.WriteString("Date: " + now.UTC().Format(http.TimeFormat) + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(js)) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(js)
	return b.Bytes()
}
