package dsmapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzDecode: whatever the manager (or something on its address) answers
// decodes as computers or an error without a control character and
// without the key; every computer's state is decided without panicking.
func FuzzDecode(f *testing.F) {
	f.Add(200, []byte(`{"computers":[{"ID":1,"hostName":"a","computerStatus":{"agentStatus":"error","agentStatusMessages":["Managed (Offline)"]},"lastAgentCommunication":1}]}`))
	f.Add(401, []byte(`{"message":"Invalid API key 2:SECRET"}`))
	f.Add(500, []byte("<html>api-secret-key: 2:SECRET</html>"))
	c := &Client{key: "2:SECRET", retries: 1}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}}
		list, err := c.decode(resp)
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "2:SECRET") || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
				t.Fatalf("%q", msg)
			}
			return
		}
		for i := range list {
			list[i].State(time.Now(), 0)
			_ = list[i].StatusText()
		}
	})
}
