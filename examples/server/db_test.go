package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// With -db, campaigns live in PostgreSQL (sqlstore) and outlive the
// process: a campaign scheduled by one run is read by the next. The
// database is FOTA_PG_URL's, as for sqlstore's own tests; CI starts it.
func TestCampaignsSurviveARestartWithDB(t *testing.T) {
	url := cmp.Or(os.Getenv("FOTA_PG_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	schema := "fota_server_test_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
			t.Error(err)
		}
	})
	// serve runs the server until fn returns, and gives fn its address
	// and printed token.
	serve := func(fn func(addr, token string)) {
		ctx, cancel := context.WithCancel(context.Background())
		var stderr syncBuffer
		addrs, done := make(chan string, 1), make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo", "2", "-db", url, "-db-schema", schema}, &stderr, func(a string) { addrs <- a })
		}()
		select {
		case addr := <-addrs:
			fn(addr, printed(t, stderr.String(), "TOKEN="))
		case code := <-done:
			t.Fatalf("run returned %d: %s", code, stderr.String())
		}
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second): // a hang, not a timing assertion
			t.Fatal("server did not shut down")
		}
	}
	call := func(method, url, token, body string) (int, []byte) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	start := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
	var id string
	serve(func(addr, token string) {
		code, b := call("POST", "http://"+addr+"/api/fota/v2/campaigns/acme", token,
			`{"softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","startDate":"`+start+`","endDate":"`+start+`","deviceList":["350000000000006"]}`)
		var c struct{ ID, Status string }
		if err := json.Unmarshal(b, &c); err != nil || code != 200 || c.Status != "CampaignRequestQueued" {
			t.Fatalf("schedule: %d %s", code, b)
		}
		id = c.ID
	})
	serve(func(addr, token string) {
		code, b := call("GET", "http://"+addr+"/api/fota/v2/campaigns/acme/"+id, token, "")
		if code != 200 || !strings.Contains(string(b), `"status":"CampaignRequestQueued"`) {
			t.Fatalf("after the restart: %d %s", code, b)
		}
	})
}
