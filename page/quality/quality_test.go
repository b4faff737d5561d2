package quality

import (
	"strings"
	"testing"
)

const article = `<!DOCTYPE html><html><head><title>Blue shoes | Shop</title>
<link rel="canonical" href="https://shop.example/blue-shoes"><style>body{color:red}</style></head>
<body><h1>Blue shoes</h1><p>Our blue shoes are made of canvas and rubber, sewn by hand, and last for years of walking.</p>
<script>var hidden = "this text is not visible and must not count";</script></body></html>`

func html200(body string) Page {
	return Page{Status: 200, ContentType: "text/html; charset=utf-8", Body: []byte(body)}
}

func TestJudge(t *testing.T) {
	shell := `<!DOCTYPE html><html><head><title>Blue shoes | Shop</title><link rel="canonical" href="https://shop.example/blue-shoes"></head><body><div id="root"></div></body></html>`
	noTitle := strings.Replace(article, "<title>Blue shoes | Shop</title>", "", 1)
	emptyTitle := strings.Replace(article, "<title>Blue shoes | Shop</title>", "<title>  </title>", 1)
	noCanon := strings.Replace(article, `<link rel="canonical" href="https://shop.example/blue-shoes">`, "", 1)
	canonUpper := strings.Replace(article, `rel="canonical"`, `rel="alternate CANONICAL"`, 1)
	shorter := strings.Replace(article, "Our blue shoes are made of canvas and rubber, sewn by hand, and last for years of walking.", "Blue shoes, canvas, hand-sewn, long-lasting.", 1)
	tiny := strings.Replace(article, "Our blue shoes are made of canvas and rubber, sewn by hand, and last for years of walking.", "Gone.", 1)
	soft := strings.Replace(article, "<h1>Blue shoes</h1>", "<h1>Oops! Something went wrong</h1>", 1)
	markers := []string{"something went wrong", "  "}
	oldSoft := strings.Replace(article, "last for years", "something went wrong last for years", 1)
	small := html200(`<html><head><title>t</title></head><body><p>Hi there</p></body></html>`)

	cases := []struct {
		name     string
		old, new Page
		opts     Options
		want     Reason // "" means accepted
	}{
		{"same page", html200(article), html200(article), Options{}, ""},
		{"text grew", html200(shorter), html200(article), Options{}, ""},
		{"text shrank but above the ratio", html200(article), html200(shorter), Options{}, ""},
		{"500 after 200", html200(article), Page{Status: 500, ContentType: "text/html", Body: []byte("oops")}, Options{}, StatusWorse},
		{"403 after 200", html200(article), Page{Status: 403, Body: []byte("no")}, Options{}, StatusWorse},
		{"first 404", html200(article), Page{Status: 404, Body: []byte("<h1>Not found</h1>")}, Options{}, StatusWorse},
		{"404 confirmed", html200(article), Page{Status: 404, Body: []byte("<h1>Not found</h1>")}, Options{LastRejected: 404}, ""},
		{"410 after a rejected 404", html200(article), Page{Status: 410, Body: []byte("gone")}, Options{LastRejected: 404}, ""},
		{"404 after a rejected 500", html200(article), Page{Status: 404, Body: []byte("nf")}, Options{LastRejected: 500}, StatusWorse},
		{"500 after a rejected 404", html200(article), Page{Status: 500, Body: []byte("x")}, Options{LastRejected: 404}, StatusWorse},
		{"old page was an error", Page{Status: 404, Body: []byte("nf")}, html200(shell), Options{}, ""},
		{"redirect", html200(article), Page{Status: 301, Body: nil}, Options{}, ""},
		{"empty body", html200(article), html200("  \n"), Options{}, Empty},
		{"empty shell", html200(article), html200(shell), Options{}, TextShrank},
		{"text below the ratio", html200(article), html200(tiny), Options{}, TextShrank},
		{"small page changes freely", small, html200(`<html><head><title>t</title></head><body><p>Hi</p></body></html>`), Options{}, ""},
		{"small page losing all text", small, html200(`<html><head><title>t</title></head><body></body></html>`), Options{}, TextShrank},
		{"title gone", html200(article), html200(noTitle), Options{}, TitleLost},
		{"title emptied", html200(article), html200(emptyTitle), Options{}, TitleLost},
		{"title never there", html200(noTitle), html200(noTitle), Options{}, ""},
		{"canonical gone", html200(article), html200(noCanon), Options{}, CanonLost},
		{"canonical among rel tokens", html200(article), html200(canonUpper), Options{}, ""},
		{"soft error marker appears", html200(article), html200(soft), Options{SoftErrorMarkers: markers}, SoftError},
		{"soft error marker already there", html200(oldSoft), html200(soft), Options{SoftErrorMarkers: markers}, ""},
		{"no markers configured", html200(article), html200(soft), Options{}, ""},
		{"marker only in a script", html200(article), html200(strings.Replace(article, "must not count", "something went wrong", 1)), Options{SoftErrorMarkers: markers}, ""},
		{"not HTML", Page{Status: 200, ContentType: "application/json", Body: []byte(`{"a":"long text long text long text long text long text long text long"}`)},
			Page{Status: 200, ContentType: "application/json", Body: []byte(`{}`)}, Options{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Judge(c.old, c.new, c.opts)
			if v.OK != (c.want == "") || v.Reason != c.want {
				t.Fatalf("verdict %+v, want reason %q", v, c.want)
			}
			if !v.OK && v.Detail == "" {
				t.Fatal("a rejection without detail")
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	s := Analyze([]byte(article))
	if s.Title != "Blue shoes | Shop" || s.Canonical != "https://shop.example/blue-shoes" {
		t.Fatalf("title %q canonical %q", s.Title, s.Canonical)
	}
	want := len(strings.Join(strings.Fields("Blue shoes Our blue shoes are made of canvas and rubber, sewn by hand, and last for years of walking."), ""))
	if s.TextLen != want {
		t.Fatalf("text length %d, want %d", s.TextLen, want)
	}
	if strings.Contains(s.lowerText, "hidden") || strings.Contains(s.lowerText, "color") {
		t.Fatalf("script or style text counted: %q", s.lowerText)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte(article))
	f.Add([]byte("<title>x<title>y</head><body>z"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Analyze(b)
		if s.TextLen < 0 {
			t.Fatal("negative length")
		}
	})
}
