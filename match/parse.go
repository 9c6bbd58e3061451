package match

import (
	"fmt"
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
)

// node is one AST node. AND and OR are n-ary and flattened, so a later
// multi-pattern index can treat a node's children as one set.
type node struct {
	op   op
	kids []*node
	term *term // opTerm only
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
	// id indexes Index.matchers; set by Compile.
	id int
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
//	NOT x        x must be absent
//	a AND b      both; adjacent terms are implicitly ANDed: `a b` = `a AND b`
//	a OR b       either
//
// Only uppercase AND, OR and NOT are operators; lowercase ones are words.
// See the package documentation for the details of text normalisation.
func Parse(query string) (*Query, error) {
	if len(query) > maxQueryBytes {
		return nil, syntaxErr(query, maxQueryBytes, "query is longer than %d bytes", maxQueryBytes)
	}
	if !utf8.ValidString(query) {
		off := 0
		for off < len(query) {
			r, w := utf8.DecodeRuneInString(query[off:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			off += w
		}
		return nil, syntaxErr(query, off, "invalid UTF-8")
	}
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{src: query, toks: toks, field: fieldAny, norm: newNormalizer()}
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

// evalEmpty evaluates n with every term absent. A query that is true then
// would match nearly every item (`NOT x`, `a OR NOT b`) and flood the desk.
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
	return false
}

// String returns the query in canonical form: explicit AND, fields applied
// to each term, parentheses only where needed (plus around AND inside OR,
// for the reader). Parsing it again yields the same query.
func (q *Query) String() string {
	var b strings.Builder
	writeNode(&b, q.root)
	return b.String()
}

func writeNode(b *strings.Builder, n *node) {
	switch n.op {
	case opTerm:
		b.WriteString(n.term.String())
	case opNot:
		b.WriteString("NOT ")
		writeChild(b, n.kids[0], n.kids[0].op == opAnd || n.kids[0].op == opOr)
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
	var walk func(n *node, positive bool)
	walk = func(n *node, positive bool) {
		switch n.op {
		case opTerm:
			if positive && !seen[n.term.text] {
				seen[n.term.text] = true
				out = append(out, n.term.text)
			}
		case opNot:
			walk(n.kids[0], !positive)
		default:
			for _, k := range n.kids {
				walk(k, positive)
			}
		}
	}
	walk(q.root, true)
	return out
}

// walkTerms calls fn for every term of the query, in query order.
func (q *Query) walkTerms(fn func(*term)) {
	var walk func(n *node)
	walk = func(n *node) {
		if n.op == opTerm {
			fn(n.term)
			return
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(q.root)
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
)

// qtok is a query token. off is the byte offset of its first byte; for a
// phrase, text is the content between the quotes and textOff its offset.
type qtok struct {
	kind    tokKind
	text    string
	off     int
	textOff int
	field   field
}

func (k tokKind) String() string {
	switch k {
	case tkAnd:
		return "AND"
	case tkOr:
		return "OR"
	case tkNot:
		return "NOT"
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
		toks = append(toks, qtok{kind: kind, text: word, off: start, textOff: start})
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
	norm  *normalizer
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
		return p.parsePrimary()
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
	tm.toks = p.norm.termTokens(text)
	if len(tm.toks) == 0 {
		what := "term"
		if phrase {
			what = "phrase"
		}
		return nil, syntaxErr(p.src, t.off, "%s %q has no letters or digits", what, tm.text)
	}
	if tm.prefix {
		n := 0
		for _, s := range tm.toks {
			n += utf8.RuneCountInString(s)
		}
		if n < minPrefix {
			return nil, syntaxErr(p.src, t.textOff, "prefix %q is too short: write at least %d letters before *", tm.text, minPrefix)
		}
	}
	return &node{op: opTerm, term: tm}, nil
}
