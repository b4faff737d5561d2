package invitemail

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// Config configures a Mailer.
type Config struct {
	// Addr is the relay's host:port. Required.
	Addr string
	// From is the sender; default rendercache@<TenantDomain>.
	From string
	// TenantDomain names the product in the message.
	TenantDomain string
	// Timeout bounds one delivery; default 10s.
	Timeout time.Duration
}

// Mailer sends invites. It keeps no connection between sends. Safe for
// concurrent use.
type Mailer struct{ cfg Config }

// New returns a Mailer for cfg.
func New(cfg Config) *Mailer {
	if cfg.From == "" {
		cfg.From = "rendercache@" + cfg.TenantDomain
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Mailer{cfg: cfg}
}

// SendInvite mails to the invite to slug with role and the token to
// accept it with (POST /api/invites/accept). Header values are the
// caller's validated email, slug and role, never free text.
func (m *Mailer) SendInvite(ctx context.Context, to, slug, role, token string) error {
	if strings.ContainsAny(to+slug+role+token, "\r\n") {
		return fmt.Errorf("send invite: header injection refused")
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	defer c.Close()
	if err := c.Mail(m.cfg.From); err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: You are invited to %s as %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"You have been invited to the tenant %q as %s.\r\n\r\nAccept with your account's API key:\r\n\r\n"+
		"  POST /api/invites/accept {\"token\": %q}\r\n\r\nThe invite expires in 7 days.\r\n",
		m.cfg.From, to, slug, role, slug, role, token)
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("send invite: %w", err)
	}
	return c.Quit()
}
