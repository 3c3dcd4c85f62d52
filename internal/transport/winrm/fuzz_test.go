package winrm

import (
	"bytes"

	"strings"
	"testing"
	"unicode"

	mz "github.com/masterzen/winrm"
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

// FuzzAnswer: every answer of a run — to Create (the shell), Command and
// Receive — passes answer() and then the library's readers, whatever an
// endpoint or a proxy sends: an error with no control character, or a
// reading that never panics and never yields more output than the body
// could carry in base64.
func FuzzAnswer(f *testing.F) {
	const env = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header></s:Header><s:Body>`
	const end = `</s:Body></s:Envelope>`
	// MS-WSMV 3.1.4.1.16 ReceiveResponse, 3.1.4.11 Shell, 3.1.4.1.31 CommandResponse
	f.Add(200, []byte(env+`<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C">aGVsbG8K</rsp:Stream><rsp:Stream Name="stderr" CommandId="C">ZXJy</rsp:Stream><rsp:CommandState CommandId="C" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>3</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`+end))
	f.Add(200, []byte(env+`<rsp:Shell><rsp:ShellId>11111111-2222-3333-4444-555555555555</rsp:ShellId></rsp:Shell>`+end))
	f.Add(200, []byte(env+`<rsp:CommandResponse><rsp:CommandId>C</rsp:CommandId></rsp:CommandResponse>`+end))
	f.Add(500, []byte(env+`<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793"/></s:Detail></s:Fault>`+end))
	f.Add(502, []byte("<html>Bad Gateway\x1b[2J http://www.w3.org/2003/05/soap-envelope</html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		s, err := answer(100+abs(status)%500, "application/soap+xml;charset=UTF-8", body)
		if err != nil {
			if strings.IndexFunc(err.Error(), unicode.IsControl) >= 0 {
				t.Fatalf("%q", err.Error())
			}
			return
		}
		_, _ = mz.ParseOpenShellResponse(s)
		_, _ = mz.ParseExecuteCommandResponse(s)
		var stdout, stderr bytes.Buffer
		_, _, _ = mz.ParseSlurpOutputErrResponse(s, &stdout, &stderr)
		if stdout.Len()+stderr.Len() > len(body) {
			t.Fatalf("%d bytes of output from a %d-byte answer", stdout.Len()+stderr.Len(), len(body))
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
