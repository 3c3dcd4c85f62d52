// Package dsmapi asks a manager — Server & Workload Protection, Workload
// Security (Cloud One) or an on-premises Deep Security Manager — which
// computers it shows offline, through the published REST API:
// POST /api/computers/search page by page (SearchFilter: maxItems, an
// idTest greater-than the last ID seen, sortByObjectID), with
// expand=computerStatus and expand=ec2VirtualMachineSummary (the
// documented default is "all", far larger), api-version v1. An API key
// goes in api-secret-key (keys made in the manager's own console:
// on-premises, Server & Workload Protection, legacy Workload Security)
// or in "Authorization: ApiKey KEY" (Trend Cloud One API keys); the
// vendor's SDK declares both ("Legacy API Key", "Trend Micro Cloud One
// API Key"). 429 and 5xx answers are retried with backoff. It only reads
// (a search is a POST, and changes nothing).
package dsmapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/whyoffline/whyoffline/internal/safefile"
	"github.com/whyoffline/whyoffline/internal/secret"
	"github.com/whyoffline/whyoffline/internal/textsafe"
)

// MaxResponse bounds the computer list: with only the status expanded a
// computer is well under 4 KiB, so this is room for far more computers
// than one manager holds.
const MaxResponse = 256 << 20

// Computer is what the manager says of one computer: the fields of the
// SDK's Computer model whyoffline uses.
type Computer struct {
	ID                     int    `json:"ID"`
	HostName               string `json:"hostName"`
	DisplayName            string `json:"displayName"`
	Platform               string `json:"platform"`
	LastIPUsed             string `json:"lastIPUsed"`
	AgentFingerPrint       string `json:"agentFingerPrint"`
	AgentVersion           string `json:"agentVersion"`
	LastAgentCommunication int64  `json:"lastAgentCommunication"` // ms since the epoch
	Status                 struct {
		AgentStatus   string   `json:"agentStatus"` // inactive, active, warning, error, not-supported
		AgentMessages []string `json:"agentStatusMessages"`
	} `json:"computerStatus"`
	EC2 *struct {
		InstanceID string `json:"instanceID"`
	} `json:"ec2VirtualMachineSummary"`
}

// InstanceID is the computer's cloud instance ID, when the manager has
// one (EC2).
func (c *Computer) InstanceID() string {
	if c.EC2 == nil {
		return ""
	}
	return c.EC2.InstanceID
}

// Windows reports whether the manager's platform string names Windows.
func (c *Computer) Windows() bool {
	return strings.Contains(strings.ToLower(c.Platform), "windows")
}

// Config is how to reach the manager's API.
type Config struct {
	URL     string // https://dsm.example.com:4119 (a trailing /api is fine)
	APIKey  string
	CAFile  string // extra CA for the manager's certificate ("" = system pool)
	Timeout time.Duration
	// PageSize is how many computers one search returns (default 5000,
	// the API's maximum).
	PageSize int
	// Retries of a 429 or 5xx answer (default 5), waiting RetryBase
	// (default 1 s) doubled each time, or the answer's Retry-After.
	Retries   int
	RetryBase time.Duration
	// Auth is the key's kind: AuthSecret (api-secret-key), AuthAPIKey
	// (Authorization: ApiKey), or "" to try api-secret-key and, after a
	// 401, the other once.
	Auth string
}

// Key kinds.
const (
	AuthSecret = "secret"
	AuthAPIKey = "apikey"
)

// StatusText is the manager's own words for a computer's state
// ("Managed (Offline)"), for the reports.
func (c *Computer) StatusText() string {
	return textsafe.Line(strings.Join(c.Status.AgentMessages, "; "), 200)
}

// Error is a failure with what to do about it; BadInput marks the ones the
// user's input caused (a URL, a key, a CA file).
type Error struct {
	Msg      string
	BadInput bool
}

func (e *Error) Error() string { return e.Msg }

func badInput(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), BadInput: true}
}

// Client lists computers.
type Client struct {
	base      string // https://host:port/path/api
	key       string
	auth      string   // the kind that worked ("" until one did)
	tried     []string // the kinds tried, for the 401 message
	http      *http.Client
	pageSize  int
	retries   int
	retryBase time.Duration
}

// New checks cfg and builds a client. The key goes only into the request
// header, never into an error.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, badInput("--from-manager %q: give the manager's URL, like https://dsm.example.com:4119", textsafe.Line(cfg.URL, 200))
	}
	if u.Scheme != "https" {
		return nil, badInput("--from-manager %s: the API key would cross the network in clear text; use https://", textsafe.Line(cfg.URL, 200))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, badInput("--from-manager: give only scheme, host, port and path (no user, query or fragment)")
	}
	if err := checkConsoleURL(u); err != nil {
		return nil, err
	}
	switch cfg.Auth {
	case "", AuthSecret, AuthAPIKey:
	default:
		return nil, badInput("--api-auth %q: use secret (api-secret-key) or apikey (Authorization: ApiKey)", textsafe.Line(cfg.Auth, 40))
	}
	if cfg.APIKey == "" {
		return nil, badInput("--from-manager needs an API key: set WHYOFFLINE_API_KEY or pass --api-key-file FILE")
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, badInput("the API key holds a line break: the key file should hold the key alone")
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := safefile.Read(cfg.CAFile, 4<<20)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, badInput("--api-ca-file %s: %v", cfg.CAFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, badInput("--api-ca-file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{DialContext: dialer.DialContext, TLSClientConfig: tlsCfg, TLSHandshakeTimeout: 15 * time.Second,
		ResponseHeaderTimeout: timeout, Proxy: http.ProxyFromEnvironment}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api")
	c := &Client{base: u.Scheme + "://" + u.Host + path + "/api", key: cfg.APIKey, auth: cfg.Auth, pageSize: cfg.PageSize, retries: cfg.Retries, retryBase: cfg.RetryBase}
	if c.pageSize <= 0 || c.pageSize > 5000 {
		c.pageSize = 5000
	}
	if c.retries <= 0 {
		c.retries = 5
	}
	if c.retryBase <= 0 {
		c.retryBase = time.Second
	}
	c.http = &http.Client{
		Transport: transport, Timeout: timeout,
		// the key would follow a redirect to wherever it points
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// mask hides the API key wherever a server's answer repeats it (a proxy or
// a debug page that echoes the request headers).
func (c *Client) mask(s string) string {
	// plain, case-folded, URL-encoded and base64 echoes of the key, and
	// any credential header's value
	return secret.New(c.key).Scrub(s)
}

// Computers lists every computer the manager knows, sorted by host name:
// page after page of a search for IDs above the last one seen.
func (c *Client) Computers(ctx context.Context) ([]Computer, error) {
	var all []Computer
	last := -1
	for page := 0; ; page++ {
		body, _ := json.Marshal(map[string]any{
			"maxItems":       c.pageSize,
			"searchCriteria": []map[string]any{{"idValue": last, "idTest": "greater-than"}},
			"sortByObjectID": true,
		})
		list, err := c.fetch(ctx, http.MethodPost, c.base+"/computers/search?expand=computerStatus&expand=ec2VirtualMachineSummary&overrides=false", body)
		if err != nil {
			return nil, err
		}
		for _, comp := range list {
			if comp.ID <= last {
				return nil, &Error{Msg: fmt.Sprintf("the manager's search pages do not advance (computer ID %d after %d): stopped", comp.ID, last)}
			}
			last = comp.ID
		}
		all = append(all, list...)
		if len(list) < c.pageSize {
			break
		}
		if len(all) > MaxComputers {
			return nil, &Error{Msg: fmt.Sprintf("the manager lists more than %d computers: stopped reading", MaxComputers)}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].HostName < all[j].HostName })
	return all, nil
}

// MaxComputers bounds the listing (the largest managers hold about 100,000).
const MaxComputers = 1 << 20

// Auth is the key kind the manager accepted (AuthSecret or AuthAPIKey;
// "" before the first answer).
func (c *Client) Auth() string { return c.auth }

// fetch sends one request, retrying 429 and 5xx answers, and decodes the
// computer list. Without a forced kind, a 401 to api-secret-key is tried
// once more as a Cloud One key (and the reverse), and the kind that works
// is kept for the next pages.
func (c *Client) fetch(ctx context.Context, method, url string, body []byte) ([]Computer, error) {
	kind, switched := c.auth, false
	if kind == "" {
		kind = AuthSecret
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, badInput("--from-manager: %v", err)
		}
		if kind == AuthAPIKey {
			req.Header.Set("Authorization", "ApiKey "+c.key)
		} else {
			req.Header.Set("api-secret-key", c.key)
		}
		if !contains(c.tried, kind) {
			c.tried = append(c.tried, kind)
		}
		req.Header.Set("api-version", "v1")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			var certErr *tls.CertificateVerificationError
			if errors.As(err, &certErr) {
				return nil, badInput("the manager's certificate does not verify (%s): give its issuing CA with --api-ca-file", textsafe.Line(certErr.Err.Error(), 200))
			}
			return nil, &Error{Msg: fmt.Sprintf("cannot reach the manager's API at %s: %s", c.base, textsafe.Line(unwrapURL(err).Error(), 200))}
		}
		if resp.StatusCode == http.StatusUnauthorized && c.auth == "" && !switched {
			// the other kind of key, once
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switched = true
			if kind == AuthSecret {
				kind = AuthAPIKey
			} else {
				kind = AuthSecret
			}
			continue
		}
		if resp.StatusCode == http.StatusOK && c.auth == "" {
			c.auth = kind
		}
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if retry && attempt < c.retries {
			wait := c.retryBase << attempt
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
				wait = min(time.Duration(s)*time.Second, time.Minute)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return nil, &Error{Msg: "interrupted while the manager's API was busy"}
			}
		}
		list, err := c.decode(resp)
		resp.Body.Close()
		return list, err
	}
}

func (c *Client) decode(resp *http.Response) ([]Computer, error) {
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, badInput("the manager refused the API key (HTTP 401) as %s: check the key is current and made for this console (Server & Workload Protection, on-premises and legacy Workload Security keys go in api-secret-key; Trend Cloud One keys in Authorization: ApiKey; --api-auth forces one)", c.triedText())
	case resp.StatusCode == http.StatusForbidden:
		return nil, badInput("the manager accepted the API key but its role may not do this (HTTP 403: %s): give the key a role that may view computers (Auditor does)", errorMessage(resp.Body, c))
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, &Error{Msg: fmt.Sprintf("the manager is still rate-limiting API calls (HTTP 429) after %d retries: try again later", c.retries)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, badInput("the manager's API answered with a redirect (HTTP %d to %s): give the URL it points to", resp.StatusCode, textsafe.Line(resp.Header.Get("Location"), 200))
	case resp.StatusCode != http.StatusOK:
		return nil, &Error{Msg: fmt.Sprintf("the manager's API answered HTTP %d: %s", resp.StatusCode, errorMessage(resp.Body, c))}
	}
	var list struct {
		Computers []Computer `json:"computers"`
	}
	lr := &io.LimitedReader{R: resp.Body, N: MaxResponse + 1}
	if err := json.NewDecoder(lr).Decode(&list); err != nil {
		if lr.N <= 0 {
			return nil, &Error{Msg: fmt.Sprintf("the manager's computer list is larger than %d MiB: stopped reading", MaxResponse>>20)}
		}
		return nil, &Error{Msg: fmt.Sprintf("the manager's answer is not a computer list: %s", textsafe.Line(err.Error(), 200))}
	}
	return list.Computers, nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// triedText says which key kinds were sent.
func (c *Client) triedText() string {
	var parts []string
	for _, k := range c.tried {
		if k == AuthAPIKey {
			parts = append(parts, "a Cloud One key (Authorization: ApiKey)")
		} else {
			parts = append(parts, "a console key (api-secret-key)")
		}
	}
	return strings.Join(parts, " and as ")
}

// errorMessage is the "message" of the API's error object, or the start
// of whatever else came back; masked and cut either way.
func errorMessage(body io.Reader, c *Client) string {
	raw, _ := io.ReadAll(io.LimitReader(body, 4096))
	var e struct {
		Message string `json:"message"`
	}
	text := string(raw)
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		text = e.Message
	}
	// masked before and after cleaning: a control character inside the
	// echoed key ("2:S\x16ECRET") would otherwise be dropped by the
	// cleaning and give the key back whole; cut only at the end
	return textsafe.Line(c.mask(textsafe.Line(c.mask(text), 0)), 300)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
