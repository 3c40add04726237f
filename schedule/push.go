package schedule

import "time"

// Push is the compiled timing of a push-family campaign (LwM2M, OMA-DM):
// when it starts. What happens to a device that does not answer is the
// Policy's attempt plan (Attempt, GiveUpAt) and OMADMNotifyAt.
type Push struct {
	start    Date
	startsAt time.Time
	onDemand bool
	policy   Policy
}

// NewPush compiles a push campaign's start date, scheduled at now. A start
// date of today (UTC) is on-demand: the campaign starts at now +
// PreValidation ("usually within two hours"). A later date is a future
// campaign: "Updates in the future normally begin around 12:00 AM UTC", so
// it starts at 00:00 UTC on that date. A zero date is ErrMissingDate, a past
// one ErrStartPassed, a bad policy ErrBadPolicy.
func NewPush(start Date, now time.Time, p Policy) (*Push, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if start.IsZero() {
		return nil, fieldErr("startDate", "", ErrMissingDate, "")
	}
	if !start.valid() {
		return nil, fieldErr("startDate", start.String(), ErrBadDate, "not a calendar day in 0001..9999")
	}
	today := DateOf(now)
	switch {
	case start.Before(today):
		return nil, fieldErr("startDate", start.String(), ErrStartPassed, "today is "+today.String())
	case start.Equal(today):
		return &Push{start: start, startsAt: now.UTC().Add(p.PreValidation), onDemand: true, policy: p}, nil
	}
	return &Push{start: start, startsAt: start.Start(), policy: p}, nil
}

// StartsAt is when the first push goes out: now + PreValidation for an
// on-demand campaign, 00:00 UTC on the start date otherwise.
func (c *Push) StartsAt() time.Time { return c.startsAt }

// OnDemand reports whether the start date was the day of scheduling.
func (c *Push) OnDemand() bool { return c.onDemand }

// StartDate is the requested start date.
func (c *Push) StartDate() Date { return c.start }

// Policy is the policy the campaign was compiled with.
func (c *Push) Policy() Policy { return c.policy }

// Attempt is the n-th attempt of the plan for a device first pushed at
// StartsAt (see Policy.Attempt).
func (c *Push) Attempt(n int) (time.Time, bool) { return c.policy.Attempt(c.startsAt, n) }

// GiveUpAt is when a device that answered no attempt fails (see
// Policy.GiveUpAt).
func (c *Push) GiveUpAt() time.Time { return c.policy.GiveUpAt(c.startsAt) }

// Change moves the start date. Before StartsAt anything may change, with
// NewPush's rules applied at now; from StartsAt on the start is fixed
// (ErrStartFixed, unless the date is unchanged, which returns c). The
// receiver is never modified.
func (c *Push) Change(start Date, now time.Time) (*Push, error) {
	if now.Before(c.startsAt) {
		return NewPush(start, now, c.policy)
	}
	if start != c.start {
		return nil, fieldErr("startDate", start.String(), ErrStartFixed, "started at "+c.startsAt.Format(time.RFC3339))
	}
	return c, nil
}
