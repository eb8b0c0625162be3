//go:build scanbox_testhooks

package core

import (
	"os"
	"time"

	"github.com/scanbox/scanbox/refund"
)

// refundHooks reads TestHookRefundSuffix. Compiled only with -tags
// scanbox_testhooks; never in a shipped build.
func refundHooks() []refund.Option {
	suffix := os.Getenv(TestHookRefundSuffix)
	if len(suffix) != 1 {
		return nil
	}
	return []refund.Option{refund.WithNumbers(func(now time.Time) string {
		no := refund.NewOutRefundNo(now)
		return no[:len(no)-1] + suffix
	})}
}
