package store

import (
	"fmt"
	"time"
)

// China is China Standard Time, a fixed UTC+08:00: China has kept no
// daylight saving time since 1991, so a fixed offset is exact for every date
// the store holds and needs no tzdata on the PC (Windows has no zoneinfo,
// and embedding time/tzdata would add 450 KB for one constant).
var China = time.FixedZone("CST", 8*60*60)

// DayBounds returns the start of the China-time calendar day of t and the
// start of the next one.
func DayBounds(t time.Time) (from, to time.Time) {
	c := t.In(China)
	from = time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, China)
	return from, from.AddDate(0, 0, 1)
}

// ParseDay parses a YYYY-MM-DD date as the start of that day in China time.
func ParseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, China)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: date %q is not YYYY-MM-DD", s)
	}
	return t, nil
}
