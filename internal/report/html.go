package report

import (
	"html/template"
	"io"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

type htmlWriter struct{ w io.Writer }

func (h *htmlWriter) Host(int, *result.Host) error { return nil }

// The page is self-contained: inline CSS, no scripts, no external fetches.
// html/template escapes every value; clean() also strips control text.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"clean":      func(s string) string { return textsafe.Line(s, 2000) },
	"changeText": ChangeText,
	"multiline":  func(s string) string { return textsafe.Block(s, 4000) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>whyoffline report {{.Run.Started.Format "2006-01-02 15:04"}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.healthy{color:#1a7f37}.diagnosed{color:#9a6700}.unreachable,.error{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{white-space:pre-wrap;background:#f6f8fa;padding:6px;margin:2px 0}
details summary{cursor:pointer}.fleet{border-left:4px solid #cf222e;padding:4px 12px;background:#fff5f5}
</style></head><body>
<h1>Why offline?</h1>
<p>{{.Run.Summary.Hosts}} hosts — <span class="healthy">{{.Run.Summary.Healthy}} healthy</span>,
<span class="diagnosed">{{.Run.Summary.Diagnosed}} diagnosed</span>,
<span class="unreachable">{{.Run.Summary.Unreachable}} unreachable</span>,
<span class="error">{{.Run.Summary.Error}} error</span>.
{{with .Run.Manager}}Manager <code>{{clean .Host}}:{{.Port}}</code> ({{clean .Mode}}).{{end}}
Started {{.Run.Started.Format "2006-01-02 15:04:05 MST"}}, finished {{.Run.Finished.Format "15:04:05"}}.</p>
{{range .Run.Fleet}}<div class="fleet"><b>{{clean .ID}}</b>: {{clean .Evidence}}<br>→ {{clean .Remedy}}</div>{{end}}
{{if .Groups}}<h2>What to do</h2><ul>{{range .Groups}}<li><b>{{clean .ID}}</b> ({{len .Hosts}}): {{clean .Remedy}}</li>{{end}}</ul>{{end}}
<h2>Hosts</h2>
<table><tr><th>Host</th><th>Address</th><th>OS</th><th>Status</th><th>Causes</th></tr>
{{range .Run.Hosts}}<tr><td>{{clean .Name}}</td><td><code>{{clean .Address}}</code></td><td>{{clean .OS}}</td>
<td class="{{clean (print .Status)}}">{{clean (print .Status)}}{{with .Change}}<br><small class="change">{{clean (changeText .)}}</small>{{end}}</td><td>
{{range .Causes}}<div><b>{{clean .ID}}</b> <i>({{clean (print .Confidence)}})</i>: {{clean .Evidence}}<br>→ {{clean .Remedy}}</div>{{end}}
{{with .Error}}<div><b>{{clean (print .Kind)}}</b>: {{clean .Message}}</div>{{end}}
{{if .Unverified}}<div class="unverified"><b>unverified</b>: {{range .Unverified}}<code>{{clean .Check}}</code> ({{clean .Reason}}) {{end}}</div>{{end}}
{{if .Checks}}<details><summary>{{len .Checks}} checks</summary>{{range .Checks}}<div><code>{{clean .ID}}</code> {{clean .Result}}{{if .Output}}<pre>{{multiline .Output}}</pre>{{end}}</div>{{end}}</details>{{end}}
</td></tr>{{end}}
</table></body></html>
`))

func (h *htmlWriter) End(run *result.Run) error {
	return page.Execute(h.w, struct {
		Run    *result.Run
		Groups []causeGroup
	}{run, groupCauses(run)})
}
