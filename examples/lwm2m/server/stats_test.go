package server_test

import (
	"reflect"
	"testing"

	"github.com/fotakit/fota/examples/lwm2m/server"
)

// TestStatsAdd: Add sums every counter, so a counter added to Stats but
// not to Add fails here.
func TestStatsAdd(t *testing.T) {
	var a, b server.Stats
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		va.Field(i).SetInt(int64(i + 1))
		vb.Field(i).SetInt(100)
	}
	sum := reflect.ValueOf(a.Add(b))
	for i := range sum.NumField() {
		if got, want := sum.Field(i).Int(), int64(i+101); got != want {
			t.Errorf("%s: %d, want %d", sum.Type().Field(i).Name, got, want)
		}
	}
}
