package client_test

import (
	"context"
	"fmt"

	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// A fleet of simulated clients registering with a server on loopback.
func ExampleStartFleet() {
	s, err := server.New(server.Config{Known: func(context.Context, string) (bool, error) { return true, nil }})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	defer s.Close()
	f, err := client.StartFleet(context.Background(), client.FleetConfig{Server: s.Addr().String(), Size: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Stop()
	fmt.Println(len(s.Registered()), f.Clients[0].Endpoint(), f.Clients[0].Observation())
	// Output:
	// 3 urn:imei:350000000000006 (Idle, Initial)
}
