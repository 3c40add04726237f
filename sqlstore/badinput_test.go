package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

// badTexts are texts PostgreSQL cannot hold, or no index can key.
var badTexts = map[string]string{
	"NUL":           "lamp\x00fw",
	"invalid UTF-8": "lamp\xff\xfe",
	"over-long":     strings.Repeat("x", 64<<10),
}

// TestBadInputThroughManager: requests carrying text a database cannot
// hold are refused by the Manager over sqlstore as bad requests naming
// the field, never as internal errors, and nothing is written.
func TestBadInputThroughManager(t *testing.T) {
	pool := openPool(t)
	s := newStore(t, pool, Options{})
	ctx := context.Background()
	inv, ids := inventory(t, 3)
	clk := &fixedClock{now: testStart}
	liftGate(t, s)
	m, err := fota.New(fota.Config{Store: s, Inventory: inv, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.Schedule(ctx, "acme", onDemand(testStart, ids))
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range badTexts {
		for _, c := range []struct {
			op    string
			field string
			call  func() error
		}{
			{"schedule name", "campaignName", func() error {
				req := onDemand(testStart, ids)
				req.CampaignName = bad
				_, err := m.Schedule(ctx, "acme", req)
				return err
			}},
			{"schedule device", "deviceList", func() error {
				_, err := m.Schedule(ctx, "acme", onDemand(testStart, []string{bad}))
				return err
			}},
			{"schedule account", "accountName", func() error {
				_, err := m.Schedule(ctx, bad, onDemand(testStart, ids))
				return err
			}},
			{"check-in device", "deviceId", func() error {
				_, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: bad})
				return err
			}},
			{"check-in result", "result", func() error {
				_, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[0], Result: bad})
				return err
			}},
			{"report campaign", "campaignId", func() error {
				_, err := m.Report(ctx, bad, ids[0], fota.OutcomeDownloaded)
				return err
			}},
			{"report device", "deviceId", func() error {
				_, err := m.Report(ctx, good.ID, bad, fota.OutcomeDownloaded)
				return err
			}},
		} {
			err := c.call()
			var re *fota.RequestError
			if !errors.Is(err, fota.ErrBadRequest) || !errors.As(err, &re) || re.Field != c.field {
				t.Errorf("%s with %s: %v; want a bad request naming %s", c.op, name, err, c.field)
			}
		}
	}
	if err := s.View(ctx, func(tx fota.Tx) error {
		cs, err := tx.Campaigns("acme", "", -1)
		if err == nil && len(cs) != 1 {
			return errors.New("a refused request created a campaign")
		}
		hist, err := tx.CheckIns(ids[0], time.Time{}, -1)
		if err == nil && len(hist) != 0 {
			return errors.New("a refused check-in was recorded")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBadInputThroughTx: whatever a caller hands the store directly, text
// PostgreSQL cannot hold is refused as a *fota.RequestError before any
// statement is sent, so the transaction goes on and commits what else it
// wrote.
func TestBadInputThroughTx(t *testing.T) {
	pool := openPool(t)
	s := newStore(t, pool, Options{})
	ctx := context.Background()
	for name, bad := range badTexts {
		writes := []func(fota.Tx) error{
			func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: "c1", Name: bad}) },
			func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: bad}) },
			func(tx fota.Tx) error {
				return tx.PutMember(fota.Member{CampaignID: "ok", DeviceID: bad, State: device.StateAccepted})
			},
			func(tx fota.Tx) error { return tx.PutDevice(fota.DeviceRecord{DeviceID: "d1", Account: bad}) },
			func(tx fota.Tx) error { return tx.SetActiveCampaign(bad, "ok") },
			func(tx fota.Tx) error {
				return tx.AddCheckIn(verboselog.CheckIn{DeviceID: "d1", Result: bad, TimeCompleted: testStart}, 10)
			},
			func(tx fota.Tx) error {
				return tx.PutDeadline(fota.Deadline{Kind: fota.DeadlineCampaignEnd, Key: bad, At: testStart})
			},
			func(tx fota.Tx) error {
				return tx.PutSession(fota.LogSession{Account: bad, Session: verboselog.Session{DeviceID: "d1"}})
			},
			func(tx fota.Tx) error {
				return tx.AddBundle(verboselog.Bundle{DeviceID: "d1", EventLog: bad, UploadedAt: testStart})
			},
		}
		// Long text that no index keys is PostgreSQL's to hold (up to a
		// gigabyte): only ids are bounded.
		heldWhenLong := map[int]bool{0: true, 5: true, 8: true}
		for i, w := range writes {
			if name == "over-long" && heldWhenLong[i] {
				if err := s.Update(ctx, w); err != nil {
					t.Errorf("long text in write %d: %v; want it kept", i, err)
				}
				continue
			}
			err := s.Update(ctx, func(tx fota.Tx) error {
				if err := tx.PutCampaign(fota.Campaign{ID: "ok"}); err != nil {
					return err
				}
				var re *fota.RequestError
				if err := w(tx); !errors.As(err, &re) || !errors.Is(err, fota.ErrBadRequest) {
					t.Errorf("%s, write %d: %v; want a *fota.RequestError", name, i, err)
				}
				return nil // the refused write sent nothing: the rest commits
			})
			if err != nil {
				t.Errorf("%s, write %d: the transaction after a refused write: %v", name, i, err)
			}
		}
		err := s.UpdateDevice(ctx, "d1", func(tx fota.DeviceTx) error {
			err := tx.AddCheckIn(verboselog.CheckIn{DeviceID: bad, TimeCompleted: testStart}, 10)
			if !errors.Is(err, fota.ErrBadRequest) {
				t.Errorf("%s: device AddCheckIn of another device id: %v; want a bad request", name, err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: device transaction after a refused write: %v", name, err)
		}
	}
}
