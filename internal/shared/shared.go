// Package shared locates the third-party material (feed corpora, labelled
// evaluation items, the report article) that lives in ../shared beside the
// repository on developer and CI machines. Tests read it in place, never
// copy it, and skip cleanly when it is absent.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the path of ../shared/<elem...> next to the module root, or
// skips the test when that file or folder does not exist.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present: skipping (third-party material is read from ../shared when it exists)", p)
	}
	return p
}
