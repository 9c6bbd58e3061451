package sources

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// maxOPMLBytes caps what ParseOPML reads. Subscription lists of thousands
// of feeds are a few hundred KiB; anything this large is not one.
const maxOPMLBytes = 8 << 20

// maxOPMLDepth bounds outline nesting: folders of folders are kept as a
// path up to this depth, and deeper nesting is refused as hostile.
const maxOPMLDepth = 64

// OPMLSource is one feed of an OPML subscription list.
type OPMLSource struct {
	// XMLURL is the feed (xmlUrl).
	XMLURL string
	// HTMLURL is the site the feed belongs to (htmlUrl), often empty.
	HTMLURL string
	// Title is the title attribute, else text.
	Title string
	// Text is the text attribute (what readers display), else title.
	Text string
	// Categories are the outline's category attribute (comma-separated,
	// RFC-style "/a/b" paths, kept as "a/b") followed by the folder path
	// of the outlines it is nested in ("News/World"), each once.
	Categories []string
}

// ParseOPML reads an OPML 1.0 or 2.0 subscription list and returns its
// feeds, nested outlines flattened in document order. An outline is a feed
// when it has an xmlUrl (or, in old OPML 1.0 exports, type="rss" and a
// url); outlines without one are folders, whose text becomes a category of
// the feeds inside. A feed listed more than once is returned once, at its
// first place, with the categories of all its places.
//
// Attribute names are matched case-insensitively and HTML entities are
// accepted, as real exports need. A document whose root is not <opml> (or
// its pre-1.0 name <outlineDocument>), or larger than maxOPMLBytes, is an
// error.
func ParseOPML(r io.Reader) ([]OPMLSource, error) {
	lr := &capReader{r: r, left: maxOPMLBytes}
	d := xml.NewDecoder(bufio.NewReader(lr))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel

	var (
		out     []OPMLSource
		index   = map[string]int{}
		folders []string // text of enclosing non-feed outlines
		// kinds records, per open outline, whether it pushed a folder.
		kinds           []bool
		sawRoot, inBody bool
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, fmt.Errorf("sources: opml: larger than %d bytes", maxOPMLBytes)
			}
			if !sawRoot {
				return nil, fmt.Errorf("sources: opml: not an OPML document: %w", err)
			}
			return nil, fmt.Errorf("sources: opml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if !sawRoot {
				// outlineDocument is OPML's name before 1.0, which readers
				// still accept.
				if name != "opml" && name != "outlinedocument" {
					return nil, fmt.Errorf("sources: opml: root element is <%s>, not <opml>", t.Name.Local)
				}
				sawRoot = true
				continue
			}
			switch name {
			case "body":
				inBody = true
			case "outline":
				if !inBody {
					continue
				}
				if len(kinds) >= maxOPMLDepth {
					return nil, fmt.Errorf("sources: opml: outlines nested deeper than %d", maxOPMLDepth)
				}
				src, isFeed := outlineSource(t.Attr)
				if !isFeed {
					folder := strings.Trim(cleanLabel(firstNonEmpty(attr(t.Attr, "text"), attr(t.Attr, "title"))), "/")
					kinds = append(kinds, folder != "")
					if folder != "" {
						folders = append(folders, folder)
					}
					continue
				}
				kinds = append(kinds, false)
				if len(folders) > 0 {
					src.Categories = appendUnique(src.Categories, strings.Join(folders, "/"))
				}
				if i, ok := index[src.XMLURL]; ok {
					for _, c := range src.Categories {
						out[i].Categories = appendUnique(out[i].Categories, c)
					}
					continue
				}
				index[src.XMLURL] = len(out)
				out = append(out, src)
			}
		case xml.EndElement:
			switch strings.ToLower(t.Name.Local) {
			case "body":
				inBody = false
			case "outline":
				if !inBody || len(kinds) == 0 {
					continue
				}
				if kinds[len(kinds)-1] {
					folders = folders[:len(folders)-1]
				}
				kinds = kinds[:len(kinds)-1]
			}
		}
	}
	if !sawRoot {
		return nil, errors.New("sources: opml: not an OPML document: no root element")
	}
	return out, nil
}

// outlineSource reads a feed outline's attributes; isFeed is false for an
// outline without a feed URL (a folder, a link, a note).
func outlineSource(attrs []xml.Attr) (src OPMLSource, isFeed bool) {
	xmlURL := strings.TrimSpace(attr(attrs, "xmlUrl"))
	if xmlURL == "" {
		switch strings.ToLower(attr(attrs, "type")) {
		case "rss", "atom":
			xmlURL = strings.TrimSpace(attr(attrs, "url"))
		}
	}
	if xmlURL == "" {
		return OPMLSource{}, false
	}
	title := cleanLabel(attr(attrs, "title"))
	text := cleanLabel(attr(attrs, "text"))
	src = OPMLSource{
		XMLURL:  xmlURL,
		HTMLURL: strings.TrimSpace(attr(attrs, "htmlUrl")),
		Title:   firstNonEmpty(title, text),
		Text:    firstNonEmpty(text, title),
	}
	for _, c := range strings.Split(attr(attrs, "category"), ",") {
		if c = strings.Trim(cleanLabel(c), "/"); c != "" {
			src.Categories = appendUnique(src.Categories, c)
		}
	}
	return src, true
}

// attr returns the value of the named attribute, matched
// case-insensitively and without regard to namespace.
func attr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// opmlDoc is the OPML 2.0 document WriteOPML produces.
type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Body    []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr,omitempty"`
	Type     string        `xml:"type,attr,omitempty"`
	XMLURL   string        `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string        `xml:"htmlUrl,attr,omitempty"`
	Category string        `xml:"category,attr,omitempty"`
	Outlines []opmlOutline `xml:"outline"`
}

// WriteOPML writes srcs as an OPML 2.0 subscription list that feed readers
// import. Sources are grouped in folders named after their first category
// (in order of first appearance), which is how readers show categories;
// all categories are also written to the category attribute, so ParseOPML
// reads back what was written. Sources without a feed URL are skipped.
func WriteOPML(w io.Writer, title string, srcs []OPMLSource) error {
	doc := opmlDoc{Version: "2.0", Title: title}
	folderAt := map[string]int{}
	for _, s := range srcs {
		if strings.TrimSpace(s.XMLURL) == "" {
			continue
		}
		o := opmlOutline{
			Text:     firstNonEmpty(s.Text, s.Title, s.XMLURL),
			Title:    s.Title,
			Type:     "rss",
			XMLURL:   s.XMLURL,
			HTMLURL:  s.HTMLURL,
			Category: strings.Join(s.Categories, ","),
		}
		if len(s.Categories) == 0 {
			doc.Body = append(doc.Body, o)
			continue
		}
		folder := s.Categories[0]
		i, ok := folderAt[folder]
		if !ok {
			i = len(doc.Body)
			folderAt[folder] = i
			doc.Body = append(doc.Body, opmlOutline{Text: folder})
		}
		doc.Body[i].Outlines = append(doc.Body[i].Outlines, o)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("sources: write opml: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("sources: write opml: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("sources: write opml: %w", err)
	}
	return nil
}
