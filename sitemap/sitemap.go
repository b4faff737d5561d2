// Package sitemap reads a site's sitemap to warm the render cache: the
// pages a site lists are the ones crawlers will ask for. Sitemap indexes
// are followed, gzip is understood, and everything is bounded (bytes per
// file, files, URLs) so that a hostile or huge sitemap cannot exhaust a
// node.
package sitemap

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rendercache/rendercache/internal/errkind"
)

// Bounds.
const (
	MaxBytes    = 10 << 20 // per sitemap file, after decompression
	MaxSitemaps = 50       // files per warm-up, indexes included
	MaxURLs     = 10000    // URLs per warm-up
)

// ErrBad means the sitemap could not be fetched or parsed.
var ErrBad = errkind.New(errkind.Invalid, "the sitemap could not be fetched or is not a valid sitemap")

// document is either a <urlset> or a <sitemapindex>.
type document struct {
	XMLName  xml.Name
	URLs     []loc `xml:"url"`
	Sitemaps []loc `xml:"sitemap"`
}

type loc struct {
	Loc string `xml:"loc"`
}

// Parse reads one sitemap file: the page URLs of a urlset, or the sitemap
// URLs of an index.
func Parse(data []byte) (pages, sitemaps []string, err error) {
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, nil, err
		}
		if data, err = io.ReadAll(io.LimitReader(zr, MaxBytes+1)); err != nil {
			return nil, nil, err
		}
		if len(data) > MaxBytes {
			return nil, nil, errors.New("sitemap: too large")
		}
	}
	var d document
	if err := xml.Unmarshal(data, &d); err != nil {
		return nil, nil, fmt.Errorf("sitemap: %w", err)
	}
	switch d.XMLName.Local {
	case "urlset":
		for _, u := range d.URLs {
			if s := strings.TrimSpace(u.Loc); s != "" {
				pages = append(pages, s)
			}
		}
	case "sitemapindex":
		for _, s := range d.Sitemaps {
			if v := strings.TrimSpace(s.Loc); v != "" {
				sitemaps = append(sitemaps, v)
			}
		}
	default:
		return nil, nil, fmt.Errorf("sitemap: root element <%s> is neither urlset nor sitemapindex", d.XMLName.Local)
	}
	return pages, sitemaps, nil
}

// Fetch is how Collect gets a file; it must refuse what the origin policy
// refuses.
type Fetch func(ctx context.Context, url string) ([]byte, error)

// Collect reads the sitemap at url, following indexes breadth first, and
// returns at most MaxURLs page URLs for which keep returns true.
func Collect(ctx context.Context, fetch Fetch, url string, keep func(string) bool) ([]string, error) {
	queue := []string{url}
	seen := map[string]bool{url: true}
	var out []string
	for files := 0; len(queue) > 0 && files < MaxSitemaps && len(out) < MaxURLs; files++ {
		cur := queue[0]
		queue = queue[1:]
		data, err := fetch(ctx, cur)
		if err != nil {
			if files == 0 {
				return nil, fmt.Errorf("%w: %w", ErrBad, err)
			}
			continue // a broken child sitemap does not spoil the rest
		}
		pages, children, err := Parse(data)
		if err != nil {
			if files == 0 {
				return nil, fmt.Errorf("%w: %w", ErrBad, err)
			}
			continue
		}
		for _, p := range pages {
			if len(out) == MaxURLs {
				break
			}
			if keep(p) {
				out = append(out, p)
			}
		}
		for _, c := range children {
			if !seen[c] && keep(c) {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	return out, nil
}

// HTTPFetch returns a Fetch over client with the size bound.
func HTTPFetch(client *http.Client) Fetch {
	return func(ctx context.Context, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", "rendercache sitemap reader")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("sitemap %s: status %d", url, resp.StatusCode)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
		if err != nil {
			return nil, err
		}
		if len(b) > MaxBytes {
			return nil, errors.New("sitemap: too large")
		}
		return b, nil
	}
}
