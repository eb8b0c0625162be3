package banksim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scanbox/scanbox/payclient"
)

// bill answers /bill/download: one line per order of this terminal created
// that day (China time, bank clock) in its current state, tombstones left
// out, and one line per refund made that day; NO_BILL for an empty day.
func (s *Sim) bill(req payclient.Object, term string, now time.Time) payclient.Object {
	ds, _ := req.Str("bill_date")
	day, err := payclient.ParseDay(ds)
	if err != nil {
		return bizFail("PARAM_ERROR", "bill_date must be yyyyMMdd")
	}
	type line struct {
		at     time.Time
		serial int
		text   string
	}
	var lines []line
	sameDay := func(t time.Time) bool { return payclient.DayOf(t) == day }
	for _, r := range s.seq {
		if r.key.terminal != term || r.kind == kindTombstone || !sameDay(r.createdAt) {
			continue
		}
		s.advance(r, now)
		tx, ch := "", ""
		if r.txID != "" {
			tx, ch = r.txID, r.channel.String()
		}
		lines = append(lines, line{r.createdAt, r.serial, fmt.Sprintf("%s,%s,%s,%s,%d,%s,,,,",
			r.createdAt.In(chinaTime).Format("20060102150405"), r.key.no, tx, ch, r.totalFee, r.state)})
	}
	for _, rf := range s.refundSeq {
		if rf.key.terminal != term || !sameDay(rf.createdAt) {
			continue
		}
		s.advanceRefund(rf, now)
		// The order columns other than out_trade_no are left empty, as the
		// contract allows: clients must not depend on them.
		lines = append(lines, line{rf.createdAt, rf.serial, fmt.Sprintf("%s,%s,,,,,%s,%s,%d,%s",
			rf.createdAt.In(chinaTime).Format("20060102150405"), rf.order.key.no, rf.key.no, rf.id, rf.fee, rf.state)})
	}
	if len(lines) == 0 {
		return bizFail("NO_BILL", "nothing on this day")
	}
	slices.SortFunc(lines, func(a, b line) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.serial - b.serial
	})
	var b strings.Builder
	b.WriteString(payclient.BillHeader)
	b.WriteByte('\n')
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return success(payclient.Object{"bill": b.String(), "bill_count": int64(len(lines))})
}
