package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// DefaultDevicePlatform is a package's devicePlatformId when the catalog
// gives none: "IoT", the only value ThingSpace's examples show.
const DefaultDevicePlatform = "IoT"

// Package is one package of the server's software catalog: what the
// Manager reads (fota.Package: name, make, model, versions, download URL,
// size, hash) and what the catalog routes list beside it (Listing). In a
// catalog file it is one flat JSON object.
type Package struct {
	fota.Package
	Listing
}

// Listing is what the catalog routes show of a package beyond what the
// Manager reads.
type Listing struct {
	// Protocols are the distribution types the package is for ("HTTP",
	// "LWM2M", "OMA-DM"; "OMD-DM" is read as OMA-DM). /v2 lists the
	// package once per type; /v1 lists it if it is for LWM2M or OMA-DM.
	Protocols []device.Protocol `json:"distributionTypes"`
	// LaunchDate is when the package was released (default: the day the
	// catalog was loaded).
	LaunchDate  schedule.Date `json:"launchDate,omitzero"`
	ReleaseNote string        `json:"releaseNote,omitempty"`
	// DevicePlatformID is ThingSpace's devicePlatformId
	// (DefaultDevicePlatform when empty).
	DevicePlatformID string `json:"devicePlatformId,omitempty"`
}

// Catalog is the server's software catalog: a fota.PackageCatalog for
// the Manager (Config.Packages), through a fota.MemoryPackages, and the
// listing behind GET /software/{acc} and /v1 GET /firmware/{acc}. A
// schedule request that names one of an account's packages takes its
// make, model and versions from it, and devices are told its download
// URL, size and hash. It also keeps the configuration files uploaded
// through POST /files/{acc} (listed by GET /files/{acc}, not among the
// software), each a package of the Manager's too, so that a file
// campaign is scheduled as software is. A file and a software package
// of an account cannot share a name. It is safe for concurrent use.
type Catalog struct {
	packages *fota.MemoryPackages

	mu      sync.RWMutex
	listing map[string]map[string]Listing     // account → package name → listing
	files   map[string]map[string]*configFile // account → file name → its current version
	blobs   map[string]*configFile            // file id → a version devices may download
	old     map[string]map[string][]string    // account → file name → ids of superseded versions still kept
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{packages: fota.NewMemoryPackages(), listing: map[string]map[string]Listing{},
		files: map[string]map[string]*configFile{}, blobs: map[string]*configFile{}, old: map[string]map[string][]string{}}
}

// Put adds or replaces an account's package. A package without a name,
// a softwareTo or a distribution type, a malformed download URL or hash,
// a negative size, or text longer than the Manager accepts is a
// *fota.RequestError naming the field, and nothing changes.
func (c *Catalog) Put(account string, p Package) error {
	if err := checkPackage(account, p); err != nil {
		return err
	}
	p.Protocols = slices.Compact(slices.Sorted(slices.Values(p.Protocols)))
	if p.DevicePlatformID == "" {
		p.DevicePlatformID = DefaultDevicePlatform
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, isFile := c.files[account][p.Name]; isFile {
		return &fota.RequestError{Field: "softwareName", Value: p.Name, Reason: "a configuration file of the account has that name"}
	}
	c.packages.Put(account, p.Package)
	if c.listing[account] == nil {
		c.listing[account] = map[string]Listing{}
	}
	c.listing[account][p.Name] = p.Listing
	return nil
}

// checkPackage refuses what no schedule could use or no answer could
// carry.
func checkPackage(account string, p Package) error {
	bad := func(field, value, reason string) error {
		return &fota.RequestError{Field: field, Value: value, Reason: reason}
	}
	if account == "" {
		return bad("account", "", "required")
	}
	for _, f := range []struct{ field, value string }{{"softwareName", p.Name}, {"softwareTo", p.To}} {
		if f.value == "" {
			return bad(f.field, "", "required")
		}
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"account", account, fota.MaxNameBytes}, {"softwareName", p.Name, fota.MaxNameBytes},
		{"make", p.Make, fota.MaxNameBytes}, {"model", p.Model, fota.MaxNameBytes},
		{"softwareFrom", p.From, fota.MaxNameBytes}, {"softwareTo", p.To, fota.MaxNameBytes},
		{"downloadUrl", p.URL, fota.MaxURLBytes}, {"releaseNote", p.ReleaseNote, DefaultMaxStringBytes},
		{"devicePlatformId", p.DevicePlatformID, fota.MaxNameBytes},
	} {
		if err := checkText(f.field, f.value, f.max); err != nil {
			return err
		}
	}
	if len(p.Protocols) == 0 {
		return bad("distributionTypes", "", `at least one of "HTTP", "LWM2M", "OMA-DM" is required`)
	}
	for _, pr := range p.Protocols {
		if pr.Family() == 0 {
			return bad("distributionTypes", pr.String(), "not a distribution type")
		}
	}
	if p.URL != "" {
		if u, err := url.Parse(p.URL); err != nil || !u.IsAbs() {
			return bad("downloadUrl", p.URL, "want an absolute URL")
		}
	}
	if p.SHA256 != "" {
		if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != 32 {
			return bad("sha256", p.SHA256, "want 64 hex digits")
		}
	}
	if p.Size < 0 {
		return bad("size", fmt.Sprint(p.Size), "negative")
	}
	return nil
}

// Package implements fota.PackageCatalog.
func (c *Catalog) Package(ctx context.Context, account, name string) (fota.Package, bool, error) {
	return c.packages.Package(ctx, account, name)
}

// Packages implements fota.PackageCatalog.
func (c *Catalog) Packages(ctx context.Context, account string) ([]fota.Package, error) {
	return c.packages.Packages(ctx, account)
}

// List returns the account's software packages with their listings,
// ordered by name (configuration files are not software: GET
// /files/{acc} lists them).
func (c *Catalog) List(ctx context.Context, account string) ([]Package, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	pkgs, err := c.packages.Packages(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make([]Package, 0, len(pkgs))
	for _, p := range pkgs {
		if _, isFile := c.files[account][p.Name]; !isFile {
			out = append(out, Package{Package: p, Listing: c.listing[account][p.Name]})
		}
	}
	return out, nil
}

// ParsePackages reads a catalog file: a JSON object from account to its
// packages, each a flat Package object, for example
//
//	{"acme": [{"softwareName": "lamp-fw", "make": "Acme", "model": "Lamp",
//	  "softwareFrom": "1.0", "softwareTo": "2.0", "distributionTypes": ["HTTP"],
//	  "downloadUrl": "https://downloads.example.com/lamp-fw-2.0.bin",
//	  "size": 1048576, "sha256": "…", "launchDate": "2026-03-01"}]}
//
// A package without launchDate is launched on loaded's day. An unknown
// field, a package listed twice and every refusal of Catalog.Put is a
// *ConfigError naming the package ("acme[0].softwareTo").
func ParsePackages(r io.Reader, loaded time.Time) (*Catalog, error) {
	var file map[string][]json.RawMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&file); err != nil {
		return nil, &ConfigError{Field: "catalog", Reason: "want a JSON object from account to a list of packages: " + err.Error()}
	}
	accounts := make([]string, 0, len(file))
	for acc := range file {
		accounts = append(accounts, acc)
	}
	slices.Sort(accounts)
	c := NewCatalog()
	for _, acc := range accounts {
		seen := map[string]bool{}
		for i, raw := range file[acc] {
			at := fmt.Sprintf("%s[%d]", acc, i)
			var p Package
			d := json.NewDecoder(strings.NewReader(string(raw)))
			d.DisallowUnknownFields()
			if err := d.Decode(&p); err != nil {
				return nil, &ConfigError{Field: at, Reason: err.Error()}
			}
			if seen[p.Name] {
				return nil, &ConfigError{Field: at, Reason: fmt.Sprintf("package %q listed twice", p.Name)}
			}
			seen[p.Name] = true
			if p.LaunchDate.IsZero() {
				p.LaunchDate = schedule.DateOf(loaded)
			}
			if err := c.Put(acc, p); err != nil {
				var re *fota.RequestError
				if errors.As(err, &re) {
					return nil, &ConfigError{Field: at + "." + re.Field, Reason: fmt.Sprintf("%q: %s", re.Value, re.Reason)}
				}
				return nil, &ConfigError{Field: at, Reason: err.Error()}
			}
		}
	}
	return c, nil
}

// Firmware is one package as /v1 GET /firmware/{acc} lists it (Firmware):
// participantName is the account, launchDate an ISO 8601 instant.
type Firmware struct {
	FirmwareName    string `json:"firmwareName"`
	ParticipantName string `json:"participantName"`
	LaunchDate      string `json:"launchDate,omitempty"`
	ReleaseNote     string `json:"releaseNote,omitempty"`
	Model           string `json:"model"`
	Make            string `json:"make"`
	FromVersion     string `json:"fromVersion"`
	ToVersion       string `json:"toVersion"`
}

// SoftwarePackage is one package and distribution type as GET
// /software/{acc} lists it (SoftwarePackage).
type SoftwarePackage struct {
	SoftwareName     string `json:"softwareName"`
	LaunchDate       string `json:"launchDate"`
	ReleaseNote      string `json:"releaseNote,omitempty"`
	Model            string `json:"model"`
	Make             string `json:"make"`
	DistributionType string `json:"distributionType"`
	DevicePlatformID string `json:"devicePlatformId"`
}

// listFirmware: /v1 GET /firmware/{acc}, the account's packages for push
// devices (LWM2M or OMA-DM).
func (s *server) listFirmware(r *http.Request, acc string) (any, error) {
	pkgs, err := s.catalog().List(r.Context(), acc)
	if err != nil {
		return nil, err
	}
	out := []Firmware{}
	for _, p := range pkgs {
		if !slices.ContainsFunc(p.Protocols, func(pr device.Protocol) bool { return pr.Family() == device.FamilyPush }) {
			continue
		}
		out = append(out, Firmware{FirmwareName: p.Name, ParticipantName: acc, LaunchDate: isoTime(p.LaunchDate.Start()),
			ReleaseNote: p.ReleaseNote, Model: p.Model, Make: p.Make, FromVersion: p.From, ToVersion: p.To})
	}
	return out, nil
}

// listSoftware: GET /software/{acc}?distributionType=, the account's
// packages, one entry per distribution type, optionally of one type.
func (s *server) listSoftware(r *http.Request, acc string) (any, error) {
	var only device.Protocol
	if v := r.URL.Query().Get("distributionType"); v != "" {
		p, err := device.ParseProtocol(v)
		if err != nil {
			return nil, &fota.RequestError{Field: "distributionType", Value: v, Reason: `want "HTTP", "LWM2M" or "OMA-DM"`}
		}
		only = p
	}
	pkgs, err := s.catalog().List(r.Context(), acc)
	if err != nil {
		return nil, err
	}
	out := []SoftwarePackage{}
	for _, p := range pkgs {
		for _, pr := range p.Protocols {
			if only != 0 && pr != only {
				continue
			}
			out = append(out, SoftwarePackage{SoftwareName: p.Name, LaunchDate: p.LaunchDate.String(), ReleaseNote: p.ReleaseNote,
				Model: p.Model, Make: p.Make, DistributionType: pr.String(), DevicePlatformID: p.DevicePlatformID})
		}
	}
	return out, nil
}

// catalog is Options.Packages, or an empty catalog.
func (s *server) catalog() *Catalog {
	if s.opts.Packages == nil {
		return NewCatalog()
	}
	return s.opts.Packages
}

// isoTime writes an instant as the /v1 models' examples do
// ("2018-04-01T16:03:00.000Z").
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
