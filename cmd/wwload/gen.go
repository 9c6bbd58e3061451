package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The synthetic news: every item is a pure function of (source, seq), so
// the server, the prefill and the tests agree on it without sharing state,
// and a run is repeatable. Items read like wire copy to a tokenizer: a
// headline of 6–14 words, 2–4 paragraphs of ordinary news vocabulary
// (0.8–1.4 KB of text; 1.2–2 KB per item as RSS), an author, a category.
// About 3 % are on the desk's beat (Uyghurs, Xinjiang, the UN report);
// about 1 % mention Xinjiang without being on the beat (cotton,
// earthquakes), the near misses a topic must reject.
//
// Beat stories belong to their time: every half hour has its own 20
// stories, and a beat item published then carries one of them, so the
// outlets publishing in the same half hour carry the same stories (what
// the cross-source deduplication is for), and items added later bring
// new stories, which are alerted. The headlines repeat only after 2,000
// half hours (41 days), beyond the prefill's month.

// Item kinds.
const (
	kindGeneral = iota
	kindBeat
	kindNearMiss
)

// Shares of the kinds, in per mille.
const (
	beatPerMille     = 30
	nearMissPerMille = 10
)

// Beat stories: storiesPerSlot per storySlot.
const (
	storySlot      = 30 * time.Minute
	storiesPerSlot = 20
)

// genItem is one synthetic item, before it is written as RSS.
type genItem struct {
	Kind      int
	Title     string
	Link      string
	GUID      string
	Author    string
	Category  string
	Paras     []string // plain text
	Published time.Time
}

// sourceID names source i; prefill sources use their own prefix.
func sourceID(i int) string { return fmt.Sprintf("src-%05d", i) }

// makeItem generates item seq of source src, served from host.
func makeItem(src, seq int, host string, published time.Time) genItem {
	r := rand.New(rand.NewPCG(uint64(src)*0x9e3779b97f4a7c15+1, uint64(seq)))
	it := genItem{
		GUID:      fmt.Sprintf("urn:wwload:%d:%d", src, seq),
		Author:    pick(r, firstNames) + " " + pick(r, lastNames),
		Published: published,
	}
	roll := r.IntN(1000)
	switch {
	case roll < beatPerMille:
		it.Kind = kindBeat
		story := int(published.Unix()/int64(storySlot/time.Second))*storiesPerSlot + r.IntN(storiesPerSlot)
		it.Title = beatTitle(story)
		it.Category = "World"
		it.Paras = append(it.Paras, pick(r, beatSentences)+" "+pick(r, beatSentences)+" "+sentence(r, 14, 22))
	case roll < beatPerMille+nearMissPerMille:
		it.Kind = kindNearMiss
		it.Title = pick(r, nearMissHeadlines)
		it.Category = "Business"
		it.Paras = append(it.Paras, pick(r, nearMissSentences)+" "+sentence(r, 14, 22))
	default:
		it.Title = pick(r, actors) + " " + pick(r, verbs) + " " + pick(r, objects) + pick(r, tails)
		it.Category = pick(r, categories)
	}
	target := 800 + r.IntN(500)
	size := 0
	for _, p := range it.Paras {
		size += len(p)
	}
	for size < target || len(it.Paras) < 2 {
		var p strings.Builder
		for n := 2 + r.IntN(3); n > 0 && size+p.Len() < target+200; n-- {
			if p.Len() > 0 {
				p.WriteByte(' ')
			}
			p.WriteString(sentence(r, 10, 24))
		}
		size += p.Len()
		it.Paras = append(it.Paras, p.String())
		if len(it.Paras) >= 4 {
			break
		}
	}
	slug := strings.ToLower(strings.Join(strings.Fields(it.Title)[:min(6, len(strings.Fields(it.Title)))], "-"))
	slug = strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			return c
		}
		return -1
	}, slug)
	it.Link = fmt.Sprintf("http://%s/news/%d/%s-%d", host, published.Year(), slug, seq)
	return it
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// beatTitle is story s's headline: 40 × 10 × 5 × 20 = 40,000 of them.
func beatTitle(s int) string {
	h := beatHeadlines[s%len(beatHeadlines)]
	s /= len(beatHeadlines)
	where := beatWhere[s%len(beatWhere)]
	s /= len(beatWhere)
	tail := beatTails[s%len(beatTails)]
	s /= len(beatTails)
	return h + where + beatWhen[s%len(beatWhen)] + tail
}

// sentence is lo..hi words of filler, capitalised, with the odd comma,
// ampersand and curly apostrophe, ending in a full stop.
func sentence(r *rand.Rand, lo, hi int) string {
	n := lo + r.IntN(hi-lo+1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		w := pick(r, words)
		if i == 0 {
			b.WriteString(strings.ToUpper(w[:1]))
			b.WriteString(w[1:])
		} else {
			b.WriteByte(' ')
			b.WriteString(w)
		}
		switch r.IntN(40) {
		case 0:
			b.WriteString(",")
		case 1:
			b.WriteString(" & Co")
		case 2:
			b.WriteString("’s")
		}
	}
	b.WriteByte('.')
	return b.String()
}

// plain is the item's visible text, as the fetcher's normaliser would
// leave it: paragraphs joined by blank lines.
func (it genItem) plain() string { return strings.Join(it.Paras, "\n\n") }

// appendRSS writes the item as an RSS 2.0 <item>. The description holds
// HTML (paragraphs, a link, bold), entity-escaped or, when cdata is set,
// in a CDATA section: both shapes are common in the wild.
func (it genItem) appendRSS(b []byte, cdata bool) []byte {
	b = append(b, "<item><title>"...)
	b = appendEscaped(b, it.Title)
	b = append(b, "</title><link>"...)
	b = appendEscaped(b, it.Link)
	b = append(b, `</link><guid isPermaLink="false">`...)
	b = appendEscaped(b, it.GUID)
	b = append(b, "</guid><dc:creator>"...)
	b = appendEscaped(b, it.Author)
	b = append(b, "</dc:creator><category>"...)
	b = appendEscaped(b, it.Category)
	b = append(b, "</category><pubDate>"...)
	b = it.Published.UTC().AppendFormat(b, time.RFC1123Z)
	b = append(b, "</pubDate><description>"...)
	html := it.html()
	if cdata {
		b = append(b, "<![CDATA["...)
		b = append(b, html...)
		b = append(b, "]]>"...)
	} else {
		b = appendEscaped(b, string(html))
	}
	b = append(b, "</description></item>\n"...)
	return b
}

// html is the description: one <p> per paragraph, the first word of the
// first wrapped in a link, the first word of the second in <b>.
func (it genItem) html() []byte {
	var b []byte
	for i, p := range it.Paras {
		b = append(b, "<p>"...)
		first, rest, _ := strings.Cut(p, " ")
		switch i {
		case 0:
			b = append(b, `<a href="`...)
			b = appendEscaped(b, it.Link)
			b = append(b, `#more">`...)
			b = appendEscaped(b, first)
			b = append(b, "</a> "...)
			b = appendEscaped(b, rest)
		case 1:
			b = append(b, "<b>"...)
			b = appendEscaped(b, first)
			b = append(b, "</b> "...)
			b = appendEscaped(b, rest)
		default:
			b = appendEscaped(b, p)
		}
		b = append(b, "</p>"...)
	}
	return b
}

// appendEscaped appends s with XML's special characters escaped.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// renderFeed writes source src's RSS feed: its items head, head-1, ...,
// down to head-count+1 (newest first), dated by pub.
func renderFeed(src int, host string, head, count int, pub func(seq int) time.Time) []byte {
	b := make([]byte, 0, 1800*count+600)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"><channel>`+"\n"...)
	b = append(b, "<title>Outlet "...)
	b = strconv.AppendInt(b, int64(src), 10)
	b = append(b, " – World News</title><link>http://"...)
	b = append(b, host...)
	b = append(b, "/</link><description>Latest stories from outlet "...)
	b = strconv.AppendInt(b, int64(src), 10)
	b = append(b, "</description><language>en</language><lastBuildDate>"...)
	b = pub(head).UTC().AppendFormat(b, time.RFC1123Z)
	b = append(b, "</lastBuildDate>\n"...)
	for seq := head; seq > head-count && seq > 0; seq-- {
		b = makeItem(src, seq, host, pub(seq)).appendRSS(b, src%2 == 0)
	}
	return append(b, "</channel></rss>\n"...)
}

var (
	firstNames = []string{"Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas",
		"Kemal", "Lena", "Marco", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sami", "Tara"}
	lastNames = []string{"Smith", "Okafor", "Müller", "Garcia", "Nguyen", "Rossi", "Kowalski", "Haddad", "Sato",
		"Johansson", "Dubois", "Khan", "Silva", "Novak", "Ivanova", "Brown", "Fischer", "Moreau", "Lee", "Costa"}
	categories = []string{"Politics", "Business", "World", "Sport", "Science", "Health", "Culture", "Local", "Technology", "Climate"}
	actors     = []string{"City council", "Central bank", "Regional government", "Parliament", "Tech giant", "Airline",
		"Union leaders", "Health officials", "Supreme court", "Energy regulator", "Transport ministry", "Farmers",
		"Local schools", "Police", "Opposition party", "Port authority", "Shipping firm", "Researchers",
		"Football club", "Film festival", "Carmaker", "Water utility", "Mayor", "Retail chain", "Startup"}
	verbs = []string{"approves", "rejects", "delays", "announces", "defends", "unveils", "weighs", "cuts",
		"expands", "reviews", "suspends", "backs", "questions", "launches", "extends", "scraps", "doubles"}
	objects = []string{"budget plan", "interest rates", "new transit line", "water tariffs", "merger talks",
		"wage deal", "housing reform", "flood defences", "tax credits", "school meals", "drone rules",
		"fishing quotas", "data centre", "rail strike talks", "heat plan", "bike lanes", "pension changes",
		"vaccine rollout", "stadium project", "energy subsidies"}
	tails = []string{" after long debate", " amid rising costs", " ahead of elections", " as prices climb",
		" despite objections", " in surprise move", " for second year", "", "", "", " – live updates", ": what we know"}
	words = strings.Fields(`the a of to and in for on with at by from as that this is was were will would
		said says government minister officials city council budget plan market prices company shares
		growth year week month people residents local regional national new first last more than about
		after before during while since under over between against among around percent million
		billion investment project workers jobs energy water transport rail road airport school
		hospital health data study researchers team season match league coach players fans festival
		film music museum weather storm rain heat drought river coast farmers harvest exports trade
		talks deal agreement parliament election vote party leader spokesperson statement interview
		morning evening afternoon yesterday today tomorrow announced expected reported confirmed
		planned proposed approved rejected delayed increased decreased rose fell climbed dropped
		steady strong weak early late major minor key central northern southern eastern western
		board members committee inquiry review court judge ruling appeal case police officers
		investigation fire service emergency crews roads traffic bridge tunnel network power grid
		supply demand costs bills households families children students teachers university
		science technology software startup platform users online service customers retail stores
		sales quarter profit loss revenue forecast analysts economy inflation rates bank lending
		housing homes rent construction builders permits zoning neighbourhood park library`)
	beatHeadlines = []string{
		"UN rights office says abuses against Uyghurs in Xinjiang may be crimes against humanity",
		"Bachelet defends her visit to Xinjiang amid criticism from rights groups",
		"Uyghur exiles urge governments to act on UN report",
		"China rejects UN assessment on Xinjiang as smear",
		"Human Rights Council debates Xinjiang report after vote",
		"Leaked files detail detention camps in Xinjiang",
		"Uyghur survivors give testimony on internment camps",
		"US widens import ban on goods made with Xinjiang forced labour",
		"Carmakers face questions over Uyghur forced labor in supply chains",
		"Families of missing Uyghurs demand answers from Beijing",
		"Satellite images show new detention facilities in Xinjiang",
		"EU weighs sanctions over repression of Uyghurs",
		"Uyghur activist sentenced in absentia, family says",
		"Rights groups say surveillance of Uyghurs has tightened",
		"Xinjiang officials deny forced labour claims at press event",
		"Amnesty calls for release of detained Uyghur scholars",
		"Uyghur diaspora marks anniversary of UN report",
		"Retailers drop suppliers linked to Xinjiang labour programmes",
		"Turkic Muslims describe re-education classes in Xinjiang",
		"Uyghur imam's family says he disappeared in custody",
		"UN rights chief under pressure to follow up Xinjiang findings",
		"Human Rights Watch documents abuses in Xinjiang prisons",
		"Parliament votes to call treatment of Uyghurs a genocide",
		"Cotton traders face sanctions over Xinjiang forced labour",
		"Uyghur students abroad report harassment by Chinese police",
		"Exiled Uyghur poet speaks of cultural assimilation",
		"Xinjiang mosques demolished, researchers find",
		"Sterilisation campaign in Xinjiang detailed in new report",
		"Uyghur Forced Labor Prevention Act enforcement stepped up",
		"Kashgar old town residents describe surveillance and detentions",
		"UN experts raise alarm over Uyghur detention",
		"OHCHR publishes long-delayed Xinjiang assessment",
		"Diplomats clash at rights council over Xinjiang report",
		"Uyghur language schools closed, parents say",
		"Tech firms accused of aiding surveillance of Uyghurs",
		"Xinjiang labour transfers continue despite import bans",
		"Survivors of Xinjiang camps testify in London tribunal",
		"Beijing calls Uyghur testimony propaganda",
		"Uyghur rights advocates welcome new sanctions",
		"Vocational training centres in Xinjiang were detention camps, report says",
	}
	beatTails = []string{"", ", report says", " – analysis", ": what we know", ", officials say"}
	beatWhere = []string{"", " in Geneva", " in Brussels", " in Washington", " in London", " in Istanbul", " in Almaty",
		" in Berlin", " in Tokyo", " in Ottawa"}
	beatWhen = []string{"", " on Monday", " on Tuesday", " on Wednesday", " on Thursday", " on Friday",
		" at the weekend", " this week", " overnight", " again", " amid pressure", " after delay", " before summit",
		" as envoys meet", " despite denials", " in new filing", " at hearing", " in open letter", " in joint statement",
		" as deadline nears"}
	beatSentences = []string{
		"The UN human rights office said serious human rights violations had been committed against Uyghurs and other predominantly Muslim communities in Xinjiang.",
		"Former detainees described torture and ill-treatment in what Beijing calls vocational training centres.",
		"The assessment by the Office of the High Commissioner for Human Rights was published minutes before Michelle Bachelet left office.",
		"Rights groups have long accused China of detaining more than a million Uyghurs in internment camps.",
		"Activists in the Uyghur diaspora said relatives had disappeared after being detained.",
		"Companies were urged to audit their supply chains for forced labour in Xinjiang.",
		"Beijing has denied all allegations of abuse and says the camps were for re-education against extremism.",
		"Exiles told reporters that surveillance and restrictions on religious practice had intensified.",
		"The Human Rights Council rejected a motion to debate the Xinjiang report by a narrow vote.",
		"Several governments announced sanctions on officials they hold responsible for repression in Xinjiang.",
	}
	nearMissHeadlines = []string{
		"Cotton prices climb as Xinjiang harvest lags",
		"Earthquake shakes remote Xinjiang county, no casualties reported",
		"Xinjiang wind farms add capacity as grid expands",
		"Tourists flock to Xinjiang desert festival",
		"New rail link connects Xinjiang with Central Asia",
		"Urumqi marathon draws record field",
	}
	nearMissSentences = []string{
		"Traders said the harvest in Xinjiang was running two weeks behind last year.",
		"The regional weather bureau said the tremor struck at a depth of ten kilometres.",
		"Operators expect the new lines to carry freight across the border within months.",
		"Organisers said ticket sales had doubled compared with last season.",
	}
)
