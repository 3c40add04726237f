package server_test

import (
	"context"
	"fmt"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// A server, one simulated client, and the operations of an update.
func Example() {
	imei := client.IMEI(1)
	registered := make(chan server.Event, 1)
	last := make(chan lwm2m.Observation, 16)
	s, err := server.New(server.Config{
		Known:          func(_ context.Context, id string) (bool, error) { return id == imei, nil },
		OnRegistration: func(e server.Event) { registered <- e },
		OnObservation:  func(_ string, o lwm2m.Observation) { last <- o },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	defer s.Close()
	fw, _ := s.AddFirmware("fw-2.0.bin", []byte("new firmware"))

	c, _ := client.New(client.Config{Server: s.Addr().String(), Endpoint: "urn:imei:" + imei})
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer c.Stop()
	e := <-registered
	fmt.Println(e.Kind, e.DeviceID, e.Objects)

	rc, _ := s.Observe(ctx, imei)
	fmt.Println("observe:", rc, <-last)
	rc, _ = s.WritePackageURI(ctx, imei, fw.URI)
	fmt.Println("write:", rc)
	for o := range last {
		if o.State == lwm2m.Downloaded {
			break
		}
	}
	rc, _ = s.ExecuteUpdate(ctx, imei)
	fmt.Println("execute:", rc)
	for o := range last {
		if o.State == lwm2m.Idle {
			fmt.Println(o)
			break
		}
	}
	// Output:
	// Registered 350000000000014 </1/0>,</3/0>,</5/0>
	// observe: 2.05 Content (Idle, Initial)
	// write: 2.04 Changed
	// execute: 2.04 Changed
	// (Idle, Success)
}
