package client

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// IMEI is the n-th IMEI of a simulated fleet: TAC 35000000, serial n,
// and the Luhn check digit (device.ValidIMEI accepts it). n is 0..999999.
func IMEI(n int) string {
	body := "35000000" + fmt.Sprintf("%06d", n%1000000)
	sum := 0
	for i := 0; i < 14; i++ {
		d := int(body[i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + strconv.Itoa((10-sum%10)%10)
}

// FleetConfig configures a fleet of simulated clients.
type FleetConfig struct {
	Server string
	Size   int
	// First is the IMEI number of the fleet's first client: client i has
	// endpoint "urn:imei:"+IMEI(First+i), so that fleets of one test do
	// not overlap.
	First    int
	Lifetime time.Duration
	Seed     uint64
	// Knobs gives client i its knobs; every client behaves when nil.
	Knobs      func(i int) Knobs
	AckTimeout time.Duration
	Errors     func(error)
}

// Fleet is a set of simulated clients, client i with endpoint
// "urn:imei:"+IMEI(First+i) and seed Seed+i.
type Fleet struct {
	Clients []*Client
}

// StartFleet starts every client, a few at a time. A client that cannot
// register stops the fleet and is an error.
func StartFleet(ctx context.Context, cfg FleetConfig) (*Fleet, error) {
	f := &Fleet{Clients: make([]*Client, cfg.Size)}
	for i := range f.Clients {
		c := Config{Server: cfg.Server, Endpoint: "urn:imei:" + IMEI(cfg.First+i), Lifetime: cfg.Lifetime, Seed: cfg.Seed + uint64(i),
			AckTimeout: cfg.AckTimeout, Errors: cfg.Errors}
		if cfg.Knobs != nil {
			c.Knobs = cfg.Knobs(i)
		}
		cl, err := New(c)
		if err != nil {
			return nil, err
		}
		f.Clients[i] = cl
	}
	sem := make(chan struct{}, 64)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, cl := range f.Clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := cl.Start(ctx); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		f.Stop()
		return nil, first
	}
	return f, nil
}

// Stop stops every client.
func (f *Fleet) Stop() {
	var wg sync.WaitGroup
	for _, c := range f.Clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); c.Stop() }()
	}
	wg.Wait()
}
