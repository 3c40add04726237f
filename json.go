package fota

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// JSON: requests decode strictly. An unknown top-level field is refused
// with its name (a *RequestError): a request with downloadTimeWindowsList,
// a typo, must not schedule a campaign that downloads at all hours. A host
// that wants ThingSpace's leniency (its SDKs send more than one model's
// fields on some calls) decodes with UnmarshalLenient. Records (Campaign,
// CampaignInfo, Change, Instruction, Command, the device statuses) marshal
// with ThingSpace's field names where ThingSpace has them, and read back
// what they wrote.

// jsonFieldError turns encoding/json's errors into a RequestError naming
// the field where it can.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &RequestError{Field: te.Field, Value: te.Value, Reason: "want " + te.Type.String(), Err: err}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &RequestError{Field: "body", Value: strconv.FormatInt(se.Offset, 10), Reason: "malformed JSON: " + se.Error(), Err: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &RequestError{Field: "body", Value: "", Reason: "malformed JSON: unexpected end", Err: err}
	}
	return err
}

// checkFields refuses a top-level field of the object b that is not
// among known.
func checkFields(b []byte, known []string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return jsonFieldError(err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // name the first unknown field deterministically
	for _, k := range keys {
		if !slices.Contains(known, k) {
			return &RequestError{Field: k, Value: string(truncate(obj[k], 80)), Reason: "unknown field"}
		}
	}
	return nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// lenientUnmarshaler is a request that can decode ignoring unknown fields.
type lenientUnmarshaler interface {
	unmarshalJSON(b []byte, strict bool) error
}

// UnmarshalLenient decodes data into v as json.Unmarshal does, except that
// a request type (CampaignRequest, UpgradeRequest) ignores unknown fields
// instead of refusing them.
func UnmarshalLenient(data []byte, v any) error {
	if l, ok := v.(lenientUnmarshaler); ok {
		return l.unmarshalJSON(data, false)
	}
	return jsonFieldError(json.Unmarshal(data, v))
}

// timingFields are schedule.HTTPRequest's JSON fields.
var timingFields = []string{"startDate", "endDate", "campaignTimeWindowList", "downloadAfterDate",
	"downloadTimeWindowList", "installAfterDate", "installTimeWindowList", "timeZone"}

var campaignRequestFields = append([]string{"campaignName", "softwareName", "softwareFrom", "softwareTo",
	"distributionType", "make", "model", "deviceList"}, timingFields...)

// UnmarshalJSON reads ThingSpace's flat request; an unknown field is
// refused; errors name the field.
func (r *CampaignRequest) UnmarshalJSON(b []byte) error { return r.unmarshalJSON(b, true) }

func (r *CampaignRequest) unmarshalJSON(b []byte, strict bool) error {
	type fields CampaignRequest // without these methods
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return jsonFieldError(err)
	}
	if strict {
		if err := checkFields(b, campaignRequestFields); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(b, &f.Timing); err != nil {
		return err
	}
	*r = CampaignRequest(f)
	return nil
}

// MarshalJSON writes ThingSpace's flat request.
func (r CampaignRequest) MarshalJSON() ([]byte, error) {
	type fields CampaignRequest
	return flatten(fields(r), r.Timing)
}

// flatten writes a and the timing t as one JSON object.
func flatten(a any, t schedule.HTTPRequest) ([]byte, error) {
	ab, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	tb, err := json.Marshal(t)
	if err != nil || len(tb) <= 2 {
		return ab, err
	}
	return append(append(ab[:len(ab)-1], ','), tb[1:]...), nil
}

var upgradeRequestFields = []string{"accountName", "campaignName", "firmwareName", "firmwareTo",
	"startDate", "endDate", "deviceList", "make", "model", "firmwareFrom"}

// UnmarshalJSON reads ThingSpace's FirmwareUpgradeRequest; an unknown
// field is refused; errors name the field.
func (r *UpgradeRequest) UnmarshalJSON(b []byte) error { return r.unmarshalJSON(b, true) }

func (r *UpgradeRequest) unmarshalJSON(b []byte, strict bool) error {
	type fields UpgradeRequest
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		var fe *schedule.FieldError
		if errors.As(err, &fe) {
			return err
		}
		return jsonFieldError(err)
	}
	if strict {
		if err := checkFields(b, upgradeRequestFields); err != nil {
			return err
		}
	}
	*r = UpgradeRequest(f)
	return nil
}

// campaignJSON is a Campaign in ThingSpace's shape (CampaignSoftware for
// /v2, FirmwareUpgrade for /v1) plus fota's own fields; the timing's
// dates and windows sit at the top level beside it.
type campaignJSON struct {
	ID           string          `json:"id"`
	Seq          uint64          `json:"seq,omitempty"`
	Account      string          `json:"accountName"`
	Name         string          `json:"campaignName,omitempty"`
	Family       device.Family   `json:"family,omitzero"`
	Protocol     device.Protocol `json:"protocol,omitzero"`
	Status       campaign.Status `json:"status,omitzero"`
	SoftwareName string          `json:"softwareName"`
	SoftwareFrom string          `json:"softwareFrom,omitempty"`
	SoftwareTo   string          `json:"softwareTo"`
	Make         string          `json:"make,omitempty"`
	Model        string          `json:"model,omitempty"`
	Package      *Package        `json:"package,omitempty"`
	StartsAt     time.Time       `json:"startsAt,omitzero"`
	EndsAt       time.Time       `json:"endsAt,omitzero"`
	OnDemand     bool            `json:"onDemand,omitempty"`
	Pilot        bool            `json:"pilot,omitempty"`
	Cursor       string          `json:"cursor,omitempty"`
	Swept        bool            `json:"swept,omitempty"`
	Revision     uint64          `json:"revision"`
	CreatedAt    time.Time       `json:"createdAt,omitzero"`
	UpdatedAt    time.Time       `json:"updatedAt,omitzero"`
	// The gate's account, written only when it is not the campaign's own.
	TargetAccount *string `json:"targetAccount,omitempty"`
}

// MarshalJSON writes the campaign with ThingSpace's field names.
func (c Campaign) MarshalJSON() ([]byte, error) {
	j := campaignJSON{
		ID: c.ID, Seq: c.Seq, Account: c.Account, Name: c.Name, Family: c.Family, Protocol: c.Protocol,
		Status: c.Status, SoftwareName: c.Target.SoftwareName, SoftwareFrom: c.Target.SoftwareFrom,
		SoftwareTo: c.Target.SoftwareTo, Make: c.Make, Model: c.Model, StartsAt: c.StartsAt, EndsAt: c.EndsAt,
		OnDemand: c.OnDemand, Pilot: c.Pilot, Cursor: c.Cursor, Swept: c.Swept, Revision: c.Revision,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.Package != (Package{}) {
		p := c.Package
		j.Package = &p
	}
	if c.Target.Account != c.Account {
		a := c.Target.Account
		j.TargetAccount = &a
	}
	return flatten(j, c.Timing)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *Campaign) UnmarshalJSON(b []byte) error {
	var j campaignJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return jsonFieldError(err)
	}
	var t schedule.HTTPRequest
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	v := Campaign{
		ID: j.ID, Seq: j.Seq, Account: j.Account, Name: j.Name, Family: j.Family, Protocol: j.Protocol,
		Status: j.Status, Target: pilot.Target{Account: j.Account, SoftwareName: j.SoftwareName,
			SoftwareFrom: j.SoftwareFrom, SoftwareTo: j.SoftwareTo},
		Make: j.Make, Model: j.Model, Timing: t, StartsAt: j.StartsAt, EndsAt: j.EndsAt, OnDemand: j.OnDemand,
		Pilot: j.Pilot, Cursor: j.Cursor, Swept: j.Swept, Revision: j.Revision, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
	}
	if j.Package != nil {
		v.Package = *j.Package
	}
	if j.TargetAccount != nil {
		v.Target.Account = *j.TargetAccount
	}
	*c = v
	return nil
}

// MarshalJSON writes the counts as an object from state name to count,
// leaving out states with none.
func (c Counts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for s, n := range c {
		if n == 0 {
			continue
		}
		name, err := device.State(s).MarshalText()
		if err != nil {
			return nil, err
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.Quote(string(name)) + ":" + strconv.Itoa(n))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return jsonFieldError(err)
	}
	var v Counts
	for name, n := range m {
		var s device.State
		if err := s.UnmarshalText([]byte(name)); err != nil {
			return err
		}
		v[s] = n
	}
	*c = v
	return nil
}

// MarshalJSON writes the campaign with its counts beside its fields.
func (i CampaignInfo) MarshalJSON() ([]byte, error) {
	c, err := json.Marshal(i.Campaign)
	if err != nil {
		return nil, err
	}
	n, err := json.Marshal(i.Counts)
	if err != nil {
		return nil, err
	}
	return append(append(c[:len(c)-1], []byte(`,"counts":`)...), append(n, '}')...), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (i *CampaignInfo) UnmarshalJSON(b []byte) error {
	var c Campaign
	if err := c.UnmarshalJSON(b); err != nil {
		return err
	}
	var n struct {
		Counts Counts `json:"counts"`
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return jsonFieldError(err)
	}
	*i = CampaignInfo{Campaign: c, Counts: n.Counts}
	return nil
}
