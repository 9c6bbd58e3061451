// Package terms extracts a report's key terms for a newsroom desk and turns
// them into a draft topic: ranked terms with their variants, a suggested
// boolean query, and a ready-to-paste YAML block. It backs
// `wirewatch terms FILE|URL`; it reads text it is given and does no I/O.
//
// # Method
//
// The ranking combines well-known keyword-extraction methods, tuned to news
// prose rather than to any one report:
//
//   - Candidates, as in RAKE: runs of content words between stopwords and
//     punctuation, with "of", "for", "against" and "on" allowed inside
//     ("crimes against humanity"); names are runs of capitalised words with
//     name connectors ("Office of the High Commissioner for Human Rights").
//     A word capitalised only because it starts a sentence is not a name:
//     how the word is written elsewhere in the report, else in the
//     background corpus, decides. A phrase must recur, be a name, be a
//     known or defined form, or be quoted on its own ("vocational training
//     centers") to be a candidate; single content words always are.
//   - Stopwords written for news (stopwords.go): function words, reporting
//     verbs (said, told, according), the vocabulary of news-writing
//     (report, statement), calendar words and numbers. Reporting verbs are
//     stopwords only in running text: "Human Rights Watch" keeps its Watch.
//   - Specificity against a background corpus: background/*.txt is general
//     news prose written for this package on unrelated subjects (economy,
//     sport, weather, politics, science, courts, health, technology,
//     culture, energy, local and world news), plus a list of common English
//     words. A word's specificity is its inverse document frequency over
//     the background's paragraphs, smoothed and scaled to [0, 1]; a phrase's
//     is the mean of its words' plus a little per extra word, because a
//     combination is rarer than its parts.
//   - Salience in the report, as in YAKE: frequency (1 + ln tf), an early
//     first occurrence, appearing in the title or the lead paragraph, spread
//     over paragraphs, and being quoted as a term of art.
//   - Score = specificity² × salience × kind boost (multiword names most,
//     then acronyms, phrases, single names; lone lowercase words least).
//   - Nesting, as in C-value: an occurrence inside a longer term counts
//     less ("crimes" inside "crimes against humanity", "Rights Watch"
//     inside "Human Rights Watch"), and a term whose occurrences mostly lie
//     inside terms ranked above it is not listed again.
//
// # Variants
//
// Forms of one thing become one Term: case; singular and plural (Uyghur,
// Uyghurs); British and American spelling (labour/labor, centre/center,
// organise/organize, analyse/analyze, catalogue/catalog, defence/defense);
// a small built-in alias table of transliterations and organisation names
// (Uyghur/Uighur/Uygur, Xinjiang/Sinkiang, OHCHR/"UN human rights office",
// aliases.go); acronyms the report defines, as "Full Name (ACR)" or
// "ACR (Full Name)", checked against the name's initials; and a person's
// full name with the surname used alone (Michelle Bachelet, Bachelet). A
// person is a name that appears as "Given Surname" and alone, or beside a
// reporting verb ("said Richardson"), more often than after "in" or "from".
//
// # Queries
//
// SuggestQuery splits the ranked terms into anchors and issues: anchors are
// what the story is about (specific single-word names that recur and are
// not persons or acronyms — places and peoples), issues are what about them
// (phrases, organisations, acronyms, persons, specific compounds). The
// query is (anchors) AND (issues), see SuggestQuery.
//
// The background model is built once per process from embedded files and
// never changes afterwards; concurrent calls share it safely.
package terms
