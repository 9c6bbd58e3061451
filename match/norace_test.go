//go:build !race

package match

// raceDetector reports whether the tests run under the race detector, which
// makes some single-goroutine tests (regexps, megabyte items) minutes long.
const raceDetector = false
