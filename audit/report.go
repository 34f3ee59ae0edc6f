package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Report is the compliance officer's view of audit records: who did what
// to which classes of personal data, with which outcome, over time.
type Report struct {
	From, To time.Time // the records' time span (after --since/--until)
	Records  int       // statement records counted
	// Chain is Verify's verdict on the files ("" when not checked).
	Chain string

	ByRole   map[string]map[string]int // role → decision → statements
	ByClass  map[string]map[string]int // class → decision → statements touching it
	RoleCls  map[string]map[string]int // role → class → statements touching it
	Buckets  []Bucket                  // counts over time
	Bucket   time.Duration             // width of a bucket
	Refusals []Count                   // most frequent refusal reasons
	Logins   map[string]int            // failed logins by role
	Sessions int
}

// Bucket is one period of the report's timeline.
type Bucket struct {
	Start      time.Time
	ByDecision map[string]int
}

// Count is a reason and how often it occurred.
type Count struct {
	What string
	N    int
}

// Decisions in the order reports show them.
var reportDecisions = []string{DecisionAllowed, DecisionMasked, DecisionTokenized, DecisionRefused, DecisionFailed}

// BuildReport reads the records of files between since and until (zero:
// unbounded).
func BuildReport(files []string, since, until time.Time) (*Report, error) {
	r := &Report{ByRole: map[string]map[string]int{}, ByClass: map[string]map[string]int{},
		RoleCls: map[string]map[string]int{}, Logins: map[string]int{}}
	var entries []Entry
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var e Entry
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue // Verify reports it
			}
			t, err := time.Parse(time.RFC3339Nano, e.Time)
			if err != nil || (!since.IsZero() && t.Before(since)) || (!until.IsZero() && !t.Before(until)) {
				continue
			}
			entries = append(entries, e)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	refusals := map[string]int{}
	var times []time.Time
	for _, e := range entries {
		t, _ := time.Parse(time.RFC3339Nano, e.Time)
		switch e.Type {
		case TypeLoginFailed:
			r.Logins[e.Role]++
			continue
		case TypeSessionStart:
			r.Sessions++
			continue
		case TypeStatement:
		default:
			continue
		}
		r.Records++
		times = append(times, t)
		if r.From.IsZero() || t.Before(r.From) {
			r.From = t
		}
		if t.After(r.To) {
			r.To = t
		}
		role := e.EffectiveRole
		if role == "" {
			role = e.Role
		}
		inc(r.ByRole, role, e.Decision)
		for _, c := range e.Classes {
			inc(r.ByClass, c, e.Decision)
			inc(r.RoleCls, role, c)
		}
		if e.Decision == DecisionRefused {
			refusals[e.Reason]++
		}
	}
	r.Bucket = time.Hour
	if r.To.Sub(r.From) > 48*time.Hour {
		r.Bucket = 24 * time.Hour
	}
	index := map[int64]*Bucket{}
	for _, e := range entries {
		if e.Type != TypeStatement {
			continue
		}
		t, _ := time.Parse(time.RFC3339Nano, e.Time)
		start := t.UTC().Truncate(r.Bucket)
		b := index[start.Unix()]
		if b == nil {
			b = &Bucket{Start: start, ByDecision: map[string]int{}}
			index[start.Unix()] = b
		}
		b.ByDecision[e.Decision]++
	}
	for _, b := range index {
		r.Buckets = append(r.Buckets, *b)
	}
	sort.Slice(r.Buckets, func(i, j int) bool { return r.Buckets[i].Start.Before(r.Buckets[j].Start) })
	for why, n := range refusals {
		r.Refusals = append(r.Refusals, Count{why, n})
	}
	sort.Slice(r.Refusals, func(i, j int) bool {
		if r.Refusals[i].N != r.Refusals[j].N {
			return r.Refusals[i].N > r.Refusals[j].N
		}
		return r.Refusals[i].What < r.Refusals[j].What
	})
	if len(r.Refusals) > 10 {
		r.Refusals = r.Refusals[:10]
	}
	return r, nil
}

func inc(m map[string]map[string]int, k1, k2 string) {
	if m[k1] == nil {
		m[k1] = map[string]int{}
	}
	m[k1][k2]++
}

func keys(m map[string]map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r *Report) span() string {
	if r.Records == 0 {
		return "no statements in the period"
	}
	return fmt.Sprintf("%s to %s", r.From.UTC().Format("2006-01-02 15:04:05 UTC"), r.To.UTC().Format("2006-01-02 15:04:05 UTC"))
}

func (r *Report) classes() []string {
	set := map[string]bool{}
	for _, m := range r.RoleCls {
		for c := range m {
			set[c] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Markdown writes the report as Markdown.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "# pgmantle audit report\n\n")
	fmt.Fprintf(w, "- Period: %s\n- Statements: %d in %d sessions\n", r.span(), r.Records, r.Sessions)
	if r.Chain != "" {
		fmt.Fprintf(w, "- Hash chain: %s\n", r.Chain)
	}
	fmt.Fprintf(w, "\n## Statements by role and decision\n\n")
	decisionTable(w, r.ByRole, "role")
	fmt.Fprintf(w, "\n## Statements touching each class of personal data, by decision\n\n")
	if len(r.ByClass) == 0 {
		fmt.Fprintf(w, "No statement touched a protected column.\n")
	} else {
		decisionTable(w, r.ByClass, "class")
	}
	if cls := r.classes(); len(cls) > 0 {
		fmt.Fprintf(w, "\n## Statements by role and class\n\n| role | %s |\n|---|%s\n", strings.Join(cls, " | "), strings.Repeat("---:|", len(cls)))
		for _, role := range keys(r.RoleCls) {
			fmt.Fprintf(w, "| %s |", md(role))
			for _, c := range cls {
				fmt.Fprintf(w, " %d |", r.RoleCls[role][c])
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "\n## Over time (per %s)\n\n| from | %s |\n|---|%s\n", bucketName(r.Bucket), strings.Join(reportDecisions, " | "), strings.Repeat("---:|", len(reportDecisions)))
	for _, b := range r.Buckets {
		fmt.Fprintf(w, "| %s |", b.Start.Format(bucketFormat(r.Bucket)))
		for _, d := range reportDecisions {
			fmt.Fprintf(w, " %d |", b.ByDecision[d])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n## Most frequent refusal reasons\n\n")
	if len(r.Refusals) == 0 {
		fmt.Fprintf(w, "No statement was refused.\n")
	} else {
		fmt.Fprintf(w, "| refusals | reason |\n|---:|---|\n")
		for _, c := range r.Refusals {
			fmt.Fprintf(w, "| %d | %s |\n", c.N, md(c.What))
		}
	}
	if len(r.Logins) > 0 {
		fmt.Fprintf(w, "\n## Failed logins\n\n| role | failed logins |\n|---|---:|\n")
		roles := make([]string, 0, len(r.Logins))
		for k := range r.Logins {
			roles = append(roles, k)
		}
		sort.Strings(roles)
		for _, k := range roles {
			fmt.Fprintf(w, "| %s | %d |\n", md(k), r.Logins[k])
		}
	}
}

func decisionTable(w io.Writer, m map[string]map[string]int, what string) {
	fmt.Fprintf(w, "| %s | %s | total |\n|---|%s---:|\n", what, strings.Join(reportDecisions, " | "), strings.Repeat("---:|", len(reportDecisions)))
	for _, k := range keys(m) {
		total := 0
		fmt.Fprintf(w, "| %s |", md(k))
		for _, d := range reportDecisions {
			fmt.Fprintf(w, " %d |", m[k][d])
			total += m[k][d]
		}
		fmt.Fprintf(w, " %d |\n", total)
	}
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func bucketName(d time.Duration) string {
	if d >= 24*time.Hour {
		return "day"
	}
	return "hour"
}

func bucketFormat(d time.Duration) string {
	if d >= 24*time.Hour {
		return "2006-01-02"
	}
	return "2006-01-02 15:00"
}

// decisionColors are the chart's colors, by decision.
var decisionColors = map[string]string{
	DecisionAllowed: "#4e79a7", DecisionMasked: "#59a14f", DecisionTokenized: "#9c755f",
	DecisionRefused: "#e15759", DecisionFailed: "#bab0ac",
}

// HTML writes the report as one self-contained page (no scripts, no
// external resources) with a stacked bar chart of statements over time.
func (r *Report) HTML(w io.Writer) {
	fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pgmantle audit report</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem}
td.n{text-align:right}th{background:#f3f3f3}.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}</style></head><body>
`)
	fmt.Fprintf(w, "<h1>pgmantle audit report</h1>\n<p>Period: %s<br>Statements: %d in %d sessions", html.EscapeString(r.span()), r.Records, r.Sessions)
	if r.Chain != "" {
		fmt.Fprintf(w, "<br>Hash chain: %s", html.EscapeString(r.Chain))
	}
	fmt.Fprintf(w, "</p>\n<h2>Statements over time (per %s)</h2>\n", bucketName(r.Bucket))
	r.chart(w)
	fmt.Fprintf(w, "<h2>Statements by role and decision</h2>\n")
	htmlDecisionTable(w, r.ByRole, "role")
	fmt.Fprintf(w, "<h2>Statements touching each class of personal data</h2>\n")
	htmlDecisionTable(w, r.ByClass, "class")
	if cls := r.classes(); len(cls) > 0 {
		fmt.Fprintf(w, "<h2>Statements by role and class</h2>\n<table><tr><th>role</th>")
		for _, c := range cls {
			fmt.Fprintf(w, "<th>%s</th>", html.EscapeString(c))
		}
		fmt.Fprintf(w, "</tr>\n")
		for _, role := range keys(r.RoleCls) {
			fmt.Fprintf(w, "<tr><td>%s</td>", html.EscapeString(role))
			for _, c := range cls {
				fmt.Fprintf(w, `<td class="n">%d</td>`, r.RoleCls[role][c])
			}
			fmt.Fprintf(w, "</tr>\n")
		}
		fmt.Fprintf(w, "</table>\n")
	}
	fmt.Fprintf(w, "<h2>Most frequent refusal reasons</h2>\n<table><tr><th>refusals</th><th>reason</th></tr>\n")
	for _, c := range r.Refusals {
		fmt.Fprintf(w, `<tr><td class="n">%d</td><td>%s</td></tr>`+"\n", c.N, html.EscapeString(c.What))
	}
	fmt.Fprintf(w, "</table>\n")
	if len(r.Logins) > 0 {
		fmt.Fprintf(w, "<h2>Failed logins</h2>\n<table><tr><th>role</th><th>failed logins</th></tr>\n")
		for _, k := range sortedCounts(r.Logins) {
			fmt.Fprintf(w, `<tr><td>%s</td><td class="n">%d</td></tr>`+"\n", html.EscapeString(k), r.Logins[k])
		}
		fmt.Fprintf(w, "</table>\n")
	}
	fmt.Fprintf(w, "</body></html>\n")
}

func sortedCounts(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func htmlDecisionTable(w io.Writer, m map[string]map[string]int, what string) {
	fmt.Fprintf(w, "<table><tr><th>%s</th>", what)
	for _, d := range reportDecisions {
		fmt.Fprintf(w, "<th>%s</th>", d)
	}
	fmt.Fprintf(w, "<th>total</th></tr>\n")
	for _, k := range keys(m) {
		total := 0
		fmt.Fprintf(w, "<tr><td>%s</td>", html.EscapeString(k))
		for _, d := range reportDecisions {
			fmt.Fprintf(w, `<td class="n">%d</td>`, m[k][d])
			total += m[k][d]
		}
		fmt.Fprintf(w, `<td class="n">%d</td></tr>`+"\n", total)
	}
	fmt.Fprintf(w, "</table>\n")
}

// chart draws the timeline as an inline SVG stacked bar chart.
func (r *Report) chart(w io.Writer) {
	const width, height, pad = 900, 260, 40
	most := 1
	for _, b := range r.Buckets {
		sum := 0
		for _, n := range b.ByDecision {
			sum += n
		}
		most = max(most, sum)
	}
	n := max(len(r.Buckets), 1)
	bw := float64(width-2*pad) / float64(n)
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="statements over time">`+"\n", width, height)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`+"\n", pad, height-pad, width-pad, height-pad)
	fmt.Fprintf(w, `<text x="%d" y="%d" font-size="11">%d</text>`+"\n", 2, pad, most)
	for i, b := range r.Buckets {
		y := float64(height - pad)
		x := float64(pad) + float64(i)*bw
		for _, d := range reportDecisions {
			v := b.ByDecision[d]
			if v == 0 {
				continue
			}
			h := float64(v) / float64(most) * float64(height-2*pad)
			y -= h
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d</title></rect>`+"\n",
				x+1, y, max(bw-2, 1), h, decisionColors[d], b.Start.Format(bucketFormat(r.Bucket)), d, v)
		}
		if n <= 24 || i%(n/12+1) == 0 {
			fmt.Fprintf(w, `<text x="%.1f" y="%d" font-size="10">%s</text>`+"\n", x+1, height-pad+14, b.Start.Format(bucketFormat(r.Bucket))[5:])
		}
	}
	fmt.Fprintf(w, "</svg>\n<p class=\"legend\">")
	for _, d := range reportDecisions {
		fmt.Fprintf(w, `<span><i style="background:%s"></i>%s</span>`, decisionColors[d], d)
	}
	fmt.Fprintf(w, "</p>\n")
}
