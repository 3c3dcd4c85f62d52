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
	hkc, err := knownhosts.New(*khFile)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{User: *user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hkc, Timeout: 10 * time.Second}
	jobs := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < *forks; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for addr := range jobs {
				err := runOne(addr, cfg, *command, script)
				mu.Lock()
				if err != nil {
					fmt.Printf("fail %s: %v\n", addr, err)
				} else {
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
	return nil
}

func runOne(addr string, cfg *ssh.ClientConfig, command string, script []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr, "22"))
	if err != nil {
		return err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr+":22", cfg)
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
