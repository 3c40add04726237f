package fota

import (
	"context"
	"time"

	"github.com/fotakit/fota/pilot"
)

// Gate returns the pilot gate of an account's software (t.Account names
// the account): standing until a pilot of 5 to 20 devices reaches 50 %
// success, then lifted for good. Gates are per account and per software
// (name and versions); make and model are not part of the key (see
// package pilot).
func (m *Manager) Gate(ctx context.Context, t pilot.Target) (pilot.Gate, error) {
	if err := checkTarget(t); err != nil {
		return pilot.Gate{}, err
	}
	var g pilot.Gate
	err := m.view(ctx, func(tx Tx, _ time.Time) error {
		var err error
		g, err = tx.Gate(t)
		return err
	})
	return g, err
}

// LiftGate lifts an account's software's pilot gate by an operator's
// decision (say, the pilot ran on another system): campaigns of any size
// may follow. Lifting a lifted gate is ErrInvalidTransition.
func (m *Manager) LiftGate(ctx context.Context, t pilot.Target) (pilot.Gate, error) {
	if err := checkTarget(t); err != nil {
		return pilot.Gate{}, err
	}
	var g pilot.Gate
	err := m.update(ctx, "liftGate", func(tx Tx, o *op) error {
		cur, err := tx.Gate(t)
		if err != nil {
			return err
		}
		if g, err = cur.Lift(o.now); err != nil {
			return err
		}
		return tx.PutGate(g)
	})
	return g, err
}

func checkTarget(t pilot.Target) error {
	if err := checkAccount(t.Account); err != nil {
		return err
	}
	if t.SoftwareName == "" {
		return &RequestError{Field: "softwareName", Value: "", Reason: "required"}
	}
	return checkTexts(text{"softwareName", t.SoftwareName, maxName}, text{"softwareFrom", t.SoftwareFrom, maxName},
		text{"softwareTo", t.SoftwareTo, maxName})
}
