package watch

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// CronNext parses a standard five-field cron expression (or a descriptor
// such as @daily) in the time zone loc (nil: UTC) and returns its
// next-time function: the first time strictly after its argument. It is
// how other packages use a schedule without importing robfig/cron, e.g.
// a webhook's digest ("0 8 * * *" in Europe/London). A CRON_TZ= or TZ=
// prefix is refused: the zone is given once, as loc.
func CronNext(spec string, loc *time.Location) (func(after time.Time) time.Time, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty cron expression")
	}
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		return nil, fmt.Errorf("cron expression %q: give the time zone separately, not as a prefix", spec)
	}
	if loc == nil {
		loc = time.UTC
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("bad cron expression %q: %w", spec, err)
	}
	// A schedule that never fires (31 February) gives the zero time.
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("cron expression %q never fires", spec)
	}
	return sched.Next, nil
}
