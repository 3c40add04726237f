package pilot

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// ratioPolicy is a Policy whose SuccessRatio is the fraction num/den, so the
// model can judge successes with integers only.
type ratioPolicy struct {
	Policy
	num, den int
}

func drawPolicy(t *rapid.T) ratioPolicy {
	if rapid.Bool().Draw(t, "default policy") {
		return ratioPolicy{DefaultPolicy(), 1, 2}
	}
	minD := rapid.IntRange(1, 10).Draw(t, "MinDevices")
	maxD := rapid.IntRange(minD, minD+25).Draw(t, "MaxDevices")
	den := rapid.IntRange(1, 10).Draw(t, "ratio den")
	num := rapid.IntRange(1, den).Draw(t, "ratio num")
	return ratioPolicy{Policy{minD, maxD, float64(num) / float64(den)}, num, den}
}

// learnt is one outcome the model has seen, in order.
type learnt struct {
	o   Outcome
	now time.Time
}

// campaign is one admitted, unfinished campaign.
type campaign struct {
	target   Target
	devices  int  // size asked for when admitted
	standing bool // whether its gate stood when it was admitted
}

// gateModel holds the machine's expectations: for each target, the plain
// list of outcomes learnt, from which the gate is derived afresh.
type gateModel struct {
	p       ratioPolicy
	gs      *Gates
	targets []Target
	history map[Target][]learnt
	running []campaign
	now     time.Time
	wasUp   map[Target]bool // gates seen lifted, which must stay so
}

// counted and passed restate "what counts" with integers only.
func (m *gateModel) counted(o Outcome) bool {
	return o.Ending == EndedNormally && m.p.MinDevices <= o.Devices && o.Devices <= m.p.MaxDevices
}

func (m *gateModel) passed(o Outcome) bool {
	return m.counted(o) && o.Succeeded*m.p.den >= m.p.num*o.Devices
}

// expect derives a target's gate from its history: the first counted pilot
// that passed lifts it; pilots are counted up to and including that one.
func (m *gateModel) expect(t Target) Gate {
	g := Gate{Target: t}
	for _, l := range m.history[t] {
		if !m.counted(l.o) {
			continue
		}
		g.Pilots++
		if m.passed(l.o) {
			g.State, g.LiftedAt = Lifted, l.now
			break
		}
	}
	return g
}

func (m *gateModel) tick(t *rapid.T) {
	m.now = m.now.Add(time.Duration(rapid.IntRange(0, 3*24*60).Draw(t, "minutes")) * time.Minute)
}

func (m *gateModel) learn(t *rapid.T, tg Target, o Outcome) {
	m.tick(t)
	before := m.expect(tg)
	g, lifted, err := m.gs.Learn(tg, o, m.now)
	if err != nil {
		t.Fatalf("Learn(%v, %+v): %v", tg, o, err)
	}
	m.history[tg] = append(m.history[tg], learnt{o, m.now})
	want := m.expect(tg)
	if g != want {
		t.Fatalf("Learn(%v, %+v) = %+v, model %+v", tg, o, g, want)
	}
	if lifted != (!before.Lifted() && want.Lifted()) {
		t.Fatalf("Learn(%v, %+v) reported lifted=%v; before %v, after %v", tg, o, lifted, before.State, want.State)
	}
}

func (m *gateModel) drawOutcome(t *rapid.T, devices int) Outcome {
	ending := Ending(rapid.IntRange(int(EndedNormally), int(Failed)).Draw(t, "ending"))
	rejected := rapid.IntRange(0, devices).Draw(t, "rejected")
	accepted := devices - rejected
	return Outcome{ending, accepted, rapid.IntRange(0, accepted).Draw(t, "succeeded")}
}

// TestGatesMachine drives Gates with random admissions, campaign endings,
// stray and impossible outcomes and restores, against gateModel.
// Invariants: while a gate stands no admitted campaign for its target
// exceeds MaxDevices; a lifted gate stays lifted; a gate is lifted iff some
// outcome learnt while it stood ended normally, had MinDevices..MaxDevices
// accepted devices and met the ratio.
func TestGatesMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := drawPolicy(t)
		gs := &Gates{Policy: p.Policy}
		if p.Policy == DefaultPolicy() && rapid.Bool().Draw(t, "zero Policy") {
			gs.Policy = Policy{}
		}
		m := &gateModel{
			p:  p,
			gs: gs,
			targets: []Target{
				tracker,
				{Account: "acme", SoftwareName: "tracker-fw", SoftwareFrom: "1.0", SoftwareTo: "1.2"},
				{Account: "bolt", SoftwareName: "meter-fw", SoftwareFrom: "7", SoftwareTo: "8"},
			},
			history: map[Target][]learnt{},
			now:     t0,
			wasUp:   map[Target]bool{},
		}
		target := func(t *rapid.T) Target { return rapid.SampledFrom(m.targets).Draw(t, "target") }

		t.Repeat(map[string]func(*rapid.T){
			"schedule": func(t *rapid.T) {
				tg := target(t)
				n := rapid.IntRange(-3, 3*p.MaxDevices).Draw(t, "devices")
				want := m.expect(tg)
				if got := m.gs.IsPilot(tg, n); got != (!want.Lifted() && p.MinDevices <= n && n <= p.MaxDevices) {
					t.Fatalf("IsPilot(%v, %d) = %v with gate %+v", tg, n, got, want)
				}
				err := m.gs.Admit(tg, n)
				var le *LimitError
				var ce *CountError
				switch {
				case n < 0:
					if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidCount) || ce.Value != n || ce.Target != tg {
						t.Fatalf("Admit(%v, %d) = %v, want *CountError", tg, n, err)
					}
				case !want.Lifted() && n > p.MaxDevices:
					if !errors.As(err, &le) || !errors.Is(err, ErrPilotRequired) ||
						*le != (LimitError{Target: tg, Limit: p.MaxDevices, Requested: n}) {
						t.Fatalf("Admit(%v, %d) = %v, want *LimitError", tg, n, err)
					}
				default:
					if err != nil {
						t.Fatalf("Admit(%v, %d) = %v with gate %+v", tg, n, err, want)
					}
					m.running = append(m.running, campaign{tg, n, !want.Lifted()})
				}
			},
			"finish": func(t *rapid.T) {
				if len(m.running) == 0 {
					t.Skip("no campaign running")
				}
				i := rapid.IntRange(0, len(m.running)-1).Draw(t, "campaign")
				c := m.running[i]
				m.running = append(m.running[:i], m.running[i+1:]...)
				m.learn(t, c.target, m.drawOutcome(t, c.devices))
			},
			"stray outcome": func(t *rapid.T) {
				// An outcome of a campaign admitted elsewhere (an older
				// policy, another host): any size.
				tg := target(t)
				m.learn(t, tg, m.drawOutcome(t, rapid.IntRange(0, 3*p.MaxDevices).Draw(t, "devices")))
			},
			"impossible outcome": func(t *rapid.T) {
				tg := target(t)
				before := m.gs.Gate(tg)
				o := Outcome{EndedNormally, rapid.IntRange(0, 30).Draw(t, "devices"), 0}
				field := rapid.SampledFrom([]string{"Ending", "Devices", "Succeeded"}).Draw(t, "field")
				switch field {
				case "Ending":
					o.Ending = Ending(rapid.SampledFrom([]int{0, 5, 255}).Draw(t, "bad ending"))
				case "Devices":
					o.Devices = rapid.IntRange(-1000, -1).Draw(t, "negative devices")
				case "Succeeded":
					if rapid.Bool().Draw(t, "negative") {
						o.Succeeded = rapid.IntRange(-1000, -1).Draw(t, "negative succeeded")
					} else {
						o.Succeeded = o.Devices + rapid.IntRange(1, 10).Draw(t, "excess")
					}
				}
				g, lifted, err := m.gs.Learn(tg, o, m.now)
				var oe *OutcomeError
				if !errors.As(err, &oe) || !errors.Is(err, ErrInvalidOutcome) || oe.Field != field || oe.Target != tg {
					t.Fatalf("Learn(%v, %+v) = %v, want *OutcomeError on %s", tg, o, err, field)
				}
				if lifted || g != before || m.gs.Gate(tg) != before {
					t.Fatalf("failed Learn changed the gate: %+v -> %+v (stored %+v)", before, g, m.gs.Gate(tg))
				}
			},
			"restore": func(t *rapid.T) {
				// The host saves every gate and restores them elsewhere.
				fresh := &Gates{Policy: m.gs.Policy}
				for _, g := range m.gs.All() {
					if err := fresh.Put(g); err != nil {
						t.Fatalf("Put(%+v): %v", g, err)
					}
				}
				m.gs = fresh
			},
			"": func(t *rapid.T) {
				for _, tg := range m.targets {
					g := m.gs.Gate(tg)
					if want := m.expect(tg); g != want {
						t.Fatalf("gate %v = %+v, model %+v", tg, g, want)
					}
					if m.wasUp[tg] && !g.Lifted() {
						t.Fatalf("gate %v was lifted and stands again", tg)
					}
					m.wasUp[tg] = g.Lifted()
				}
				for _, c := range m.running {
					if c.standing && c.devices > p.MaxDevices {
						t.Fatalf("campaign of %d devices for %v admitted while its gate stood (limit %d)", c.devices, c.target, p.MaxDevices)
					}
					if !m.gs.Gate(c.target).Lifted() && c.devices > p.MaxDevices {
						t.Fatalf("standing gate %v has a running campaign of %d devices (limit %d)", c.target, c.devices, p.MaxDevices)
					}
				}
			},
		})
	})
}
