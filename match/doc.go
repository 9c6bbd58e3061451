// Package match is wirewatch's topic language and matcher: it parses and
// validates topics, compiles all of them into one Index, and matches items
// against it, reporting which terms matched where, a score, a snippet with
// highlights and, on request, a full explanation.
//
// This comment is the reference for the language; the README links here.
//
// # Queries
//
//	Xinjiang                  a whole word: "ball" does not match "football"
//	Uyghur*                   a prefix (at least 2 letters): Uyghur, Uyghurs
//	"human rights"            a phrase: these words, consecutive (“…” works too)
//	title:Bachelet            a term restricted to one field
//	title:"human rights"      ... a phrase
//	title:(Xinjiang OR Tibet) ... a group (fields do not nest)
//	(a OR b)                  grouping
//	a NEAR/5 b                a and b at most 5 words apart, either order
//	a NEAR b                  the same with the default distance, 10
//	NOT a                     a must be absent
//	a AND b, a b              both: adjacent terms are implicitly ANDed
//	a OR b                    either
//
// Precedence, tightest first: NEAR, NOT, AND (explicit or implicit), OR.
// `a b OR c` is `(a AND b) OR c`; `NOT a b` is `(NOT a) AND b`;
// `NOT a NEAR b` is `NOT (a NEAR b)`; `x a NEAR/2 b` is `x AND (a NEAR/2 b)`.
// Only uppercase AND, OR, NOT and NEAR are operators, so `not`, `or` and
// `near` are ordinary words; to search for the word AND itself, quote it
// ("AND") or put it after a field (title:AND).
//
// Fields are title, summary, content, author, category, link and source,
// case-insensitive. A term without a field searches title, summary and
// content. author: and category: search each value separately (neither a
// phrase nor a NEAR spans two authors); link: searches the words of the
// item's URL (link:bbc.co.uk is the phrase "bbc co uk"); source: compares
// the item's source id exactly, case-insensitively (source:reuters,
// source:bbc*). The word after field: is taken literally up to the next
// space or parenthesis, so link:https://example.com/x works.
//
// # NEAR
//
// `a NEAR/n b` holds when an occurrence of a and one of b, in the same
// field (and the same value of a multi-valued field), in either order and
// not overlapping, are at most n words apart: from the last word of the
// first to the first word of the second. `a NEAR/1 b` is "a b" or "b a";
// `a NEAR/3 b` allows up to two words between them. n is 1 to 100; NEAR
// alone is NEAR/10. Each side is a term, phrase or prefix, or a
// parenthesised OR of them: `(Uyghur* OR Uighur*) NEAR/5 camps`. A field
// goes around the whole: `title:(a NEAR/3 b)`; both sides must search the
// same fields, so `title:a NEAR b` is an error. NEAR joins two operands:
// write `a NEAR b AND b NEAR c` for three. In CJK text every character is
// a word (see below), so there n counts characters.
//
// # Topics
//
// A news.Topic is either a Query, or groups of expressions when Query is
// empty:
//
//   - Must: every expression must hold;
//   - Should: at least one must hold (when any is given), and each that
//     holds adds its terms to the score;
//   - Not: none may hold.
//
// Every entry of Must, Should and Not is a full query as above. A topic
// needs a Query or at least one Must or Should entry; giving both a Query
// and groups is an error.
//
// Exclude lists terms that veto a match wherever they occur, in title,
// summary or content (or the field written: `title:prices`). An entry is one
// term: a word, a prefix (exports*) or a phrase; quotes are optional, since
// in a list two words can only mean a phrase (`forced labour`). Operators
// and parentheses are errors there: list alternatives as separate entries.
//
// Synonyms maps a group name to its variants:
//
//	Uyghur: [Uighur*, Uigur, Uygur, 维吾尔, "Uyghur people"]
//
// In every expression and exclude entry of that topic, a bare word equal to
// a group name (compared after normalisation, so uyghur and ＵＹＧＨＵＲ are
// Uyghur too) matches the name itself or any variant. Variants are entries
// as in Exclude (word, prefix or phrase) and search the fields of the word
// they stand for: `title:Uyghur` finds `Uighurs` in the title only.
// A quoted word ("Uyghur") or a prefix (Uyghur*) is not expanded, and
// variants are not expanded further. Hits and Terms report the word as
// written in the query (Uyghur); the hit's text is what the item says
// (Uighurs), and Explain names the variant that matched (Uighur*). A group
// name must be a single word (no spaces, quotes or *), two names may not
// normalise to the same word, and a group needs variants, none empty.
//
// Weights maps terms, written as in the query (`crimes against humanity`,
// `Uyghur*`; case and surrounding quotes do not matter), to weights ≥ 0;
// other terms weigh 1. A key that is not a term of the topic, or one that
// only occurs negated (it could never score), is an error.
//
// # Score and min_score
//
// A match's terms are the terms whose presence makes its condition true: for
// a true AND all of its parts, for a true OR only the parts that hold,
// for a true NEAR its two sides, never a term under NOT (under NOT NOT it
// counts again), and for groups the terms of every Must entry and of every
// Should entry that holds. The score is the sum over these distinct terms
// of
//
//	weight × 2   if the term was found in the title
//	weight × 1   otherwise (summary, content, author, category, link, source)
//
// A title mention is the strongest sign an item is about the topic;
// repeating a term in summary and content (which often duplicate each other)
// adds nothing. An item whose condition holds but whose score is below the
// topic's MinScore does not match (Evaluate and Explain say so), and neither
// does one containing an Exclude term.
//
// # Hits, snippets and marks
//
// A match lists its Terms (as written, in query order), its Hits (each term
// with each field it was found in and the item's text there), the Score,
// a Snippet and Marks. The snippet is plain text of at most 240 characters
// centred on the strongest hit: the highest-weighted term found in the
// summary or content (the summary first at equal weights, then the earliest
// hit); when no term was found there, the title. Whitespace runs become one
// space and "…" marks a cut. Marks are the byte ranges of the snippet that
// are occurrences of the match's terms, sorted and not overlapping: where
// occurrences overlap ("human rights" and "rights"), the one starting first
// (the longer one at the same start) is marked, so every mark is exactly one
// occurrence.
//
// Evaluate returns the same for any item, matched or not, plus what is
// missing, which exclude terms are present and a one-line reason; Explain
// writes one line per part of the query or group, per exclude term, the
// score against min_score, and the verdict.
//
// # Errors
//
// Parse returns a *SyntaxError with the byte offset, line and column (in
// characters) of the problem. Compile returns every problem of every topic,
// joined; each is a *TopicError naming the topic, the field ("query", "must",
// "should", "not", "exclude", "synonyms", "weights", "min_score"), the
// entry's index in a list (or -1) and the synonym group or weight key, and
// wrapping the *SyntaxError (positioned within that entry) when an entry
// does not parse:
//
//	topic "xinjiang": must[1]: line 1, column 4: missing term after AND
//
// Compile([]news.Topic{t}) is how to validate one topic.
//
// A query that would match an item containing none of its terms (`NOT a`,
// `a OR NOT b`) is rejected: as a topic it would alert on nearly everything.
// So is web-search style `-cotton`, which would otherwise silently search
// for cotton: exclusion is spelled NOT (or Exclude). Queries and entries are
// limited to 4096 bytes and 100 levels of nesting (parentheses and NOTs),
// which bounds parsing and evaluation; a prefix needs 2 letters before the *
// in its last word (U.S* is too short); NEAR distances are 1 to 100.
//
// # Text normalisation
//
// Queries and items go through the same normalisation, so the comparison is
// symmetric:
//
//   - Unicode NFKC (full-width letters, ligatures, ① become plain text),
//     then full case folding ("Straße" = "strasse");
//   - diacritics removed after Latin, Greek, Arabic and Hebrew letters
//     ("Türkiye" = "turkiye", Arabic harakat, Hebrew niqqud). Other scripts
//     keep their combining marks, which change the letter there (Cyrillic й,
//     Japanese dakuten, Indic vowel signs);
//   - words are maximal runs of letters, numbers and combining marks.
//     Everything else separates words and is ignored, including
//     apostrophes: "China's" is the two words "china" and "s", so China
//     matches China's, and the query China's is the phrase "china s";
//   - punctuation is therefore ignored inside phrases and hyphenated terms:
//     "human rights" matches "human-rights" and "human rights.", and the
//     query COVID-19 is the phrase "covid 19";
//   - Han, Hiragana, Katakana and Hangul characters are matched as
//     substrings, not whole words, because those scripts do not put spaces
//     between words: each character is its own word and 维吾尔 is a phrase
//     of three, found inside any longer run of text (a * after CJK adds
//     nothing).
//
// Items arrive with HTML already stripped; the matcher sees only text.
//
// # How matching scales
//
// Compile puts every topic into one index; Match reads each item once,
// however many topics there are, and evaluates only the topics that the
// item's words make possible:
//
//   - Every field is tokenised once. ASCII words take a fast path that
//     lowercases and packs them while finding their end; only runs with
//     other characters go through NFKC and folding (curly quotes, dashes and
//     no-break spaces stay on the fast path).
//   - Each token is looked up once in a dictionary of every word any
//     pattern needs (an open-addressing table behind a 32 KiB filter), and
//     once per length of the prefixes that start with its first bytes (a
//     32 KiB table of lengths, a filter, then a probe); an occurrence is
//     recorded only for tokens some pattern needs. Words that only ever
//     occur inside phrases are recorded, and even looked up, only where a
//     phrase could start close enough to reach them, and there only
//     right after a word they follow in some pattern: elsewhere a second
//     filter of the words that start a pattern turns them away, and a
//     filter of word pairs does near a phrase start.
//   - Patterns (a word, a prefix, a phrase, a synonym variant) are shared
//     by all topics. A pattern is checked only when its first word
//     occurred, and a phrase only when its second word occurred too (right
//     after the first, when the first starts many phrases); it is verified
//     at the positions of its first word, or in one KMP pass when that word
//     is very frequent: linear in the text, with no backtracking.
//   - Each topic has a trigger set: patterns one of which must occur for its
//     condition to hold (for an AND, those of its rarest part, judged by how
//     many topics use each word), and, for an AND, a second one from its
//     next rarest part. Only topics whose trigger occurred are candidates,
//     and only candidates whose second set occurred too are evaluated, each
//     as a small flat program.
//   - The few topics that match are reported together: the terms, hits and
//     marks of all of them are worked out in scratch space and copied out
//     into arrays shared by the results of many items (each result its own
//     capped stretch), and every snippet window is rendered once per item,
//     however many matches show it, with its offset mapping kept per
//     stretch of text rather than per byte.
//
// Lookups that miss the processor's caches are what matching 10,000 topics
// costs, so the structures are laid out for few of them: what an item's
// token, entry, candidate or match needs is packed together, and lists of
// independent lookups are loaded in a first loop that lets the processor
// overlap their misses. The index keeps the topics' query trees only until
// they are compiled (Evaluate and Explain parse a topic again), and its
// words and term texts in a few large strings, so that it gives the
// garbage collector little to visit.
//
// Per-item memory is proportional to the item's text (occurrences found),
// not to the text times the topics; scratch space sized by the index is
// recycled across calls. An Index is immutable and safe for concurrent use.
package match
