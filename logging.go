package fota

import (
	"context"
	"time"

	"github.com/fotakit/fota/verboselog"
)

// LoggingStatus is a device with verbose logging on, as ThingSpace's
// DeviceLoggingStatus lists it.
type LoggingStatus struct {
	DeviceID   string    `json:"deviceId"`
	ExpiryDate time.Time `json:"expiryDate"`
}

// collect starts a pending logging session collecting at the device's
// check-in (or lets a session past its seven days expire).
func (m *Manager) collect(tx DeviceTx, now time.Time) error {
	if d, ok := tx.(*devTx); ok && d.noSession() {
		// Most devices never had a session: the memory store's
		// transaction says so from a bit, with no record built.
		return nil
	}
	s, err := tx.Session()
	if err != nil || !s.On() {
		return err
	}
	next := s.Session.CheckIn(now, m.logging)
	if next == s.Session {
		return nil
	}
	s.Session = next
	return tx.PutSession(s)
}

// EnableLogging turns verbose logging on for HTTP devices of an account:
// at most Logging.MaxEnabled at once (20), each for Logging.Duration
// (7 days); collection starts at each device's next check-in. All devices
// are enabled or none.
func (m *Manager) EnableLogging(ctx context.Context, account string, deviceIDs []string) ([]LoggingStatus, error) {
	if err := checkDeviceList(deviceIDs); err != nil {
		return nil, err
	}
	infos, err := m.owned(ctx, account, deviceIDs)
	if err != nil {
		return nil, err
	}
	var out []LoggingStatus
	err = m.update(ctx, "enableLogging", func(tx Tx, o *op) error {
		out = out[:0]
		on, err := m.sessionsOn(tx, account, o.now)
		if err != nil {
			return err
		}
		for _, info := range infos {
			s, err := tx.Session(info.DeviceID)
			if err != nil {
				return err
			}
			next, err := verboselog.Enable(s.Current(o.now, m.logging), info.DeviceID, info.Protocol, len(on), o.now, m.logging)
			if err != nil {
				return err
			}
			if !s.Current(o.now, m.logging).On() {
				on = append(on, next)
			}
			if err := tx.PutSession(LogSession{Account: account, Session: next}); err != nil {
				return err
			}
			if err := m.putDeadline(tx, o, DeadlineLoggingExpiry, info.DeviceID, next.ExpiresAt(m.logging)); err != nil {
				return err
			}
			out = append(out, LoggingStatus{DeviceID: info.DeviceID, ExpiryDate: next.ExpiresAt(m.logging)})
		}
		return nil
	})
	return out, err
}

// sessionsOn lists the account's sessions that are on at now.
func (m *Manager) sessionsOn(tx Tx, account string, now time.Time) ([]verboselog.Session, error) {
	all, err := tx.Sessions(account)
	if err != nil {
		return nil, err
	}
	var on []verboselog.Session
	for _, s := range all {
		if c := s.Current(now, m.logging); c.On() {
			on = append(on, c)
		}
	}
	return on, nil
}

// DisableLogging turns verbose logging off early for devices of an
// account. Uploaded logs stay fetchable until they are purged.
func (m *Manager) DisableLogging(ctx context.Context, account string, deviceIDs []string) error {
	if err := checkDeviceList(deviceIDs); err != nil {
		return err
	}
	return m.update(ctx, "disableLogging", func(tx Tx, o *op) error {
		for _, id := range deviceIDs {
			s, err := tx.Session(id)
			if err != nil {
				return err
			}
			if s.State != 0 && s.Account != account {
				return &NotFoundError{Kind: "logging session", ID: id}
			}
			next, err := s.Current(o.now, m.logging).Disable(o.now)
			if err != nil {
				return err
			}
			s.Session = next
			if err := tx.PutSession(s); err != nil {
				return err
			}
			if err := tx.DeleteDeadline(DeadlineLoggingExpiry, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoggingDevices lists the account's devices with logging on.
func (m *Manager) LoggingDevices(ctx context.Context, account string) ([]LoggingStatus, error) {
	var out []LoggingStatus
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		on, err := m.sessionsOn(tx, account, now)
		for _, s := range on {
			out = append(out, LoggingStatus{DeviceID: s.DeviceID, ExpiryDate: s.ExpiresAt(m.logging)})
		}
		return err
	})
	return out, err
}

// UploadLog stores a log bundle a device uploaded while collecting; it is
// purged Logging.Retention (30 days) after upload. It is a device
// operation.
func (m *Manager) UploadLog(ctx context.Context, b verboselog.Bundle) error {
	if err := checkDeviceID("deviceId", b.DeviceID); err != nil {
		return err
	}
	o := getOp()
	defer o.release()
	return m.updateDevice(ctx, "uploadLog", b.DeviceID, o, func(tx DeviceTx, o *op) error {
		s, err := tx.Session()
		if err != nil {
			return err
		}
		if err := verboselog.Upload(s.Current(o.now, m.logging), b, o.now); err != nil {
			return err
		}
		b.UploadedAt = o.now
		if err := tx.AddBundle(b); err != nil {
			return err
		}
		// The earliest purge is never later than any bundle's: keep the
		// deadline already set if there is one.
		kept, err := tx.Bundles()
		if err != nil {
			return err
		}
		_, next := verboselog.Purge(kept, o.now, m.logging)
		o.wakeAt(next)
		return tx.PutDeadline(Deadline{Kind: DeadlineLogPurge, Key: b.DeviceID, At: next})
	})
}

// FetchLogs returns an account's device's uploaded logs: not before 24
// hours after logging was enabled (verboselog.ErrNotReady carries the
// time), and never a bundle past its purge time. A device the inventory
// does not know, or knows as another account's, is not found.
func (m *Manager) FetchLogs(ctx context.Context, account, deviceID string) ([]verboselog.Bundle, error) {
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return nil, err
	}
	if _, err := m.owned(ctx, account, []string{deviceID}); err != nil {
		return nil, err
	}
	var out []verboselog.Bundle
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		s, err := tx.Session(deviceID)
		if err != nil {
			return err
		}
		if s.State != 0 && s.Account != account {
			return &NotFoundError{Kind: "device", ID: deviceID}
		}
		bundles, err := tx.Bundles(deviceID)
		if err != nil {
			return err
		}
		out, err = verboselog.Fetch(s.Current(now, m.logging), bundles, now, m.logging)
		return err
	})
	return out, err
}

// CheckInHistory returns up to limit of an account's device's check-ins,
// newest first, older than before (zero: from the newest), within the
// history retention. It is kept whether or not logging is on. A device the
// inventory does not know, or knows as another account's, is not found.
func (m *Manager) CheckInHistory(ctx context.Context, account, deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return nil, err
	}
	if _, err := m.owned(ctx, account, []string{deviceID}); err != nil {
		return nil, err
	}
	var out []verboselog.CheckIn
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		all, err := tx.CheckIns(deviceID, before, limit)
		if m.logging.HistoryRetention > 0 {
			cut := now.Add(-m.logging.HistoryRetention)
			for i, c := range all {
				if !c.TimeCompleted.After(cut) {
					all = all[:i]
					break
				}
			}
		}
		out = all
		return err
	})
	return out, err
}
