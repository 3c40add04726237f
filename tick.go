package fota

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota/verboselog"
)

// tickBatch bounds the deadlines one Tick transaction applies.
const tickBatch = 64

// TickError is a Tick that failed part way: its first Committed batches
// committed (and their changes reached the observer), the batch that
// failed changed nothing, and the rest were not tried. Tick again to go
// on.
type TickError struct {
	Committed int
	Err       error
}

func (e *TickError) Error() string {
	return fmt.Sprintf("fota: tick failed after %d committed batches: %v", e.Committed, e.Err)
}

// Unwrap returns the error of the batch that failed.
func (e *TickError) Unwrap() error { return e.Err }

// Tick applies everything due at the clock's now and returns the next
// deadline (zero when nothing is planned), so a host can sleep until
// then; Run is that loop. What is due: campaign starts and ends, the
// sweeps that move a finished campaign's devices, the push give-up of
// LwM2M devices whose retry plan ran out, logging expiry and log purges.
// Push commands are not Tick's: the host's transport takes them from
// Outbox, which says when the next one is due.
//
// Tick works in batches, each one transaction: up to 64 deadlines, of
// which at most one moves devices (an end with its first sweep, a sweep or
// a give-up batch, each of up to 1,000 devices). So a campaign of a million devices ends in a thousand short
// transactions, never one huge one, and its devices answer as ended from
// the end date on whatever the sweep has reached. A batch that fails
// changes nothing; the batches before it stay committed, and the error is
// a *TickError saying how many. Tick's cost is proportional to the work
// due: the store's deadline index finds it.
func (m *Manager) Tick(ctx context.Context) (time.Time, error) {
	committed := 0
	for {
		n, more := 0, false
		err := m.update(ctx, "tick", func(tx Tx, o *op) error {
			n, more = 0, false
			due, err := tx.Due(o.now, tickBatch)
			if err != nil {
				return err
			}
			for _, d := range due {
				n++
				heavy, err := m.due(tx, o, d)
				if err != nil {
					return err
				}
				if heavy {
					more = true
					break
				}
			}
			return nil
		})
		if err != nil {
			return time.Time{}, &TickError{Committed: committed, Err: err}
		}
		committed++
		if n == 0 && !more {
			break // a batch found nothing due: what the others did is all
		}
	}
	return m.nextDeadline(ctx)
}

// nextDeadline is the earliest deadline.
func (m *Manager) nextDeadline(ctx context.Context) (time.Time, error) {
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

// due applies one deadline and reports whether it moved a batch of
// devices (the transaction then ends). Deadlines are hints: the records
// say what is really due, so a deadline left over by an earlier change
// does nothing.
func (m *Manager) due(tx Tx, o *op, d Deadline) (bool, error) {
	switch d.Kind {
	case DeadlineCampaignStart, DeadlineCampaignEnd, DeadlineCampaignSweep, DeadlinePushGiveUp:
		c, err := tx.Campaign(d.Key)
		if errors.Is(err, ErrNotFound) {
			return false, tx.DeleteDeadline(d.Kind, d.Key)
		}
		if err != nil {
			return false, err
		}
		switch d.Kind {
		case DeadlineCampaignSweep:
			if c.Swept || c.Status.Active() {
				return false, tx.DeleteDeadline(d.Kind, d.Key)
			}
			_, err := m.sweep(tx, o, &c)
			return true, err
		case DeadlinePushGiveUp:
			if err := m.settle(tx, o, &c); err != nil {
				return false, err
			}
			if !running(c.Status) {
				return false, tx.DeleteDeadline(d.Kind, d.Key)
			}
			_, err := m.giveUp(tx, o, &c)
			return true, err
		}
		if err := tx.DeleteDeadline(d.Kind, d.Key); err != nil {
			return false, err
		}
		before := c.Status
		err = m.settle(tx, o, &c)
		// An end moved its first batch of devices: the transaction ends.
		return c.Status != before && !c.Status.Active(), err
	case DeadlineLoggingExpiry:
		if err := tx.DeleteDeadline(d.Kind, d.Key); err != nil {
			return false, err
		}
		s, err := tx.Session(d.Key)
		if err != nil {
			return false, err
		}
		next, expired := s.Expire(o.now, m.logging)
		if !expired {
			return false, nil
		}
		s.Session = next
		return false, tx.PutSession(s)
	case DeadlineLogPurge:
		if err := tx.DeleteDeadline(d.Kind, d.Key); err != nil {
			return false, err
		}
		bundles, err := tx.Bundles(d.Key)
		if err != nil {
			return false, err
		}
		_, next := verboselog.Purge(bundles, o.now, m.logging)
		// Purged means now >= UploadedAt + Retention.
		if err := tx.DeleteBundles(d.Key, o.now.Add(-m.logging.Retention).Add(1)); err != nil {
			return false, err
		}
		if next.IsZero() {
			return false, nil
		}
		return false, m.putDeadline(tx, o, DeadlineLogPurge, d.Key, next)
	}
	return false, tx.DeleteDeadline(d.Kind, d.Key)
}
