package tenantcheck

import (
	"net/http"
	"strings"

	"github.com/rendercache/rendercache/tenant"
)

// resourceContexts are where a browser loads what a reference names.
var resourceContexts = map[string]bool{ctxImg: true, ctxSource: true, ctxLink: true, ctxScript: true,
	ctxMedia: true, ctxCSS: true, ctxLinkHeader: true}

// evidence collects signals without duplicates, bounded.
type evidence struct {
	list []Signal
	seen map[Signal]bool
}

func (e *evidence) add(kind, ctx, match string) {
	if len(match) > 512 {
		match = match[:512]
	}
	s := Signal{Kind: kind, Context: ctx, Match: match}
	if e.seen == nil {
		e.seen = map[Signal]bool{}
	}
	if e.seen[s] || len(e.list) >= maxSignals {
		return
	}
	e.seen[s] = true
	e.list = append(e.list, s)
}

func (e *evidence) signals() []Signal {
	if e.list == nil {
		return []Signal{}
	}
	return e.list
}

// analyse classifies the page's references for t: Cachely signals
// (the tenant's host, its active custom domain, /~api/ paths, the SDK,
// the answer's own x-cachely-cache) and direct CMS references, which
// count as detected only in a resource context.
func (c *Checker) analyse(t tenant.Tenant, s *scanned, h http.Header, platform string) Analysis {
	tenantHost := strings.ToLower(c.previewHost(t.Slug))
	custom, _ := c.activeDomain(t.Slug)
	cms := newCMSMatcher(t)
	var cachely, direct, potential evidence
	if v := h.Get("X-Cachely-Cache"); v != "" {
		cachely.add(kindEdge, ctxHeader, "x-cachely-cache: "+clip(v))
	}
	classify := func(ctx, v string) {
		if strings.Contains(v, sdkMarker) {
			cachely.add(kindSDK, ctx, sdkMarker)
		}
		if strings.HasPrefix(v, "/~api/") {
			cachely.add(kindAPIPath, ctx, v)
			return
		}
		u := absolute(v)
		if u == nil {
			return
		}
		host := strings.ToLower(u.Hostname())
		switch {
		case host == tenantHost:
			cachely.add(kindTenantHost, ctx, u.String())
		case custom != "" && host == custom:
			cachely.add(kindCustom, ctx, u.String())
		case strings.HasPrefix(u.EscapedPath(), "/~api/"):
			cachely.add(kindAPIPath, ctx, u.String())
		case cms.match(u) && resourceContexts[ctx]:
			direct.add(kindCMS, ctx, u.String())
		case cms.match(u):
			potential.add(kindCMS, ctx, u.String())
		}
	}
	for _, r := range s.resources {
		classify(r.ctx, r.val)
	}
	for _, t := range s.texts {
		if strings.Contains(t.val, sdkMarker) {
			cachely.add(kindSDK, t.ctx, sdkMarker)
		}
		for _, u := range urlsIn(t.val) {
			classify(t.ctx, u)
		}
	}
	a := Analysis{CachelySignals: cachely.signals(), CMSLabel: cms.label, DirectCMSUsage: NotDetected}
	switch {
	case len(direct.list) > 0:
		a.DirectCMSUsage, a.DirectCMSSignals = Detected, direct.signals()
	case len(potential.list) > 0:
		a.DirectCMSUsage, a.DirectCMSSignals = Potential, potential.signals()
	default:
		a.DirectCMSSignals = []Signal{}
	}
	switch {
	case len(cachely.list) > 0:
		a.CachelyUsage = Detected
	case a.DirectCMSUsage != Detected && serverRendered(platform):
		a.CachelyUsage = Inconclusive
	default:
		a.CachelyUsage = NotDetected
	}
	a.VerdictState, a.Verdict = websiteVerdict(a, platform)
	return a
}

// websiteVerdict combines the two usages into the verdict and its
// sentence.
func websiteVerdict(a Analysis, platform string) (string, string) {
	note := ""
	if a.DirectCMSUsage == Potential {
		s := a.DirectCMSSignals[0]
		note = " " + a.CMSLabel + " appears only in " + contextName(s.Context) + " (" + s.Match + "): check whether the browser calls it or the server does."
	}
	switch {
	case a.CachelyUsage == Detected && a.DirectCMSUsage == Detected:
		return Mixed, "The site routes some content through Cachely (" + a.CachelySignals[0].Match + ") but still loads " + a.CMSLabel + " directly (" + a.DirectCMSSignals[0].Match + " in " + contextName(a.DirectCMSSignals[0].Context) + "): move those calls to Cachely."
	case a.CachelyUsage == Detected:
		return Implemented, "The site's code routes through Cachely (" + a.CachelySignals[0].Match + ") and loads nothing from " + a.CMSLabel + " directly." + note
	case a.DirectCMSUsage == Detected:
		return NotUsing, "No sign of Cachely: the page loads " + a.CMSLabel + " directly (" + a.DirectCMSSignals[0].Match + " in " + contextName(a.DirectCMSSignals[0].Context) + ")."
	case a.CachelyUsage == Inconclusive:
		return Inconclusive, platformNames[platform] + " renders pages on the server or at build time, and the HTML shows no sign of Cachely or of direct " + a.CMSLabel + " calls: the CMS calls may happen server-side, which the page cannot show." + note
	}
	return NotUsing, "No reference to Cachely was found in the page: no tenant host, /~api/ path or SDK." + note
}

// contextName is a context in words.
func contextName(ctx string) string {
	switch ctx {
	case ctxImg, ctxSource:
		return "an <img> or <source>"
	case ctxLink:
		return "a <link>"
	case ctxScript:
		return "a <script src>"
	case ctxMedia:
		return "a media element"
	case ctxCSS:
		return "a CSS url()"
	case ctxLinkHeader:
		return "the Link header"
	case ctxInline:
		return "an inline script"
	case ctxData:
		return "serialised page data"
	case ctxCSP:
		return "the Content-Security-Policy"
	}
	return "an attribute"
}
