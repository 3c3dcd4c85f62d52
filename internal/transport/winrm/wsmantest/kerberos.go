package wsmantest

import (
	"net/http"
	"strings"

	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// ctxCredentials is the key under which gokrb5's SPNEGO acceptor puts the
// client's credentials into the context it returns (an untyped string
// constant there, unexported).
const ctxCredentials = "github.com/jcmturner/gokrb5/v8/ctxCredentials"

// kerberos verifies a Negotiate token carrying a Kerberos AP-REQ against
// the service keytab, the way a domain-joined Windows host's HTTP.sys
// does: the ticket must be for this host's SPN, decrypt with its key, be
// fresh, and name the expected user.
func (s *Server) kerberos(w http.ResponseWriter, token []byte) bool {
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(token); err != nil {
		s.count("kerberos-malformed")
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	svc := spnego.SPNEGOService(s.cfg.Keytab, service.KeytabPrincipal(s.cfg.SPN), service.DecodePAC(false))
	ok, ctx, status := svc.AcceptSecContext(&st)
	if !ok || status.Code != gssapi.StatusComplete {
		s.count("kerberos-rejected")
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	creds, _ := ctx.Value(ctxCredentials).(*credentials.Credentials)
	if creds == nil || !s.userMatches(creds.UserName(), "") || (s.cfg.Realm != "" && !strings.EqualFold(creds.Domain(), s.cfg.Realm)) {
		s.count("kerberos-wrong-user")
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	s.count("kerberos-auth")
	return true
}

func (s *Server) count(what string) {
	s.mu.Lock()
	s.Requests[what]++
	s.mu.Unlock()
}
