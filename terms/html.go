package terms

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTML bounds the bytes of HTML read: a page larger than this is not an
// article, and the bound keeps parsing time and memory capped.
const maxHTML = 16 << 20

// FromHTML extracts a page's visible article text and then its n key terms.
// It keeps the title, headings, paragraphs, list items and quotations, and
// drops navigation, scripts, styles, forms, footers, asides and elements
// marked hidden or named like boilerplate (menu, cookie, share, related...).
// When the page has a <main> or <article>, only that is read. The first
// <h1> is the title (else <title>, without a " | Site name" suffix); it is
// returned and counts as the document's title for ranking.
func FromHTML(r io.Reader, n int) ([]Term, string, error) {
	title, paras, err := htmlText(r)
	if err != nil {
		return nil, "", err
	}
	hasTitle := title != ""
	if hasTitle {
		paras = append([]string{title}, paras...)
	}
	if n <= 0 {
		return nil, title, nil
	}
	return extract(paras, hasTitle && len(paras) > 1, n), title, nil
}

// htmlText returns a page's title and its visible paragraphs.
func htmlText(r io.Reader) (string, []string, error) {
	doc, err := html.Parse(io.LimitReader(r, maxHTML))
	if err != nil {
		return "", nil, fmt.Errorf("terms: parse html: %w", err)
	}
	ix := indexPage(doc)
	root := doc
	if main := ix.largestContent(doc); main != nil {
		root = main
	}
	var h1, docTitle string
	walk(doc, func(n *html.Node) bool {
		switch {
		case n.Type == html.ElementNode && n.DataAtom == atom.Title && docTitle == "":
			docTitle = collapse(ix.textOf(n))
		case n.Type == html.ElementNode && n.DataAtom == atom.H1 && h1 == "" && !ix.boilerplate(n):
			h1 = collapse(ix.textOf(n))
		}
		return !ix.boilerplate(n) || n.DataAtom == atom.Head
	})
	title := h1
	if title == "" {
		title = stripSiteName(docTitle)
	}

	var paras []string
	var cur strings.Builder
	flush := func() {
		if s := collapse(cur.String()); s != "" && s != title {
			paras = append(paras, s)
		}
		cur.Reset()
	}
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if ix.boilerplate(n) {
			return
		}
		switch n.Type {
		case html.TextNode:
			cur.WriteString(n.Data)
			return
		case html.ElementNode:
			if n.DataAtom == atom.Br {
				cur.WriteByte(' ')
				return
			}
		}
		block := n.Type == html.ElementNode && blockElements[n.DataAtom]
		if block {
			flush()
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
		if block {
			flush()
		} else if n.Type == html.ElementNode && !phrasing[n.DataAtom] {
			cur.WriteByte(' ') // other elements (img, input, custom tags) separate words
		}
	}
	if root == doc {
		// Without <main>/<article>, read the <body> only.
		walk(doc, func(n *html.Node) bool {
			if n.Type == html.ElementNode && n.DataAtom == atom.Body {
				root = n
				return false
			}
			return true
		})
	}
	visit(root)
	flush()
	return title, paras, nil
}

// blockElements end a paragraph.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.H1: true,
	atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Li: true, atom.Ul: true,
	atom.Ol: true, atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Tr: true, atom.Td: true,
	atom.Th: true, atom.Dd: true, atom.Dt: true, atom.Dl: true, atom.Figcaption: true, atom.Figure: true,
	atom.Hr: true, atom.Address: true, atom.Header: true, atom.Caption: true, atom.Body: true,
}

// phrasing elements sit inside words as well as between them
// (Xin<b>jiang</b>), so they add no space.
var phrasing = map[atom.Atom]bool{
	atom.A: true, atom.B: true, atom.I: true, atom.Em: true, atom.Strong: true, atom.Span: true,
	atom.Small: true, atom.Sub: true, atom.Sup: true, atom.Mark: true, atom.Abbr: true, atom.Cite: true,
	atom.Q: true, atom.Time: true, atom.U: true, atom.S: true, atom.Code: true, atom.Font: true,
	atom.Bdi: true, atom.Bdo: true, atom.Data: true, atom.Dfn: true, atom.Kbd: true, atom.Var: true,
	atom.Ins: true, atom.Del: true,
}

// skipElements never hold article text.
var skipElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Nav: true,
	atom.Footer: true, atom.Aside: true, atom.Form: true, atom.Button: true, atom.Select: true,
	atom.Option: true, atom.Svg: true, atom.Math: true, atom.Canvas: true, atom.Iframe: true,
	atom.Object: true, atom.Embed: true, atom.Menu: true, atom.Dialog: true, atom.Head: true,
	atom.Textarea: true, atom.Input: true, atom.Label: true,
}

// boilerWords in a class or id mark page furniture.
var boilerWords = map[string]bool{"nav": true, "navbar": true, "navigation": true, "menu": true, "footer": true,
	"sidebar": true, "cookie": true, "cookies": true, "consent": true, "share": true, "sharing": true,
	"social": true, "related": true, "newsletter": true, "subscribe": true, "advert": true, "advertisement": true,
	"ad": true, "ads": true, "promo": true, "breadcrumb": true, "breadcrumbs": true, "comments": true,
	"comment": true, "skip": true, "banner": true, "masthead": true, "popup": true, "modal": true, "signup": true,
	"paywall": true, "byline": true, "toolbar": true, "pagination": true, "recommended": true, "trending": true}

// pageIndex holds what is computed once per page: which elements are
// furniture, how many words each element holds, which hold an <h1>. One
// pass keeps extraction linear in the page size.
type pageIndex struct {
	furniture map[*html.Node]bool
	words     map[*html.Node]int
	hasH1     map[*html.Node]bool
}

func indexPage(doc *html.Node) *pageIndex {
	ix := &pageIndex{furniture: map[*html.Node]bool{}, words: map[*html.Node]int{}, hasH1: map[*html.Node]bool{}}
	var order []*html.Node
	walk(doc, func(n *html.Node) bool {
		order = append(order, n)
		return true
	})
	// Children come after parents in pre-order: accumulate in reverse.
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if n.Type == html.TextNode {
			ix.words[n] = len(strings.Fields(n.Data))
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.H1 {
			ix.hasH1[n] = true
		}
		if p := n.Parent; p != nil {
			if ix.hasH1[n] {
				ix.hasH1[p] = true
			}
		}
	}
	for _, n := range order {
		ix.furniture[n] = furniture(n, ix.hasH1[n])
	}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if p := n.Parent; p != nil && !ix.furniture[n] {
			ix.words[p] += ix.words[n]
		}
	}
	return ix
}

// boilerplate reports whether n is page furniture, not article.
func (ix *pageIndex) boilerplate(n *html.Node) bool { return ix.furniture[n] }

// furniture decides whether one node is page furniture, from the node
// alone (hasH1: whether it holds an <h1>).
func furniture(n *html.Node, hasH1 bool) bool {
	if n.Type != html.ElementNode {
		return n.Type == html.CommentNode
	}
	if skipElements[n.DataAtom] {
		return true
	}
	if n.DataAtom == atom.Header && !hasH1 {
		return true // a site header; an article header holds the h1
	}
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "role":
			switch strings.ToLower(strings.TrimSpace(a.Val)) {
			case "navigation", "contentinfo", "complementary", "banner", "search", "menu", "menubar", "dialog", "alert":
				return true
			}
		case "style":
			v := strings.ToLower(strings.ReplaceAll(a.Val, " ", ""))
			if strings.Contains(v, "display:none") || strings.Contains(v, "visibility:hidden") {
				return true
			}
		case "class", "id":
			for _, w := range strings.FieldsFunc(strings.ToLower(a.Val), func(r rune) bool {
				return r == ' ' || r == '-' || r == '_' || r == '\t' || r == '\n'
			}) {
				if boilerWords[w] {
					return true
				}
			}
		}
	}
	return false
}

// largestContent returns the <main>, or else the <article> with the most
// text, when it holds enough text to be the article; nil otherwise.
func (ix *pageIndex) largestContent(doc *html.Node) *html.Node {
	var best, mainNode *html.Node
	bestLen := 0
	walk(doc, func(n *html.Node) bool {
		if ix.boilerplate(n) {
			return false
		}
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Main:
				if mainNode == nil {
					mainNode = n
				}
			case atom.Article:
				if l := ix.words[n]; l > bestLen {
					best, bestLen = n, l
				}
			}
		}
		return true
	})
	if mainNode != nil && ix.words[mainNode] >= 30 {
		return mainNode
	}
	if bestLen >= 30 {
		return best
	}
	return nil
}

// walk visits nodes depth-first; f returns false to skip a node's children.
// It uses an explicit stack so a deeply nested page cannot exhaust the
// goroutine stack.
func walk(root *html.Node, f func(*html.Node) bool) {
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !f(n) {
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}

// textOf returns the visible text under n, block elements separated.
func (ix *pageIndex) textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		if c != n && ix.boilerplate(c) {
			return false
		}
		switch {
		case c.Type == html.TextNode:
			b.WriteString(c.Data)
		case c.Type == html.ElementNode && (blockElements[c.DataAtom] || c.DataAtom == atom.Br):
			b.WriteByte(' ')
		}
		return true
	})
	return b.String()
}

func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// stripSiteName drops a " | Site" or " - Site" suffix from a <title>,
// keeping the longest part.
func stripSiteName(t string) string {
	for _, sep := range []string{" | ", " - ", " – ", " — ", " · "} {
		if !strings.Contains(t, sep) {
			continue
		}
		best := ""
		for _, part := range strings.Split(t, sep) {
			if part = strings.TrimSpace(part); len(part) > len(best) {
				best = part
			}
		}
		return best
	}
	return t
}
