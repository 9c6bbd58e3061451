package feed

import (
	"html"
	"strconv"
	"strings"

	"wirewatch/news"
)

// This file shows what became of a story after it matched: the other
// outlets that reported it ("Also reported by: BBC News, The Guardian")
// and a corrected headline ("Updated — previously titled “…”"). A later
// sighting of a story is not an entry of its own; it shows on the first.
// Every name, headline and link here is third-party text, escaped like
// the rest.

// maxSightingsShown caps the outlets named under an item; the rest are
// counted ("and 14 more"), so a story every wire carries stays one line.
const maxSightingsShown = 10

// sighting is one outlet that also reported a story, as people see it.
type sighting struct {
	// Name is the outlet: its source title, else its source id.
	Name string
	// Title is the outlet's own headline (a tooltip on the pages).
	Title string
	// Link is the outlet's report when it is an absolute http(s) URL,
	// else empty: the name is then shown unlinked.
	Link string
}

// alsoReported lists the outlets that also reported the entry's story,
// oldest first, each once (its first sighting), at most
// maxSightingsShown of them, and counts the outlets left out.
func alsoReported(e news.Entry) (shown []sighting, more int) {
	seen := map[string]bool{}
	for i, s := range e.AlsoReportedBy {
		name := oneLine(clean(s.SourceTitle))
		id := oneLine(clean(s.SourceID))
		if name == "" {
			name = id
		}
		if name == "" {
			name = "unknown source"
		}
		// One outlet is one source; a sighting with no source id is
		// counted on its own.
		key := "id:" + id
		if id == "" {
			key = "n:" + strconv.Itoa(i)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if len(shown) == maxSightingsShown {
			more++
			continue
		}
		shown = append(shown, sighting{Name: name, Title: oneLine(clean(s.Title)), Link: webURL(s.Link)})
	}
	return shown, more
}

// previousTitle is the entry's headline before its latest correction, or
// "" when there is none worth showing.
func previousTitle(e news.Entry) string {
	prev := oneLine(clean(e.PreviousTitle))
	if prev == "" || prev == oneLine(clean(e.Item.Title)) {
		return ""
	}
	return prev
}

// updatedText is the correction note: "Updated — previously titled “…”".
func updatedText(prev string) string { return "Updated — previously titled “" + prev + "”" }

// moreText is the count of outlets not named: " and 3 more".
func moreText(more int) string {
	if more == 0 {
		return ""
	}
	return " and " + strconv.Itoa(more) + " more"
}

// alsoText is the sightings as plain text: "Also reported by: BBC News,
// The Guardian and 3 more".
func alsoText(shown []sighting, more int) string {
	names := make([]string, len(shown))
	for i, s := range shown {
		names[i] = s.Name
	}
	return "Also reported by: " + strings.Join(names, ", ") + moreText(more)
}

// alsoHTML is the sightings as escaped HTML, each outlet linked to its
// report where it has a web link.
func alsoHTML(shown []sighting, more int) string {
	names := make([]string, len(shown))
	for i, s := range shown {
		name := html.EscapeString(s.Name)
		if s.Link == "" {
			names[i] = name
			continue
		}
		a := `<a href="` + html.EscapeString(s.Link) + `"`
		if s.Title != "" {
			a += ` title="` + html.EscapeString(s.Title) + `"`
		}
		names[i] = a + ">" + name + "</a>"
	}
	return "Also reported by: " + strings.Join(names, ", ") + moreText(more)
}

// storyNotes are the entry's correction and sighting notes as plain text
// lines, in the order they are shown.
func storyNotes(e news.Entry) []string {
	var lines []string
	if prev := previousTitle(e); prev != "" {
		lines = append(lines, updatedText(prev))
	}
	if shown, more := alsoReported(e); len(shown) > 0 {
		lines = append(lines, alsoText(shown, more))
	}
	return lines
}

// storyNotesHTML is storyNotes as HTML paragraphs.
func storyNotesHTML(e news.Entry) string {
	var b strings.Builder
	if prev := previousTitle(e); prev != "" {
		b.WriteString("<p>" + html.EscapeString(updatedText(prev)) + "</p>\n")
	}
	if shown, more := alsoReported(e); len(shown) > 0 {
		b.WriteString("<p>" + alsoHTML(shown, more) + "</p>\n")
	}
	return b.String()
}

// jsonSighting is one sighting in the JSON Feed extension: every one,
// uncapped and not merged per outlet, for machine readers.
type jsonSighting struct {
	SourceID    string `json:"source_id"`
	SourceTitle string `json:"source_title,omitempty"`
	Title       string `json:"title"`
	// Link is the report's URL, present only when it is absolute http(s).
	Link string `json:"link,omitempty"`
}

func jsonSightings(e news.Entry) []jsonSighting {
	if len(e.AlsoReportedBy) == 0 {
		return nil
	}
	out := make([]jsonSighting, len(e.AlsoReportedBy))
	for i, s := range e.AlsoReportedBy {
		out[i] = jsonSighting{
			SourceID:    clean(s.SourceID),
			SourceTitle: strings.TrimSpace(clean(s.SourceTitle)),
			Title:       strings.TrimSpace(clean(s.Title)),
			Link:        webURL(s.Link),
		}
	}
	return out
}

// oneLine collapses whitespace runs, newlines included, to single spaces:
// a note is one line of text.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
