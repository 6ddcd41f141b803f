package timeline

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// page is a rendered page as the tests see it, parsed with x/net/html.
type page struct {
	doc      *html.Node
	title    string
	sections []pageSection
}

type pageSection struct {
	title, summary, counts string
	ticks                  []string
	lanes                  []pageLane
}

type pageLane struct {
	task, key string
	rows      int
	bars      []pageBar
	dedupes   []string // data-id of each dedupe mark
	texts     []string // dedupe counts
}

type pageBar struct {
	id, state, label string
	segs             []string // classes of the segments, in order
	segX             []float64
	marks            []string // classes of the end marks
	hover            string
}

// render renders r and parses the page.
func render(t *testing.T, r *Recorder) page {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, r.Render(&buf))
	return parsePage(t, buf.String())
}

func parsePage(t *testing.T, s string) page {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	require.NoError(t, err)
	p := page{doc: doc}
	for n := range doc.Descendants() {
		switch {
		case n.Type == html.ElementNode && n.Data == "title" && n.Parent.Data == "head":
			p.title = textOf(n)
		case hasClass(n, "section"):
			p.sections = append(p.sections, parseSection(n))
		}
	}
	return p
}

func parseSection(sec *html.Node) pageSection {
	var ps pageSection
	for n := range sec.Descendants() {
		switch {
		case n.Type == html.ElementNode && n.Data == "h2":
			ps.title = textOf(n)
		case hasClass(n, "summary"):
			ps.summary = textOf(n)
		case hasClass(n, "counts"):
			ps.counts = textOf(n)
		case hasClass(n, "tick"):
			ps.ticks = append(ps.ticks, textOf(n))
		case hasClass(n, "lane"):
			ps.lanes = append(ps.lanes, parseLane(n))
		}
	}
	return ps
}

func parseLane(ln *html.Node) pageLane {
	pl := pageLane{task: attr(ln, "data-task"), key: attr(ln, "data-key")}
	pl.rows = atoi(attr(ln, "data-rows"))
	for n := range ln.Descendants() {
		switch {
		case hasClass(n, "bar"):
			b := pageBar{id: attr(n, "data-id"), state: attr(n, "data-state"), label: attr(n, "data-label")}
			for c := range n.Descendants() {
				switch {
				case hasClass(c, "seg"):
					b.segs = append(b.segs, strings.TrimPrefix(attr(c, "class"), "seg "))
					b.segX = append(b.segX, atof(attr(c, "x")))
				case hasClass(c, "mark"):
					b.marks = append(b.marks, strings.TrimPrefix(attr(c, "class"), "mark "))
				case c.Type == html.ElementNode && c.Data == "title":
					b.hover = textOf(c)
				}
			}
			pl.bars = append(pl.bars, b)
		case hasClass(n, "dedupe"):
			pl.dedupes = append(pl.dedupes, attr(n, "data-id"))
		case hasClass(n, "dedupe-count"):
			pl.texts = append(pl.texts, textOf(n))
		}
	}
	return pl
}

// all returns the elements of the page with class c.
func (p page) all(c string) []*html.Node {
	var out []*html.Node
	for n := range p.doc.Descendants() {
		if hasClass(n, c) {
			out = append(out, n)
		}
	}
	return out
}

func hasClass(n *html.Node, c string) bool {
	return n.Type == html.ElementNode && slices.Contains(strings.Fields(attr(n, "class")), c)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
