package winrm

import (
	"errors"
	"testing"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// TestFaultCodesInEveryForm: Windows writes the same error as 5,
// 0x80070005 or 2147942405 (HRESULT_FROM_WIN32); each reads as access
// denied, and WS-Management's own codes read in decimal or hex.
func TestFaultCodesInEveryForm(t *testing.T) {
	for in, want := range map[string]uint64{
		"5": codeAccessDenied, "0x80070005": codeAccessDenied, "0X80070005": codeAccessDenied, "2147942405": codeAccessDenied,
		"-2147024891": codeAccessDenied, "2150858793": codeOperationTimeout, "0x80338029": codeOperationTimeout,
		"0x80070002": codeFileNotFound, "garbage": 0, "": 0,
	} {
		if got := faultCode(in); got != want {
			t.Errorf("faultCode(%q) = %d, want %d", in, got, want)
		}
	}
	body := []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">` +
		`<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>` +
		`<s:Reason><s:Text xml:lang="en-US">Access is denied.</s:Text></s:Reason><s:Detail>` +
		`<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="0x80070005" Machine="w"><f:Message>Access is denied.</f:Message></f:WSManFault>` +
		`</s:Detail></s:Fault></s:Body></s:Envelope>`)
	f := parseFault(body)
	if f == nil {
		t.Fatal("not read as a fault")
	}
	var te *transport.Error
	if err := classifyFault("win01", "svc", f); !errors.As(err, &te) || te.Kind != result.PrivilegeDenied {
		t.Errorf("an HRESULT access denied reads as %v", err)
	}
}
