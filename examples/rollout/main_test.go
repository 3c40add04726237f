package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRolloutRunsPilotThenFleet(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-devices", "60", "-seed", "3"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	got := out.String()
	for _, want := range []string{
		"full rollout before a pilot: ", "exceeds the pilot limit of 20",
		"pilot campaign-1: 20 devices, CampaignScheduled",
		"rollout campaign-2: 40 devices, CampaignScheduled",
		"CampaignEnded", "UpgradeSuccess  Download and install succeeded.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// The same seed gives the same run.
	var again bytes.Buffer
	run([]string{"-devices", "60", "-seed", "3"}, &again, &errs)
	if again.String() != got {
		t.Fatalf("two runs with one seed differ:\n%s\n---\n%s", got, again.String())
	}
}

func TestRolloutRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-devices", "20"}, {"-fail", "2"}, {"-nope"}, {"extra"}} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 || errs.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs.String())
		}
	}
}
