package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scanbox/scanbox/fleet/internal/fleettest"
	"github.com/scanbox/scanbox/fleet/proto"
)

// BenchmarkHeartbeat is the write path of one inspection report on
// SQLite (one transaction: replay check, latest state, roll-up), over
// 1,000 enrolled terminals.
func BenchmarkHeartbeat(b *testing.B) {
	st, _ := fleettest.DBs()[0].Open(b)
	const n = 1000
	cs, err := st.CreateEnrollmentCodes(ctx, n, "bench")
	if err != nil {
		b.Fatal(err)
	}
	uids := make([]string, n)
	for i := range uids {
		if uids[i], err = st.Enroll(ctx, enrollReq(b, cs[i], "M1", fmt.Sprintf("T%04d", i), "dev"), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	pay := []proto.PaymentCount{{Channel: "wechat", Outcome: proto.OutcomePaid, Count: 2, SumFen: 1234}}
	i := 0
	for b.Loop() {
		i++
		hb := proto.Heartbeat{Seq: uint64(i), At: time.Now(), AppVersion: "1.1.0", Payments: pay, Identity: proto.Identity{DeviceID: "dev"}}
		if _, err := st.Heartbeat(ctx, uids[i%n], int64(i), hb, time.Now(), ""); err != nil {
			b.Fatal(err)
		}
	}
}
