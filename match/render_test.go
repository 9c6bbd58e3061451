package match

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// refRenderWindow is renderWindow written a character at a time: the
// definition its stretches must agree with.
func refRenderWindow(text string, lo, hi int) (string, []int32, []int32) {
	startAt, endAt := make([]int32, hi-lo+1), make([]int32, hi-lo+1)
	var b []byte
	if lo > 0 {
		b = append(b, "…"...)
	}
	base := len(b)
	space := false
	for i := lo; i < hi; {
		endAt[i-lo] = int32(len(b))
		r, w := utf8.DecodeRuneInString(text[i:hi])
		if unicode.IsSpace(r) {
			space = len(b) > base
			startAt[i-lo] = -1
		} else {
			if space {
				b = append(b, ' ')
				space = false
			}
			startAt[i-lo] = int32(len(b))
			b = utf8.AppendRune(b, r)
		}
		for k := i + 1; k < i+w; k++ {
			startAt[k-lo] = -1
			endAt[k-lo] = int32(len(b))
		}
		i += w
	}
	endAt[hi-lo] = int32(len(b))
	if hi < len(text) {
		b = append(b, "…"...)
	}
	return string(b), startAt, endAt
}

// TestRenderWindow checks renderWindow's stretches against the character
// at a time definition, on text made of the pieces that end or continue a
// stretch (single and double spaces, other whitespace, control bytes,
// non-ASCII and invalid bytes), at every alignment.
func TestRenderWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "bc", "word", "longerword", " ", " ", "  ", "\n", "\t", "\x01", "\x1f", "’", "—", "\u00a0", "\u2003", "\xff", "\xe2\x82", "é", "x.", "7"}
	var texts []string
	for k := range 20 { // every alignment of a stretch's end
		for _, p := range pieces {
			for _, q := range pieces {
				texts = append(texts, strings.Repeat("x", k)+p+q+"yz01234567890")
			}
		}
	}
	for _, text := range texts {
		for _, lo := range []int{0, 1} {
			checkRender(t, text, lo, len(text))
		}
	}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		lo := rng.IntN(len(text) + 1)
		hi := lo + rng.IntN(len(text)-lo+1)
		checkRender(t, text, lo, hi)
	}
}

func checkRender(t *testing.T, text string, lo, hi int) {
	t.Helper()
	wantText, wantStart, wantEnd := refRenderWindow(text, lo, hi)
	r, _, b := renderWindow(text, lo, hi, nil, nil)
	startAt, endAt := make([]int32, hi-lo+1), make([]int32, hi-lo+1)
	for i := lo; i <= hi; i++ {
		if i < hi {
			startAt[i-lo] = r.startOf(i)
		}
		endAt[i-lo] = r.endOf(i)
	}
	if got := string(b); got != wantText || !reflect.DeepEqual(startAt, wantStart) || !reflect.DeepEqual(endAt, wantEnd) {
		t.Fatalf("renderWindow(%q, %d, %d) = %q %v %v, want %q %v %v", text, lo, hi, got, startAt, endAt, wantText, wantStart, wantEnd)
	}
}
