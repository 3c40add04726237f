// Package lifecycle compiles a lifecycle's transitions, declared once as
// looplab/fsm Events, into a small table that the per-device hot path can
// consult without building an *fsm.FSM.
//
// Every lifecycle in fota (campaigns, devices in campaigns, licences, pilot
// gates, logging sessions) is written as an fsm.Events value. From that one
// declaration come:
//
//   - the runtime table (Compile): a flat array indexed by state and event,
//     where a transition is one bounds-checked load and allocates nothing;
//   - the state diagram (Diagram), drawn by fsm.VisualizeWithType so that
//     docs cannot drift from the code;
//   - the oracle for property tests (LooplabNext), which asks a real
//     looplab FSM what it would do, so tests prove the table agrees.
//
// A looplab *fsm.FSM costs about 2 KB and 7 µs to build and about 1 µs per
// event; a million devices must not each carry one. Callbacks in looplab
// cannot return errors, so fota never uses them: the caller decides with the
// table first and applies effects afterwards.
//
// Every illegal event is reported as a *TransitionError, which matches
// ErrInvalidTransition with errors.Is whichever lifecycle produced it.
package lifecycle
