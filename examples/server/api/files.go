package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// Configuration files (ThingSpace's configurationFiles and
// campaignsV2.scheduleFileUpgrade): an account uploads files (POST
// /files/{acc}), lists them (GET /files/{acc}) and schedules a campaign
// that delivers one to its HTTP devices (POST /campaigns/files/{acc}).
// A file is kept in the Catalog as a package of the Manager's (name, make,
// model, the file's version as softwareTo, a download path on this
// server, size and SHA-256), so a file campaign is an HTTP campaign like
// any other: the same schedule, dates, windows, pilot gate, check-ins,
// reports and statuses. Devices download the file from FileDownloadPath.

// MaxFiles bounds an account's configuration files: GET /files/{acc} has
// no paging, and the SDK's documentation of RetrievesAvailableFilesResponseList
// caps its list at 100.
const MaxFiles = 100

// FileDownloadPath is where devices fetch configuration files: the
// check-in's downloadUrl is this path and the file's id, a relative
// reference to this server.
const FileDownloadPath = DevicePrefix + "/files/"

// configFile is one uploaded version of a configuration file.
type configFile struct {
	id              string // 128 random bits in hex: FileDownloadPath's last segment
	name, version   string
	make_, model    string
	localTargetPath string
	launchDate      schedule.Date
	content         []byte
	sha256          string // hex
}

func (f *configFile) url() string { return FileDownloadPath + f.id }

// pkg is the file as the Manager's package: its version is the version
// the campaign installs.
func (f *configFile) pkg() fota.Package {
	return fota.Package{Name: f.name, Make: f.make_, Model: f.model, To: f.version, URL: f.url(),
		Size: int64(len(f.content)), SHA256: f.sha256}
}

// putFile adds a file to the account, or replaces the one of its name.
// A replaced version stays downloadable for the campaigns that were
// scheduled with it: superseded versions of the name are dropped here,
// at a later upload, once inUse (the download URLs of the account's
// campaigns that have not ended) no longer holds them. A software
// package of the same name, or a new name past MaxFiles, is refused.
func (c *Catalog) putFile(account string, f *configFile, inUse map[string]bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, isPackage := c.listing[account][f.name]; isPackage {
		return &fota.RequestError{Field: "fileupload", Value: f.name, Reason: "a software package of the account has that name"}
	}
	files := c.files[account]
	prev, replaces := files[f.name]
	if !replaces && len(files) >= MaxFiles {
		return &fota.RequestError{Field: "fileupload", Value: f.name,
			Reason: fmt.Sprintf("the account has %d configuration files, as many as its listing holds; upload a new version of one of them", MaxFiles)}
	}
	if files == nil {
		files = map[string]*configFile{}
		c.files[account] = files
		c.old[account] = map[string][]string{}
	}
	old := c.old[account][f.name]
	kept := old[:0]
	for _, id := range old {
		if inUse[c.blobs[id].url()] {
			kept = append(kept, id)
		} else {
			delete(c.blobs, id)
		}
	}
	if replaces {
		kept = append(kept, prev.id) // perhaps just scheduled: kept until the next upload at least
	}
	c.old[account][f.name] = kept
	files[f.name] = f
	c.blobs[f.id] = f
	c.packages.Put(account, f.pkg())
	return nil
}

// accountFiles is the account's current files, by name.
func (c *Catalog) accountFiles(account string) []*configFile {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*configFile, 0, len(c.files[account]))
	for _, f := range c.files[account] {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *configFile) int { return strings.Compare(a.name, b.name) })
	return out
}

// file is the account's current file of that name.
func (c *Catalog) file(account, name string) (*configFile, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	f, ok := c.files[account][name]
	return f, ok
}

// blob is the file version of that id, if it is still kept.
func (c *Catalog) blob(id string) (*configFile, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	f, ok := c.blobs[id]
	return f, ok
}

// fileCatalog is Options.Packages, or CodeUnsupported: without a catalog
// that the Manager reads, a file could not become a campaign's package.
func (s *server) fileCatalog() (*Catalog, error) {
	if s.opts.Packages == nil {
		return nil, &httpError{status: http.StatusBadRequest, code: CodeUnsupported,
			msg: "configuration files are kept in the software catalog, and this server has none (Options.Packages)"}
	}
	return s.opts.Packages, nil
}

// UploadedFile answers an upload (UploadConfigurationFilesResponse):
// launchDate is the upload's day, distributionType "HTTP",
// devicePlatformId DefaultDevicePlatform.
type UploadedFile struct {
	FileName         string `json:"fileName"`
	FileVersion      string `json:"fileVersion"`
	LaunchDate       string `json:"launchDate"`
	Model            string `json:"model,omitempty"`
	Make             string `json:"make,omitempty"`
	DistributionType string `json:"distributionType"`
	DevicePlatformID string `json:"devicePlatformId"`
	LocalTargetPath  string `json:"localTargetPath,omitempty"`
}

// AvailableFile is one file as GET /files/{acc} lists it
// (RetrievesAvailableFilesResponse).
type AvailableFile struct {
	FileName         string `json:"fileName"`
	FileVersion      string `json:"fileVersion"`
	Make             string `json:"make,omitempty"`
	Model            string `json:"model,omitempty"`
	LocalTargetPath  string `json:"localTargetPath,omitempty"`
	DistributionType string `json:"distributionType"`
	DevicePlatformID string `json:"devicePlatformId"`
}

// AvailableFiles answers GET /files/{acc}
// (RetrievesAvailableFilesResponseList, with its capital-A key).
type AvailableFiles struct {
	AvailableFilesResponse []AvailableFile `json:"AvailableFilesResponse"`
}

// The upload's multipart fields besides the file (the SDK's
// uploadConfigFile sends each only when it has it), and their bounds.
var fileFields = map[string]int{"fileVersion": fota.MaxNameBytes, "make": fota.MaxNameBytes,
	"model": fota.MaxNameBytes, "localTargetPath": DefaultMaxStringBytes}

// uploadFile: POST /files/{acc}, multipart/form-data as the SDK sends it:
// the file in part "fileupload" (its file name names it), and fileVersion,
// make, model and localTargetPath. fileVersion is required although the
// SDK has it optional: it is the version a campaign installs. make and
// model, when given, are the devices the file is for.
func (s *server) uploadFile(r *http.Request, acc string) (any, error) {
	cat, err := s.fileCatalog()
	if err != nil {
		return nil, err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &fota.RequestError{Field: "Content-Type", Value: r.Header.Get("Content-Type"),
			Reason: "want multipart/form-data: the file in part fileupload, and fileVersion, make, model, localTargetPath"}
	}
	var f configFile
	var content []byte
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, multipartError(err)
		}
		name := part.FormName()
		_, dup := fields[name]
		bound, isField := fileFields[name]
		bound = min(bound, s.opts.MaxStringBytes)
		switch {
		case dup:
			return nil, &fota.RequestError{Field: name, Value: "", Reason: "sent twice"}
		case name == "fileupload":
			fields[name] = ""
			f.name = part.FileName() // its base name
			if content, err = io.ReadAll(part); err != nil {
				return nil, multipartError(err)
			}
		case isField:
			b, err := io.ReadAll(io.LimitReader(part, int64(bound)+1))
			if err != nil {
				return nil, multipartError(err)
			}
			if err := checkText(name, string(b), bound); err != nil {
				return nil, err
			}
			fields[name] = string(b)
		case s.opts.Lenient:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, multipartError(err)
			}
		default:
			return nil, &fota.RequestError{Field: name, Value: "", Reason: "unknown field"}
		}
	}
	if _, ok := fields["fileupload"]; !ok {
		return nil, &fota.RequestError{Field: "fileupload", Value: "", Reason: "required: the file"}
	}
	if err := checkFileName(f.name); err != nil {
		return nil, err
	}
	f.version, f.make_, f.model, f.localTargetPath = fields["fileVersion"], fields["make"], fields["model"], fields["localTargetPath"]
	if f.version == "" {
		return nil, &fota.RequestError{Field: "fileVersion", Value: "", Reason: "required: the version a campaign of the file installs"}
	}
	sum := sha256.Sum256(content)
	f.content, f.sha256, f.id, f.launchDate = content, hex.EncodeToString(sum[:]), newFileID(), schedule.DateOf(s.now())
	inUse, err := s.fleet.downloadsInUse(r.Context(), acc)
	if err != nil {
		return nil, err
	}
	if err := cat.putFile(acc, &f, inUse); err != nil {
		return nil, err
	}
	return UploadedFile{FileName: f.name, FileVersion: f.version, LaunchDate: f.launchDate.String(), Model: f.model, Make: f.make_,
		DistributionType: device.HTTP.String(), DevicePlatformID: DefaultDevicePlatform, LocalTargetPath: f.localTargetPath}, nil
}

// checkFileName refuses a file name that is empty or no name at all
// (".", ".."), or one a package name could not be.
func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return &fota.RequestError{Field: "fileupload", Value: name, Reason: "want a file with a file name"}
	}
	return checkText("fileupload", name, fota.MaxNameBytes)
}

// multipartError keeps the body limit's error (413, TooLarge) and makes
// anything else a bad request.
func multipartError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return &fota.RequestError{Field: "body", Value: "", Reason: "malformed multipart/form-data: " + err.Error()}
}

// newFileID is 128 random bits in hex.
func newFileID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// listFiles: GET /files/{acc}?distributionType= (required, as the SDK
// sends it): the account's files, by name. Files are for HTTP devices:
// another distribution type lists none.
func (s *server) listFiles(r *http.Request, acc string) (any, error) {
	cat, err := s.fileCatalog()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query().Get("distributionType")
	if v == "" {
		return nil, &fota.RequestError{Field: "distributionType", Value: "", Reason: `required: "HTTP", the devices configuration files are for`}
	}
	p, err := device.ParseProtocol(v)
	if err != nil {
		return nil, &fota.RequestError{Field: "distributionType", Value: v, Reason: `want "HTTP", "LWM2M" or "OMA-DM"`}
	}
	out := AvailableFiles{AvailableFilesResponse: []AvailableFile{}}
	if p != device.HTTP {
		return out, nil
	}
	for _, f := range cat.accountFiles(acc) {
		out.AvailableFilesResponse = append(out.AvailableFilesResponse, AvailableFile{FileName: f.name, FileVersion: f.version,
			Make: f.make_, Model: f.model, LocalTargetPath: f.localTargetPath, DistributionType: device.HTTP.String(),
			DevicePlatformID: DefaultDevicePlatform})
	}
	return out, nil
}

// FileCampaignRequest is the body of POST /campaigns/files/{acc}
// (UploadAndScheduleFileRequest): the file by its name (and version, if
// given, which must be the file's), and the campaign's dates, windows
// (hours as numbers or digit strings) and devices.
type FileCampaignRequest struct {
	CampaignName     string   `json:"campaignName,omitempty"`
	FileName         string   `json:"fileName"`
	FileVersion      string   `json:"fileVersion,omitempty"`
	DistributionType string   `json:"distributionType,omitempty"`
	DeviceList       []string `json:"deviceList"`
	// Timing holds the dates and windows; in JSON its fields sit at the
	// top level, as in the SDK's model.
	Timing schedule.HTTPRequest `json:"-"`
}

// UnmarshalJSON reads the flat request; errors name the field.
func (r *FileCampaignRequest) UnmarshalJSON(b []byte) error {
	type fields FileCampaignRequest // without this method
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &f.Timing); err != nil {
		return err
	}
	*r = FileCampaignRequest(f)
	return nil
}

// fileCampaignFields are the request's JSON fields, for the strict
// decoder: its own and the timing's.
var fileCampaignFields = slices.Concat(fieldsOf(reflect.TypeFor[FileCampaignRequest]()), fieldsOf(reflect.TypeFor[schedule.HTTPRequest]()))

// scheduleFile: POST /campaigns/files/{acc} (UploadAndScheduleFileRequest
// → UploadAndScheduleFileResponse, string hours). It schedules through
// the Manager exactly as POST /campaigns/software/{acc} does, with the
// file as the software: softwareName the file's name, softwareTo its
// version, make and model the file's (from the catalog), and, as a fota
// campaign upgrades devices from one version, softwareFrom the version
// its devices report (fileSoftwareFrom).
func (s *server) scheduleFile(r *http.Request, acc string) (any, error) {
	cat, err := s.fileCatalog()
	if err != nil {
		return nil, err
	}
	var req FileCampaignRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.FileName == "" {
		return nil, &fota.RequestError{Field: "fileName", Value: "", Reason: "required: one of the account's configuration files (GET /files/{acc})"}
	}
	f, ok := cat.file(acc, req.FileName)
	if !ok {
		return nil, &fota.RequestError{Field: "fileName", Value: req.FileName, Reason: "no configuration file of that name in the account (GET /files/{acc} lists them)"}
	}
	if req.FileVersion != "" && req.FileVersion != f.version {
		return nil, &fota.RequestError{Field: "fileVersion", Value: req.FileVersion, Reason: "the account's file " + f.name + " is version " + f.version}
	}
	if req.DistributionType != "" && req.DistributionType != device.HTTP.String() {
		return nil, &fota.RequestError{Field: "distributionType", Value: req.DistributionType, Reason: `want "HTTP": configuration files go to HTTP devices`}
	}
	if err := checkDeviceList("deviceList", req.DeviceList); err != nil {
		return nil, err
	}
	from, err := s.fileSoftwareFrom(r.Context(), acc, f, req.DeviceList)
	if err != nil {
		return nil, err
	}
	c, err := s.fleet.schedule(r.Context(), acc, fota.CampaignRequest{
		CampaignName: req.CampaignName, SoftwareName: f.name, SoftwareFrom: from, SoftwareTo: f.version,
		DistributionType: device.HTTP.String(), Timing: req.Timing, DeviceList: req.DeviceList,
	})
	if err != nil {
		return nil, err
	}
	out := scheduledSoftware(c, req.DeviceList)
	out.FileName, out.FileVersion = f.name, f.version
	return out, nil
}

// fileSoftwareFrom is a file campaign's softwareFrom: the software
// version that the listed devices able to take the file (the account's,
// known to the inventory, of the file's make and model when it has them)
// report. They must all report the same one; the request naming devices
// of two versions is refused, naming the first device of the second. The
// others are left to the Manager, which rejects them ("Device not
// found.", make and model); when there is none, every device is rejected
// and the file's version stands in.
func (s *server) fileSoftwareFrom(ctx context.Context, acc string, f *configFile, ids []string) (string, error) {
	if s.opts.Inventory == nil {
		return "", &httpError{status: http.StatusBadRequest, code: CodeUnsupported,
			msg: "a configuration-file campaign takes its devices' software version from the inventory, and this server has none (Options.Inventory)"}
	}
	var from, first string
	for _, id := range ids {
		info, found, err := s.opts.Inventory.Lookup(ctx, id)
		if err != nil {
			return "", err
		}
		if !found || (info.Account != "" && info.Account != acc) ||
			(f.make_ != "" && info.Make != f.make_) || (f.model != "" && info.Model != f.model) {
			continue
		}
		switch {
		case first == "" && info.Software == "":
			return "", &fota.RequestError{Field: "deviceList", Value: id,
				Reason: "reports no software version: a configuration-file campaign takes its devices' version as its softwareFrom"}
		case first == "":
			first, from = id, info.Software
		case info.Software != from:
			return "", &fota.RequestError{Field: "deviceList", Value: id,
				Reason: strconv.Quote(info.Software) + " is its software version, where " + first + " has " + strconv.Quote(from) +
					": a campaign takes devices of one version; schedule one campaign per version"}
		}
	}
	if first == "" {
		return f.version, nil
	}
	return from, nil
}

// downloadFile: GET /api/fota/device/files/{fileId}, a configuration
// file's bytes. The id, 128 random bits, is the credential: the server
// tells it only in the check-in answers of the devices of a campaign of
// the file (downloadUrl), as a signed URL would be. An unknown id is 404.
func (s *server) downloadFile(w http.ResponseWriter, r *http.Request) {
	if err := s.checkRequest(r); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("fileId")
	var f *configFile
	ok := false
	if s.opts.Packages != nil {
		f, ok = s.opts.Packages.blob(id)
	}
	if !ok {
		s.fail(w, r, &fota.NotFoundError{Kind: "file", ID: id})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(f.content)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.name}))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.content)
}

// localTargetPath is where a device puts the configuration file a
// check-in answer tells it to download ("" for software).
func (s *server) localTargetPath(in fota.Instruction) string {
	id, ok := strings.CutPrefix(in.PackageURL, FileDownloadPath)
	if !ok || s.opts.Packages == nil {
		return ""
	}
	if f, ok := s.opts.Packages.blob(id); ok {
		return f.localTargetPath
	}
	return ""
}
