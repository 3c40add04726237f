package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out1, out2, errs bytes.Buffer
	if code := run([]string{"-devices", "300", "-seed", "7"}, &out1, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"pilot: 20 devices", "rollout: 280 devices", "UpgradeSuccess", "Download and install succeeded.", "pilot gate: Lifted"} {
		if !strings.Contains(out1.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out1.String())
		}
	}
	if !strings.Contains(errs.String(), "events/s") {
		t.Errorf("no speed on stderr: %q", errs.String())
	}
	if code := run([]string{"-devices", "300", "-seed", "7"}, &out2, &errs); code != 0 || !bytes.Equal(out1.Bytes(), out2.Bytes()) {
		t.Fatalf("a second run with the same seed printed something else (exit %d)", code)
	}
}

func TestRunJSON(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-devices", "60", "-json", "-install-fail", "1", "-zone", "Europe/Paris"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var rep struct {
		Devices   int
		PilotGate string
		Campaigns []struct {
			Name, Refused string
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Devices != 60 || rep.PilotGate != "Standing" || len(rep.Campaigns) != 2 ||
		!strings.Contains(rep.Campaigns[1].Refused, "pilot") {
		t.Fatalf("every install failing: %+v", rep)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-devices", "0"},
		{"-devices", "ten"},
		{"-offline", "2"},
		{"-zone", "Nowhere/Atlantis"},
		{"-pilot", "500", "-devices", "100"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 || out.Len() != 0 || !strings.Contains(errs.String(), "usage:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errs.String())
		}
	}
}
