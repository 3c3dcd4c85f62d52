package winrm

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/result"
	"github.com/whyoffline/whyoffline/internal/textsafe"
	"github.com/whyoffline/whyoffline/internal/transport"
)

// wsmanFault is a WS-Management SOAP fault: the SOAP subcode (w:QuotaLimit,
// w:AccessDenied, ...), the reason, and Windows' own WSManFault code and
// message. Classification reads the subcode and the numeric code, never the
// (localised) text.
type wsmanFault struct {
	status  int
	Subcode string
	Reason  string
	Code    uint64 // WSManFault Code: a Win32 error or an ERROR_WSMAN_* value
	Message string
	Detail  string // w:FaultDetail, a URI such as .../faultDetail/OperationTimeout
}

// WSManFault codes (winerror.h) and Win32 errors a host answers with.
const (
	codeAccessDenied         = 5          // ERROR_ACCESS_DENIED
	codeFileNotFound         = 2          // ERROR_FILE_NOT_FOUND: the command does not exist
	codeShellNotFound        = 2150858843 // ERROR_WSMAN_INVALID_SELECTORS for a ShellId that is gone
	codeShellNotInitialized  = 2150858770 // the shell is no longer usable
	codeOperationTimeout     = 2150858793 // ERROR_WSMAN_OPERATION_TIMEDOUT
	codeQuotaMaxShells       = 2150859173 // ERROR_WSMAN_QUOTA_MAX_SHELLS
	codeQuotaMaxOperations   = 2150859174 // ERROR_WSMAN_QUOTA_MAX_OPERATIONS
	codeQuotaMaxShellsPerUsr = 2150859193 // ERROR_WSMAN_QUOTA_MAX_SHELLUSERS
)

func (f *wsmanFault) Error() string {
	text := f.Message
	if text == "" {
		text = f.Reason
	}
	s := "WS-Management fault " + f.Subcode
	if f.Code != 0 {
		s += fmt.Sprintf(" (code %d)", f.Code)
	}
	if text != "" {
		s += ": " + textsafe.Line(text, 400)
	}
	// the library keeps receiving when it sees this word: keep it visible
	if strings.HasSuffix(f.Detail, "/OperationTimeout") && !strings.Contains(s, "OperationTimeout") {
		s += " (OperationTimeout)"
	}
	return s
}

// parseFault reads a SOAP fault from body; nil when body holds none.
func parseFault(body []byte) *wsmanFault {
	var env struct {
		Body struct {
			Fault *struct {
				Subcode string `xml:"Code>Subcode>Value"`
				Reason  string `xml:"Reason>Text"`
				Detail  struct {
					FaultDetail string `xml:"FaultDetail"`
					WSManFault  struct {
						Code    string `xml:"Code,attr"`
						Message string `xml:"Message"`
					} `xml:"WSManFault"`
				} `xml:"Detail"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if xml.Unmarshal(body, &env) != nil || env.Body.Fault == nil {
		return nil
	}
	f := env.Body.Fault
	out := &wsmanFault{
		Subcode: strings.TrimSpace(f.Subcode),
		Reason:  strings.TrimSpace(f.Reason),
		Message: strings.TrimSpace(f.Detail.WSManFault.Message),
		Detail:  strings.TrimSpace(f.Detail.FaultDetail),
	}
	out.Code = faultCode(f.Detail.WSManFault.Code)
	return out
}

// faultCode reads a WSManFault code in every form Windows writes one:
// decimal (5, 2150858793), hexadecimal (0x80338029), and a Win32 error
// wrapped as an HRESULT (HRESULT_FROM_WIN32: 0x80070005, 2147942405),
// which is unwrapped to the Win32 code (5, access denied) so one rule
// reads them all. 0 when it is none of these.
func faultCode(s string) uint64 {
	s = strings.TrimSpace(s)
	var v uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err = strconv.ParseUint(h, 16, 64)
	} else if n, perr := strconv.ParseInt(s, 10, 64); perr == nil && n < 0 {
		v = uint64(uint32(int32(n))) // a signed HRESULT, as some tools print it
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return 0
	}
	// HRESULT_FROM_WIN32: severity 1, facility 7 (FACILITY_WIN32)
	if v>>16 == 0x8007 {
		return v & 0xffff
	}
	return v
}

// subcode is the fault's subcode without its namespace prefix.
func (f *wsmanFault) subcode() string {
	if _, local, ok := strings.Cut(f.Subcode, ":"); ok {
		return local
	}
	return f.Subcode
}

// classifyFault says, in the contract's kinds, what a host's fault means
// and what to do about it.
func classifyFault(name, user string, f *wsmanFault) error {
	switch {
	case f.subcode() == "AccessDenied" || f.Code == codeAccessDenied:
		// the HTTP layer authenticated the user; WinRM refused it a shell
		return transport.Errorf(result.PrivilegeDenied, f,
			"%s authenticated %s but refused it a remote shell (access denied, code %d): add it to the local Administrators or Remote Management Users group, or grant it the WinRM plugin's permissions (winrm configSDDL default)",
			name, user, f.Code)
	case f.subcode() == "QuotaLimit" || f.Code == codeQuotaMaxShells || f.Code == codeQuotaMaxOperations || f.Code == codeQuotaMaxShellsPerUsr:
		return transport.Errorf(result.ProtocolError, f,
			"%s refused a new shell for %s: a WinRM quota is exhausted (%s): close stale shells (Restart-Service WinRM, or wait for the shell IdleTimeout) or raise it, e.g. winrm set winrm/config/winrs @{MaxShellsPerUser=\"30\"} and winrm set winrm/config/service @{MaxConcurrentOperationsPerUser=\"1500\"}",
			name, user, f.Error())
	case f.Code == codeShellNotFound || f.Code == codeShellNotInitialized:
		return transport.Errorf(result.ProtocolError, f,
			"%s lost the remote shell mid-run (%s): the WinRM service restarted or closed the shell; scan again, and check the host's WinRM event log if it repeats", name, f.Error())
	case f.Code == codeFileNotFound:
		return transport.Errorf(result.ProtocolError, f,
			"%s could not start the check command (%s): powershell.exe is not where the host's PATH says", name, f.Error())
	}
	return transport.Errorf(result.ProtocolError, f, "%s: %s", name, f.Error())
}
