package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// floorMain is the floor of the comparison: the least any tool must do —
// connect, verify the host key, authenticate with one key, run the same
// command with the same script on stdin, read the output — with a fixed
// pool of workers and nothing else (no parsing, no diagnosis, no report).
func floorMain(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	hostsFile := fs.String("hosts", "", "file with one address per line")
	keyFile := fs.String("key", "", "private key (unencrypted)")
	khFile := fs.String("known-hosts", "", "known_hosts")
	scriptFile := fs.String("script", "", "script sent on stdin")
	command := fs.String("command", "sh -s", "command to run")
	forks := fs.Int("f", 20, "parallel hosts")
	user := fs.String("user", "root", "login user")
	quiet := fs.Bool("quiet", false, "print only the count of hosts done (\"ok N\") and failures")
	if err := parse(fs, args); err != nil {
		return err
	}
	hosts, err := os.ReadFile(*hostsFile)
	if err != nil {
		return err
	}
	script, err := os.ReadFile(*scriptFile)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return err
	}
	hkc, err := knownHostsMap(*khFile)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{User: *user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hkc, Timeout: 10 * time.Second}
	jobs := make(chan string)
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for w := 0; w < *forks; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for addr := range jobs {
				err := runOne(addr, cfg, *command, script)
				mu.Lock()
				switch {
				case err != nil:
					fmt.Printf("fail %s: %v\n", addr, err)
				case *quiet:
					ok++
				default:
					fmt.Printf("ok %s\n", addr)
				}
				mu.Unlock()
			}
		}()
	}
	for _, h := range strings.Fields(string(hosts)) {
		jobs <- h
	}
	close(jobs)
	wg.Wait()
	if *quiet {
		fmt.Printf("ok %d\n", ok)
	}
	return nil
}

func runOne(addr string, cfg *ssh.ClientConfig, command string, script []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "22")
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return err
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	var out bytes.Buffer
	s.Stdin = bytes.NewReader(script)
	s.Stdout = &out
	if err := s.Run(command); err != nil {
		return err
	}
	if !bytes.Contains(out.Bytes(), []byte(":done>>")) {
		return fmt.Errorf("script did not finish")
	}
	return nil
}

// knownHostsMap verifies host keys by a map lookup: x/crypto's knownhosts
// tries every line for every host, which at 100,000 hosts would make the
// floor quadratic and flatter everything measured against it.
func knownHostsMap(path string) (ssh.HostKeyCallback, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys := map[string][]byte{}
	for len(data) > 0 {
		_, hosts, key, _, rest, err := ssh.ParseKnownHosts(data)
		if err != nil {
			break
		}
		data = rest
		for _, h := range hosts {
			keys[knownhosts.Normalize(h)] = key.Marshal()
		}
	}
	return func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		if want, ok := keys[knownhosts.Normalize(hostname)]; ok && bytes.Equal(want, key.Marshal()) {
			return nil
		}
		return fmt.Errorf("host key for %s not in known_hosts", hostname)
	}, nil
}
