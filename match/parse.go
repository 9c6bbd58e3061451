package match

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that keep a hostile or mistaken query from costing unbounded time
// or stack: evaluation recurses once per nesting level.
const (
	maxQueryBytes = 4096
	maxDepth      = 100
	minPrefix     = 2 // letters before a trailing *
	// defaultNear and maxNear bound NEAR/n: a window wider than a paragraph
	// is no longer "near", and a bound keeps position checks cheap.
	defaultNear = 10
	maxNear     = 100
)

// SyntaxError is a query error with its position, so config validation can
// point at it: `query: line 1, column 12: unbalanced parenthesis`.
//
// Offset is a byte offset into the query; Line and Column are 1-based, and
// Column counts characters (runes), not bytes, as editors do.
type SyntaxError struct {
	Offset, Line, Column int
	Msg                  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("query: line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// syntaxErr builds a SyntaxError at byte offset off of q.
func syntaxErr(q string, off int, format string, args ...any) *SyntaxError {
	if off > len(q) {
		off = len(q)
	}
	line, col := 1, 1
	for _, r := range q[:off] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// field is where a term is looked for.
type field uint8

const (
	fieldTitle field = iota
	fieldSummary
	fieldContent
	fieldAuthor
	fieldCategory
	fieldLink
	fieldSource
	numFields
	// fieldAny is an unrestricted term: title, summary and content.
	fieldAny field = 255
)

func (f field) String() string {
	switch f {
	case fieldTitle:
		return "title"
	case fieldSummary:
		return "summary"
	case fieldContent:
		return "content"
	case fieldAuthor:
		return "author"
	case fieldCategory:
		return "category"
	case fieldLink:
		return "link"
	case fieldSource:
		return "source"
	}
	return ""
}

func parseField(name string) (field, bool) {
	for f := fieldTitle; f < numFields; f++ {
		if strings.EqualFold(name, f.String()) {
			return f, true
		}
	}
	return 0, false
}

// fieldMask is the set of fields a term searches.
type fieldMask uint8

func (f field) mask() fieldMask {
	if f == fieldAny {
		return 1<<fieldTitle | 1<<fieldSummary | 1<<fieldContent
	}
	return 1 << f
}

// op is an AST node kind.
type op uint8

const (
	opTerm op = iota
	opAnd
	opOr
	opNot
	// opNear has two kids, each a term or an OR of terms, and a distance.
	opNear
)

// node is one AST node. AND and OR are n-ary and flattened.
type node struct {
	op   op
	kids []*node
	term *term // opTerm only
	dist int   // opNear only: the largest word distance allowed
}

// term is a leaf: a word, a prefix or a phrase, restricted to a field.
type term struct {
	// text is the term as written (without quotes and field), which is what
	// Hits and Terms report.
	text   string
	field  field
	phrase bool
	// prefix makes the last token match any token starting with it.
	prefix bool
	// toks are the normalised tokens; a multi-token term (a phrase, a
	// hyphenated word, CJK) matches them at consecutive positions.
	toks []string
	// raw is the value compared for source: terms, which match the source
	// id itself rather than tokens (without the trailing *).
	raw string

	// Set by Compile.

	// alts are the patterns that satisfy the term: itself, plus the
	// variants of its synonym group when it names one.
	alts []alt
	// weight scales the term's contribution to the score.
	weight float64
	// ord numbers the distinct texts of the topic's terms, so that a
	// report can tell two terms of the same text apart from others
	// without comparing strings.
	ord int32
	// id is the term's index in Index.tinfo, and ref its matchers, for
	// the terms of a topic's condition (not its exclude terms).
	id  int32
	ref mref
}

// alt is one pattern a term is satisfied by.
type alt struct {
	m int32 // index into Index.matchers
	// variant is the synonym variant as written, or "" for the term itself.
	variant string
}

// Query is a parsed topic query.
type Query struct {
	src  string
	root *node
}

// Parse parses a query. Errors are *SyntaxError.
//
// The language, in order of precedence (tightest first):
//
//	word         whole word, case- and diacritic-insensitive: ball ≠ football
//	word*        prefix, at least 2 letters: Uyghur* matches Uyghurs
//	"a phrase"   consecutive words; punctuation between them is ignored
//	field:x      x restricted to a field: title summary content author
//	             category link source (x may be a word, phrase or (group))
//	( ... )      grouping
//	a NEAR/n b   a and b at most n words apart, in either order (NEAR = NEAR/10)
//	NOT x        x must be absent
//	a AND b      both; adjacent terms are implicitly ANDed: `a b` = `a AND b`
//	a OR b       either
//
// Only uppercase AND, OR, NOT and NEAR are operators; lowercase ones are
// words. See the package documentation for the details.
func Parse(query string) (*Query, error) {
	if err := checkInput(query); err != nil {
		return nil, err
	}
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := newParser(query, toks)
	if p.peek().kind == tkEOF {
		return nil, syntaxErr(query, 0, "empty query")
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		// parseOr stops only at EOF or a ')' it did not open.
		return nil, syntaxErr(query, t.off, "unbalanced parenthesis: ) without (")
	}
	if evalEmpty(root) {
		return nil, syntaxErr(query, 0,
			"query matches items that contain none of its terms; combine NOT with a positive term, e.g. `a AND NOT b`")
	}
	return &Query{src: query, root: root}, nil
}

// checkInput bounds the size of a query (or list entry) and rejects invalid
// UTF-8, at the first bad byte.
func checkInput(s string) error {
	if len(s) > maxQueryBytes {
		return syntaxErr(s, maxQueryBytes, "query is longer than %d bytes", maxQueryBytes)
	}
	if !utf8.ValidString(s) {
		off := 0
		for off < len(s) {
			r, w := utf8.DecodeRuneInString(s[off:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			off += w
		}
		return syntaxErr(s, off, "invalid UTF-8")
	}
	return nil
}

// evalEmpty evaluates n with every term absent. A query that is true then
// would match nearly every item (`NOT x`, `a OR NOT b`) and flood the desk.
//
// It is also what makes the matcher's candidate selection sound: a query
// that is false with every term absent can only become true when a term
// occurring un-negated somewhere in it is present.
func evalEmpty(n *node) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !evalEmpty(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if evalEmpty(k) {
				return true
			}
		}
		return false
	case opNot:
		return !evalEmpty(n.kids[0])
	}
	return false // a term, or NEAR of terms
}

// String returns the query in canonical form: explicit AND, fields applied
// to each term, NEAR with its distance, parentheses only where needed (plus
// around AND inside OR, for the reader). Parsing it again yields the same
// query.
func (q *Query) String() string {
	return nodeString(q.root)
}

func nodeString(n *node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

func writeNode(b *strings.Builder, n *node) {
	switch n.op {
	case opTerm:
		b.WriteString(n.term.String())
	case opNot:
		b.WriteString("NOT ")
		writeChild(b, n.kids[0], n.kids[0].op == opAnd || n.kids[0].op == opOr)
	case opNear:
		writeChild(b, n.kids[0], n.kids[0].op != opTerm)
		fmt.Fprintf(b, " NEAR/%d ", n.dist)
		writeChild(b, n.kids[1], n.kids[1].op != opTerm)
	case opAnd, opOr:
		sep := " AND "
		if n.op == opOr {
			sep = " OR "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			writeChild(b, k, k.op == opAnd || k.op == opOr)
		}
	}
}

func writeChild(b *strings.Builder, n *node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeNode(b, n)
	if paren {
		b.WriteByte(')')
	}
}

// String is the term in query syntax: field prefix, quotes for phrases.
func (t *term) String() string {
	s := t.text
	if t.phrase {
		s = `"` + s + `"`
	}
	if t.field != fieldAny {
		s = t.field.String() + ":" + s
	}
	return s
}

// Terms lists the query's positive terms as written, distinct, in query
// order. A term under NOT is not positive (under NOT NOT it is again): its
// presence can never be the reason an item matched.
func (q *Query) Terms() []string {
	var out []string
	seen := map[string]bool{}
	walkPolarity(q.root, true, func(t *term, positive bool) {
		if positive && !seen[t.text] {
			seen[t.text] = true
			out = append(out, t.text)
		}
	})
	return out
}

// walkPolarity calls fn for every term under n, in query order, with
// whether it occurs un-negated (an even number of NOTs above it).
func walkPolarity(n *node, positive bool, fn func(t *term, positive bool)) {
	switch n.op {
	case opTerm:
		fn(n.term, positive)
	case opNot:
		walkPolarity(n.kids[0], !positive, fn)
	default:
		for _, k := range n.kids {
			walkPolarity(k, positive, fn)
		}
	}
}

// Lexer.

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkLParen
	tkRParen
	tkWord
	tkPhrase
	tkField
	tkAnd
	tkOr
	tkNot
	tkNear
)

// qtok is a query token. off is the byte offset of its first byte; for a
// phrase, text is the content between the quotes and textOff its offset.
type qtok struct {
	kind    tokKind
	text    string
	off     int
	textOff int
	field   field
	dist    int // tkNear
}

func (k tokKind) String() string {
	switch k {
	case tkAnd:
		return "AND"
	case tkOr:
		return "OR"
	case tkNot:
		return "NOT"
	case tkNear:
		return "NEAR"
	case tkLParen:
		return "("
	case tkRParen:
		return ")"
	}
	return "term"
}

func isQuerySpace(r rune) bool { return unicode.IsSpace(r) }

// isQuote reports whether r delimits a phrase. Typographic double quotes
// count too: queries get pasted from word processors and chat tools that
// turn "..." into “...”.
func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' || r == '„' }

// endsWord reports whether r ends a bare word.
func endsWord(r rune) bool { return r == '(' || r == ')' || isQuote(r) || isQuerySpace(r) }

// nearDistance parses the NEAR operator: NEAR or NEAR/n. ok is false for
// words that are not NEAR at all; err is set for a malformed distance.
func nearDistance(word string) (dist int, ok bool, err error) {
	if word == "NEAR" {
		return defaultNear, true, nil
	}
	rest, found := strings.CutPrefix(word, "NEAR/")
	if !found {
		return 0, false, nil
	}
	n, convErr := strconv.Atoi(rest)
	if convErr != nil || n < 1 || n > maxNear || rest[0] == '+' {
		return 0, true, fmt.Errorf("NEAR/%s: the distance must be a whole number of words from 1 to %d", rest, maxNear)
	}
	return n, true, nil
}

func lex(q string) ([]qtok, error) {
	var toks []qtok
	i := 0
	afterField := false // the previous token was field: (no space allowed)
	for i < len(q) {
		r, w := utf8.DecodeRuneInString(q[i:])
		if isQuerySpace(r) {
			i += w
			continue
		}
		if isQuote(r) {
			end := strings.IndexFunc(q[i+w:], isQuote)
			if end < 0 {
				return nil, syntaxErr(q, i, `unterminated phrase: missing closing "`)
			}
			toks = append(toks, qtok{kind: tkPhrase, text: q[i+w : i+w+end], off: i, textOff: i + w})
			_, cw := utf8.DecodeRuneInString(q[i+w+end:])
			i += w + end + cw
			afterField = false
			continue
		}
		switch r {
		case '(':
			toks = append(toks, qtok{kind: tkLParen, off: i})
			i++
			afterField = false
			continue
		case ')':
			toks = append(toks, qtok{kind: tkRParen, off: i})
			i++
			afterField = false
			continue
		}
		start := i
		if afterField {
			// The word right after field: is taken literally, colons and
			// keywords included: link:https://x, title:AND.
			afterField = false
			for i < len(q) {
				r, w := utf8.DecodeRuneInString(q[i:])
				if endsWord(r) {
					break
				}
				i += w
			}
			toks = append(toks, qtok{kind: tkWord, text: q[start:i], off: start, textOff: start})
			continue
		}
		letters := true // q[start:i] is ASCII letters only: a possible field name
		for i < len(q) {
			r, w := utf8.DecodeRuneInString(q[i:])
			if endsWord(r) {
				break
			}
			if r == ':' && i > start && letters {
				name := q[start:i]
				next, _ := utf8.DecodeRuneInString(q[i+1:])
				f, known := parseField(name)
				atEnd := i+1 == len(q)
				switch {
				case known && !atEnd && next != ')' && !isQuerySpace(next):
					// A field.
				case known:
					return nil, syntaxErr(q, i+1, "missing term after %s:", f)
				case next == '(' || isQuote(next) || unicode.IsLetter(next) || unicode.IsNumber(next):
					return nil, syntaxErr(q, start,
						"unknown field %q (fields: title, summary, content, author, category, link, source; quote the term to search for it literally)", name)
				default:
					// "warning:" followed by a space or punctuation is just a
					// word with a colon, not a field.
					i += w
					letters = false
					continue
				}
				toks = append(toks, qtok{kind: tkField, text: name, off: start, field: f})
				i++
				afterField = next != '(' && !isQuote(next)
				start = -1
				break
			}
			letters = letters && r < utf8.RuneSelf && unicode.IsLetter(r)
			i += w
		}
		if start < 0 {
			continue
		}
		word := q[start:i]
		kind := tkWord
		switch word {
		case "AND":
			kind = tkAnd
		case "OR":
			kind = tkOr
		case "NOT":
			kind = tkNot
		}
		tok := qtok{kind: kind, text: word, off: start, textOff: start}
		if dist, ok, err := nearDistance(word); ok {
			if err != nil {
				return nil, syntaxErr(q, start, "%v", err)
			}
			tok.kind, tok.dist = tkNear, dist
		}
		toks = append(toks, tok)
	}
	return append(toks, qtok{kind: tkEOF, off: len(q)}), nil
}

// Parser: recursive descent, one function per precedence level.

type parser struct {
	src   string
	toks  []qtok
	i     int
	depth int
	field field // the enclosing field: restriction, or fieldAny
	tk    *tokenizer
}

func newParser(src string, toks []qtok) *parser {
	return &parser{src: src, toks: toks, field: fieldAny, tk: newTokenizer()}
}

func (p *parser) peek() qtok { return p.toks[p.i] }

func (p *parser) next() qtok {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

// startsOperand reports whether t can begin a NOT-level expression.
func startsOperand(t qtok) bool {
	switch t.kind {
	case tkWord, tkPhrase, tkField, tkLParen, tkNot:
		return true
	}
	return false
}

func (p *parser) parseOr() (*node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for p.peek().kind == tkOr {
		opTok := p.next()
		if !startsOperand(p.peek()) {
			return nil, p.missingAfter(opTok)
		}
		k, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return flatten(opOr, kids), nil
}

func (p *parser) parseAnd() (*node, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		t := p.peek()
		if t.kind == tkAnd {
			p.next()
			if !startsOperand(p.peek()) {
				return nil, p.missingAfter(t)
			}
		} else if !startsOperand(t) {
			break
		}
		// Adjacent operands without an operator are an implicit AND.
		k, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return flatten(opAnd, kids), nil
}

func (p *parser) parseUnary() (*node, error) {
	t := p.peek()
	if t.kind != tkNot {
		return p.parseNear()
	}
	p.next()
	if !startsOperand(p.peek()) {
		return nil, p.missingAfter(t)
	}
	if err := p.enter(t); err != nil {
		return nil, err
	}
	k, err := p.parseUnary()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &node{op: opNot, kids: []*node{k}}, nil
}

// parseNear parses `a NEAR/n b`, or just a primary when no NEAR follows.
// NEAR binds tighter than AND and joins exactly two operands, each a term
// or a parenthesised OR of terms, all searching the same field.
func (p *parser) parseNear() (*node, error) {
	leftTok := p.peek()
	left, err := p.parsePrimary()
	if err != nil || p.peek().kind != tkNear {
		return left, err
	}
	nearTok := p.next()
	rightTok := p.peek()
	switch {
	case rightTok.kind == tkNot:
		return nil, syntaxErr(p.src, rightTok.off, "NOT inside NEAR is not supported: write `(a NEAR b) AND NOT c`")
	case rightTok.kind == tkWord && strings.HasPrefix(rightTok.text, "/"):
		return nil, syntaxErr(p.src, rightTok.off, "write NEAR%s without a space", rightTok.text)
	case !startsOperand(rightTok):
		return nil, p.missingAfter(nearTok)
	}
	right, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tkNear {
		return nil, syntaxErr(p.src, t.off, "NEAR joins two operands; write `a NEAR b AND b NEAR c` for three")
	}
	if err := p.nearOperand(left, leftTok); err != nil {
		return nil, err
	}
	if err := p.nearOperand(right, rightTok); err != nil {
		return nil, err
	}
	f := nearField(left)
	if nearField(right) != f {
		return nil, syntaxErr(p.src, nearTok.off,
			"NEAR operands must search the same field: put the field around both, e.g. title:(a NEAR/3 b)")
	}
	if f == fieldSource {
		return nil, syntaxErr(p.src, nearTok.off, "source: ids have no words to be near")
	}
	return &node{op: opNear, kids: []*node{left, right}, dist: nearTok.dist}, nil
}

// nearOperand checks that n is a term or an OR of terms in one field.
func (p *parser) nearOperand(n *node, at qtok) error {
	ok := n.op == opTerm
	if n.op == opOr {
		ok = true
		for _, k := range n.kids {
			ok = ok && k.op == opTerm && k.term.field == n.kids[0].term.field
		}
	}
	if !ok {
		return syntaxErr(p.src, at.off, "NEAR joins terms, phrases, prefixes or (a OR b) groups of them, in one field")
	}
	return nil
}

// nearField is the field of a NEAR operand's terms.
func nearField(n *node) field {
	if n.op == opTerm {
		return n.term.field
	}
	return n.kids[0].term.field
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tkLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		if p.peek().kind == tkRParen {
			return nil, syntaxErr(p.src, t.off, "empty parentheses")
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tkRParen {
			return nil, syntaxErr(p.src, t.off, "unbalanced parenthesis: ( is never closed")
		}
		p.depth--
		return n, nil
	case tkField:
		if p.field != fieldAny {
			return nil, syntaxErr(p.src, t.off, "field %s: inside %s: is not allowed", t.field, p.field)
		}
		p.field = t.field
		n, err := p.parsePrimary()
		p.field = fieldAny
		return n, err
	case tkWord:
		return p.termNode(t, false)
	case tkPhrase:
		return p.termNode(t, true)
	case tkEOF:
		return nil, syntaxErr(p.src, t.off, "missing term at end of query")
	case tkRParen:
		return nil, syntaxErr(p.src, t.off, "unbalanced parenthesis: ) without (")
	}
	return nil, syntaxErr(p.src, t.off, "unexpected %s", t.kind)
}

// enter descends one nesting level, refusing to go deeper than maxDepth.
func (p *parser) enter(t qtok) error {
	p.depth++
	if p.depth > maxDepth {
		return syntaxErr(p.src, t.off, "nesting deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *parser) missingAfter(opTok qtok) error {
	t := p.peek()
	return syntaxErr(p.src, t.off, "missing term after %s", opTok.kind)
}

func flatten(o op, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	var flat []*node
	for _, k := range kids {
		if k.op == o {
			flat = append(flat, k.kids...)
		} else {
			flat = append(flat, k)
		}
	}
	return &node{op: o, kids: flat}
}

// termNode builds a leaf from a word or phrase token in the current field.
func (p *parser) termNode(t qtok, phrase bool) (*node, error) {
	text := t.text
	tm := &term{field: p.field, phrase: phrase}
	if phrase {
		tm.text = strings.Join(strings.Fields(text), " ")
		if i := strings.IndexByte(text, '*'); i >= 0 {
			return nil, syntaxErr(p.src, t.textOff+i, "* is not supported inside a phrase")
		}
	} else {
		tm.text = text
		if r, _ := utf8.DecodeRuneInString(text[min(1, len(text)):]); text[0] == '-' && (unicode.IsLetter(r) || unicode.IsNumber(r)) {
			// Web search habits: -cotton would otherwise silently search
			// for cotton, the opposite of what was meant.
			return nil, syntaxErr(p.src, t.textOff, "a leading - does not exclude a term: write NOT %s", text[1:])
		}
		if strings.HasSuffix(text, "*") {
			tm.prefix = true
			text = text[:len(text)-1]
		}
		if i := strings.IndexByte(text, '*'); i >= 0 {
			return nil, syntaxErr(p.src, t.textOff+i, "* is only allowed at the end of a term")
		}
		if tm.prefix && text == "" {
			return nil, syntaxErr(p.src, t.textOff,
				"a bare * would match everything; write at least %d letters before it, e.g. Uyghur*", minPrefix)
		}
	}
	if tm.field == fieldSource {
		// Source ids are matched whole (or by prefix), not tokenised.
		tm.raw = strings.Join(strings.Fields(text), " ")
		if tm.raw == "" {
			return nil, syntaxErr(p.src, t.off, "empty source id")
		}
		if tm.prefix && utf8.RuneCountInString(tm.raw) < minPrefix {
			return nil, syntaxErr(p.src, t.textOff, "prefix %q is too short: write at least %d letters before *", tm.text, minPrefix)
		}
		return &node{op: opTerm, term: tm}, nil
	}
	tm.toks = p.tk.termTokens(text)
	if len(tm.toks) == 0 {
		what := "term"
		if phrase {
			what = "phrase"
		}
		return nil, syntaxErr(p.src, t.off, "%s %q has no letters or digits", what, tm.text)
	}
	if tm.prefix {
		last := tm.toks[len(tm.toks)-1]
		r, w := utf8.DecodeRuneInString(last)
		switch {
		case w == len(last) && isCJK(r):
			// CJK characters are tokens of their own: 维吾* is the
			// substring 维吾 already, and the * adds nothing.
			tm.prefix = false
		case utf8.RuneCountInString(last) < minPrefix:
			// Every word starting with one letter is no topic, and one-letter
			// prefixes would make the index record nearly every word.
			return nil, syntaxErr(p.src, t.textOff, "prefix %q is too short: write at least %d letters before *", tm.text, minPrefix)
		}
	}
	return &node{op: opTerm, term: tm}, nil
}

// parseEntry parses one list entry of a topic that stands for a single
// term: an exclude entry, a synonym variant or a synonym group name. The
// entry is a word, a prefix (word*), or a phrase, with or without quotes:
// `forced labour` is the phrase "forced labour", because in a list there is
// nothing for two words to mean but a phrase. With allowField the entry may
// start with field: (title:cotton). Operators and parentheses are errors:
// each alternative is its own entry.
func parseEntry(s string, allowField bool) (*term, error) {
	if err := checkInput(s); err != nil {
		return nil, err
	}
	lead := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	rest := strings.TrimRightFunc(s[lead:], unicode.IsSpace)
	if rest == "" {
		return nil, syntaxErr(s, 0, "empty entry")
	}
	for off := lead; off < lead+len(rest); {
		wEnd := off + strings.IndexFunc(s[off:]+" ", unicode.IsSpace)
		word := s[off:wEnd]
		_, isNear, _ := nearDistance(word)
		if word == "AND" || word == "OR" || word == "NOT" || isNear {
			return nil, syntaxErr(s, off, "%s: an entry is one term or phrase, not an expression; list alternatives as separate entries", word)
		}
		if i := strings.IndexAny(word, "()"); i >= 0 {
			return nil, syntaxErr(s, off+i, "parentheses: an entry is one term or phrase, not an expression")
		}
		off = wEnd
		for off < len(s) {
			r, w := utf8.DecodeRuneInString(s[off:])
			if !unicode.IsSpace(r) {
				break
			}
			off += w
		}
	}
	p := newParser(s, nil)
	off := lead
	if i := strings.IndexByte(rest, ':'); i > 0 {
		if f, ok := parseField(rest[:i]); ok {
			if !allowField {
				return nil, syntaxErr(s, off, "%s: is not allowed here: a variant searches the fields of the term it stands for", f)
			}
			p.field = f
			off += i + 1
			rest = rest[i+1:]
			if strings.TrimSpace(rest) == "" {
				return nil, syntaxErr(s, off, "missing term after %s:", f)
			}
		}
	}
	first, fw := utf8.DecodeRuneInString(rest)
	quotes := strings.IndexFunc(rest, isQuote) >= 0
	switch {
	case isQuote(first):
		last, lw := utf8.DecodeLastRuneInString(rest)
		if len(rest) < fw+lw || !isQuote(last) || strings.IndexFunc(rest[fw:len(rest)-lw], isQuote) >= 0 {
			return nil, syntaxErr(s, off, `unbalanced quotes: quote the whole phrase, or nothing`)
		}
		inner := rest[fw : len(rest)-lw]
		n, err := p.termNode(qtok{kind: tkPhrase, text: inner, off: off, textOff: off + fw}, true)
		if err != nil {
			return nil, err
		}
		return n.term, nil
	case quotes:
		return nil, syntaxErr(s, off+strings.IndexFunc(rest, isQuote), `unbalanced quotes: quote the whole phrase, or nothing`)
	}
	phrase := strings.IndexFunc(rest, unicode.IsSpace) >= 0
	kind := tkWord
	if phrase {
		kind = tkPhrase
	}
	n, err := p.termNode(qtok{kind: kind, text: rest, off: off, textOff: off}, phrase)
	if err != nil {
		return nil, err
	}
	return n.term, nil
}
