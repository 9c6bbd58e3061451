package watch

import (
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

func TestCronNextInZone(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	next, err := CronNext("0 8 * * *", london)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ after, want time.Time }{
		// Winter: 08:00 London is 08:00 UTC; summer: 07:00 UTC.
		{time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC), time.Date(2026, 1, 11, 8, 0, 0, 0, time.UTC)},
		{time.Date(2026, 7, 10, 6, 0, 0, 0, time.UTC), time.Date(2026, 7, 10, 7, 0, 0, 0, time.UTC)},
		// Strictly after: at 08:00 exactly the next is tomorrow's.
		{time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC), time.Date(2026, 1, 11, 8, 0, 0, 0, time.UTC)},
	} {
		if got := next(c.after); !got.Equal(c.want) {
			t.Errorf("next(%v) = %v, want %v", c.after, got.UTC(), c.want)
		}
	}
	if _, err := CronNext("@daily", nil); err != nil {
		t.Errorf("@daily in UTC: %v", err)
	}
}

func TestCronNextRefusesBadSpecs(t *testing.T) {
	for _, spec := range []string{"", "0 8 * *", "61 * * * *", "CRON_TZ=UTC 0 8 * * *", "0 0 31 2 *"} {
		if _, err := CronNext(spec, time.UTC); err == nil {
			t.Errorf("CronNext(%q) accepted", spec)
		} else if spec != "" && !strings.Contains(err.Error(), "cron expression") {
			t.Errorf("CronNext(%q) error %q does not name the expression", spec, err)
		}
	}
}

func TestJobNextPollHonoursBackoff(t *testing.T) {
	j := Job{Source: news.Source{ID: "s"}, Schedule: Schedule{Every: 10 * time.Minute}}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	plain := j.NextPoll(news.SourceState{}, now)
	if !plain.After(now) || plain.Sub(now) > 10*time.Minute {
		t.Fatalf("next poll %v", plain)
	}
	backoff := j.NextPoll(news.SourceState{NextPoll: now.Add(time.Hour)}, now)
	if backoff.Before(now.Add(time.Hour)) || backoff.Sub(now) > 70*time.Minute {
		t.Fatalf("next poll after a 1h backoff = %v", backoff)
	}
}
