package ssh

import (
	"fmt"
	"os/user"
	"path"
	"strings"
	"sync"

	sshconfig "github.com/kevinburke/ssh_config"
)

// sshConfig is ssh_config as whyoffline applies it. The parser
// (kevinburke/ssh_config) knows Host blocks and "Match host"; OpenSSH's
// other Match criteria are evaluated here, before it reads the file:
// host and originalhost become the block's host patterns, user and
// localuser are decided for the login user the inventory gives (one
// parsed config per such user), and a criterion whyoffline cannot judge
// without running something (exec) or knowing more (canonical, final,
// localnetwork, address, tagged, ...) drops its block with a warning —
// never silently.
type sshConfig struct {
	file      string
	text      string
	localUser string
	warnings  []string

	mu     sync.Mutex
	byUser map[string]*sshConfigEntry
}

type sshConfigEntry struct {
	cfg *sshconfig.Config
	err error
}

// neverHost is a Host pattern no inventory host is called.
const neverHost = "whyoffline.match-not-applied.invalid"

func newSSHConfig(file, text string) (*sshConfig, error) {
	c := &sshConfig{file: file, text: text, byUser: map[string]*sshConfigEntry{}}
	if u, err := user.Current(); err == nil {
		c.localUser = u.Username
	}
	// parse once now, so a broken file is bad input before any host; what
	// it cannot apply is the same for every user
	if _, err := c.forUser(""); err != nil {
		return nil, err
	}
	return c, nil
}

// forUser is the config as it applies to logins as remote user u.
func (c *sshConfig) forUser(u string) (*sshconfig.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byUser[u]; ok {
		return e.cfg, e.err
	}
	text, warnings := rewriteMatch(c.text, u, c.localUser, c.file)
	if len(c.byUser) == 0 {
		c.warnings = warnings // the first parse, in newSSHConfig
	}
	cfg, err := sshconfig.Decode(strings.NewReader(text))
	if err != nil {
		err = fmt.Errorf("ssh config %s: %v", c.file, err)
	}
	c.byUser[u] = &sshConfigEntry{cfg, err}
	return cfg, err
}

// rewriteMatch turns every Match line into the Host line that means the
// same for a login as remoteUser from localUser, and lists what it could
// not honour.
func rewriteMatch(text, remoteUser, localUser, file string) (string, []string) {
	lines := strings.Split(text, "\n")
	var warnings []string
	for i, line := range lines {
		t := strings.TrimSpace(line)
		kw, rest := splitKeyword(t)
		if !strings.EqualFold(kw, "match") {
			continue
		}
		host, warn := matchAsHost(rest, remoteUser, localUser)
		if warn != "" {
			warnings = append(warnings, fmt.Sprintf("ssh config %s:%d: %s: its block is not applied", file, i+1, warn))
		}
		lines[i] = "Host " + host
	}
	return strings.Join(lines, "\n"), warnings
}

// splitKeyword splits "Keyword args" or "Keyword=args".
func splitKeyword(t string) (string, string) {
	i := strings.IndexAny(t, " \t=")
	if i < 0 {
		return t, ""
	}
	return t[:i], strings.TrimLeft(t[i:], " \t=")
}

// matchAsHost evaluates a Match line's criteria: the Host patterns that
// mean the same ("*" for every host, neverHost for none), or why it cannot.
func matchAsHost(criteria, remoteUser, localUser string) (string, string) {
	if c := strings.Index(criteria, "#"); c >= 0 {
		criteria = criteria[:c]
	}
	f := strings.Fields(criteria)
	var hosts []string
	applies := true
	for i := 0; i < len(f); i++ {
		kw := strings.ToLower(f[i])
		negate := strings.HasPrefix(kw, "!")
		kw = strings.TrimPrefix(kw, "!")
		switch kw {
		case "all":
			continue
		case "host", "originalhost", "user", "localuser":
		default:
			return neverHost, fmt.Sprintf("Match %s is not supported by whyoffline", kw)
		}
		if i+1 == len(f) {
			return neverHost, fmt.Sprintf("Match %s has no argument", kw)
		}
		i++
		list := strings.Split(strings.Trim(f[i], `"`), ",")
		switch kw {
		case "host", "originalhost":
			if negate {
				return neverHost, "Match !" + kw + " is not supported by whyoffline"
			}
			hosts = append(hosts, list...)
		case "user":
			applies = applies && matchesList(remoteUser, list) != negate
		case "localuser":
			applies = applies && matchesList(localUser, list) != negate
		}
	}
	switch {
	case !applies:
		return neverHost, ""
	case len(hosts) == 0:
		return "*", ""
	}
	return strings.Join(hosts, " "), ""
}

// matchesList is OpenSSH's pattern-list match: a name matching a negated
// pattern never matches; otherwise any positive pattern decides.
func matchesList(name string, list []string) bool {
	ok := false
	for _, p := range list {
		neg := strings.HasPrefix(p, "!")
		if m, _ := path.Match(strings.TrimPrefix(p, "!"), name); m {
			if neg {
				return false
			}
			ok = true
		}
	}
	return ok
}
