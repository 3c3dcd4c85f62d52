package winrm

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzFault: any SOAP a host or a proxy answers with is read as a fault
// or not, without panicking; what the error says carries no control
// character.
func FuzzFault(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text>x</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="0x80070005"><f:Message>denied</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if fl := parseFault(body); fl != nil {
			msg := classifyFault("h", "u", fl).Error()
			if strings.IndexFunc(msg, unicode.IsControl) >= 0 {
				t.Fatalf("%q", msg)
			}
		}
		_, _ = answer(500, "application/soap+xml", body)
		_ = faultCode(string(body))
	})
}
