package dnstest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a DNS server on 127.0.0.1 that answers UDP and TCP on one
// port. A name with TXT values or an A record answers them; a name
// published with no values exists without TXT records (NOERROR, no data);
// a name given a failure answers with that rcode, or not at all for
// Silent; any other name is NXDOMAIN. Safe for concurrent use.
type Server struct {
	// Addr is the server's host:port, as a resolver flag takes it.
	Addr string

	mu      sync.Mutex
	txt     map[string][]string
	a       map[string]net.IP
	fail    map[string]int
	queries map[string]int
	servers []*dns.Server
}

// Silent is the failure of a name whose queries are never answered, so
// that the client times out.
const Silent = -1

// Start runs a server until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{txt: map[string][]string{}, a: map[string]net.IP{}, fail: map[string]int{}, queries: map[string]int{}}
	var err error
	for range 10 {
		if err = s.listen(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	t.Cleanup(s.close)
	return s
}

// listen binds UDP on a free port and TCP on the same one, and serves
// both; it fails if the TCP port is taken, and Start tries again.
func (s *Server) listen() error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen udp: %w", err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return fmt.Errorf("listen tcp: %w", err)
	}
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.answer)
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: l, Handler: h}
	s.servers = []*dns.Server{udp, tcp}
	for _, srv := range s.servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe() // returns when close shuts it down
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("dns server on %s did not start", s.Addr)
		}
	}
	return nil
}

func (s *Server) close() {
	for _, srv := range s.servers {
		_ = srv.Shutdown() // best effort at the test's end
	}
}

func key(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// SetTXT publishes name's TXT values, replacing earlier ones, and clears
// a failure. No values: name exists without TXT records.
func (s *Server) SetTXT(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = append([]string{}, values...)
	delete(s.fail, key(name))
}

// SetA gives name an A record (an IPv4 address such as 127.0.0.2),
// replacing an earlier one, and clears a failure.
func (s *Server) SetA(name, ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.a[key(name)] = net.ParseIP(ip).To4()
	delete(s.fail, key(name))
}

// Remove makes name NXDOMAIN again.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.txt, key(name))
	delete(s.a, key(name))
	delete(s.fail, key(name))
}

// Fail makes queries of name answer rcode (dns.RcodeServerFailure,
// dns.RcodeRefused...), or never answer with Silent.
func (s *Server) Fail(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[key(name)] = rcode
}

// Queries returns how many queries of name the server received.
func (s *Server) Queries(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[key(name)]
}

func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m) // a lost answer: the client retries or times out
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	s.queries[name]++
	rcode, failing := s.fail[name]
	values, hasTXT := s.txt[name]
	values = append([]string{}, values...)
	ip, hasA := s.a[name]
	s.mu.Unlock()
	exists := hasTXT || hasA
	switch {
	case failing && rcode == Silent:
		return
	case failing:
		m.Rcode = rcode
	case !exists:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeTXT:
		for _, v := range values {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(v)})
		}
	case q.Qtype == dns.TypeA && hasA:
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: ip})
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		// What does not fit the client's buffer is truncated (TC set),
		// and the client asks again over TCP.
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m) // a lost answer: the client retries or times out
}

// chunks splits v into the 255-byte strings a TXT record holds.
func chunks(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
