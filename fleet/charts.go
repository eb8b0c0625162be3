package fleet

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/scanbox/scanbox/fleet/store"
)

// Server-side SVG charts: no JavaScript, no chart library. Every value
// written into the SVG is a number or an escaped label.

const (
	chartW, chartH         = 760, 220
	padL, padR, padT, padB = 56, 12, 28, 30
)

// bucket lays hourly roll-ups onto the last n hours ending at now.
func bucket(hours []store.Hour, now time.Time, n int) []store.Hour {
	end := now.Unix() / 3600 * 3600
	out := make([]store.Hour, n)
	idx := map[int64]int{}
	for i := range out {
		h := end - int64(n-1-i)*3600
		out[i].Hour = time.Unix(h, 0).UTC()
		idx[h] = i
	}
	for _, h := range hours {
		if i, ok := idx[h.Hour.Unix()]; ok {
			out[i] = h
		}
	}
	return out
}

func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func chartFrame(b *strings.Builder, title string, max float64, unit string, hrs []store.Hour) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, template.HTMLEscapeString(title))
	fmt.Fprintf(b, `<text x="%d" y="16" class="ct">%s</text>`, padL, template.HTMLEscapeString(title))
	ih := float64(chartH - padT - padB)
	for i := 0; i <= 4; i++ {
		y := float64(padT) + ih - ih*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" class="ax" text-anchor="end">%s%s</text>`, padL-4, y+4, trimFloat(max*float64(i)/4), unit)
	}
	iw := float64(chartW - padL - padR)
	step := iw / float64(len(hrs))
	for i, h := range hrs {
		if i%6 == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" class="ax">%s</text>`, float64(padL)+step*float64(i), chartH-10, h.Hour.Local().Format("01-02 15h"))
		}
	}
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// takingsChart is a bar chart of paid amounts per hour, in yuan.
func takingsChart(hours []store.Hour, now time.Time, n int, title string) template.HTML {
	hrs := bucket(hours, now, n)
	var max float64
	for _, h := range hrs {
		max = math.Max(max, float64(h.PaidFen)/100)
	}
	max = niceMax(max)
	var b strings.Builder
	chartFrame(&b, title, max, "", hrs)
	iw := float64(chartW - padL - padR)
	ih := float64(chartH - padT - padB)
	step := iw / float64(n)
	for i, h := range hrs {
		v := float64(h.PaidFen) / 100
		bh := ih * v / max
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>%s %s</title></rect>`,
			float64(padL)+step*float64(i)+1, float64(padT)+ih-bh, math.Max(step-2, 1), bh, h.Hour.Local().Format("01-02 15:04"), formatFen(h.PaidFen))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// ratesChart draws failure and unknown rates per hour (percent of all
// payments of that hour) as two lines.
func ratesChart(hours []store.Hour, now time.Time, n int, title, failLabel, unkLabel string) template.HTML {
	hrs := bucket(hours, now, n)
	rate := func(h store.Hour, v int64) float64 {
		tot := h.PaidCount + h.FailedCount + h.UnknownCount
		if tot == 0 {
			return 0
		}
		return 100 * float64(v) / float64(tot)
	}
	var max float64
	for _, h := range hrs {
		max = math.Max(max, math.Max(rate(h, h.FailedCount), rate(h, h.UnknownCount)))
	}
	max = niceMax(max)
	var b strings.Builder
	chartFrame(&b, title, max, "%", hrs)
	iw := float64(chartW - padL - padR)
	ih := float64(chartH - padT - padB)
	step := iw / float64(n)
	line := func(class string, f func(store.Hour) float64) {
		var pts []string
		for i, h := range hrs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(padL)+step*(float64(i)+0.5), float64(padT)+ih-ih*f(h)/max))
		}
		fmt.Fprintf(&b, `<polyline points="%s" class="%s"/>`, strings.Join(pts, " "), class)
	}
	line("lfail", func(h store.Hour) float64 { return rate(h, h.FailedCount) })
	line("lunk", func(h store.Hour) float64 { return rate(h, h.UnknownCount) })
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" class="kfail"/><text x="%d" y="16" class="ax">%s</text>`, chartW-220, chartW-206, template.HTMLEscapeString(failLabel))
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" class="kunk"/><text x="%d" y="16" class="ax">%s</text>`, chartW-110, chartW-96, template.HTMLEscapeString(unkLabel))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
