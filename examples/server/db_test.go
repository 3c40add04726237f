package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// With -db, campaigns live in PostgreSQL (sqlstore) and outlive the
// process: a campaign scheduled by one run is read by the next. The
// database is FOTA_PG_URL's, as for sqlstore's own tests; CI starts it.
func TestCampaignsSurviveARestartWithDB(t *testing.T) {
	url := cmp.Or(os.Getenv("FOTA_PG_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	schema := "fota_server_test_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
			t.Error(err)
		}
	})
	args := []string{"-demo", "2", "-db", url, "-db-schema", schema}
	start := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
	first := startServer(t, args...)
	code, b := first.call("POST", "/api/fota/v2/campaigns/acme",
		`{"softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","startDate":"`+start+`","endDate":"`+start+`","deviceList":["350000000000006"]}`)
	var c struct{ ID, Status string }
	if err := json.Unmarshal(b, &c); err != nil || code != 200 || c.Status != "CampaignRequestQueued" {
		t.Fatalf("schedule: %d %s", code, b)
	}
	if code := first.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, first.stderr.String())
	}
	second := startServer(t, args...) // a new process: new token, same store
	code, b = second.call("GET", "/api/fota/v2/campaigns/acme/"+c.ID, "")
	if code != 200 || !strings.Contains(string(b), `"status":"CampaignRequestQueued"`) {
		t.Fatalf("after the restart: %d %s", code, b)
	}
}
