package news

import (
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// trackingParams are query parameters that identify a campaign, a click or
// a share, never the story: the same article reached through a newsletter
// and through a feed must compare equal.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "yclid": true, "twclid": true,
	"mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true, "mkt_tok": true, "igshid": true,
	"ref": true, "ref_src": true, "ref_url": true, "referrer": true, "source": true, "src": true,
	"cmpid": true, "cmp": true, "ito": true, "ns_mchannel": true, "ns_source": true, "ns_campaign": true,
	"ns_linkname": true, "ns_fee": true, "at_medium": true, "at_campaign": true, "at_custom1": true,
	"at_custom2": true, "at_custom3": true, "at_custom4": true, "smid": true, "smtyp": true,
	"partner": true, "rss": true, "rssfeed": true, "feed": true, "output": true, "amp": true,
	"outputtype": true, "cid": true, "s_cid": true, "ocid": true, "taid": true, "guccounter": true,
}

// CanonicalURL reduces an article URL to the form under which every copy of
// the same story compares equal: lowercase scheme and host, no "www.",
// "m." / "mobile." / "amp." host prefixes, no AMP path or suffix, no
// tracking parameters (utm_* and the usual click ids), no fragment, no
// trailing slash, remaining parameters sorted. It returns "" for anything
// that is not an absolute http(s) URL.
func CanonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	for _, prefix := range []string{"www.", "m.", "mobile.", "amp."} {
		host = strings.TrimPrefix(host, prefix)
	}
	if port := u.Port(); port != "" && port != "80" && port != "443" {
		host += ":" + port
	}

	p := u.EscapedPath()
	segs := strings.Split(p, "/")
	kept := segs[:0]
	for _, s := range segs {
		if s == "amp" {
			continue
		}
		kept = append(kept, s)
	}
	p = strings.Join(kept, "/")
	for _, suffix := range []string{".amp.html", ".amp", "/amp"} {
		if strings.HasSuffix(p, suffix) {
			p = strings.TrimSuffix(p, suffix)
			if suffix == ".amp.html" {
				p += ".html"
			}
		}
	}
	p = path.Clean("/" + p)
	if p == "/" || p == "." {
		p = ""
	}

	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
			q.Del(k)
		}
	}
	out := "https://" + host + p // http and https copies are one story
	if enc := q.Encode(); enc != "" {
		out += "?" + enc
	}
	return out
}

// TitleKey normalises a headline for comparing stories across outlets:
// case, punctuation and spacing are ignored, and a trailing outlet name
// ("… - BBC News", "… | The Guardian") is dropped. It returns "" for titles
// too short to identify a story (fewer than four words), which must never
// be merged on their title alone.
func TitleKey(title string) string {
	t := strings.TrimSpace(title)
	for _, sep := range []string{" - ", " | ", " — ", " – "} {
		if i := strings.LastIndex(t, sep); i > 0 {
			if tail := t[i+len(sep):]; len(strings.Fields(tail)) <= 4 {
				t = t[:i]
			}
		}
	}
	words := strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	if len(words) < 4 {
		return ""
	}
	return strings.Join(words, " ")
}

// ItemRef is how a person names an item: its id, its feed key (guid), or
// its link in any spelling of the same article (CanonicalURL). It is
// built once per lookup and compared against many stored items.
type ItemRef struct {
	ref, canonical string
	// host is the canonical host: every link of the same article contains
	// it (case aside), a cheap test that spares most links the parse.
	host string
}

// NewItemRef returns the reference ref (surrounding space trimmed).
func NewItemRef(ref string) ItemRef {
	r := ItemRef{ref: strings.TrimSpace(ref)}
	r.canonical = CanonicalURL(r.ref)
	if r.canonical != "" {
		host, _, _ := strings.Cut(strings.TrimPrefix(r.canonical, "https://"), "/")
		r.host, _, _ = strings.Cut(host, "?")
	}
	return r
}

// Names reports whether the reference names the item with this id, key
// and link.
func (r ItemRef) Names(id, key, link string) bool {
	if r.ref == "" {
		return false
	}
	if id == r.ref || key == r.ref || link == r.ref {
		return true
	}
	return r.canonical != "" && containsFold(link, r.host) && CanonicalURL(link) == r.canonical
}

// containsFold reports whether s contains lower, which is lowercase,
// ignoring the case of s.
func containsFold(s, lower string) bool {
	if strings.Contains(s, lower) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), lower)
		}
	}
	return false
}
