package report

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// The HTML page groups and sorts, so it needs every host at once.
var htmlFormat = Format{Name: "html", Extensions: []string{".html", ".htm"},
	open: func(w io.Writer, _ Options) Writer { return &htmlWriter{w: w} }}

type htmlWriter struct{ w io.Writer }

func (h *htmlWriter) Host(int, *result.Host) error { return nil }

// The page is one self-contained file that works offline: inline CSS, an
// inline script allowed by its hash in the Content-Security-Policy and
// nothing else, no fetches. The summary, chart and remedies are rendered
// here; the host table is rendered in the browser from an embedded JSON
// document, so 10,000 hosts filter and sort without a server. Every value
// from a host is escaped (html/template here; esc() in the script) and
// stripped of control text.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"clean": func(s string) string { return textsafe.Line(s, 2000) },
	"hostList": func(hosts []string) string {
		more := ""
		if len(hosts) > 8 {
			hosts, more = hosts[:8], fmt.Sprintf(" and %d more", len(hosts)-8)
		}
		return textsafe.Line(strings.Join(hosts, ", "), 600) + more
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '{{.ScriptHash}}'">
<title>whyoffline report {{.Run.Started.Format "2006-01-02 15:04"}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f6f8fa}th.sorted::after{content:" ↕"}
.healthy{color:#1a7f37}.diagnosed{color:#9a6700}.unreachable,.error{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{white-space:pre-wrap;background:#f6f8fa;padding:6px;margin:2px 0}
.fleet{border-left:4px solid #cf222e;padding:4px 12px;background:#fff5f5;margin:4px 0}
.charts{display:flex;gap:3em;flex-wrap:wrap}.filters{margin:1em 0;display:flex;gap:.6em;flex-wrap:wrap;align-items:center}
#rows td:first-child,.hosts,#todo b{white-space:nowrap}tr.host{cursor:pointer}tr.host:hover{background:#f6f8fa}tr.detail td{background:#fbfbfb}.change{color:#555;font-size:12px}
</style></head><body>
<h1>Why offline?</h1>
<p id="summary">{{.Run.Summary.Hosts}} hosts — <span class="healthy" id="sum-healthy">{{.Run.Summary.Healthy}}</span> healthy,
<span class="diagnosed" id="sum-diagnosed">{{.Run.Summary.Diagnosed}}</span> diagnosed,
<span class="unreachable" id="sum-unreachable">{{.Run.Summary.Unreachable}}</span> unreachable,
<span class="error" id="sum-error">{{.Run.Summary.Error}}</span> error{{if .Run.Summary.Skipped}}; <span id="sum-skipped">{{.Run.Summary.Skipped}}</span> skipped (not scanned){{end}}.
{{with .Run.Manager}}Manager <code>{{clean .Host}}:{{.Port}}</code> ({{clean .Mode}}).{{end}}
Started {{.Run.Started.Format "2006-01-02 15:04:05 MST"}}, finished {{.Run.Finished.Format "15:04:05"}}.</p>
<div class="charts">{{.StatusChart}}{{.CauseChart}}</div>
{{if .Run.Fleet}}<h2>Fleet findings</h2>{{range .Run.Fleet}}<div class="fleet"><b>{{clean .ID}}</b>: {{clean .Evidence}}<br>→ {{clean .Remedy}}</div>{{end}}{{end}}
{{if .Run.Skipped}}<h2>Skipped (not scanned, not judged)</h2><ul id="skipped">{{range .Run.Skipped}}<li><b>{{clean .Name}}</b> <small>{{clean .Source}}</small>: {{clean .Reason}}</li>{{end}}</ul>{{end}}
{{if .Groups}}<h2>What to do</h2><ul id="todo">{{range .Groups}}<li><b>{{clean .ID}}</b>{{if .Error}} (could not judge){{end}} ({{len .Hosts}} host{{if ne (len .Hosts) 1}}s{{end}}): {{if .Variants}}<ul>{{range .Variants}}<li><span class="hosts">{{hostList .Hosts}}</span>: {{clean .Remedy}}</li>{{end}}</ul>{{else}}{{clean .Remedy}}{{end}}</li>{{end}}</ul>{{end}}
<h2>Hosts</h2>
<div class="filters">
<select id="f-status"><option value="">every status</option></select>
<select id="f-cause"><option value="">every cause</option></select>
<select id="f-os"><option value="">every OS</option></select>
<select id="f-group"><option value="">every group</option></select>
<input id="f-q" type="search" placeholder="search host, address, evidence" size="32">
<span><span id="shown">0</span> of {{.Run.Summary.Hosts}} shown</span>
</div>
<noscript><p>The summary, charts and "What to do" above read without JavaScript; the host table below needs it (the JSON report, -o json, has every host).</p></noscript>
<table><thead><tr><th data-k="n">Host</th><th data-k="a">Address</th><th data-k="o">OS</th><th data-k="s">Status</th><th data-k="c">Causes</th><th data-k="e">Evidence</th></tr></thead>
<tbody id="rows"></tbody></table>
<script type="application/json" id="data">{{.Data}}</script>
<script>{{.Script}}</script>
</body></html>
`))

// pageScript renders, filters and sorts the host table. Filters can come
// from the URL's fragment (#status=error&cause=dns-unresolvable&q=web), so
// a link can point at a view.
const pageScript = `(function () {
  var D = JSON.parse(document.getElementById('data').textContent), H = D.hosts;
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function $(id) { return document.getElementById(id); }
  var F = {status: $('f-status'), cause: $('f-cause'), os: $('f-os'), group: $('f-group'), q: $('f-q')};
  function fill(sel, values) {
    var seen = {}; values.forEach(function (v) { if (v) seen[v] = 1; });
    Object.keys(seen).sort().forEach(function (v) { var o = document.createElement('option'); o.value = v; o.textContent = v; sel.appendChild(o); });
  }
  fill(F.status, H.map(function (h) { return h.s; }));
  fill(F.cause, [].concat.apply([], H.map(function (h) { return h.c.concat(h.x ? [h.x] : []); })));
  fill(F.os, H.map(function (h) { return h.o; }));
  fill(F.group, [].concat.apply([], H.map(function (h) { return h.g; })));
  var key = 'n', dir = 1, cols = 6;
  function addColumn(k, title) {
    var th = document.createElement('th'); th.dataset.k = k; th.textContent = title;
    document.querySelector('th[data-k="e"]').before(th);
    cols++;
  }
  // a Change column only with history, Offline since only from the
  // manager's API (the longest silent first)
  if (D.hc) addColumn('ch', 'Change');
  if (D.sn) { addColumn('sn', 'Offline since'); key = 'sn'; }
  var hash = new URLSearchParams(location.hash.slice(1));
  ['status', 'cause', 'os', 'group', 'q'].forEach(function (k) { if (hash.get(k)) F[k].value = hash.get(k); });
  if (hash.get('sort')) key = hash.get('sort');
  function match(h) {
    if (F.status.value && h.s !== F.status.value) return false;
    if (F.cause.value && h.c.indexOf(F.cause.value) < 0 && h.x !== F.cause.value) return false;
    if (F.os.value && h.o !== F.os.value) return false;
    if (F.group.value && h.g.indexOf(F.group.value) < 0) return false;
    var q = F.q.value.toLowerCase();
    return !q || (h.n + ' ' + h.a + ' ' + h.e + ' ' + h.c.join(' ')).toLowerCase().indexOf(q) >= 0;
  }
  function val(h) { var v = h[key]; return Array.isArray(v) ? v.join(',') : String(v == null ? '' : v); }
  function render() {
    var shown = [];
    for (var i = 0; i < H.length; i++) if (match(H[i])) shown.push(i);
    shown.sort(function (a, b) { var x = val(H[a]), y = val(H[b]); return x < y ? -dir : x > y ? dir : a - b; });
    var out = [];
    shown.forEach(function (i) {
      var h = H[i];
      out.push('<tr class="host" data-i="' + i + '"><td>' + esc(h.n) + '</td><td><code>' + esc(h.a) + '</code></td><td>' + esc(h.o) +
        '</td><td class="' + esc(h.s) + '">' + esc(h.s) + '</td><td>' + esc(h.c.join(', ') || h.x) +
        (D.hc ? '</td><td class="change">' + esc(h.ch) : '') + (D.sn ? '</td><td>' + esc(h.sn) : '') + '</td><td>' + esc(h.e) + '</td></tr>');
    });
    $('rows').innerHTML = out.join('');
    $('shown').textContent = shown.length;
  }
  function detail(h) {
    var s = '';
    h.d.forEach(function (c) { s += '<div><b>' + esc(c.id) + '</b> <i>(' + esc(c.cf) + ')</i>: ' + esc(c.ev) + '<br>→ ' + esc(D.remedies[c.rm] || '') + '</div>'; });
    if (h.m) s += '<div><b>the manager says</b>: ' + esc(h.m) + '</div>';
    if (h.em) s += '<div><b>' + esc(h.x) + '</b>: ' + esc(h.em) + (h.xr >= 0 ? '<br>→ ' + esc(D.remedies[h.xr] || '') : '') + '</div>';
    if (h.u) s += '<div><b>unverified</b>: ' + esc(h.u) + '</div>';
    h.k.forEach(function (c) { s += '<div><code>' + esc(c.id) + '</code> ' + esc(c.r) + (c.o ? '<pre>' + esc(c.o) + '</pre>' : '') + '</div>'; });
    return '<tr class="detail"><td colspan="' + cols + '">' + (s || 'every check passed') + '</td></tr>';
  }
  $('rows').addEventListener('click', function (ev) {
    var tr = ev.target.closest('tr.host'); if (!tr) return;
    var next = tr.nextElementSibling;
    if (next && next.classList.contains('detail')) { next.remove(); return; }
    tr.insertAdjacentHTML('afterend', detail(H[+tr.dataset.i]));
  });
  document.querySelectorAll('th[data-k]').forEach(function (th) {
    th.addEventListener('click', function () { dir = key === th.dataset.k ? -dir : 1; key = th.dataset.k; render(); });
  });
  ['status', 'cause', 'os', 'group'].forEach(function (k) { F[k].addEventListener('change', render); });
  F.q.addEventListener('input', render);
  render();
  document.body.dataset.renderedMs = Math.round(performance.now());
})();`

// pageHost is one host as the script needs it: short keys, details kept
// small (checks that passed are left out, outputs capped), remedies once
// per cause in the document.
type pageHost struct {
	Name     string      `json:"n"`
	Address  string      `json:"a"`
	OS       string      `json:"o"`
	Status   string      `json:"s"`
	Causes   []string    `json:"c"`
	Evidence string      `json:"e"`
	Groups   []string    `json:"g"`
	Change   string      `json:"ch"`
	Manager  string      `json:"m,omitempty"`
	Since    string      `json:"sn,omitempty"` // the manager's last communication with the agent
	ErrKind  string      `json:"x,omitempty"`
	ErrMsg   string      `json:"em,omitempty"`
	ErrRem   int         `json:"xr"` // index of the error's remedy in remedies (-1: none)
	Unverif  string      `json:"u,omitempty"`
	Details  []pageCause `json:"d"`
	Checks   []pageCheck `json:"k"`
}

type pageCause struct {
	ID         string `json:"id"`
	Confidence string `json:"cf"`
	Evidence   string `json:"ev"`
	Remedy     int    `json:"rm"` // index in remedies: each text once in the page
}

type pageCheck struct {
	ID     string `json:"id"`
	Result string `json:"r"`
	Output string `json:"o,omitempty"`
}

func pageData(run *result.Run, groups []causeGroup) ([]byte, error) {
	doc := struct {
		Hosts    []pageHost `json:"hosts"`
		Remedies []string   `json:"remedies"`
		Since    bool       `json:"sn,omitempty"` // some host has an offline-since time
		History  bool       `json:"hc,omitempty"` // some host has a change since the previous run
	}{Hosts: make([]pageHost, 0, len(run.Hosts)), Remedies: []string{}}
	index := map[string]int{}
	remedy := func(text string) int {
		text = textsafe.Line(text, 2000)
		i, ok := index[text]
		if !ok {
			i = len(doc.Remedies)
			index[text] = i
			doc.Remedies = append(doc.Remedies, text)
		}
		return i
	}
	for i := range run.Hosts {
		h := &run.Hosts[i]
		_, ev, _ := primary(h)
		p := pageHost{Name: textsafe.Line(h.Name, 200), Address: textsafe.Line(h.Address, 200), OS: textsafe.Line(h.OS, 40), Status: string(h.Status),
			Causes: causeIDs(h), Evidence: textsafe.Line(ev, 300), Groups: h.Groups, Change: ChangeText(h.Change), Manager: textsafe.Line(ManagerText(h), 200),
			Unverif: textsafe.Line(unverifiedText(h), 500), Details: []pageCause{}, Checks: []pageCheck{}, ErrRem: -1}
		doc.History = doc.History || h.Change != nil
		if c := h.Computer; c != nil && c.OfflineSince != nil {
			p.Since = c.OfflineSince.UTC().Format("2006-01-02 15:04 UTC")
			doc.Since = true
		}
		if p.Causes == nil {
			p.Causes = []string{}
		}
		if p.Groups == nil {
			p.Groups = []string{}
		}
		if h.Error != nil {
			p.ErrKind, p.ErrMsg = string(h.Error.Kind), textsafe.Line(h.Error.Message, 500)
			if len(h.Causes) == 0 {
				p.ErrRem = remedy(ErrorRemedy(h.Error.Kind))
			}
		}
		for _, c := range h.Causes {
			p.Details = append(p.Details, pageCause{ID: textsafe.Line(c.ID, 60), Confidence: string(c.Confidence), Evidence: textsafe.Line(c.Evidence, 500), Remedy: remedy(c.Remedy)})
		}
		for _, c := range h.Checks {
			if c.Result == "pass" || c.Result == "info" {
				continue
			}
			p.Checks = append(p.Checks, pageCheck{ID: textsafe.Line(c.ID, 60), Result: textsafe.Line(c.Result, 20), Output: textsafe.Block(c.Output, 300)})
		}
		doc.Hosts = append(doc.Hosts, p)
	}
	// encoding/json escapes <, > and & as \u003c...: the document cannot
	// end its <script> element early
	return json.Marshal(doc)
}

// barChart is an inline SVG bar chart of counts, drawn here so the
// summary shows without the script.
func barChart(title string, labels []string, counts []int, colors []string) template.HTML {
	if len(labels) == 0 {
		return ""
	}
	max := 1
	for _, c := range counts {
		if c > max {
			max = c
		}
	}
	const barH, gap, labelW, barW = 18, 6, 170, 260
	h := len(labels)*(barH+gap) + 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="%s" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, template.HTMLEscapeString(title), labelW+barW+60, h)
	fmt.Fprintf(&b, `<text x="0" y="14" font-size="13" font-weight="bold">%s</text>`, template.HTMLEscapeString(title))
	for i, l := range labels {
		y := 24 + i*(barH+gap)
		w := counts[i] * barW / max
		if counts[i] > 0 && w < 2 {
			w = 2
		}
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="12">%s</text><rect x="%d" y="%d" width="%d" height="%d" fill="%s"/><text x="%d" y="%d" font-size="12">%d</text>`,
			y+13, template.HTMLEscapeString(textsafe.Line(l, 28)), labelW, y, w, barH, colors[i%len(colors)], labelW+w+6, y+13, counts[i])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it was escaped above
}

func (h *htmlWriter) End(run *result.Run) error {
	groups := groupCauses(run)
	data, err := pageData(run, groups)
	if err != nil {
		return err
	}
	s := run.Summary
	status := barChart("Hosts by status", []string{"healthy", "diagnosed", "unreachable", "error"},
		[]int{s.Healthy, s.Diagnosed, s.Unreachable, s.Error}, []string{"#1a7f37", "#bf8700", "#cf222e", "#a40e26"})
	byCause := append([]causeGroup(nil), groups...)
	sort.SliceStable(byCause, func(i, j int) bool { return len(byCause[i].Hosts) > len(byCause[j].Hosts) })
	if len(byCause) > 12 {
		byCause = byCause[:12]
	}
	var labels []string
	var counts []int
	for _, g := range byCause {
		labels = append(labels, g.ID)
		counts = append(counts, len(g.Hosts))
	}
	causes := barChart("Hosts by cause", labels, counts, []string{"#0969da"})
	sum := sha256.Sum256([]byte(pageScript))
	return page.Execute(h.w, struct {
		Run         *result.Run
		Groups      []causeGroup
		StatusChart template.HTML
		CauseChart  template.HTML
		Data        template.JS
		Script      template.JS
		ScriptHash  string
	}{run, groups, status, causes, template.JS(data), template.JS(pageScript), "sha256-" + base64.StdEncoding.EncodeToString(sum[:])})
}
