package fota

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Package is a software (or firmware) package as the host's catalog knows
// it: which devices it fits (make, model, the version it upgrades from),
// the version it installs, and where devices fetch it. ThingSpace lists an
// account's packages (GET /software/{acc}, /v1 GET /firmware/{acc}) and
// takes a campaign's make, model and versions from the package it names.
type Package struct {
	Name   string `json:"softwareName"`
	Make   string `json:"make,omitempty"`
	Model  string `json:"model,omitempty"`
	From   string `json:"softwareFrom,omitempty"`
	To     string `json:"softwareTo"`
	URL    string `json:"downloadUrl,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"` // hex
}

// PackageCatalog is the host's software catalog. The Manager asks it
// before it opens a transaction, so it may do I/O.
type PackageCatalog interface {
	// Package returns the account's package of that name; found is false
	// when the catalog does not know it.
	Package(ctx context.Context, account, name string) (p Package, found bool, err error)
	// Packages lists the account's packages, ordered by name.
	Packages(ctx context.Context, account string) ([]Package, error)
}

// resolvePackage is the package a schedule request names: the catalog's,
// checked against what the request says, or, when the host has no catalog
// or the catalog does not know the name, the request's own fields.
func (m *Manager) resolvePackage(ctx context.Context, account, name, mk, model, from, to string) (Package, error) {
	req := Package{Name: name, Make: mk, Model: model, From: from, To: to}
	if m.packages == nil {
		return req, nil
	}
	p, ok, err := m.packages.Package(ctx, account, name)
	if err != nil || !ok {
		return req, err
	}
	for _, f := range []struct{ field, req, pkg string }{
		{"make", mk, p.Make}, {"model", model, p.Model}, {"softwareFrom", from, p.From}, {"softwareTo", to, p.To},
	} {
		if f.req != "" && f.pkg != "" && f.req != f.pkg {
			return Package{}, &RequestError{Field: f.field, Value: f.req, Reason: "package " + name + " has " + f.pkg}
		}
	}
	if err := checkTexts(text{"package.make", p.Make, maxName}, text{"package.model", p.Model, maxName},
		text{"package.softwareFrom", p.From, maxName}, text{"package.softwareTo", p.To, maxName},
		text{"package.downloadUrl", p.URL, MaxURLBytes}, text{"package.sha256", p.SHA256, maxName}); err != nil {
		return Package{}, err
	}
	p.Name = name
	for _, f := range []struct {
		dst *string
		req string
	}{{&p.Make, mk}, {&p.Model, model}, {&p.From, from}, {&p.To, to}} {
		if *f.dst == "" {
			*f.dst = f.req
		}
	}
	return p, nil
}

// MemoryPackages is a PackageCatalog held in memory, for tests, examples
// and simulations. It is safe for concurrent use.
type MemoryPackages struct {
	mu       sync.RWMutex
	packages map[string]map[string]Package // account -> name -> package
}

// NewMemoryPackages returns an empty catalog.
func NewMemoryPackages() *MemoryPackages {
	return &MemoryPackages{packages: make(map[string]map[string]Package)}
}

// Put adds or replaces an account's package.
func (c *MemoryPackages) Put(account string, p Package) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.packages[account] == nil {
		c.packages[account] = make(map[string]Package)
	}
	c.packages[account][p.Name] = p
}

// Package implements PackageCatalog.
func (c *MemoryPackages) Package(_ context.Context, account, name string) (Package, bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.packages[account][name]
	return p, ok, nil
}

// Packages implements PackageCatalog.
func (c *MemoryPackages) Packages(_ context.Context, account string) ([]Package, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Package, 0, len(c.packages[account]))
	for _, p := range c.packages[account] {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
