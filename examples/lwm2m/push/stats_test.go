package push_test

import (
	"reflect"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/lwm2m/push"
)

// TestStatsAdd: Add sums every counter and the commands sent by kind, and
// leaves its receiver's map alone; a counter added to Stats but not to
// Add fails here.
func TestStatsAdd(t *testing.T) {
	a := push.Stats{Sent: map[fota.CommandKind]int64{fota.CommandObserve: 1, fota.CommandExecute: 2}}
	b := push.Stats{Sent: map[fota.CommandKind]int64{fota.CommandExecute: 10, fota.CommandRead: 20}}
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		if va.Field(i).Kind() == reflect.Int64 {
			va.Field(i).SetInt(int64(i + 1))
			vb.Field(i).SetInt(100)
		}
	}
	got := a.Add(b)
	sum := reflect.ValueOf(got)
	for i := range sum.NumField() {
		if sum.Field(i).Kind() != reflect.Int64 {
			continue
		}
		if g, want := sum.Field(i).Int(), int64(i+101); g != want {
			t.Errorf("%s: %d, want %d", sum.Type().Field(i).Name, g, want)
		}
	}
	want := map[fota.CommandKind]int64{fota.CommandObserve: 1, fota.CommandExecute: 12, fota.CommandRead: 20}
	if !reflect.DeepEqual(got.Sent, want) {
		t.Errorf("Sent %v, want %v", got.Sent, want)
	}
	if a.Sent[fota.CommandExecute] != 2 {
		t.Errorf("the receiver's Sent changed: %v", a.Sent)
	}
}
