package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

// envNetns marks a bench process that already runs where it should: in
// its own network namespace ("private"), or in the machine's, having
// failed to get one ("shared").
const envNetns = "WHYOFFLINE_BENCH_NETNS"

// inPrivateNetns re-executes this bench in a network namespace of its own
// — `unshare -n` as root, `unshare -rn` (a user namespace) otherwise — so
// the simulated fleet's wildcard listener sees only loopback. It returns
// done=true when the re-executed child ran (its error is the result).
// Where neither is allowed the bench runs here, and fleetsim refuses every
// connection that did not arrive on its 127.x addresses.
func inPrivateNetns(args []string) (done bool, err error) {
	switch os.Getenv(envNetns) {
	case "private":
		return false, loopbackUp()
	case "shared":
		return false, nil
	}
	self, err := os.Executable()
	if err != nil {
		return false, err
	}
	flags := "-rn"
	if os.Geteuid() == 0 {
		flags = "-n"
	}
	probe := exec.Command("unshare", flags, "true")
	if probe.Run() != nil {
		fmt.Fprintln(os.Stderr, "whyoffline-bench: no private network namespace here (unshare "+flags+" refused): the fleet listens on all addresses and accepts only its 127.x ones")
		return false, os.Setenv(envNetns, "shared")
	}
	cmd := exec.Command("unshare", append([]string{flags, self}, args...)...)
	cmd.Env = append(os.Environ(), envNetns+"=private")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return true, cmd.Run()
}

// loopbackUp brings up lo, which a new network namespace starts with down
// (what `ip link set lo up` does, without needing ip).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("reading lo's flags: %v", e)
	}
	req.flags |= syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("bringing lo up: %v", e)
	}
	return nil
}
