package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

func TestSmoke(t *testing.T) {
	var mu sync.Mutex
	var got []lwm2m.Observation
	evs := make(chan server.Event, 10)
	s, err := server.New(server.Config{
		Known:          func(context.Context, string) (bool, error) { return true, nil },
		OnRegistration: func(e server.Event) { evs <- e },
		OnObservation: func(id string, o lwm2m.Observation) {
			mu.Lock()
			got = append(got, o)
			mu.Unlock()
			t.Log(id, o)
		},
		Errors:        func(err error) { t.Log("server:", err) },
		AnswerTimeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Close()
	fw, err := s.AddFirmware("fw-2.0", make([]byte, 5000))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(client.Config{Server: s.Addr().String(), Endpoint: "urn:imei:" + client.IMEI(1), Errors: func(err error) { t.Log("client:", err) }})
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	e := <-evs
	t.Log(e.Kind, e.DeviceID, e.Location, e.Objects)
	id := e.DeviceID
	rc, err := s.Observe(ctx, id)
	t.Log("observe", rc, err)
	rc, err = s.Reset(ctx, id)
	t.Log("reset", rc, err)
	rc, err = s.WritePackageURI(ctx, id, fw.URI)
	t.Log("write", rc, err)
	time.Sleep(500 * time.Millisecond)
	rc, o, err := s.Read(ctx, id)
	t.Log("read", rc, o, err)
	rc, err = s.ExecuteUpdate(ctx, id)
	t.Log("execute", rc, err)
	time.Sleep(300 * time.Millisecond)
	t.Log(c.Observation(), s.Stats())
	st := c.Stats()
	t.Log(st.ImageSHA256 == fw.SHA256, len(st.Image))
}
