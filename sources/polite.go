package sources

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxMinInterval caps the polling interval a publisher can ask for: a
// day-long max-age or a <ttl> of a week must not silence a source longer
// than that.
const maxMinInterval = 24 * time.Hour

// minInterval is the shortest polling interval the publisher asks for: the
// larger of the feed's own <ttl> and the response's HTTP freshness, capped
// at maxMinInterval. Either may be absent (0).
func minInterval(h http.Header, feedTTL time.Duration, now time.Time) time.Duration {
	return min(max(httpFreshness(h, now), feedTTL, 0), maxMinInterval)
}

// httpFreshness is how long the response says it stays fresh (RFC 9111
// section 4.2.1): Cache-Control max-age when present, else Expires minus
// Date (or minus now when Date is missing or unreadable). no-store and
// no-cache mean 0: the publisher asks us to come back whenever we like.
// s-maxage is for shared caches and ignored; so is Age, which says how long
// a CDN has held this copy, not how often the feed changes. An unreadable
// or past Expires is 0, as RFC 9111 says ("already expired").
func httpFreshness(h http.Header, now time.Time) time.Duration {
	maxAge, hasMaxAge := time.Duration(0), false
	for _, v := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				if d, ok := deltaSeconds(val); ok && !hasMaxAge {
					maxAge, hasMaxAge = d, true
				}
			}
		}
	}
	if hasMaxAge {
		return maxAge
	}
	exp := h.Get("Expires")
	if exp == "" {
		return 0
	}
	expires, err := http.ParseTime(strings.TrimSpace(exp))
	if err != nil {
		return 0
	}
	base := now
	if d, err := http.ParseTime(strings.TrimSpace(h.Get("Date"))); err == nil {
		base = d
	}
	return max(expires.Sub(base), 0)
}

// deltaSeconds reads a Cache-Control delta-seconds value (optionally
// quoted), saturating instead of overflowing.
func deltaSeconds(v string) (time.Duration, bool) {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if !isDigits(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > int64(maxMinInterval/time.Second) {
		return maxMinInterval, true // all digits: only too large to hold
	}
	return time.Duration(n) * time.Second, true
}

// ttlMinutes reads an RSS <ttl> (minutes). Anything but a non-negative
// integer is ignored; a huge value saturates at maxMinInterval.
func ttlMinutes(v string) time.Duration {
	v = strings.TrimSpace(v)
	if !isDigits(v) {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > int64(maxMinInterval/time.Minute) {
		return maxMinInterval
	}
	return time.Duration(n) * time.Minute
}

// linkRels extracts the first URL for each of the wanted relations from
// HTTP Link header values (RFC 8288): `<https://hub.example/>; rel="hub",
// </feed>; rel=self`. A rel parameter may list several space-separated
// relations. Targets are returned as written; the caller resolves them.
func linkRels(values []string, wanted ...string) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		for v != "" {
			v = strings.TrimLeft(v, " \t,")
			if !strings.HasPrefix(v, "<") {
				break
			}
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			target := strings.TrimSpace(v[1:end])
			v = v[end+1:]
			// Parameters run to the next comma outside quotes.
			params, rest := splitLinkParams(v)
			v = rest
			for _, rel := range strings.Fields(strings.ToLower(linkParam(params, "rel"))) {
				for _, w := range wanted {
					if rel == w && out[w] == "" && target != "" {
						out[w] = target
					}
				}
			}
		}
	}
	return out
}

// splitLinkParams splits one link-value's parameters (";rel=hub;
// title="a, b"") from the rest of the header, at the first comma that is
// not inside a quoted string.
func splitLinkParams(s string) (params, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// linkParam returns the value of a link parameter, unquoted.
func linkParam(params, name string) string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// resolveLink resolves a WebSub or self link against the URL it was found
// at; "" unless the result is an absolute http(s) URL.
func resolveLink(base *url.URL, ref string) string {
	if u := resolveHTTP(base, ref); u != nil {
		return u.String()
	}
	return ""
}
