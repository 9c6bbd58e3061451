// Command wirewatch watches news sources for a desk's topics, publishes
// per-topic feeds and sends signed webhook alerts.
//
//	wirewatch serve --config wirewatch.yaml   scheduler + HTTP (feeds, API)
//	wirewatch run   --config wirewatch.yaml   poll every source once, deliver, exit
//	wirewatch check --config wirewatch.yaml   validate the config only
//	wirewatch match --config wirewatch.yaml   try topics on items, explain verdicts
//	wirewatch terms report.txt                key terms and a suggested topic
//	wirewatch demo                            offline demo with local sources
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Time zones (digests, quiet hours) work even where the system has no
	// zoneinfo, e.g. a minimal container image.
	_ "time/tzdata"
)

// version is reported in --version and the User-Agent.
const version = "0.1.0-dev"

// exitUsage is the exit status for bad invocations and invalid configs.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runCLI(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `wirewatch watches news sources for a desk's topics, publishes a feed per topic
and sends signed webhook alerts for new matches.

Usage:
  wirewatch <command> [flags]

Commands:
  serve    run the scheduler and the HTTP server (feeds, API) until interrupted
  run      poll every source once, deliver pending alerts, then exit
  check    validate a config file and report every problem
  match    try topics on feed files, URLs or stored items, and explain each verdict
  terms    read a report and suggest its key terms and a topic
  deliveries  list webhook deliveries; 'deliveries retry' replays them
  webhooks    list webhooks with their health; 'webhooks enable' re-enables one
  sources     list sources with their health; 'sources import|export' OPML
  backup      write an online copy of the SQLite database
  demo     offline demo: local sample sources, a local webhook receiver, the real server
  version  print the version

Run 'wirewatch <command> --help' for a command's flags.
`

// runCLI dispatches a command and returns the process exit status.
func runCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "check":
		err = cmdCheck(rest, stdout, stderr)
	case "match":
		err = cmdMatch(ctx, rest, stdout, stderr)
	case "terms":
		err = cmdTerms(ctx, rest, stdout, stderr)
	case "deliveries":
		err = cmdDeliveries(ctx, rest, stdout, stderr)
	case "webhooks":
		err = cmdWebhooks(ctx, rest, stdout, stderr)
	case "sources":
		err = cmdSources(ctx, rest, stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, rest, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "wirewatch %s\n", version)
		return 0
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "wirewatch: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	return exitCode(err, stderr)
}

// usageError marks errors caused by how wirewatch was invoked.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "wirewatch: %v\n", err)
	var ce *ConfigError
	var ue usageError
	if errors.As(err, &ce) || errors.As(err, &ue) {
		return exitUsage
	}
	return 1
}

// newFlags builds a command's flag set with a help text that says what the
// command does, not just its flags.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: wirewatch %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses and rejects stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments (wirewatch match feed.xml --json), which the flag
// package alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func configFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("WIREWATCH_CONFIG")
	if def == "" {
		def = "wirewatch.yaml"
	}
	return fs.String("config", def, "config file (env WIREWATCH_CONFIG)")
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "Validate a config file: unknown keys, duplicate ids, unknown references, bad\nschedules, queries, URLs and secrets, missing environment variables. Every problem\nis listed with file:line:column; the exit status is 2 when any is found.", stderr)
	path := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := LoadConfig(*path, os.LookupEnv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d sources, %d topics, %d webhooks)\n", *path, len(cfg.Sources), len(cfg.Topics), len(cfg.Webhooks))
	return nil
}
