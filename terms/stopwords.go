package terms

import "strings"

// The stopword lists: words that are never key terms on their own and that
// split candidate phrases (as in RAKE). Written for wirewatch, grouped by
// why a word is here. Words are lowercase; wordSet also stores each word's
// key, so plurals and spelling variants are covered.
//
// functionWords are stopwords everywhere, even capitalised (The, It).
const functionWords = `
a about above across after afterwards again against ago all almost alone along already also although always am
among amongst an and another any anybody anyone anything anyway anywhere are aren't around as at
be became because become becomes becoming been before beforehand behind being below beside besides between beyond
both but by can cannot can't could couldn't did didn't do does doesn't doing done don't down during
each either else elsewhere enough etc even ever every everybody everyone everything everywhere except
few for from further furthermore had hadn't has hasn't have haven't having he he'd he'll her here hereby herein
hers herself he's him himself his how however i i'd if i'll i'm in indeed inside instead into is isn't it its
it's itself i've just least less let let's lot many may me meanwhile might more moreover most mostly much
must my myself namely neither never nevertheless next no nobody none noone nor not nothing now nowhere of off
often on once one only onto or other others otherwise our ours ourselves out over own per perhaps please quite
rather really same several shall she she'd she'll she's should shouldn't since so some somebody someone
something sometime sometimes somewhat somewhere still such than that that's the their theirs them themselves
then thence there thereafter thereby therefore therein there's these they they'd they'll they're they've this
those though through throughout thus to together too toward towards under until unto up upon us very via
was wasn't we we'd well we'll were we're weren't we've what whatever what's when whence whenever where whereas
whereby wherever whether which while who whoever whole whom whose who's why will with within without won't
would wouldn't yet you you'd you'll your you're yours yourself yourselves you've
ok oh yes mr mrs ms dr prof st sir madam
`

// fillerWords are stopwords in running text but may be part of a name when
// capitalised mid-sentence ("Human Rights Watch", "Washington Post").
const fillerWords = `
# Reporting verbs and the vocabulary of news-writing itself.
say says said saying tell tells told telling add adds added adding according accorded
stated note noted notes claim claimed claims report reports reported reporting reporter reporters announce announced
announces ask asked asks explain explained explains confirm confirmed confirms insist insisted insists
describe described describes comment commented comments suggest suggested suggests warn warned warns
write wrote written writes argue argued argues admit admitted admits acknowledge acknowledged statement statements
spokesman spokeswoman spokesperson interview interviewed source sources news article story stories press
reuters ap afp update updated breaking exclusive read reading watch listen click subscribe share photo photos
image images video videos caption copyright

# Generic verbs, adjectives and adverbs that carry no topic.
also get gets got getting go goes went gone going come comes came coming make makes made making take takes
took taken taking give gives gave given giving put puts see sees saw seen seeing know knows knew known
think thinks thought want wants wanted need needs needed use uses used using find finds found look looks
looked seem seems seemed keep keeps kept let lets become becomes show shows showed shown try tries tried
call calls called calling include includes included including like likes liked help helps helped
set sets mean means meant believe believed feel felt leave left turn turned turns begin began begun start
started starts expect expected expects happen happened happens remain remained remains hold held
bring brought continue continued continues follow followed following move moved consider considered
allow allowed appear appeared provide provided lead led run ran
new old good bad big small great large little long short high low early late recent recently
latest last first second third final key main major various certain possible likely unlikely
able sure real whole full own different same important particular particularly especially just
even ever still yet already really very quite rather almost nearly about around approximately
far away back forward ahead further later earlier soon now then today tonight yesterday tomorrow
currently previously finally eventually simply actually clearly largely mainly mostly widely
thing things way ways lot lots kind part parts side number numbers amount case cases point
people person man men woman women group groups member members official officials percent cent per
place places area areas issue issues fact facts example matter matters level levels form forms
time times day days week weeks month months year years decade decades century hour hours minute minutes
morning afternoon evening night weekend moment period season date
`

// calendarWords are stopwords even when capitalised (Wednesday, May).
const calendarWords = `
# Weekdays, months and other calendar words.
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec

# Numbers written as words.
zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds
thousand thousands million millions billion billions trillion dozen dozens half quarter
fourth fifth sixth seventh eighth ninth tenth once twice
`

// wordSet parses a word list (whitespace-separated, '#' comments) into a
// set holding each word and its key.
func wordSet(text string) map[string]bool {
	set := make(map[string]bool, 800)
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			set[w] = true
			set[wordKey(w)] = true
		}
	}
	return set
}

// connectors may sit inside a candidate phrase ("crimes against humanity",
// "Office of the High Commissioner for Human Rights") but never start or end
// one. Lowercase phrases admit only the first group; names admit both.
var (
	phraseConnectors = map[string]bool{"of": true, "against": true, "for": true, "on": true}
	nameConnectors   = map[string]bool{"of": true, "for": true, "the": true, "on": true, "de": true, "du": true,
		"des": true, "del": true, "della": true, "da": true, "dos": true, "al": true, "el": true, "la": true,
		"le": true, "von": true, "van": true, "der": true, "den": true, "bin": true, "ibn": true, "y": true}
)

// reportingVerbs mark a neighbouring capitalised word as a person
// ("Asat said", "said Richardson").
var reportingVerbs = map[string]bool{"said": true, "says": true, "told": true, "added": true, "wrote": true,
	"argued": true, "insisted": true, "warned": true, "explained": true, "noted": true, "asked": true}

// wordPrefixes are bound prefixes of hyphenated words ("re-education",
// "anti-government"): they add no topic of their own.
var wordPrefixes = map[string]bool{"re": true, "pre": true, "anti": true, "non": true, "co": true, "ex": true,
	"post": true, "self": true, "multi": true, "inter": true, "sub": true, "pro": true, "counter": true,
	"semi": true, "over": true, "under": true, "mid": true, "well": true, "so": true, "de": true, "un": true}
