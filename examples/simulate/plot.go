package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sim"
)

// statusColors gives every device status the same colour in every plot;
// a /v1 status has its /v2 counterpart's colour.
var statusColors = map[string]color.RGBA{
	"Accepted":          {R: 0x70, G: 0x70, B: 0x70, A: 0xff},
	"DeviceRejected":    {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	"UpgradePending":    {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"UpgradeSuccess":    {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"UpgradeFailed":     {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"CampaignCancelled": {R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	"CampaignAborted":   {R: 0x00, G: 0x00, B: 0x00, A: 0xff},
	"Device Accepted":   {R: 0x70, G: 0x70, B: 0x70, A: 0xff},
	"Device Rejected":   {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	"Upgrade Pending":   {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"Upgrade Success":   {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"Upgrade Failed":    {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// Window shading: downloads blue, installs green, both light enough that
// the two overlap readably.
var (
	downloadShade = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x30}
	installShade  = color.NRGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0x30}
)

// writePlot draws the report to file, SVG or PNG by its extension.
func writePlot(rep *sim.Report, file string) error {
	p, err := drawReport(rep)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(24*vg.Centimeter, 12*vg.Centimeter, filepath.Ext(file)[1:])
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// statusNames are the statuses the report's campaigns count, in the
// order of the plot's lines: the HTTP ones, then a push campaign's /v1
// ones.
func statusNames(rep *sim.Report) []string {
	names := append([]string(nil), rep.Statuses...)
	for _, c := range rep.Campaigns {
		for _, s := range c.Statuses {
			if !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
	}
	return names
}

// series is the fleet's devices in one status (of names) over time: at
// each sample instant of any campaign, the sum over the campaigns of
// their latest sample (a campaign counts from when it is scheduled; after
// its end its final counts stay).
func series(rep *sim.Report, names []string) (times []time.Time, counts [][]float64) {
	seen := map[time.Time]bool{}
	for _, c := range rep.Campaigns {
		for _, s := range c.Samples {
			if !seen[s.At] {
				seen[s.At] = true
				times = append(times, s.At)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	counts = make([][]float64, len(names))
	for k := range counts {
		counts[k] = make([]float64, len(times))
	}
	for _, c := range rep.Campaigns {
		own := rep.Statuses
		if len(c.Statuses) > 0 {
			own = c.Statuses
		}
		line := make([]int, len(own)) // the campaign's k-th count: names[line[k]]
		for k, s := range own {
			line[k] = slices.Index(names, s)
		}
		j := -1
		for i, t := range times {
			for j+1 < len(c.Samples) && !c.Samples[j+1].At.After(t) {
				j++
			}
			if j < 0 {
				continue
			}
			for k, n := range c.Samples[j].Counts {
				counts[line[k]][i] += float64(n)
			}
		}
	}
	return times, counts
}

// drawReport builds the plot: one line per device status that any
// sample holds, over the windows of every campaign that ran.
func drawReport(rep *sim.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("fota simulation: %d devices, seed %d", rep.Devices, rep.Seed)
	p.X.Label.Text = "simulated time (UTC)"
	p.Y.Label.Text = "devices"
	p.X.Tick.Marker = plot.TickerFunc(dayTicks)
	p.Y.Tick.Marker = plot.TickerFunc(countTicks)
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())

	var downloads, installs bands
	for _, c := range rep.Campaigns {
		if c.ID == "" || c.Family != "" {
			continue // refused, or a /v1 campaign: no windows
		}
		d, i, err := windowBands(c)
		if err != nil {
			return nil, err
		}
		downloads.spans = append(downloads.spans, d...)
		installs.spans = append(installs.spans, i...)
	}
	downloads.color, installs.color = downloadShade, installShade
	if len(downloads.spans)+len(installs.spans) > 0 {
		p.Add(&downloads, &installs)
		p.Legend.Add("download window", &downloads)
		p.Legend.Add("install window", &installs)
	}

	names := statusNames(rep)
	times, counts := series(rep, names)
	top := 1.0
	for k, name := range names {
		any := false
		for _, n := range counts[k] {
			any = any || n != 0
		}
		if !any {
			continue
		}
		xys := make(plotter.XYs, len(times))
		for i, t := range times {
			xys[i] = plotter.XY{X: float64(t.Unix()), Y: counts[k][i]}
			top = max(top, counts[k][i])
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = statusColors[name]
		line.Width = vg.Points(1.5)
		line.StepStyle = plotter.PostStep // counts hold until the next sample
		p.Add(line)
		p.Legend.Add(name, line)
	}
	// Headroom above the lines for the legend.
	p.Y.Min, p.Y.Max = 0, top*1.45
	return p, nil
}

// dayTicks marks UTC midnights: every day, or every few days so that at
// most a dozen carry a label.
func dayTicks(lo, hi float64) []plot.Tick {
	const day = 24 * 3600
	first := math.Ceil(lo/day) * day
	step := math.Max(1, math.Ceil((hi-first)/day/12)) * day
	var ticks []plot.Tick
	for x := first; x <= hi; x += day {
		t := plot.Tick{Value: x}
		if math.Mod(x-first, step) == 0 {
			t.Label = time.Unix(int64(x), 0).UTC().Format("Mon 01-02")
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// countTicks are gonum's default ticks labelled as whole devices.
func countTicks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" || len(ticks) <= 10 {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

// windowBands are the instants a campaign's download and install phases
// were open, from its request as the Manager compiled it.
func windowBands(c sim.CampaignReport) (download, install [][2]float64, err error) {
	h, err := schedule.NewHTTP(c.Request, c.Request.StartDate.Start(), schedule.DefaultPolicy())
	if err != nil {
		return nil, nil, fmt.Errorf("plot: %s's request: %w", c.Name, err)
	}
	end := h.EndsAt()
	if !c.EndedAt.IsZero() && c.EndedAt.Before(end) {
		end = c.EndedAt
	}
	spans := func(ph schedule.Phase) [][2]float64 {
		var out [][2]float64
		t := h.StartsAt()
		for t.Before(end) {
			open, ok := h.NextOpen(ph, t)
			if !ok || !open.Before(end) {
				break
			}
			closed, ok := h.NextClose(ph, open)
			if !ok || closed.After(end) {
				closed = end
			}
			out = append(out, [2]float64{float64(open.Unix()), float64(closed.Unix())})
			t = closed
		}
		return out
	}
	return spans(schedule.PhaseDownload), spans(schedule.PhaseInstall), nil
}

// bands shades spans of the X axis over the plot's whole height.
type bands struct {
	spans [][2]float64
	color color.Color
}

// Plot implements plot.Plotter.
func (b *bands) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, s := range b.spans {
		x0, x1 := max(trX(s[0]), c.Min.X), min(trX(s[1]), c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.FillPolygon(b.color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

// Thumbnail implements plot.Thumbnailer: the legend's swatch.
func (b *bands) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.color, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}
