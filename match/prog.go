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
	// x is, for AND, OR and NOT, the index just past the node's subtree:
	// children follow it one after another, each ending where the next
	// begins. A term or NEAR has no children and ends at pc+1 (see skip),
	// so x says where the rest of it is: for a term, its index in
	// Index.tinfo (text, weight, ord: what reporting needs); for NEAR, its
	// index in Index.nears.
	x int32
	// opTerm: without alts, a is the term's only matcher; with alts, its
	// matchers are Index.altIDs[a+1:a+1+altIDs[a]]. An instruction is kept
	// to 12 bytes, as loading the programs of ~100 candidates scattered
	// over a large index is much of deciding them.
	a int32
}

// termInfo is what reporting needs of a term beyond its matchers. The
// terms of a topic lie together in Index.tinfo in query order, so a report
// reads a few consecutive cache lines rather than a *term each.
type termInfo struct {
	// text is the term as written, what Terms and Hits say: string text of
	// Index.texts. Without a string in it, a termInfo is nothing for the
	// garbage collector to visit.
	text   int32
	ord    int32 // see term.ord
	weight float64
}

// skip returns the index just past the subtree at pc.
func skip(prog []instr, pc int32) int32 {
	if in := &prog[pc]; in.op != opTerm && in.op != opNear {
		return in.x
	}
	return pc + 1
}

// emit appends the program of n and returns its start. The terms of n
// (NEAR operands included) are numbered in Index.tinfo in query order.
func (c *compiler) emit(n *node) int32 {
	ix := c.ix
	pc := int32(len(ix.prog))
	ix.prog = append(ix.prog, instr{op: n.op})
	switch n.op {
	case opTerm:
		c.termInfo(n.term)
		ix.prog[pc] = instr{op: opTerm, mask: n.term.field.mask(), alts: n.term.ref.alts, x: n.term.id, a: n.term.ref.a}
	case opNear:
		ix.prog[pc].x = int32(len(ix.nears))
		ix.nears = append(ix.nears, n)
		for _, k := range n.kids {
			for _, t := range operandTerms(k) {
				c.termInfo(t)
			}
		}
	default:
		for _, k := range n.kids {
			c.emit(k)
		}
		ix.prog[pc].x = int32(len(ix.prog))
	}
	return pc
}

// termInfo numbers t in Index.tinfo, and sets its matcher reference.
func (c *compiler) termInfo(t *term) {
	ix := c.ix
	t.id = int32(len(ix.tinfo))
	id, ok := c.textID[t.text]
	if !ok {
		if c.textID == nil {
			c.textID = map[string]int32{}
		}
		id = int32(len(c.texts))
		c.textID[t.text] = id
		c.texts = append(c.texts, t.text)
	}
	ix.tinfo = append(ix.tinfo, termInfo{text: id, weight: t.weight, ord: t.ord})
	if len(t.alts) == 1 {
		t.ref = mref{a: t.alts[0].m}
		return
	}
	t.ref = mref{a: int32(len(ix.altIDs)), alts: true}
	ix.altIDs = append(ix.altIDs, int32(len(t.alts)))
	for _, a := range t.alts {
		ix.altIDs = append(ix.altIDs, a.m)
	}
}

// mref names the matchers of a term: matcher a, or with alts those listed
// at Index.altIDs[a+1:a+1+altIDs[a]].
type mref struct {
	a    int32
	alts bool
}

// matchers returns the matchers of r; one is where to put a single one.
func (ix *Index) refMatchers(r mref, one *[1]int32) []int32 {
	if !r.alts {
		one[0] = r.a
		return one[:]
	}
	return ix.altIDs[r.a+1 : r.a+1+ix.altIDs[r.a]]
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
	case opAnd, opOr:
		// Terms, most children, are checked here rather than in a call.
		want := in.op == opOr // the outcome of a child that decides
		for k := pc + 1; k < in.x; {
			var v bool
			if c := &prog[k]; c.op == opTerm {
				v = d.instrFields(c) != 0
				k++
			} else {
				v = d.run(k)
				k = skip(prog, k)
			}
			if v == want {
				return want
			}
		}
		return !want
	case opNot:
		return !d.run(pc + 1)
	case opNear:
		return d.nearFields(d.ix.nears[in.x]) != 0
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
			out = append(out, contribution{ti: in.x, ref: mref{a: in.a, alts: in.alts}, fields: d.instrFields(in)})
		}
	case opNot:
		out = d.contributing(pc+1, !want, out)
	case opNear:
		if want {
			n := d.ix.nears[in.x]
			nf := d.nearFields(n)
			for _, k := range n.kids {
				for _, t := range operandTerms(k) {
					if m := d.termFields(t) & nf; m != 0 {
						out = append(out, contribution{ti: t.id, ref: t.ref, fields: m})
					}
				}
			}
		}
	case opAnd, opOr:
		all := (in.op == opAnd) == want
		for k := pc + 1; k < in.x; {
			if c := &prog[k]; c.op == opTerm {
				// A term, here rather than in a call: it is a reason only
				// when present (want), and then whatever all says.
				if want {
					if f := d.instrFields(c); f != 0 {
						out = append(out, contribution{ti: c.x, ref: mref{a: c.a, alts: c.alts}, fields: f})
					}
				}
				k++
				continue
			}
			if all || d.run(k) == want {
				out = d.contributing(k, want, out)
			}
			k = skip(prog, k)
		}
	}
	return out
}
