package fota_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/schedule"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata transcripts with the output the code gives now")

// TestTranscripts runs the whole-campaign scenarios in testdata/*.txt. Each
// block is a command, a line "----", and the output it must give (the
// changes the observer saw, then the command's result), ended by a blank
// line. Run with -rewrite to regenerate the expected output after a
// deliberate change, then read the diff.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runTranscript(t, f) })
	}
}

type block struct {
	comments []string
	command  string
	want     []string
}

func parseTranscript(t *testing.T, path string) []block {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []block
	var b block
	inOutput := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inOutput && line == "":
			blocks, b, inOutput = append(blocks, b), block{}, false
		case inOutput:
			b.want = append(b.want, line)
		case line == "----":
			if b.command == "" {
				t.Fatalf("%s:%d: ---- without a command", path, n)
			}
			inOutput = true
		case line == "" || strings.HasPrefix(line, "#"):
			b.comments = append(b.comments, line)
		case b.command != "":
			t.Fatalf("%s:%d: a second command line before ----", path, n)
		default:
			b.command = line
		}
	}
	if inOutput {
		blocks = append(blocks, b)
	}
	return blocks
}

func runTranscript(t *testing.T, path string) {
	blocks := parseTranscript(t, path)
	r := newRunner(t)
	failed := false
	for i := range blocks {
		got := r.run(blocks[i].command)
		if *rewrite {
			blocks[i].want = got
			continue
		}
		if strings.Join(got, "\n") != strings.Join(blocks[i].want, "\n") {
			failed = true
			t.Errorf("%s: %s\n got:\n\t%s\nwant:\n\t%s", path, blocks[i].command,
				strings.Join(got, "\n\t"), strings.Join(blocks[i].want, "\n\t"))
		}
	}
	if *rewrite {
		var sb strings.Builder
		for _, b := range blocks {
			for _, c := range b.comments {
				sb.WriteString(c + "\n")
			}
			sb.WriteString(b.command + "\n----\n")
			for _, w := range b.want {
				sb.WriteString(w + "\n")
			}
			sb.WriteString("\n")
		}
		if err := os.WriteFile(path, []byte(strings.TrimRight(sb.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if failed {
		t.Log("run with -rewrite to regenerate after a deliberate change")
	}
}

type runner struct {
	t       *testing.T
	clock   *clock.Mock
	inv     *fota.MemoryInventory
	m       *fota.Manager
	changes []fota.Change
	last    string // the last campaign scheduled
	// leased holds each device's last command handed out, to confirm.
	leased map[string]fota.Command
}

func newRunner(t *testing.T) *runner {
	r := &runner{t: t, clock: clock.NewMock(), inv: fota.NewMemoryInventory(), leased: map[string]fota.Command{}}
	m, err := fota.New(fota.Config{
		Inventory: r.inv,
		Clock:     r.clock,
		Observer:  fota.ObserverFunc(func(c fota.Change) { r.changes = append(r.changes, c) }),
		NewID:     func(seq uint64) string { return fmt.Sprintf("c%d", seq) },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	return r
}

// imeiOf turns a transcript alias "d12" into a valid IMEI; anything else
// is used as written.
func imeiOf(alias string) string {
	n, err := strconv.Atoi(strings.TrimPrefix(alias, "d"))
	if !strings.HasPrefix(alias, "d") || err != nil || n < 0 || n > 999 {
		return alias
	}
	id, _ := device.IMEIOf(fmt.Sprintf("35693803564%03d", n))
	return id
}

func aliasOf(id string) string {
	if len(id) == 15 && strings.HasPrefix(id, "35693803564") {
		if n, err := strconv.Atoi(id[11:14]); err == nil && imeiOf(fmt.Sprintf("d%d", n)) == id {
			return fmt.Sprintf("d%d", n)
		}
	}
	return id
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

func (r *runner) parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	r.t.Fatalf("bad time %q", s)
	return time.Time{}
}

func args(fields []string) map[string]string {
	a := map[string]string{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			v = "yes"
		}
		a[k] = v
	}
	return a
}

func devices(list string) []string {
	var out []string
	for _, a := range strings.Split(list, ",") {
		if a != "" {
			out = append(out, imeiOf(a))
		}
	}
	return out
}

func (r *runner) windows(s string) []schedule.Window {
	if s == "" {
		return nil
	}
	var ws []schedule.Window
	for _, w := range strings.Split(s, ",") {
		a, b, _ := strings.Cut(w, "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			r.t.Fatalf("bad window %q", w)
		}
		ws = append(ws, schedule.Window{StartTime: lo, EndTime: hi})
	}
	return ws
}

func (r *runner) date(s string) schedule.Date {
	if s == "" {
		return schedule.Date{}
	}
	d, err := schedule.ParseDate("date", s)
	if err != nil {
		r.t.Fatalf("bad date %q", s)
	}
	return d
}

func (r *runner) timing(a map[string]string) schedule.HTTPRequest {
	return schedule.HTTPRequest{
		StartDate: r.date(a["start"]), EndDate: r.date(a["end"]),
		CampaignTimeWindowList: r.windows(a["windows"]),
		DownloadAfterDate:      r.date(a["downloadAfter"]), DownloadTimeWindowList: r.windows(a["download"]),
		InstallAfterDate: r.date(a["installAfter"]), InstallTimeWindowList: r.windows(a["install"]),
		TimeZone: a["zone"],
	}
}

func (r *runner) campaignArg(a map[string]string) string {
	if c := a["campaign"]; c != "" {
		return c
	}
	return r.last
}

func (r *runner) run(command string) []string {
	ctx := context.Background()
	fields := strings.Fields(command)
	a := args(fields[1:])
	var out []string
	var err error
	switch fields[0] {
	case "at":
		r.clock.Set(r.parseTime(fields[1]))
	case "advance":
		d, perr := time.ParseDuration(fields[1])
		if perr != nil {
			r.t.Fatalf("bad duration %q", fields[1])
		}
		r.clock.Add(d)
		out = append(out, "now "+ts(r.clock.Now()))
	case "device":
		proto, _ := device.ParseProtocol(or(a["protocol"], "HTTP"))
		if a["missing"] == "yes" {
			r.inv.Delete(imeiOf(fields[1]))
			break
		}
		r.inv.Put(fota.DeviceInfo{
			DeviceID: imeiOf(fields[1]), Account: "acme", Protocol: proto,
			Make: or(a["make"], "Acme"), Model: or(a["model"], "Lamp"), Software: or(a["software"], "1.0"),
			FOTACapable: a["fota"] != "no", ActiveConnected: a["connected"] != "no", Licensed: a["licensed"] == "yes",
		})
	case "schedule":
		var info fota.CampaignInfo
		info, err = r.m.Schedule(ctx, "acme", fota.CampaignRequest{
			CampaignName: a["name"], SoftwareName: or(a["software"], "lamp-fw"),
			SoftwareFrom: or(a["from"], "1.0"), SoftwareTo: or(a["to"], "2.0"), DistributionType: "HTTP",
			Make: a["make"], Model: a["model"], Timing: r.timing(a), DeviceList: devices(a["devices"]),
		})
		if err == nil {
			r.last = info.ID
			out = append(out, fmt.Sprintf("campaign %s starts %s ends %s on-demand=%v pilot=%v", info.ID, ts(info.StartsAt), ts(info.EndsAt), info.OnDemand, info.Pilot))
		}
	case "upgrade":
		var info fota.CampaignInfo
		info, err = r.m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{
			AccountName: "acme", CampaignName: a["name"], FirmwareName: or(a["firmware"], "lamp-fw"),
			FirmwareTo: or(a["to"], "2.0"), FirmwareFrom: a["from"], Make: a["make"], Model: a["model"],
			StartDate: r.date(a["start"]), EndDate: r.date(a["end"]), DeviceList: devices(a["devices"]),
		})
		if err == nil {
			r.last = info.ID
			out = append(out, fmt.Sprintf("campaign %s starts %s ends %s on-demand=%v", info.ID, ts(info.StartsAt), ts(info.EndsAt), info.OnDemand))
		}
	case "outbox":
		var cmds []fota.Command
		var next time.Time
		cmds, next, err = r.m.Outbox(ctx, atoi(a["limit"]))
		for _, c := range cmds {
			out = append(out, r.leaseLine(c))
		}
		if err == nil && len(cmds) == 0 {
			out = append(out, "nothing due; next "+ts(next))
		}
	case "confirm":
		id := imeiOf(fields[1])
		cmd, ok := r.leased[id]
		if !ok {
			r.t.Fatalf("confirm %s: no command handed out", fields[1])
		}
		if a["lease"] != "" {
			cmd.Lease = uint64(atoi(a["lease"]))
		}
		var res fota.PushResult
		res, err = r.m.Confirm(ctx, cmd, fota.Receipt{Delivered: a["delivered"] != "no", Status: atoi(or(a["status"], "204"))})
		out = append(out, r.pushLines(res, err)...)
	case "observe":
		var o lwm2m.Observation
		o, err = lwm2m.ParseObservation(int64(atoi(fields[2])), int64(atoi(fields[3])))
		if err == nil {
			var res fota.PushResult
			res, err = r.m.Observation(ctx, imeiOf(fields[1]), o)
			out = append(out, r.pushLines(res, err)...)
		}
	case "alert":
		var al omadm.Alert
		al, err = omadm.ParseAlert("1226", or(a["type"], omadm.TypeDownloadAndUpdate), "./FwUpdate/x/DownloadAndUpdate", "", fields[2])
		if err == nil {
			var res fota.PushResult
			res, err = r.m.Alert(ctx, imeiOf(fields[1]), al)
			out = append(out, r.pushLines(res, err)...)
		}
	case "connect":
		var res fota.PushResult
		res, err = r.m.Connected(ctx, imeiOf(fields[1]))
		out = append(out, r.pushLines(res, err)...)
	case "reachable":
		var res fota.PushResult
		res, err = r.m.Reachable(ctx, imeiOf(fields[1]))
		out = append(out, r.pushLines(res, err)...)
	case "fail":
		_, err = r.m.FailUpgrade(ctx, "acme", r.campaignArg(a))
	case "history":
		var recs []fota.UpgradeRecord
		recs, err = r.m.UpgradeHistory(ctx, "acme", imeiOf(fields[1]))
		for _, h := range recs {
			out = append(out, fmt.Sprintf("%s %s %s->%s %s %q result %d", h.CampaignID, h.SoftwareName, h.SoftwareFrom, h.SoftwareTo, h.Status, h.Reason, h.Result))
		}
	case "add":
		_, err = r.m.AddDevices(ctx, "acme", r.campaignArg(a), devices(fields[1]))
	case "remove":
		_, err = r.m.RemoveDevices(ctx, "acme", r.campaignArg(a), devices(fields[1]))
	case "change":
		var info fota.CampaignInfo
		info, err = r.m.ChangeDates(ctx, "acme", r.campaignArg(a), r.timing(a))
		if err == nil {
			out = append(out, fmt.Sprintf("campaign %s starts %s ends %s", info.ID, ts(info.StartsAt), ts(info.EndsAt)))
		}
	case "cancel":
		_, err = r.m.Cancel(ctx, "acme", r.campaignArg(a))
	case "abort":
		_, err = r.m.Abort(ctx, "acme", r.campaignArg(a))
	case "delete":
		_, err = r.m.Delete(ctx, "acme", r.campaignArg(a))
	case "checkin":
		var in fota.Instruction
		in, err = r.m.CheckIn(ctx, fota.CheckInRequest{DeviceID: imeiOf(fields[1]), ClientType: 6, Result: "ok"})
		if err == nil {
			out = append(out, fmt.Sprintf("%s until %s retry %s", in.Action, ts(in.Until), ts(in.RetryAt)))
		}
	case "report":
		var o fota.Outcome
		if err = o.UnmarshalText([]byte(fields[2])); err == nil {
			_, err = r.m.Report(ctx, r.campaignArg(args(fields[3:])), imeiOf(fields[1]), o)
		}
	case "tick":
		var next time.Time
		next, err = r.m.Tick(ctx)
		if err == nil {
			out = append(out, "next "+ts(next))
		}
	case "campaign":
		var info fota.CampaignInfo
		info, err = r.m.Campaign(ctx, "acme", r.campaignArg(a))
		if err == nil {
			out = append(out, fmt.Sprintf("%s %s accepted=%d succeeded=%d", info.ID, info.Status, info.Counts.Accepted(), info.Counts.Of(device.StateSucceeded)))
		}
	case "devices":
		var page fota.DevicePage
		page, err = r.m.Devices(ctx, "acme", r.campaignArg(a), a["after"], atoi(a["limit"]))
		if err == nil {
			for _, d := range page.DeviceList {
				line := fmt.Sprintf("%s %s %q", aliasOf(d.DeviceID), d.Status, d.ResultReason)
				if d.Protocol != 0 {
					line += fmt.Sprintf(" %s result %d", d.Protocol, d.Result)
				}
				out = append(out, line)
			}
			out = append(out, fmt.Sprintf("total %d more %v last %s", page.TotalDevice, page.HasMoreData, aliasOf(page.LastSeenDeviceID)))
		}
	default:
		r.t.Fatalf("unknown command %q", fields[0])
	}
	res := r.drain()
	if err != nil {
		msg := err.Error()
		for _, f := range strings.FieldsFunc(msg, func(c rune) bool { return c < '0' || c > '9' }) {
			msg = strings.ReplaceAll(msg, f, aliasOf(f))
		}
		res = append(res, "error: "+msg)
	}
	return append(res, out...)
}

// leaseLine renders a handed-out command and remembers it for confirm.
func (r *runner) leaseLine(c fota.Command) string {
	r.leased[c.DeviceID] = c
	return fmt.Sprintf("%s %s %s attempt %d lease %d until %s", aliasOf(c.DeviceID), c.Protocol, c.Kind, c.Attempt, c.Lease, ts(c.LeaseUntil))
}

// pushLines renders a push call's result.
func (r *runner) pushLines(res fota.PushResult, err error) []string {
	if err != nil {
		return nil
	}
	out := []string{"state " + res.State.String()}
	if res.Next != nil {
		out = append(out, "next: "+r.leaseLine(*res.Next))
	}
	return out
}

// drain renders the changes observed since the last command.
func (r *runner) drain() []string {
	var out []string
	for _, c := range r.changes {
		switch c.Kind {
		case fota.CampaignChanged:
			out = append(out, fmt.Sprintf("> campaign %s: %s", c.CampaignID, c.Status()))
		case fota.DeviceChanged:
			line := fmt.Sprintf("> device %s: %s", aliasOf(c.DeviceID), c.Status())
			if d := c.Detail(); d != "" {
				line += fmt.Sprintf(" %q", d)
			}
			if c.Result != 0 {
				line += fmt.Sprintf(" (result %d)", c.Result)
			}
			if !c.WireChanged {
				line += fmt.Sprintf(" (%s, same wire status)", c.State)
			}
			out = append(out, line)
		case fota.LicenseChanged:
			out = append(out, fmt.Sprintf("> license %s: %s %q", aliasOf(c.DeviceID), c.Status(), c.Detail()))
		}
	}
	r.changes = r.changes[:0]
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
