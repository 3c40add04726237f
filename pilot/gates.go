package pilot

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Gates keeps the gates of many targets in memory, for hosts (tests, the
// simulator, single-process servers) that have no store of their own. The
// zero value is ready to use and applies DefaultPolicy. It is not safe for
// concurrent use: like the rest of this package it holds rules, not locks.
type Gates struct {
	// Policy judges every target; the zero Policy means DefaultPolicy().
	Policy Policy
	gates  map[Target]Gate
}

func (gs *Gates) policy() Policy {
	if gs.Policy == (Policy{}) {
		return DefaultPolicy()
	}
	return gs.Policy
}

// Gate returns the gate of target t: the one stored, or a standing gate
// that has counted no pilots.
func (gs *Gates) Gate(t Target) Gate {
	if g, ok := gs.gates[t]; ok {
		return g
	}
	return Gate{Target: t}
}

// Put stores g as the gate of g.Target, for a host restoring gates it saved.
// An invalid gate is refused with a *GateError and nothing is stored.
func (gs *Gates) Put(g Gate) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if gs.gates == nil {
		gs.gates = make(map[Target]Gate)
	}
	gs.gates[g.Target] = g
	return nil
}

// Admit is Gate.Admit for target t under the Gates' policy.
func (gs *Gates) Admit(t Target, devices int) error {
	return gs.Gate(t).Admit(devices, gs.policy())
}

// IsPilot is Gate.IsPilot for target t under the Gates' policy.
func (gs *Gates) IsPilot(t Target, devices int) bool {
	return gs.Gate(t).IsPilot(devices, gs.policy())
}

// Learn is Gate.Learn for target t under the Gates' policy; the new gate is
// stored only when the outcome changed it, and nothing is stored on error.
func (gs *Gates) Learn(t Target, o Outcome, now time.Time) (Gate, bool, error) {
	old := gs.Gate(t)
	g, lifted, err := old.Learn(o, now, gs.policy())
	if err != nil || g == old {
		return g, lifted, err
	}
	return g, lifted, gs.Put(g)
}

// All returns every stored gate, ordered by target (account, software
// name, software from, software to), so a host can save or print them
// deterministically.
func (gs *Gates) All() []Gate {
	out := make([]Gate, 0, len(gs.gates))
	for _, g := range gs.gates {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Gate) int { return compareTargets(a.Target, b.Target) })
	return out
}

func compareTargets(a, b Target) int {
	return cmp.Or(
		strings.Compare(a.Account, b.Account),
		strings.Compare(a.SoftwareName, b.SoftwareName),
		strings.Compare(a.SoftwareFrom, b.SoftwareFrom),
		strings.Compare(a.SoftwareTo, b.SoftwareTo),
	)
}
