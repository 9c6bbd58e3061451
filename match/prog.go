package match

// instr is one node of a topic's condition, compiled flat. The programs of
// all topics lie one after another in Index.prog, so evaluating a
// candidate topic reads a few consecutive cache lines instead of chasing a
// tree of pointers scattered over the heap: with thousands of topics that
// is the difference between a cache miss per node and one per topic.
type instr struct {
	op   op
	mask fieldMask // opTerm: the fields the term searches
	// alts: the term has synonym variants (see a).
	alts bool
	// end is the index just past this node's subtree: children of an AND
	// or OR follow it one after another, each ending where the next begins.
	end int32
	// opTerm: without alts, a is the term's only matcher; with alts, its
	// matchers are Index.altIDs[a+1:a+1+altIDs[a]]. opNear: a indexes
	// Index.nears. The term itself is Index.terms[pc], out of the way: an
	// instruction is kept to 12 bytes, as loading the programs of ~100
	// candidates scattered over a large index is much of deciding them.
	a int32
}

// emit appends the program of n and returns its start.
func (c *compiler) emit(n *node) int32 {
	ix := c.ix
	pc := int32(len(ix.prog))
	ix.prog = append(ix.prog, instr{op: n.op})
	ix.terms = append(ix.terms, nil)
	switch n.op {
	case opTerm:
		in := &ix.prog[pc]
		in.mask = n.term.field.mask()
		ix.terms[pc] = n.term
		if len(n.term.alts) == 1 {
			in.a = n.term.alts[0].m
		} else {
			in.a, in.alts = int32(len(ix.altIDs)), true
			ix.altIDs = append(ix.altIDs, int32(len(n.term.alts)))
			for _, a := range n.term.alts {
				ix.altIDs = append(ix.altIDs, a.m)
			}
		}
	case opNear:
		ix.prog[pc].a = int32(len(ix.nears))
		ix.nears = append(ix.nears, n)
	default:
		for _, k := range n.kids {
			c.emit(k)
		}
	}
	ix.prog[pc].end = int32(len(ix.prog))
	return pc
}

// condition is the topic's whole boolean condition as one tree: the query,
// or AND(must…, OR(should…), NOT not…).
func (ct *ctopic) condition() *node {
	if ct.query != nil {
		return ct.query
	}
	root := &node{op: opAnd}
	root.kids = append(root.kids, ct.must...)
	if len(ct.should) > 0 {
		root.kids = append(root.kids, &node{op: opOr, kids: ct.should})
	}
	for _, n := range ct.not {
		root.kids = append(root.kids, &node{op: opNot, kids: []*node{n}})
	}
	return root
}

// instrFields returns the fields where the term of instruction in occurs,
// among those it searches.
func (d *doc) instrFields(in *instr) fieldMask {
	if !in.alts {
		return d.found[in.a] & in.mask
	}
	var m fieldMask
	for _, a := range d.ix.altIDs[in.a+1 : in.a+1+d.ix.altIDs[in.a]] {
		m |= d.found[a]
	}
	return m & in.mask
}

// run evaluates the program at pc, short-circuiting AND and OR.
func (d *doc) run(pc int32) bool {
	prog := d.ix.prog
	in := &prog[pc]
	switch in.op {
	case opTerm:
		return d.instrFields(in) != 0
	case opAnd:
		for k := pc + 1; k < in.end; k = prog[k].end {
			if !d.run(k) {
				return false
			}
		}
		return true
	case opOr:
		for k := pc + 1; k < in.end; k = prog[k].end {
			if d.run(k) {
				return true
			}
		}
		return false
	case opNot:
		return !d.run(pc + 1)
	case opNear:
		return d.nearFields(d.ix.nears[in.a]) != 0
	}
	return false
}

// contributing appends, in query order, every present term whose presence
// makes the program at pc evaluate as it does (want is that outcome), with
// the fields where it counts. A term under NOT contributes nothing when
// absent; under NOT NOT it counts again.
//
// For a true AND every child is a reason; for a true OR only the true
// children; for a false AND only the false children, for a false OR all.
// For a true NEAR, its terms count in the fields where NEAR holds.
func (d *doc) contributing(pc int32, want bool, out []contribution) []contribution {
	prog := d.ix.prog
	in := &prog[pc]
	switch in.op {
	case opTerm:
		if want {
			out = append(out, contribution{d.ix.terms[pc], d.instrFields(in)})
		}
	case opNot:
		out = d.contributing(pc+1, !want, out)
	case opNear:
		if want {
			n := d.ix.nears[in.a]
			nf := d.nearFields(n)
			for _, k := range n.kids {
				for _, t := range operandTerms(k) {
					if m := d.termFields(t) & nf; m != 0 {
						out = append(out, contribution{t, m})
					}
				}
			}
		}
	case opAnd, opOr:
		all := (in.op == opAnd) == want
		for k := pc + 1; k < in.end; k = prog[k].end {
			if all || d.run(k) == want {
				out = d.contributing(k, want, out)
			}
		}
	}
	return out
}
