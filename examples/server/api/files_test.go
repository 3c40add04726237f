package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/examples/server/api"
)

// part is one multipart part of an upload: a field, or the file when
// fileName is set.
type part struct{ name, fileName, value string }

// multipartBody is a multipart/form-data body as the SDK's
// uploadConfigFile sends it (the file as application/octet-stream), and
// its Content-Type.
func multipartBody(t testing.TB, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var dst io.Writer
		var err error
		if p.fileName != "" {
			dst, err = w.CreateFormFile(p.name, p.fileName)
		} else {
			dst, err = w.CreateFormField(p.name)
		}
		if err == nil {
			_, err = io.WriteString(dst, p.value)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, w.FormDataContentType()
}

// upload sends POST /files/acme as the SDK does; the answer is checked
// against the OpenAPI document.
func (f *fixture) upload(parts ...part) (int, []byte) {
	f.t.Helper()
	body, ct := multipartBody(f.t, parts...)
	return f.sdk("POST", v2+"/files/acme", ct, body)
}

// helloParts upload hello-world.txt, version v, for Acme Lamps.
func helloParts(content, v string) []part {
	return []part{
		{name: "fileupload", fileName: "hello-world.txt", value: content},
		{name: "fileVersion", value: v}, {name: "make", value: "Acme"}, {name: "model", value: "Lamp"},
		{name: "localTargetPath", value: "/VZWFOTA/hello-world.txt"},
	}
}

// fileCampaignBody is an UploadAndScheduleFileRequest for devs, as the
// SDK sends it (string hours), with extra fields (without braces).
func fileCampaignBody(start, end string, devs []string, extra string) string {
	s := fmt.Sprintf(`{"campaignName":"greeting","fileName":"hello-world.txt","distributionType":"HTTP","startDate":%q,"endDate":%q,`+
		`"downloadTimeWindowList":[{"startTime":"2","endTime":"4"}],"deviceList":%s`, start, end, list(devs...))
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

// A configuration file from upload to the end of its campaign: uploaded
// as the SDK sends it (multipart), listed, scheduled (POST
// /campaigns/files/{acc}) through the Manager's lifecycle as an HTTP
// campaign; the devices check in, download the file's bytes from the
// downloadUrl they are told (checked against its size and SHA-256),
// install it, and the campaign moves from queued to scheduled to ended.
func TestConfigurationFileCampaign(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	content := "greeting=hello\nvolume=7\n"
	devs := f.ids[:2]

	code, raw := f.upload(helloParts(content, "7")...)
	var up api.UploadedFile
	if err := json.Unmarshal(raw, &up); code != 200 || err != nil {
		t.Fatalf("upload: %d %s", code, raw)
	}
	want := api.UploadedFile{FileName: "hello-world.txt", FileVersion: "7", LaunchDate: today, Model: "Lamp", Make: "Acme",
		DistributionType: "HTTP", DevicePlatformID: "IoT", LocalTargetPath: "/VZWFOTA/hello-world.txt"}
	if up != want {
		t.Fatalf("upload answered %+v, want %+v", up, want)
	}

	var files api.AvailableFiles
	raw = f.sdkOK("GET", v2+"/files/acme?distributionType=HTTP", "", "", &files)
	if !strings.Contains(string(raw), `"AvailableFilesResponse":[`) || len(files.AvailableFilesResponse) != 1 ||
		files.AvailableFilesResponse[0] != (api.AvailableFile{FileName: "hello-world.txt", FileVersion: "7", Make: "Acme", Model: "Lamp",
			LocalTargetPath: "/VZWFOTA/hello-world.txt", DistributionType: "HTTP", DevicePlatformID: "IoT"}) {
		t.Fatalf("listing: %s", raw)
	}
	f.sdkOK("GET", v2+"/files/acme?distributionType=LWM2M", "", "", &files)
	if len(files.AvailableFilesResponse) != 0 {
		t.Fatalf("LWM2M files: %+v", files)
	}
	var software []api.SoftwarePackage
	f.ok("GET", v2+"/software/acme", "", &software)
	if len(software) != 3 || slices.ContainsFunc(software, func(p api.SoftwarePackage) bool { return p.SoftwareName == "hello-world.txt" }) {
		t.Fatalf("the software catalog lists the file: %+v", software)
	}

	// Scheduled for tomorrow, 02:00-04:00, as the SDK sends it.
	var sched api.ScheduledSoftware
	raw = f.sdkOK("POST", v2+"/campaigns/files/acme", "application/json", fileCampaignBody(tomorrow, "2026-03-05", devs, `"fileVersion":"7"`), &sched)
	if sched.ID != "c1" || sched.FileName != "hello-world.txt" || sched.FileVersion != "7" || sched.SoftwareName != "hello-world.txt" ||
		sched.SoftwareFrom != "1.0" || sched.SoftwareTo != "7" || sched.Make != "Acme" || sched.Model != "Lamp" ||
		sched.CampaignName != "greeting" || sched.DistributionType != "HTTP" || sched.Status != "CampaignRequestQueued" ||
		!slices.Equal(sched.DeviceList, devs) || sched.StartDate.String() != tomorrow {
		t.Fatalf("scheduled: %s", raw)
	}
	if !strings.Contains(string(raw), `"downloadTimeWindowList":[{"startTime":"2","endTime":"4"}]`) {
		t.Errorf("the answer's hours are not strings (DownloadTimeWindow): %s", raw)
	}
	// The same campaign through the Manager and the ordinary routes.
	info, err := f.m.Campaign(context.Background(), "acme", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != campaign.HTTPQueued || info.Target.SoftwareName != "hello-world.txt" || info.Counts.Accepted() != 2 ||
		!strings.HasPrefix(info.Package.URL, api.FileDownloadPath) || info.Package.Size != int64(len(content)) {
		t.Fatalf("the Manager's campaign: %+v", info)
	}
	var c api.CampaignSoftware
	f.ok("GET", v2+"/campaigns/acme/c1", "", &c)
	if c.Status != "CampaignRequestQueued" || c.SoftwareName != "hello-world.txt" {
		t.Fatalf("GET campaign: %+v", c)
	}

	f.clk.Set(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	f.tick()
	f.ok("GET", v2+"/campaigns/acme/c1", "", &c)
	if c.Status != "CampaignScheduled" {
		t.Fatalf("at the start: %s", c.Status)
	}
	sum := sha256.Sum256([]byte(content))
	for i, d := range devs {
		var in api.CheckInResponse
		f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, &in)
		if in.Action != fota.ActionDownload || in.CampaignID != "c1" || in.SoftwareName != "hello-world.txt" || in.SoftwareTo != "7" ||
			in.PackageSize != int64(len(content)) || in.PackageSHA256 != hex.EncodeToString(sum[:]) ||
			in.LocalTargetPath != "/VZWFOTA/hello-world.txt" || !strings.HasPrefix(in.PackageURL, api.FileDownloadPath) {
			t.Fatalf("check-in: %+v", in)
		}
		// The download: no credential but the URL, the file's bytes.
		req := newRequest("GET", in.PackageURL, "")
		code, got := f.send(req)
		if code != 200 || string(got) != content {
			t.Fatalf("download %s: %d %q", in.PackageURL, code, got)
		}
		if g := sha256.Sum256(got); hex.EncodeToString(g[:]) != in.PackageSHA256 {
			t.Fatal("the download does not match its sha256")
		}
		f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"downloaded"}`, nil)
		if i == 0 {
			info, err := f.m.Campaign(context.Background(), "acme", "c1")
			if err != nil || info.Status != campaign.HTTPInProgress {
				t.Fatalf("after the first download: %v %v", info.Status, err)
			}
		}
		f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, &in)
		if in.Action != fota.ActionInstall || in.LocalTargetPath != "/VZWFOTA/hello-world.txt" {
			t.Fatalf("check-in after the download: %+v", in)
		}
		f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"installed"}`, nil)
	}
	f.ok("GET", v2+"/campaigns/acme/c1", "", &c)
	if c.Status != "CampaignEnded" {
		t.Fatalf("after every device installed the file: %s", c.Status)
	}
	var page fota.DevicePage
	f.ok("GET", v2+"/reports/acme/campaigns/c1/devices", "", &page)
	if page.TotalDevice != 2 || page.DeviceList[0].Status != "UpgradeSuccess" || page.DeviceList[1].Status != "UpgradeSuccess" {
		t.Fatalf("device page: %+v", page)
	}
	var hist []api.DeviceSoftwareUpgrade
	f.ok("GET", v2+"/reports/acme/devices/"+devs[0], "", &hist)
	if len(hist) != 1 || hist[0].SoftwareName != "hello-world.txt" || hist[0].Status != "UpgradeSuccess" {
		t.Fatalf("the device's history: %+v", hist)
	}
}

// A file uploaded again under its name replaces it for the listing and
// new campaigns; a campaign scheduled before keeps downloading the bytes
// it was scheduled with while it runs, and a later upload drops them
// once no campaign that has not ended downloads them.
func TestConfigurationFileReplaced(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.upload(helloParts("old", "1")...)
	var sched api.ScheduledSoftware
	f.ok("POST", v2+"/campaigns/files/acme", fileCampaignBody(today, "2026-03-05", f.ids[:1], ""), &sched)
	var in api.CheckInResponse
	f.clk.Set(time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC)) // in the download window
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`, &in)
	oldURL := in.PackageURL
	if in.Action != fota.ActionDownload || oldURL == "" {
		t.Fatalf("check-in: %+v", in)
	}

	if code, b := f.upload(helloParts("new", "2")...); code != 200 {
		t.Fatalf("second upload: %d %s", code, b)
	}
	var files api.AvailableFiles
	f.ok("GET", v2+"/files/acme?distributionType=HTTP", "", &files)
	if len(files.AvailableFilesResponse) != 1 || files.AvailableFilesResponse[0].FileVersion != "2" {
		t.Fatalf("after the second upload: %+v", files)
	}
	f.upload(helloParts("newer", "3")...) // the campaign still runs: "old" is kept
	if code, b := f.send(newRequest("GET", oldURL, "")); code != 200 || string(b) != "old" {
		t.Fatalf("the running campaign's download: %d %q", code, b)
	}
	f.fails("POST", v2+"/campaigns/files/acme", fileCampaignBody(today, "2026-03-05", f.ids[1:2], `"fileVersion":"1"`),
		http.StatusBadRequest, api.CodeBadRequest) // version 1 is no longer the file's

	f.ok("DELETE", v2+"/campaigns/acme/c1", "", nil) // aborted: nothing downloads "old" any more
	f.upload(helloParts("newest", "4")...)
	if code, b := f.send(newRequest("GET", oldURL, "")); code != http.StatusNotFound || !strings.Contains(string(b), "NotFound") {
		t.Fatalf("a dropped version: %d %s", code, b)
	}
}

// Bad input to the three operations is the SDK's 400 error body naming
// the field and the value; nothing is uploaded or scheduled.
func TestConfigurationFileBadInput(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.upload(helloParts("x", "7")...)
	long := strings.Repeat("v", 300)
	for _, tc := range []struct {
		name         string
		parts        []part
		field, value string
	}{
		{"no file", []part{{name: "fileVersion", value: "1"}}, "fileupload", "required"},
		{"no version", []part{{name: "fileupload", fileName: "a.txt", value: "x"}}, "fileVersion", "required"},
		{"an empty version", []part{{name: "fileupload", fileName: "a.txt", value: "x"}, {name: "fileVersion"}}, "fileVersion", "required"},
		{"a long version", []part{{name: "fileupload", fileName: "a.txt", value: "x"}, {name: "fileVersion", value: long}}, "fileVersion", long[:20]},
		{"a version twice", []part{{name: "fileupload", fileName: "a.txt", value: "x"}, {name: "fileVersion", value: "1"}, {name: "fileVersion", value: "2"}}, "fileVersion", "twice"},
		{"an unknown field", []part{{name: "fileupload", fileName: "a.txt", value: "x"}, {name: "fileVersion", value: "1"}, {name: "releaseNote", value: "n"}}, "releaseNote", "unknown field"},
		{"a file without a file name", []part{{name: "fileupload", value: "x"}, {name: "fileVersion", value: "1"}}, "fileupload", `""`},
		{"a software package's name", []part{{name: "fileupload", fileName: "lamp-fw", value: "x"}, {name: "fileVersion", value: "1"}}, "fileupload", "lamp-fw"},
	} {
		t.Run("upload "+tc.name, func(t *testing.T) {
			g := *f
			g.t = t
			code, b := g.upload(tc.parts...)
			var e api.Error
			_ = json.Unmarshal(b, &e)
			if code != 400 || e.ErrorCode != api.CodeBadRequest || !strings.Contains(e.ErrorMessage, tc.field) || !strings.Contains(e.ErrorMessage, tc.value) {
				t.Errorf("%d %s, want 400 BadRequest naming %s and %q", code, b, tc.field, tc.value)
			}
		})
	}
	code, b := f.sdk("POST", v2+"/files/acme", "application/json", strings.NewReader(`{"fileName":"a.txt"}`))
	if code != 400 || !strings.Contains(string(b), "Content-Type") || !strings.Contains(string(b), "application/json") {
		t.Errorf("a JSON upload: %d %s", code, b)
	}

	info, _, _ := f.inv.Lookup(context.Background(), f.ids[3])
	info.Software = "1.1"
	f.inv.Put(info)
	for _, tc := range []struct{ name, method, path, body, field, value string }{
		{"list without distributionType", "GET", v2 + "/files/acme", "", "distributionType", "required"},
		{"list of an unknown distributionType", "GET", v2 + "/files/acme?distributionType=SMS", "", "distributionType", "SMS"},
		{"schedule without fileName", "POST", v2 + "/campaigns/files/acme", `{"startDate":"2026-03-02","endDate":"2026-03-05","deviceList":` + list(f.ids[0]) + `}`, "fileName", "required"},
		{"schedule of an unknown file", "POST", v2 + "/campaigns/files/acme", strings.Replace(fileCampaignBody(tomorrow, "2026-03-05", f.ids[:1], ""), "hello-world.txt", "bye.txt", 1), "fileName", "bye.txt"},
		{"schedule of another version", "POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", f.ids[:1], `"fileVersion":"6"`), "fileVersion", "6"},
		{"schedule for LWM2M", "POST", v2 + "/campaigns/files/acme", strings.Replace(fileCampaignBody(tomorrow, "2026-03-05", f.ids[:1], ""), `"HTTP"`, `"LWM2M"`, 1), "distributionType", "LWM2M"},
		{"schedule without devices", "POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", nil, ""), "deviceList", "at least one"},
		{"schedule for devices of two versions", "POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", f.ids[2:5], ""), "deviceList", f.ids[3]},
		{"schedule with a bad window", "POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", f.ids[:1], `"installTimeWindowList":[{"startTime":"x","endTime":"4"}]`), "installTimeWindowList[0].startTime", "x"},
		{"schedule with an unknown field", "POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", f.ids[:1], `"softwareName":"lamp-fw"`), "softwareName", "unknown field"},
		{"schedule with a start passed", "POST", v2 + "/campaigns/files/acme", fileCampaignBody("2026-02-27", "2026-03-05", f.ids[:1], ""), "startDate", "2026-02-27"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := *f
			g.t = t
			code, b := g.do(tc.method, tc.path, tc.body)
			var e api.Error
			_ = json.Unmarshal(b, &e)
			if code != 400 || !strings.Contains(e.ErrorMessage, tc.field) || !strings.Contains(e.ErrorMessage, tc.value) {
				t.Errorf("%d %s, want 400 naming %s and %q", code, b, tc.field, tc.value)
			}
		})
	}
	var h api.CampaignHistory
	f.ok("GET", v2+"/reports/acme/campaigns", "", &h)
	var files api.AvailableFiles
	f.ok("GET", v2+"/files/acme?distributionType=HTTP", "", &files)
	if len(h.CampaignList) != 0 || len(files.AvailableFilesResponse) != 1 || files.AvailableFilesResponse[0].FileVersion != "7" {
		t.Fatalf("refused requests left %+v and %+v", h.CampaignList, files)
	}
	// Another account's files are not this token's; its listing is its own.
	f.tok = tokens["acme"]
	f.fails("GET", v2+"/files/other?distributionType=HTTP", "", http.StatusForbidden, api.CodeForbidden)
	f.tok = ""
	f.ok("GET", v2+"/files/other?distributionType=HTTP", "", &files)
	if len(files.AvailableFilesResponse) != 0 {
		t.Fatalf("other's files: %+v", files)
	}
}

// An account holds at most api.MaxFiles files; a new version of one of
// them is still accepted.
func TestConfigurationFileLimit(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: quietOptions()})
	for i := range api.MaxFiles {
		if code, b := f.upload(part{name: "fileupload", fileName: fmt.Sprintf("f%03d.txt", i), value: "x"}, part{name: "fileVersion", value: "1"}); code != 200 {
			t.Fatalf("file %d: %d %s", i, code, b)
		}
	}
	code, b := f.upload(part{name: "fileupload", fileName: "one-too-many.txt", value: "x"}, part{name: "fileVersion", value: "1"})
	if code != 400 || !strings.Contains(string(b), "one-too-many.txt") {
		t.Fatalf("file %d: %d %s", api.MaxFiles+1, code, b)
	}
	if code, b := f.upload(part{name: "fileupload", fileName: "f007.txt", value: "y"}, part{name: "fileVersion", value: "2"}); code != 200 {
		t.Fatalf("a new version at the limit: %d %s", code, b)
	}
}

// A download needs no device credential, only the id the check-in told;
// an unknown id is 404 in the error body. Without a catalog the file
// routes say so in the SDK's shape.
func TestFileDownloadAndNoCatalog(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	code, b := f.send(newRequest("GET", api.FileDownloadPath+"0123456789abcdef0123456789abcdef", ""))
	if code != http.StatusNotFound || !strings.Contains(string(b), `"errorCode":"NotFound"`) {
		t.Fatalf("unknown file: %d %s", code, b)
	}
	opts := f.opts()
	opts.Packages = nil
	f.h = api.New(f.m, opts)
	for _, c := range []struct{ method, path, body string }{
		{"GET", v2 + "/files/acme?distributionType=HTTP", ""},
		{"POST", v2 + "/campaigns/files/acme", fileCampaignBody(tomorrow, "2026-03-05", f.ids[:1], "")},
	} {
		if msg := f.fails(c.method, c.path, c.body, 400, api.CodeUnsupported); !strings.Contains(msg, "catalog") {
			t.Errorf("%s %s: %q", c.method, c.path, msg)
		}
	}
	body, ct := multipartBody(t, helloParts("x", "1")...)
	if code, b := f.sdk("POST", v2+"/files/acme", ct, body); code != 400 || !strings.Contains(string(b), api.CodeUnsupported) {
		t.Errorf("upload without a catalog: %d %s", code, b)
	}
}
