package tenantcheck

import (
	"net/url"
	"strings"

	"github.com/rendercache/rendercache/tenant"
)

// cmsHosts are the hosts a browser reaches when a site calls a CMS
// directly, by provider; "*." matches any subdomain. Providers the
// customer hosts (strapi, directus, generic) have only the tenant's
// apiOrigin host, which every provider's list gets too.
var cmsHosts = map[string][]string{
	"contentful": {"cdn.contentful.com", "preview.contentful.com", "graphql.contentful.com",
		"images.ctfassets.net", "assets.ctfassets.net", "videos.ctfassets.net", "downloads.ctfassets.net"},
	"sanity":    {"cdn.sanity.io", "*.api.sanity.io", "*.apicdn.sanity.io"},
	"storyblok": {"api.storyblok.com", "api-us.storyblok.com", "api-ap.storyblok.com", "api-ca.storyblok.com", "a.storyblok.com", "a2.storyblok.com", "img2.storyblok.com"},
	"prismic":   {"*.prismic.io", "images.prismic.io"},
	"hygraph":   {"*.hygraph.com", "*.graphassets.com", "*.graphcms.com"},
	"webflow":   {"api.webflow.com"},
}

// cmsLabels name providers in verdicts.
var cmsLabels = map[string]string{
	"contentful": "Contentful", "sanity": "Sanity", "storyblok": "Storyblok", "prismic": "Prismic",
	"hygraph": "Hygraph", "webflow": "Webflow", "strapi": "Strapi", "directus": "Directus", "generic": "your CMS API",
}

// cmsMatcher recognises a tenant's CMS hosts.
type cmsMatcher struct {
	label    string
	patterns []string // host names, "*.suffix", or host:port (the apiOrigin's)
}

func newCMSMatcher(t tenant.Tenant) cmsMatcher {
	m := cmsMatcher{label: cmsLabels[t.CMS.Provider], patterns: append([]string(nil), cmsHosts[t.CMS.Provider]...)}
	if m.label == "" {
		m.label = "your CMS"
	}
	if t.APIOrigin != "" {
		if u, err := url.Parse(t.APIOrigin); err == nil && u.Host != "" {
			m.patterns = append(m.patterns, strings.ToLower(u.Host))
			if m.label == "your CMS API" || m.label == "Strapi" || m.label == "Directus" {
				m.label += " (" + u.Host + ")"
			}
		}
	}
	return m
}

// match reports whether u (absolute) is on one of the CMS hosts.
func (m cmsMatcher) match(u *url.URL) bool {
	host, hostport := strings.ToLower(u.Hostname()), strings.ToLower(u.Host)
	for _, p := range m.patterns {
		switch {
		case strings.HasPrefix(p, "*."):
			if strings.HasSuffix(host, p[1:]) {
				return true
			}
		case strings.Contains(p, ":"):
			if hostport == p {
				return true
			}
		case host == p:
			return true
		}
	}
	return false
}

// absolute parses a reference as written: absolute and scheme-relative
// URLs have a host; anything else is nil (relative paths name the page's
// own host, which says nothing about where content comes from).
func absolute(v string) *url.URL {
	if strings.HasPrefix(v, "//") {
		v = "https:" + v
	}
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	return u
}
