package match

import (
	"slices"
	"sort"
)

// termFields returns the fields where t occurs (through any of its
// patterns), among the fields it searches.
func (d *doc) termFields(t *term) fieldMask {
	var m fieldMask
	for _, a := range t.alts {
		m |= d.found[a.m]
	}
	return m & t.field.mask()
}

// eval reports whether n is true of the item. Matching runs the topic's
// flat program (see run); Explain walks the tree to describe each part.
func (d *doc) eval(n *node) bool {
	switch n.op {
	case opTerm:
		return d.termFields(n.term) != 0
	case opAnd:
		for _, k := range n.kids {
			if !d.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if d.eval(k) {
				return true
			}
		}
		return false
	case opNot:
		return !d.eval(n.kids[0])
	case opNear:
		return d.nearFields(n) != 0
	}
	return false
}

// operandTerms lists the terms of a NEAR operand (a term or an OR of terms).
func operandTerms(n *node) []*term {
	if n.op == opTerm {
		return []*term{n.term}
	}
	ts := make([]*term, len(n.kids))
	for i, k := range n.kids {
		ts[i] = k.term
	}
	return ts
}

// nearFields returns the fields in which the two operands of NEAR node n
// occur within n.dist words of each other, computed once per item.
func (d *doc) nearFields(n *node) fieldMask {
	if v, ok := d.near[n]; ok {
		return v
	}
	left, right := operandTerms(n.kids[0]), operandTerms(n.kids[1])
	var lm, rm fieldMask
	for _, t := range left {
		lm |= d.termFields(t)
	}
	for _, t := range right {
		rm |= d.termFields(t)
	}
	var out fieldMask
	for f := fieldTitle; f < fieldSource; f++ {
		if (lm&rm)&(1<<f) == 0 {
			continue
		}
		if near(d.operandSpans(left, f), d.operandSpans(right, f), int32(n.dist)) {
			out |= 1 << f
		}
	}
	if d.near == nil {
		d.near = map[*node]fieldMask{}
	}
	d.near[n] = out
	return out
}

// operandSpans merges the occurrences in field f of every pattern of the
// given terms, sorted by position, without duplicates.
func (d *doc) operandSpans(terms []*term, f field) []ospan {
	var out []ospan
	for _, t := range terms {
		if d.termFields(t)&(1<<f) == 0 {
			continue
		}
		for _, a := range t.alts {
			out = append(out, d.spansOf(a.m, f)...)
		}
	}
	slices.SortFunc(out, func(a, b ospan) int {
		if a.p0 != b.p0 {
			return int(a.p0 - b.p0)
		}
		return int(a.p1 - b.p1)
	})
	return slices.Compact(out)
}

// near reports whether some occurrence in a and some in b, not
// overlapping, are at most dist positions apart (from the end of the
// earlier one to the start of the later one). Both are sorted by p0.
//
// For each x in a, only the b starting within dist+maxLen(b) of it can
// qualify, and any b starting after x within dist does: the scan per x is
// bounded by the window, so the whole check is linear in the occurrences.
func near(a, b []ospan, dist int32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	var maxLen int32
	for _, y := range b {
		maxLen = max(maxLen, y.p1-y.p0)
	}
	for _, x := range a {
		from := x.p0 - dist - maxLen
		k := sort.Search(len(b), func(i int) bool { return b[i].p0 >= from })
		for ; k < len(b) && b[k].p0 <= x.p1+dist; k++ {
			y := b[k]
			switch {
			case y.p0 > x.p1: // y after x, within dist by the loop bound
				return true
			case y.p1 < x.p0 && x.p0-y.p1 <= dist:
				return true
			}
		}
	}
	return false
}

// holds reports whether the topic's boolean condition (query, or groups)
// is true of the item; exclude terms and min_score are checked apart.
func (d *doc) holds(ct *ctopic) bool { return d.passes(ct.index) && d.run(ct.prog) }

// anyExcluded reports whether some exclude term of the topic is present.
func (d *doc) anyExcluded(ct *ctopic) bool {
	for _, t := range ct.exclude {
		if d.termFields(t) != 0 {
			return true
		}
	}
	return false
}

// excluded returns the topic's exclude terms present in the item.
func (d *doc) excluded(ct *ctopic) []*term {
	var out []*term
	for _, t := range ct.exclude {
		if d.termFields(t) != 0 {
			out = append(out, t)
		}
	}
	return out
}
