package core

import "time"

// pruneEvery is how often a long-running owner (tray, serve) prunes and
// compacts the store: once a day, as store.Prune asks. Open prunes too,
// but a tray that runs for weeks would otherwise keep every resolved
// order's document uncompressed and every order past retention, and its
// next start would do weeks of it in one write transaction before payments
// could start (review finding).
const pruneEvery = 24 * time.Hour

// pruneDaily calls the store's Prune every pruneEvery until the core
// closes. A failure is logged; payments never wait for it beyond the one
// short write transaction Prune takes.
func (c *Core) pruneDaily(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.pruneOnce()
	}
}

// pruneOnce prunes the store now (nothing when the record is an old journal).
func (c *Core) pruneOnce() {
	s, err := c.Store()
	if err != nil {
		return
	}
	start := time.Now()
	res, err := s.Prune()
	if err != nil {
		c.log.Warn("daily store pruning failed; it is tried again tomorrow", "err", err)
		return
	}
	c.log.Info("store pruned", "took_ms", time.Since(start).Milliseconds(), "result", res)
}
