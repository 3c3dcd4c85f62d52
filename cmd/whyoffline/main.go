// Command whyoffline tells, for every host whose Deep Security agent shows
// "Offline", why — and what to do about it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes of the contract.
const (
	exitHealthy  = 0
	exitFindings = 1
	exitUsage    = 2
	exitFailed   = 3
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func usageWrap(err error) error { return &exitError{code: exitUsage, err: err} }

func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// version, commit and buildDate are set at build time (-ldflags "-X
// main.version=... -X main.commit=... -X main.buildDate=..."); a plain
// go build or go install falls back on the module version and the VCS
// stamp Go records.
var (
	version   = "dev"
	commit    = ""
	buildDate = ""
)

// env is what a command needs from the process; tests build their own.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stdoutTTY / stderrTTY: whether those are terminals.
	stdoutTTY, stderrTTY bool
	width                int
	// etc is where the system-wide config lives ("/etc"; "" for none).
	etc string
	// dial, when set, replaces TCP dialing in both transports (tests that
	// must see where a scan connects without sending anything).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// softMemoryLimit is the heap the runtime keeps to by collecting sooner
// (runtime/debug.SetMemoryLimit), unless GOMEMLIMIT says otherwise. Below
// it nothing changes (GOGC's default pacing); near it the collector runs
// more often rather than let garbage double the heap. What it clips is
// the inventory load of a large fleet — YAML's node tree of 100,000
// hosts is ~180 MB live for a moment, and the default pacing let the
// heap reach twice that: 335 MiB peak for the sweep of 100,000 hosts.
// A fleet whose live heap outgrows it only costs more GC time (the
// runtime caps that at half the CPU), never an error.
const softMemoryLimit = 224 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, etc: "/etc"}
	e.stdoutTTY, e.width = terminal(os.Stdout)
	e.stderrTTY, _ = terminal(os.Stderr)
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	// A CPU profile for `make bench` (not a flag: not part of the contract).
	if path := e.getenv("WHYOFFLINE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	// A heap profile at exit, same purpose.
	if path := e.getenv("WHYOFFLINE_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitHealthy
	}
	var xe *exitError
	code := exitUsage // cobra's own errors: unknown command, unknown flag
	if errors.As(err, &xe) {
		code = xe.code
	}
	if msg := oneLine(err.Error()); msg != "" {
		fmt.Fprintf(e.stderr, "whyoffline: %s\n", msg)
	}
	return code
}

// oneLine folds a multi-line message (cobra's "Did you mean this?") into
// the one line every error gets.
func oneLine(msg string) string {
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "whyoffline",
		Short: "Explain why Deep Security agents show Offline, host by host",
		Long: `whyoffline logs in to each host (SSH or WinRM), runs read-only checks and tells,
for every host whose Deep Security / Server & Workload Protection agent shows
"Offline", why — agent stopped, DNS, blocked heartbeat port, clock skew, a host
that is simply off — and what to do about it.`,
		Example: `  # ad-hoc: the hosts the manager flagged, against the on-premises manager
  whyoffline scan -i offline.txt --manager dsm.example.com

  # nightly sweep of an Ansible inventory, CSV for the ops review
  whyoffline scan -i /etc/ansible/hosts --manager dsm.example.com:4120 -f 50 -o csv --out sweep.csv`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v (see: %s --help)", err, c.CommandPath())
	})
	var config string
	root.PersistentFlags().StringVar(&config, "config", "", "config file of flag values (default $XDG_CONFIG_HOME/whyoffline/config.yaml, then /etc/whyoffline/config.yaml); flags win")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		path, err := configPath(e, config)
		if err != nil {
			return usageWrap(err)
		}
		if _, err := applyConfig(e, cmd, path); err != nil {
			return usageWrap(err)
		}
		return nil
	}
	root.AddCommand(newScanCmd(e), newReportCmd(e), newMergeCmd(e), newDiffCmd(e), newInventoryCmd(e), newPlaybooksCmd(e), newVersionCmd(e), newConfigCmd(e, root))
	return root
}

// versionLine is the version, commit and its date, on one line.
func versionLine() string {
	t := buildInfo()
	line := "whyoffline " + t.Version
	if t.Commit != "" {
		c := t.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		line += " (commit " + c
		if t.Modified {
			line += ", modified"
		}
		if t.Date != "" {
			line += ", " + t.Date
		}
		line += ")"
	}
	return line
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(e.stdout, versionLine())
			return nil
		},
	}
}
