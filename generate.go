package fota

// docs/lifecycles.md is drawn from the lifecycles' fsm.Events;
// internal/diagrams' test fails when it is stale.

//go:generate go run ./internal/diagrams/cmd/gen
