package omadm

import (
	"errors"
	"strconv"
	"testing"
)

func FuzzParseResultCode(f *testing.F) {
	for _, s := range []string{"200", "250", "403", "412", "500", "599", "201", "600", "", "0200", " 200"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseResultCode(s)
		if err != nil {
			var re *ResultCodeError
			if !errors.Is(err, ErrUnknownResultCode) || !errors.As(err, &re) || re.Value != s || c != 0 {
				t.Fatalf("%q: %v, %v", s, c, err)
			}
			if n, perr := strconv.Atoi(s); perr == nil && len(s) == 3 && s[0] != '+' && s[0] != '-' && ResultCode(n).Valid() {
				t.Fatalf("%q refused although %d is valid", s, n)
			}
			return
		}
		if !c.Valid() || strconv.Itoa(int(c)) != s || c.Meaning() == "" {
			t.Fatalf("%q read as %d", s, c)
		}
	})
}

func FuzzParseAlert(f *testing.F) {
	f.Add("1226", TypeUpdate, "./FwUpdate/x/Update", "c", "200")
	f.Add("1226", TypeDownload, "./FwUpdate/x/Download", "", "200")
	f.Add("1226", TypeDownloadAndUpdate, "x", "c", "403")
	f.Add("1225", "t", "", "", "")
	f.Fuzz(func(t *testing.T, code, typ, source, corr, data string) {
		a, err := ParseAlert(code, typ, source, corr, data)
		if err != nil {
			var ae *AlertError
			if !errors.Is(err, ErrInvalidAlert) || !errors.As(err, &ae) || a != (Alert{}) {
				t.Fatalf("%v, %+v", err, a)
			}
			if v := map[string]string{"Code": code, "Type": typ, "Source": source, "Data": data}[ae.Field]; v != ae.Value {
				t.Fatalf("error names %s=%q, input %q", ae.Field, ae.Value, v)
			}
			return
		}
		e, final, err := Outcome(a)
		if err != nil || (e != 0) != final {
			t.Fatalf("%+v: %v %v %v", a, e, final, err)
		}
		if c, _ := a.Result(); c.Successful() && typ == TypeDownload && final {
			t.Fatalf("download success final: %+v", a)
		}
	})
}

func FuzzParseState(f *testing.F) {
	for _, v := range []int64{10, 20, 100, 0, 15, 255, 256, -1} {
		f.Add(v, "Idle")
	}
	f.Add(int64(50), "ReadyToUpdate")
	f.Add(int64(50), "Ready to Update")
	f.Fuzz(func(t *testing.T, v int64, name string) {
		s, err := ParseState(v)
		if err != nil {
			if !errors.Is(err, ErrUnknownState) || s != Idle {
				t.Fatalf("%d: %v, %v", v, s, err)
			}
		} else if int64(s) != v || s.Label() == "" {
			t.Fatalf("%d read as %v", v, s)
		}
		u := UpdateFailedNoData
		if err := u.UnmarshalText([]byte(name)); err != nil {
			if !errors.Is(err, ErrUnknownState) || u != UpdateFailedNoData {
				t.Fatalf("%q: %v, left %v", name, err, u)
			}
		} else if u.String() != name {
			t.Fatalf("%q read as %v", name, u)
		}
	})
}
