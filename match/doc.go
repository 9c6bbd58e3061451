// Package match is wirewatch's topic query language and matcher: it parses
// each topic's query, compiles all topics into an Index, and matches items
// against it, reporting which terms matched where, a score, a snippet, and
// on request an explanation.
//
// # Query language
//
//	Xinjiang                  a whole word: "ball" does not match "football"
//	Uyghur*                   a prefix (at least 2 letters): Uyghur, Uyghurs
//	"human rights"            a phrase: these words, consecutive (“…” works too)
//	title:Bachelet            a term restricted to one field
//	title:"human rights"      ... a phrase
//	title:(Xinjiang OR Tibet) ... a group (fields do not nest)
//	(a OR b)                  grouping
//	NOT a                     a must be absent
//	a AND b, a b              both: adjacent terms are implicitly ANDed
//	a OR b                    either
//
// Precedence is NOT, then AND (explicit or implicit), then OR:
// `a b OR c` is `(a AND b) OR c`, and `NOT a b` is `(NOT a) AND b`.
// Only uppercase AND, OR and NOT are operators, so `not` and `or` are
// ordinary words; to search for the word AND itself, quote it ("AND") or put
// it after a field (title:AND).
//
// Fields are title, summary, content, author, category, link and source,
// case-insensitive. A term without a field searches title, summary and
// content. author: and category: search each value separately (a phrase
// never spans two authors); link: searches the words of the item's URL
// (link:bbc.co.uk is the phrase "bbc co uk"); source: compares the item's
// source id exactly, case-insensitively (source:reuters, source:bbc*).
// The word after field: is taken literally up to the next space or
// parenthesis, so link:https://example.com/x works.
//
// A query that would match an item containing none of its terms (`NOT a`,
// `a OR NOT b`) is rejected: as a topic it would alert on nearly everything.
// So is web-search style `-cotton`, which would otherwise silently search for
// cotton: exclusion is spelled NOT.
// Queries are limited to 4096 bytes and 100 levels of nesting (parentheses
// and NOTs), which bounds both parsing and evaluation.
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
//     between words: each character is its own token and 维吾尔 is a phrase
//     of three, found inside any longer run of text.
//
// Items arrive with HTML already stripped; the matcher sees only text.
//
// # Matching cost
//
// Every item field is tokenised at most once per Match call, lazily, and
// every distinct term (shared across topics) is looked up at most once per
// item. A lookup is a map hit for a word, a sorted-range scan for a prefix,
// and for a phrase either a check of each occurrence of its first word or a
// single KMP pass: linear in the text, with no backtracking.
package match
