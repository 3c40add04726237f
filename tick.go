package fota

import (
	"context"
	"errors"
	"time"

	"github.com/fotakit/fota/verboselog"
)

// tickBatch bounds the deadlines one Tick transaction applies, so a long
// backlog commits in steps instead of one huge transaction.
const tickBatch = 64

// Tick applies everything due at the clock's now (campaign starts and
// ends, logging expiry, log purges) and returns the next deadline, so a
// host can sleep until then (zero when nothing is planned). Its cost is
// proportional to the work due: the store's deadline index finds it.
func (m *Manager) Tick(ctx context.Context) (time.Time, error) {
	for {
		n := 0
		err := m.update(ctx, "tick", func(tx Tx, o *op) error {
			due, err := tx.Due(o.now, tickBatch)
			if err != nil {
				return err
			}
			n = len(due)
			for _, d := range due {
				if err := m.due(tx, o, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return time.Time{}, err
		}
		if n < tickBatch {
			break
		}
	}
	var next time.Time
	err := m.store.View(ctx, func(tx Tx) error {
		at, ok, err := tx.NextDeadline()
		if ok {
			next = at
		}
		return err
	})
	return next, err
}

// due applies one deadline. Deadlines are hints: the records say what is
// really due, so a deadline left over by an earlier change does nothing.
func (m *Manager) due(tx Tx, o *op, d Deadline) error {
	if err := tx.DeleteDeadline(d.Kind, d.Key); err != nil {
		return err
	}
	switch d.Kind {
	case DeadlineCampaignStart, DeadlineCampaignEnd:
		_, err := m.load(tx, o, d.Key)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	case DeadlineLoggingExpiry:
		s, err := tx.Session(d.Key)
		if err != nil {
			return err
		}
		next, expired := s.Expire(o.now, m.logging)
		if !expired {
			return nil
		}
		s.Session = next
		return tx.PutSession(s)
	case DeadlineLogPurge:
		bundles, err := tx.Bundles(d.Key)
		if err != nil {
			return err
		}
		_, next := verboselog.Purge(bundles, o.now, m.logging)
		// Purged means now >= UploadedAt + Retention.
		if err := tx.DeleteBundles(d.Key, o.now.Add(-m.logging.Retention).Add(1)); err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		return tx.PutDeadline(Deadline{Kind: DeadlineLogPurge, Key: d.Key, At: next})
	}
	return nil
}
